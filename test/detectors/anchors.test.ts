import { describe, expect, it } from 'vitest';
import { findAnchors, nonZeroRanges } from '../../src/detectors/anchors.js';
import { prng } from '../helpers/random.js';

/** Every start of `needle` in `haystack`, one byte at a time: the reference. */
function naive(haystack: Buffer, needle: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + needle.length <= haystack.length; i++) if (haystack.subarray(i, i + needle.length).equals(needle)) out.push(i);
  return out;
}

const needles = [
  Buffer.from('-----BEGIN ', 'latin1'), // longer than the six-byte fast prefix
  Buffer.from('---', 'utf16le'), // ends in a zero byte: may run into a zero page
  Buffer.from('0201', 'hex'),
  Buffer.from('EC', 'latin1'),
  Buffer.from('06092a864886f70d0105', 'hex'),
  Buffer.from('ecdsa-', 'latin1'), // searched from its rarer second byte
  Buffer.from('openssh-key-v1\0', 'latin1'), // searched from `key-v1`, in the middle
];

describe('findAnchors: one blocked search for every needle', () => {
  it('finds exactly what a byte-by-byte search finds: across 32 KiB blocks, zero pages and their borders', () => {
    const next = prng(7);
    const random = { int: (n: number) => Math.floor(next() * n) };
    const buffer = Buffer.alloc(300 * 1024);
    // Pages of noise, text and zeros; needles planted at block and page borders, straddling them.
    for (let page = 0; page < buffer.length; page += 4096) {
      const kind = random.int(3);
      if (kind === 1) for (let i = page; i < page + 4096; i++) buffer[i] = random.int(256);
      if (kind === 2) buffer.write('EC key -----BEGIN x\u0002\u0001', page + random.int(4000), 'latin1');
    }
    // Each needle straddles a block border and a page border of its own (planted apart, so none overwrites another).
    needles.forEach((needle, i) => {
      for (const border of [32 * 1024 * (i + 1), 4096 * (40 + 2 * i)]) needle.copy(buffer, border - 1 - random.int(needle.length - 1));
    });
    // A needle whose trailing zero byte is the first byte of a zero page.
    buffer.fill(0, 200 * 1024, 212 * 1024);
    needles[1].copy(buffer, 200 * 1024 - needles[1].length + 1);
    // At the very start and flush with the very end of the buffer.
    needles[5].copy(buffer, 0);
    needles[6].copy(buffer, buffer.length - needles[6].length);
    const found = findAnchors(buffer, needles);
    expect(found.get(needles[5])?.[0]).toBe(0);
    expect(found.get(needles[6])?.at(-1)).toBe(buffer.length - needles[6].length);
    for (const needle of needles) {
      const expected = naive(buffer, needle);
      expect(expected.length).toBeGreaterThan(0);
      expect(Array.from(found.get(needle)!)).toEqual(expected);
    }
    expect(Array.from(found.get(needles[1])!)).toContain(200 * 1024 - needles[1].length + 1);
  });

  it('a flood of anchors (one every few bytes) is found whole', () => {
    const buffer = Buffer.from('EC'.repeat(100_000) + '-----BEGIN -----BEGIN ', 'latin1');
    const found = findAnchors(buffer, needles);
    expect(Array.from(found.get(needles[3])!)).toEqual(naive(buffer, needles[3]));
    expect(found.get(needles[3])?.length).toBe(100_000);
    expect(Array.from(found.get(needles[0])!)).toEqual([200_000, 200_011]);
  });

  it('equal needles given twice share one search; empty input gives no hits', () => {
    const twin = Buffer.from('EC', 'latin1');
    const found = findAnchors(Buffer.from('xxECxx'), [needles[3], twin]);
    expect(Array.from(found.get(needles[3])!)).toEqual([2]);
    expect(found.get(twin)).toBe(found.get(needles[3]));
    expect(Array.from(findAnchors(Buffer.alloc(0), needles).get(needles[0])!)).toEqual([]);
  });

  it('refuses an anchor that starts with a zero byte (zero pages are skipped)', () => {
    expect(() => findAnchors(Buffer.alloc(10), [Buffer.from([0, 1])])).toThrow(/non-zero/);
  });
});

describe('nonZeroRanges', () => {
  it('covers every non-zero byte with page-aligned ranges and leaves out zero pages', () => {
    const buffer = Buffer.alloc(10 * 4096 + 100);
    buffer[5] = 1; // page 0
    buffer[3 * 4096 + 4095] = 1; // last byte of page 3 (the quick check reads it)
    buffer[4 * 4096 + 2000] = 1; // middle of page 4 (only the full compare sees it)
    buffer[10 * 4096 + 99] = 1; // the short last page
    expect(nonZeroRanges(buffer)).toEqual([
      [0, 4096],
      [3 * 4096, 5 * 4096],
      [10 * 4096, 10 * 4096 + 100],
    ]);
    expect(nonZeroRanges(Buffer.alloc(8192))).toEqual([]);
  });
});
