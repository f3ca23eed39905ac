// The SIMD anchor filter (wasm/anchor-scan.wat, src/detectors/anchor-filter.ts) against the JS
// search and a byte-by-byte reference, with the detectors' real needle set.
import { describe, expect, it } from 'vitest';
import { anchorEngine } from '../../src/detectors/anchor-filter.js';
import { withPinnedChunk } from '../helpers/pinned.js';
import { anchorSearchWhileFilling, findAnchors } from '../../src/detectors/anchors.js';
import { detectors } from '../../src/detectors/index.js';
import { prng } from '../helpers/random.js';
import { zeroPageRuns } from '../helpers/zero-pages.js';

/** Every start of `needle` in `haystack`, overlapping ones included, by Buffer.indexOf from each start + 1: the reference. */
function naive(haystack: Uint8Array, needle: Buffer): number[] {
  const bytes = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.length);
  const out: number[] = [];
  for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) out.push(at);
  return out;
}

/** Copies `whole` into the pinned `view` in pieces of `piece()` bytes, as reads fill a chunk, advancing the search after each piece `advanceAt` allows. */
function fillInPieces(view: Uint8Array, whole: Uint8Array, search: { advance(filled: number): void }, piece: () => number, advanceAt: (filled: number) => boolean = () => true): void {
  for (let filled = 0; filled < whole.length; ) {
    const to = Math.min(whole.length, filled + piece());
    view.set(whole.subarray(filled, to), filled);
    filled = to;
    if (advanceAt(filled)) search.advance(filled);
  }
}

/** Every anchor of every detector, the opt-in ones included (29 distinct needles of 2 to 40 bytes). */
const allNeedles = [...new Set(detectors.flatMap((d) => d.anchors ?? []))];

/** Noise, text and zero pages of an odd length, with every needle planted at page and 16-byte-block borders and at both ends. */
function plantedBuffer(seed: number, length: number): Buffer {
  const next = prng(seed);
  const int = (n: number) => Math.floor(next() * n);
  const buffer = Buffer.alloc(length);
  for (let page = 0; page < length; page += 4096) {
    const kind = int(3);
    const end = Math.min(length, page + 4096);
    if (kind === 1) for (let i = page; i < end; i++) buffer[i] = int(256);
    if (kind === 2) for (let i = page; i < end; i++) buffer[i] = 0x20 + int(95);
  }
  allNeedles.forEach((needle, i) => {
    for (const border of [4096 * (2 + 3 * i), 16 * (977 + 41 * i), 4096 * (2 + 3 * i) + 4096 - needle.length]) {
      if (border < length - 64) needle.copy(buffer, border - int(Math.max(1, needle.length - 1)));
    }
  });
  allNeedles[0].copy(buffer, 0);
  allNeedles[1].copy(buffer, length - allNeedles[1].length);
  return buffer;
}

describe('the SIMD anchor filter', () => {
  it('is the search in use: the build assembled wasm/anchor-scan.wasm and this Node.js runs it', () => {
    expect(anchorEngine()).toBe('wasm');
  });

  it('finds exactly what the JS search and a byte-by-byte search find, for every detector needle, at borders and both ends', () => {
    for (const [seed, length] of [
      [1, 300_001],
      [2, 4096 * 80 + 15],
      [3, 64 * 1024 + 1],
    ]) {
      const buffer = plantedBuffer(seed, length);
      const simd = findAnchors(buffer, allNeedles);
      const js = findAnchors(buffer, allNeedles, 'js');
      let total = 0;
      for (const needle of allNeedles) {
        const expected = naive(buffer, needle);
        total += expected.length;
        expect(Array.from(simd.get(needle)!), `needle ${needle.toString('hex')}`).toEqual(expected);
        expect(Array.from(js.get(needle)!)).toEqual(expected);
      }
      expect(total).toBeGreaterThan(allNeedles.length);
      expect(simd.get(allNeedles[0])![0]).toBe(0);
      expect(simd.get(allNeedles[1])!.at(-1)).toBe(length - allNeedles[1].length);
    }
  });

  it('inputs shorter than one 16-byte block, and a needle flush with the end of one', () => {
    for (let length = 0; length <= 40; length++) {
      const buffer = Buffer.alloc(length, 0x41);
      if (length >= 2) buffer.write('EC', length - 2, 'latin1');
      const found = findAnchors(buffer, allNeedles);
      for (const needle of allNeedles) expect(Array.from(found.get(needle)!)).toEqual(naive(buffer, needle));
    }
  });

  it('a flood that fills its output many times over (a hit at every other byte) is found whole, in order', () => {
    const buffer = Buffer.from('EC'.repeat(400_000) + 'xx\u0002\u0001'.repeat(50_000), 'latin1');
    const found = findAnchors(buffer, allNeedles);
    const ec = allNeedles.find((n) => n.toString('latin1') === 'EC')!;
    const int = allNeedles.find((n) => n.toString('hex') === '0201')!;
    expect(found.get(ec)!.length).toBe(400_000);
    expect(Array.from(found.get(ec)!.subarray(0, 3))).toEqual([0, 2, 4]);
    expect(found.get(ec)![399_999]).toBe(799_998);
    expect(Array.from(found.get(int)!)).toEqual(naive(buffer, int));
  });

  it('searched piece by piece while a pinned chunk fills: the same hits as one search of the whole', () => {
    const whole = plantedBuffer(4, 1_000_003);
    const next = prng(5);
    for (const round of [0, 1, 2]) {
      withPinnedChunk(whole.length, (view) => {
        const search = anchorSearchWhileFilling(view, allNeedles);
        // Pieces of random sizes, from a byte to 300 KB, as short reads give them.
        const piece = () => (round === 0 ? 1 + Math.floor(next() * 300_000) : round === 1 ? 4096 : 1 + Math.floor(next() * 50));
        fillInPieces(view, whole, search, piece, (filled) => round < 2 || filled % 997 < 50);
        const found = search.finish(whole.length);
        for (const needle of allNeedles) expect(Array.from(found.get(needle)!)).toEqual(naive(whole, needle));
      });
    }
  });

  it('a read that stops short (the file ended, or failed) is searched to where it stopped', () => {
    const whole = plantedBuffer(6, 200_000);
    withPinnedChunk(300_000, (view) => {
      const search = anchorSearchWhileFilling(view, allNeedles);
      view.set(whole, 0);
      search.advance(150_000);
      search.advance(whole.length);
      const found = search.finish(whole.length);
      for (const needle of allNeedles) expect(Array.from(found.get(needle)!)).toEqual(naive(whole, needle));
    });
  });

  it('with a chunk pinned, another haystack (a decompressed stream, even one too big for the room beside it) is searched without touching the chunk', () => {
    const chunk = plantedBuffer(7, 100_000);
    withPinnedChunk(chunk.length, (view) => {
      view.set(chunk);
      for (const length of [50_000, 3_000_000]) {
        const other = plantedBuffer(8, length);
        const found = findAnchors(other, allNeedles);
        for (const needle of allNeedles) expect(Array.from(found.get(needle)!)).toEqual(naive(other, needle));
      }
      // The pinned view is neither moved nor detached (the memory did not grow under it).
      expect(view.length).toBe(chunk.length);
      expect(Buffer.from(view).equals(chunk)).toBe(true);
      const found = findAnchors(Buffer.from(view.buffer, view.byteOffset, view.length), allNeedles);
      for (const needle of allNeedles) expect(Array.from(found.get(needle)!)).toEqual(naive(chunk, needle));
    });
  });

  it('a plain (unpinned) buffer filled piece by piece is searched at the end, in JS or by copy', () => {
    const whole = plantedBuffer(9, 70_000);
    const plain = new Uint8Array(whole.length);
    const search = anchorSearchWhileFilling(plain, allNeedles);
    plain.set(whole);
    search.advance(whole.length);
    const found = search.finish(whole.length);
    for (const needle of allNeedles) expect(Array.from(found.get(needle)!)).toEqual(naive(whole, needle));
  });
});

/** Zero pages, runs of them, and pages with one non-zero byte (at the page's first or last byte, or anywhere), of an odd length. */
function pagesBuffer(seed: number, length: number): Buffer {
  const next = prng(seed);
  const buffer = Buffer.alloc(length);
  for (let page = 0; page < length; page += 4096) {
    const end = Math.min(length, page + 4096);
    const kind = Math.floor(next() * 5);
    if (kind === 1) buffer[page] = 1;
    if (kind === 2) buffer[end - 1] = 0x80;
    if (kind === 3) buffer[page + Math.floor(next() * (end - page))] = 1 + Math.floor(next() * 255);
    if (kind === 4) for (let i = page; i < end; i++) buffer[i] = Math.floor(next() * 256);
  }
  return buffer;
}

describe('the zero pages the filter saw (what the raw search does not read again)', () => {
  it('piece by piece in a pinned chunk, pages split between pieces: exactly the runs of all-zero pages, the short last page too', () => {
    const whole = pagesBuffer(11, 1_000_003);
    const expected = zeroPageRuns(whole);
    expect(expected.length).toBeGreaterThan(20);
    const next = prng(12);
    for (const round of [0, 1, 2]) {
      withPinnedChunk(whole.length, (view) => {
        const search = anchorSearchWhileFilling(view, allNeedles);
        fillInPieces(view, whole, search, () => (round === 0 ? 1 + Math.floor(next() * 300_000) : round === 1 ? 4096 : 1 + Math.floor(next() * 5000)));
        search.finish(whole.length);
        expect(search.zeroPages()).toEqual(expected);
        expect(search.onlyZeros()).toBe(false);
      });
    }
  });

  it('a buffer searched by copy: the same runs; an all-zero one is one run and onlyZeros', () => {
    const whole = pagesBuffer(13, 300_001);
    const search = anchorSearchWhileFilling(whole, allNeedles);
    search.finish(whole.length);
    expect(search.zeroPages()).toEqual(zeroPageRuns(whole));
    const zeros = anchorSearchWhileFilling(Buffer.alloc(100_000), allNeedles);
    zeros.finish(100_000);
    expect(zeros.zeroPages()).toEqual([0, 100_000]);
    expect(zeros.onlyZeros()).toBe(true);
  });

  it('the map is cleared for each chunk: pages that held data in the last chunk and zeros in this one are zero pages', () => {
    const first = pagesBuffer(14, 200_000);
    first.fill(7, 0, 100_000);
    const second = Buffer.alloc(200_000);
    second[150_000] = 1;
    for (const bytes of [first, second]) {
      withPinnedChunk(bytes.length, (view) => {
        const search = anchorSearchWhileFilling(view, allNeedles);
        view.set(bytes);
        search.advance(bytes.length);
        search.finish(bytes.length);
        expect(search.zeroPages()).toEqual(zeroPageRuns(bytes));
      });
    }
    expect(zeroPageRuns(second)).toEqual([0, 147_456, 151_552, 200_000]);
  });

  it('nothing is claimed when the JS search ran (one needle, or the JS engine): unknown, not "no zero pages"', () => {
    const zeros = Buffer.alloc(50_000);
    const js = anchorSearchWhileFilling(zeros, allNeedles, 'js');
    js.finish(zeros.length);
    expect(js.zeroPages()).toBeUndefined();
    expect(js.onlyZeros()).toBe(false);
    const one = anchorSearchWhileFilling(zeros, [allNeedles[0]]);
    one.finish(zeros.length);
    expect(one.zeroPages()).toBeUndefined();
    // The filter says so when it ran: a buffer with no zero page has none.
    const full = anchorSearchWhileFilling(Buffer.alloc(50_000, 1), allNeedles);
    full.finish(50_000);
    expect(full.zeroPages()).toEqual([]);
  });
});
