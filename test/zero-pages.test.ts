// The zero-page map the raw search reads around (src/raw/zero-pages.ts): whole pages only,
// queries exact at page and range edges, growth far out.
import { describe, expect, test } from 'vitest';
import { ZeroPages, zeroPageInBytes as PAGE } from '../src/raw/zero-pages.js';

describe('ZeroPages', () => {
  test('marks only the pages wholly inside a range: edges off the page grid lose their partial pages', () => {
    const zeros = new ZeroPages();
    zeros.add(100, 3 * PAGE + 5); // pages 1 and 2
    zeros.add(10 * PAGE, 10 * PAGE + PAGE - 1); // nothing: one byte short
    expect(zeros.bytes).toBe(2 * PAGE);
    expect(zeros.covers(PAGE, 3 * PAGE)).toBe(true);
    expect(zeros.covers(PAGE + 17, 2 * PAGE + 9)).toBe(true);
    expect(zeros.covers(PAGE - 1, 3 * PAGE)).toBe(false);
    expect(zeros.covers(PAGE, 3 * PAGE + 1)).toBe(false);
    expect(zeros.covers(5, 5)).toBe(false);
  });

  test('runs added piece by piece, across each other and out of order, are one run', () => {
    const zeros = new ZeroPages();
    zeros.addRuns(8 * PAGE, [0, PAGE, 2 * PAGE, 4 * PAGE]);
    zeros.add(9 * PAGE, 10 * PAGE);
    zeros.add(5 * PAGE, 8 * PAGE);
    expect(zeros.within(0, 20 * PAGE)).toEqual([5 * PAGE, 12 * PAGE]);
  });

  test('within: the runs inside a range, clipped to it, relative to its start, each at least `minimum` long', () => {
    const zeros = new ZeroPages();
    zeros.add(2 * PAGE, 6 * PAGE);
    zeros.add(8 * PAGE, 9 * PAGE);
    zeros.add(11 * PAGE, 20 * PAGE);
    const from = 3 * PAGE + 100;
    expect(zeros.within(from, 15 * PAGE)).toEqual([0, 3 * PAGE - 100, 8 * PAGE - from, 9 * PAGE - from, 11 * PAGE - from, 15 * PAGE - from]);
    // A clipped run shorter than the minimum is read, not filled.
    expect(zeros.within(6 * PAGE - 10, 8 * PAGE + 100)).toEqual([]);
    expect(zeros.within(6 * PAGE - 10, 8 * PAGE + 100, 10)).toEqual([0, 10, 2 * PAGE + 10, 2 * PAGE + 110]);
    expect(zeros.within(0, 2 * PAGE)).toEqual([]);
  });

  test('pages far out (a 20 GB core) grow the map to a bit per page, and nothing before them is zero', () => {
    const zeros = new ZeroPages();
    const far = 20e9 - (20e9 % PAGE);
    zeros.add(far - 3 * PAGE, far);
    expect(zeros.covers(far - 3 * PAGE, far)).toBe(true);
    expect(zeros.covers(far - 4 * PAGE, far)).toBe(false);
    expect(zeros.covers(far, far + PAGE)).toBe(false);
    expect(zeros.within(far - 10 * PAGE, far + 10 * PAGE)).toEqual([7 * PAGE, 10 * PAGE]);
    expect(zeros.bytes).toBe(3 * PAGE);
  });
});
