// The zero-page map the raw search reads around (src/raw/zero-pages.ts): whole pages only,
// queries exact at page and range edges, growth far out.
import { describe, expect, test } from 'vitest';
import { ZeroPages, zeroPageInBytes as PAGE } from '../src/raw/zero-pages.js';
import { prng } from './helpers/random.js';

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

  test('within and covers agree with a page-by-page reading on random sets (whole bytes of the map skipped or not), at any range and minimum', () => {
    const next = prng(11);
    for (let round = 0; round < 200; round++) {
      const pages = 1 + Math.floor(next() * 300);
      const set = new ZeroPages();
      const inSet: boolean[] = [];
      // Runs of every length: single pages, whole bytes of the map and more, all or none.
      const density = [0, 0.05, 0.5, 0.95, 1][round % 5];
      for (let page = 0; page < pages; ) {
        const length = 1 + Math.floor(next() * (next() < 0.5 ? 3 : 40));
        const on = next() < density;
        const start = page;
        for (let k = 0; k < length && page < pages; k++, page++) inSet[page] = on;
        if (on) set.add(start * PAGE, page * PAGE);
      }
      for (let q = 0; q < 20; q++) {
        const from = Math.floor(next() * (pages + 10) * PAGE) - (q === 0 ? 5 * PAGE : 0);
        const to = from + Math.floor(next() * 80 * PAGE) + (q === 1 ? 0 : 1);
        const minimum = [1, PAGE, 3 * PAGE][q % 3];
        const runs: number[] = [];
        let run = -1;
        const close = (at: number) => {
          const start = Math.max(from, run);
          const end = Math.min(to, at);
          if (end - start >= minimum) runs.push(start - from, end - from);
          run = -1;
        };
        for (let page = Math.floor(Math.max(0, from) / PAGE); page * PAGE < to; page++) {
          if (inSet[page]) {
            if (run < 0) run = page * PAGE;
          } else if (run >= 0) close(page * PAGE);
        }
        if (run >= 0) close(to);
        expect(set.within(from, to, minimum), JSON.stringify({ round, from, to, minimum })).toEqual(runs);
        let covered = to > from;
        for (let page = Math.floor(from / PAGE); page * PAGE < to; page++) covered &&= inSet[page] === true;
        expect(set.covers(from, to), JSON.stringify({ round, from, to })).toBe(covered);
      }
    }
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
