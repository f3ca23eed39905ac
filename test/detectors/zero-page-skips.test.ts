// The word passes of the aes and entropy detectors leave out the pages the anchor filter saw
// all zeros (src/detectors/anchor-filter.ts: filterAesRelations' skip, filterWordClasses'
// zeroGroups). Zeros decide nothing there, so the findings must be exactly those of a pass that
// reads every word: keys right before, right after and between zero pages, at odd offsets.
import { describe, expect, test } from 'vitest';
import { aesDetector, decryptionSchedule, expandKey } from '../../src/detectors/aes.js';
import { anchorEngine, filterWordClasses, unitsWithin } from '../../src/detectors/anchor-filter.js';
import { classifyWords, entropyDetector } from '../../src/detectors/entropy.js';
import type { Match } from '../../src/types.js';
import { pseudoRandomBytes } from '../helpers/keys.js';
import { prng } from '../helpers/random.js';
import { zeroPageRuns } from '../helpers/zero-pages.js';

const PAGE = 4096;

/** A dump-like buffer: zero pages in runs of 1 to 3, and data pages of random bytes, text or sparse words. */
function pagedBuffer(pages: number, seed: number): Uint8Array {
  const random = prng(seed);
  const bytes = new Uint8Array(pages * PAGE);
  for (let p = 0; p < pages; ) {
    if (random() < 0.5) {
      p += 1 + Math.floor(random() * 3);
      continue;
    }
    const kind = Math.floor(random() * 3);
    const page = bytes.subarray(p * PAGE, (p + 1) * PAGE);
    if (kind === 0) page.set(pseudoRandomBytes(PAGE, seed * 1000 + p));
    else if (kind === 1) for (let k = 0; k < PAGE; k++) page[k] = 0x20 + Math.floor(random() * 95);
    else for (let k = 0; k < PAGE; k += 8) page[k] = Math.floor(random() * 256);
    p++;
  }
  return bytes;
}

/** 32 random bytes whose first and last are neither zero nor text (the entropy detector's runs end on such bytes). */
function edgedKey(seed: number): Uint8Array {
  const edgeOk = (b: number) => b >= 0x80;
  for (let k = 0; ; k++) {
    const key = pseudoRandomBytes(32, (seed * 7919 + k * 104729 + 1) >>> 0);
    if (edgeOk(key[0]) && edgeOk(key[31])) return key;
  }
}

const scanWith = (detector: typeof aesDetector, bytes: Uint8Array, zeroPages?: number[]): Match[] => [...detector.scan(bytes, bytes.length, undefined, undefined, zeroPages)];

describe('aes and entropy leave out known zero pages', () => {
  test('the module is live here (else the passes below read every word whatever the zero pages)', () => {
    expect(anchorEngine()).toBe('wasm');
  });

  /** Zero runs of at least three pages, as [start, end) pairs. */
  const longZeroRuns = (bytes: Uint8Array) => {
    const runs = zeroPageRuns(bytes);
    const out: Array<[number, number]> = [];
    for (let z = 0; z + 1 < runs.length; z += 2) if (runs[z + 1] - runs[z] >= 3 * PAGE && runs[z + 1] + PAGE <= bytes.length) out.push([runs[z], runs[z + 1]]);
    return out;
  };

  test('AES schedules ending where zero pages start and starting where they end: the same findings as reading every word', () => {
    const random = prng(5);
    let planted = 0;
    for (let round = 0; round < 12; round++) {
      const bytes = pagedBuffer(64, 10 + round);
      const starts: number[] = [];
      /** Where a zero run starts or ends right beside each schedule. */
      const edges: number[] = [];
      for (const [from, to] of longZeroRuns(bytes)) {
        // One in the run's first page, ending at its end (the run then starts a page later); one
        // at the start of the page after the run, 0 to 3 bytes in.
        for (const side of ['before', 'after'] as const) {
          const key = pseudoRandomBytes([16, 24, 32][Math.floor(random() * 3)], round * 100 + starts.length);
          const schedule = random() < 0.5 ? expandKey(key) : decryptionSchedule(key);
          const at = side === 'before' ? from + PAGE - schedule.length : to + Math.floor(random() * 4);
          bytes.set(schedule, at);
          starts.push(at);
          edges.push(side === 'before' ? from + PAGE : to);
        }
      }
      const zeroPages = zeroPageRuns(bytes);
      for (const edge of edges) expect(zeroPages).toContain(edge);
      const all = scanWith(aesDetector, bytes);
      expect(scanWith(aesDetector, bytes, zeroPages)).toEqual(all);
      expect(all.map((m) => m.start)).toEqual([...starts].sort((a, b) => a - b));
      planted += starts.length;
    }
    expect(planted).toBeGreaterThan(30);
  });

  test('keys among zeros ending a page before zero pages and starting the page after them: the same entropy findings as reading every word', () => {
    let reported = 0;
    for (let round = 0; round < 12; round++) {
      const bytes = pagedBuffer(64, 40 + round);
      const keys: number[] = [];
      for (const [from, to] of longZeroRuns(bytes)) {
        // A 32-byte key 40 zero bytes before the end of the run's first page; the page after the run zeroed, a key 40 bytes into it.
        const key = (seed: number) => edgedKey(seed);
        bytes.set(key(round * 100 + keys.length), from + PAGE - 72);
        keys.push(from + PAGE - 72);
        bytes.fill(0, to, to + PAGE);
        bytes.set(key(round * 100 + keys.length), to + 40);
        keys.push(to + 40);
      }
      const zeroPages = zeroPageRuns(bytes);
      for (const at of keys) expect(zeroPages.includes(at + 72) || zeroPages.includes(at - 40)).toBe(true);
      const all = scanWith(entropyDetector, bytes);
      expect(scanWith(entropyDetector, bytes, zeroPages)).toEqual(all);
      expect(keys.every((at) => all.some((m) => m.start === at && m.length === 32))).toBe(true);
      reported += keys.length;
    }
    expect(reported).toBeGreaterThan(30);
  });

  test('the word classes of zero groups are empty without reading them', () => {
    const bytes = pagedBuffer(64, 77);
    const W = new Int32Array(bytes.buffer, 0, bytes.length / 4);
    const groups = bytes.length / 128;
    const zero = new Int32Array(groups), text = new Int32Array(groups);
    classifyWords(W, 0, W.length, zero, text);
    const seenZero = new Int32Array(groups), seenText = new Int32Array(groups);
    const onBits = (first: number, z: Int32Array, t: Int32Array, count: number) => {
      seenZero.set(z.subarray(0, count), first);
      seenText.set(t.subarray(0, count), first);
    };
    const zeroGroups = unitsWithin(zeroPageRuns(bytes), 0, 128);
    expect(zeroGroups.length).toBeGreaterThan(4);
    expect(filterWordClasses(bytes, 0, groups, onBits, zeroGroups)).toBe(true);
    expect(seenZero).toEqual(zero);
    expect(seenText).toEqual(text);
  });

  test('whole units inside zero pages, counted from an offset', () => {
    expect(unitsWithin([0, 4096, 8192, 16384], 0, 128)).toEqual([0, 32, 64, 128]);
    expect(unitsWithin([4096, 8192], 3, 4)).toEqual([1024, 2047]);
    expect(unitsWithin([0, 4096], 100, 128)).toEqual([0, 31]);
    expect(unitsWithin(undefined, 0, 4)).toEqual([]);
  });
});
