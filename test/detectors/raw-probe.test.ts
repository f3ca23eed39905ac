// The raw-key search's word probe in the SIMD module (wasm/anchor-scan.wat `probe`), against
// the JS probe, on real public keys' raw forms planted at every alignment the forms allow.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { withPinnedChunk } from '../helpers/pinned.js';
import { collectPublics } from '../../src/raw/collect.js';
import { buildPatternTable, longestRun, maximumOccurrencesPerChunk, occurrenceSearchWhileFilling, type Occurrence } from '../../src/raw/occurrences.js';
import { toTarget } from '../../src/raw/search.js';
import { packPatterns, patternsOf, unpackPatterns } from '../../src/raw/targets.js';
import { prng } from '../helpers/random.js';

const spki = (key: KeyObject) => new Uint8Array(key.export({ type: 'spki', format: 'der' }));
const keys = [generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, generateKeyPairSync('ed25519').publicKey];
const targets = keys.map(spki).flatMap((d) => collectPublics(d, d.length)).map((p) => toTarget(p)!);
const patterns = patternsOf(targets);
const table = buildPatternTable(patterns);

/** Random bytes with every pattern planted at several offsets of its alignment (and some unaligned), plus zero runs. */
function planted(seed: number, length: number): { bytes: Uint8Array; plants: number } {
  const next = prng(seed);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = next() < 0.2 ? 0 : Math.floor(next() * 256);
  let plants = 0;
  let at = 64;
  for (let round = 0; round < 3; round++) {
    for (const p of patterns) {
      const offset = at + (round === 2 ? 1 + Math.floor(next() * 7) : 0);
      if (offset + p.bytes.length > length - 64) break;
      bytes.set(p.bytes, offset);
      plants++;
      at = Math.ceil((offset + p.bytes.length + 1000 + Math.floor(next() * 5000)) / p.alignment) * p.alignment;
    }
  }
  return { bytes, plants };
}

function viaJs(bytes: Uint8Array, bodyEnd: number, length: number, bodyStart = 0): Occurrence[] {
  return occurrenceSearchWhileFilling(table, bytes.slice()).finish(bodyEnd, length, bodyStart);
}

describe('the raw search word probe in the SIMD module', () => {
  it('finds the same occurrences as the JS probe, read in pieces of any size into a pinned chunk', () => {
    const { bytes, plants } = planted(1, 1_500_000);
    const expected = viaJs(bytes, 1_400_000, bytes.length, 256);
    expect(expected.length).toBeGreaterThan(plants / 3);
    for (const piece of [262_144, 4096, 999, 7]) {
      withPinnedChunk(bytes.length, (view) => {
        const search = occurrenceSearchWhileFilling(table, view);
        for (let filled = 0; filled < bytes.length; ) {
          const to = Math.min(bytes.length, filled + piece);
          view.set(bytes.subarray(filled, to), filled);
          filled = to;
          search.advance(filled);
        }
        expect(search.finish(1_400_000, bytes.length, 256)).toEqual(expected);
      });
    }
  });

  it('a short read: only the bytes read count, whatever was probed', () => {
    const { bytes } = planted(2, 600_000);
    withPinnedChunk(800_000, (view) => {
      const search = occurrenceSearchWhileFilling(table, view);
      view.fill(0xab, bytes.length);
      view.set(bytes);
      search.advance(bytes.length);
      expect(search.finish(bytes.length, bytes.length)).toEqual(viaJs(bytes, bytes.length, bytes.length));
    });
  });

  it('known zeros (filled, not read) are not probed: the same occurrences, patterns right next to them, pieces of any size', () => {
    const { bytes } = planted(3, 1_500_000);
    // Zero ranges at odd offsets: some end right where a planted pattern starts, some start right where one ends.
    const next = prng(4);
    const ranges: Array<[number, number]> = [];
    for (let at = 1000; at < bytes.length - 100_000; ) {
      const length = 4096 + Math.floor(next() * 8000);
      ranges.push([at, at + length]);
      at += length + 30_000 + Math.floor(next() * 40_000);
    }
    const expectedBefore = viaJs(bytes, 1_400_000, bytes.length, 256);
    for (const o of expectedBefore.filter((_, i) => i % 3 === 0)) {
      const end = o.start + patterns[o.pattern].bytes.length;
      const near = ranges.findIndex(([from]) => from > end);
      if (near > 0 && ranges[near - 1][1] < o.start - 800) ranges.splice(near, 0, next() < 0.5 ? [o.start - 800, o.start] : [end, end + 800]);
    }
    const zeros: number[] = [];
    for (const [from, to] of ranges.sort((a, b) => a[0] - b[0])) if (to <= bytes.length && (zeros.length === 0 || from > zeros[zeros.length - 1])) zeros.push(from, to);
    for (let i = 0; i < zeros.length; i += 2) bytes.fill(0, zeros[i], zeros[i + 1]);
    const expected = viaJs(bytes, 1_400_000, bytes.length, 256);
    expect(expected.length).toBeGreaterThan(10);
    expect(expected.some((o) => zeros.includes(o.start)) && expected.some((o) => zeros.includes(o.start + patterns[o.pattern].bytes.length))).toBe(true);
    expect(occurrenceSearchWhileFilling(table, bytes.slice(), zeros).finish(1_400_000, bytes.length, 256)).toEqual(expected);
    for (const piece of [262_144, 4096, 999]) {
      withPinnedChunk(bytes.length, (view) => {
        const search = occurrenceSearchWhileFilling(table, view, zeros);
        // As the worker fills it: the data in pieces, each known-zero range at once.
        let filled = 0;
        for (let i = 0; i <= zeros.length; i += 2) {
          const dataTo = i < zeros.length ? zeros[i] : bytes.length;
          while (filled < dataTo) {
            const to = Math.min(dataTo, filled + piece);
            view.set(bytes.subarray(filled, to), filled);
            filled = to;
            search.advance(filled);
          }
          if (i < zeros.length) {
            view.fill(0, filled, zeros[i + 1]);
            filled = zeros[i + 1];
            search.advance(filled);
          }
        }
        expect(search.finish(1_400_000, bytes.length, 256)).toEqual(expected);
      });
    }
  });

  it('every pattern ending right where known zeros start, and starting right where they end, at every offset its alignment allows: found', () => {
    const stride = table.strideInBytes;
    for (const [index, p] of patterns.entries()) {
      const length = p.bytes.length;
      for (let k = 0; k * p.alignment < 2 * stride; k++) {
        const start = 4096 + k * p.alignment;
        const zeroFrom = start + length;
        const after = Math.ceil((zeroFrom + 8192 + k) / p.alignment) * p.alignment;
        const bytes = new Uint8Array(after + length + 4096);
        const next = prng(index * 1000 + k);
        for (let i = 0; i < bytes.length; i++) bytes[i] = 1 + Math.floor(next() * 255);
        bytes.fill(0, zeroFrom, after);
        bytes.set(p.bytes, start);
        bytes.set(p.bytes, after);
        const found = occurrenceSearchWhileFilling(table, bytes, [zeroFrom, after]).finish(bytes.length, bytes.length);
        expect(found.filter((o) => o.pattern === index).map((o) => o.start)).toEqual([start, after]);
      }
    }
  });

  it('patterns that begin or end with zero bytes, some of them inside the known zeros, at every offset: found', () => {
    const random = (seed: number, n: number) => {
      const next = prng(seed);
      return Array.from({ length: n }, () => 1 + Math.floor(next() * 255));
    };
    const zeroHead = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, ...random(7, 24)]);
    const zeroTail = new Uint8Array([...random(8, 24), 0, 0, 0, 0, 0, 0, 0, 0]);
    const own = buildPatternTable([zeroHead, zeroTail].map((bytes, target) => ({ target, form: 'raw-be' as const, bytes, alignment: 1 })));
    const stride = own.strideInBytes;
    for (let k = 0; k < 2 * stride; k++) {
      for (let inside = 0; inside <= 8; inside++) {
        const bytes = new Uint8Array(3 * 4096 + 8192);
        bytes.set(random(100 * k + inside, bytes.length));
        // zeroTail's last `inside` bytes in the range [zeroFrom, zeroTo); zeroHead's first `inside` bytes in it.
        const tailAt = 4096 + k;
        const zeroFrom = tailAt + 32 - inside;
        const zeroTo = zeroFrom + 8192 + k;
        const headAt = zeroTo - inside;
        bytes.fill(0, zeroFrom, zeroTo);
        bytes.set(zeroTail, tailAt);
        bytes.set(zeroHead, headAt);
        const found = occurrenceSearchWhileFilling(own, bytes, [zeroFrom, zeroTo]).finish(bytes.length, bytes.length);
        expect(found.map((o) => [o.start, o.pattern])).toEqual([[tailAt, 1], [headAt, 0]]);
      }
    }
  });

  it("a coordinate whose one probed word is alone in the module's group of four words, at each place in the group: found", () => {
    // EC alone: stride 32, so a 32-byte coordinate's limbs at a multiple of 32 hold one probed
    // word, and the other three words of its group are zeros (they pass no filter). A key is
    // drawn again when a coordinate has a leading zero byte (31-byte limbs: stride 16) or its
    // limbs open with a word of fewer than three distinct bytes (not a table key).
    const ecKey = () => {
      for (;;) {
        const d = spki(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
        const ecPatterns = patternsOf(collectPublics(d, d.length).map((p) => toTarget(p)!));
        if (ecPatterns.every((p) => p.bytes.length >= 32 && new Set(p.bytes.subarray(0, 4)).size >= 3)) return ecPatterns;
      }
    };
    const ecPatterns = ecKey();
    const ecTable = buildPatternTable(ecPatterns);
    expect(ecTable.strideInBytes).toBe(32);
    const coordinates = ecPatterns.map((p, index) => ({ p, index })).filter(({ p }) => p.form === 'raw-le' && p.bytes.length === 32);
    expect(coordinates.length).toBe(4); // x and y, and both in Montgomery form
    for (const { p, index } of coordinates) {
      const bytes = new Uint8Array(64 * 1024);
      // Groups start every 128 bytes from the chunk's start: one plant per group, at its word k.
      const starts = [0, 1, 2, 3].map((k) => 4096 + 1024 * k + 32 * k);
      for (const start of starts) bytes.set(p.bytes, start);
      withPinnedChunk(bytes.length, (view) => {
        view.set(bytes);
        const search = occurrenceSearchWhileFilling(ecTable, view);
        search.advance(bytes.length);
        expect(search.finish(bytes.length, bytes.length).filter((o) => o.pattern === index).map((o) => o.start)).toEqual(starts);
      });
    }
  });

  it('a pattern set packed for a task message unpacks to the same patterns, prefixes and all, through structured clone', () => {
    const withPrefix = patterns.filter((p) => p.encodedPrefix !== undefined).length;
    expect(withPrefix).toBeGreaterThan(0);
    expect(withPrefix).toBeLessThan(patterns.length);
    const cloned = structuredClone(packPatterns(patterns));
    expect(unpackPatterns(cloned)).toEqual(patterns.map((p) => ({ ...p, bytes: Uint8Array.from(p.bytes), ...(p.encodedPrefix ? { encodedPrefix: Uint8Array.from(p.encodedPrefix) } : {}) })));
    expect(unpackPatterns(packPatterns([]))).toEqual([]);
  });

  it('a flood of one pattern past the per-chunk cap stops where the JS probe stops', () => {
    const p = patterns.find((x) => x.alignment === 8)!;
    const stride = Math.ceil(p.bytes.length / 8) * 8;
    const bytes = new Uint8Array((maximumOccurrencesPerChunk + 100) * stride);
    for (let at = 0; at + p.bytes.length <= bytes.length; at += stride) bytes.set(p.bytes, at);
    withPinnedChunk(bytes.length, (view) => {
      view.set(bytes);
      const search = occurrenceSearchWhileFilling(table, view);
      search.advance(bytes.length);
      const found = search.finish(bytes.length, bytes.length);
      expect(found.length).toBe(maximumOccurrencesPerChunk);
      expect(found).toEqual(viaJs(bytes, bytes.length, bytes.length));
    });
  });

  it("the table's longest run of occupied slots (the output room the module keeps per word) is the true one, around the end too", () => {
    /** Twice round, one slot at a time: the plain definition. */
    const bruteForce = (ref: Int32Array) => {
      let longest = 0;
      let run = 0;
      for (let k = 0; k < 2 * ref.length; k++) {
        run = ref[k % ref.length] !== 0 ? run + 1 : 0;
        longest = Math.max(longest, Math.min(run, ref.length));
      }
      return longest;
    };
    // Runs across the end of the table, at its start, alone, none.
    const slots = (size: number, occupied: number[]) => Int32Array.from({ length: size }, (_, k) => (occupied.includes(k) ? 1 : 0));
    for (const [size, occupied, expected] of [
      [16, [14, 15, 0, 1, 2, 7], 5],
      [16, [15, 0], 2],
      [16, [0, 1, 2, 3, 9, 10], 4],
      [16, [], 0],
      [8, [3], 1],
      [32, [31, 0, 1, 5, 6, 7, 8, 9, 10], 6],
    ] as Array<[number, number[], number]>) {
      expect(longestRun(slots(size, occupied)), JSON.stringify(occupied)).toBe(expected);
      expect(bruteForce(slots(size, occupied))).toBe(expected);
    }
    const next = prng(77);
    for (let round = 0; round < 40; round++) {
      // Patterns of random bytes, and some made of few distinct words (long chains of equal keys).
      const set = Array.from({ length: 1 + Math.floor(next() * 12) }, (_, i) => {
        const length = 32 + 8 * Math.floor(next() * 40);
        const bytes = new Uint8Array(length);
        for (let k = 0; k < length; k++) bytes[k] = i % 3 === 0 ? [1, 2, 3, 5][Math.floor(next() * 4)] : Math.floor(next() * 256);
        return { ...patterns[0], bytes };
      });
      const built = buildPatternTable(set);
      expect(built.longestRun).toBe(bruteForce(built.ref));
    }
    expect(table.longestRun).toBe(bruteForce(table.ref));
    expect(table.longestRun).toBeGreaterThan(0);
  });
});
