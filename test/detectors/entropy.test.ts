// The entropy detector: key-sized random runs that stand out from low-entropy surroundings are
// low-severity hints at exact offsets; random, compressed and ordinary data are not findings;
// the block map and the window test other detectors use.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { blockEntropies, capHighEntropyFindings, classifyWords, entropyDetector, gapInWords, highEntropyThreshold, isHighEntropyWindow, maximumFindingsPerFile, maximumSpanInWords, segmentsOfBits } from '../../src/detectors/entropy.js';
import { anchorEngine, filterWordClasses } from '../../src/detectors/anchor-filter.js';
import { scan } from '../../dist/index.js';
import type { Finding, Match } from '../../src/types.js';
import { scanChunked } from '../helpers/chunked.js';
import { pseudoRandomBytes } from '../helpers/keys.js';

const scanAll = (bytes: Uint8Array, bodyLength = bytes.length): Match[] => [...entropyDetector.scan(bytes, bodyLength)];
const cap = 100;
const mib = 1 << 20;

const words = (
  'the of and to in is was that for it as with be on not he by this are or his from at which but have an they you were her she there been ' +
  'one all we their has would when if so no will more can who out said some what up about into them only time could new other these two may ' +
  'then do first any like now my over such our man me even most made after also did many before must through back years where much your way ' +
  'well down should because each just those people how too little state good very make world still own see men work long get here between'
).split(' ');

/** Deterministic English-like text: common words, punctuation and line breaks. */
function englishText(length: number, seed = 1): Buffer {
  let text = '';
  let x = seed;
  while (text.length < length) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    text += words[x % words.length] + ((x >> 8) % 11 === 0 ? '. ' : (x >> 8) % 7 === 0 ? ', ' : (x >> 8) % 53 === 0 ? '\n' : ' ');
  }
  return Buffer.from(text.slice(0, length));
}

const isText = (b: number) => (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d;

/**
 * A random key whose first and last bytes cannot be taken for the surroundings (not zero, not
 * text): a run starts at the first byte that is not background, so a key starting with a zero
 * among zeros or a letter in text is reported from its second byte (documented in entropy.ts).
 * With a seed, pseudo-random and reproducible: random keys fail the randomness tests about
 * once in 10^3 (16 bytes) to 10^4 (32 bytes and more), by design, and sweeps over hundreds of
 * keys must not flake.
 */
function distinctEdgedKey(length: number, seed?: number): Buffer {
  const edgeOk = (b: number) => b !== 0 && !isText(b);
  for (let k = 0; ; k++) {
    const key = seed === undefined ? randomBytes(length) : pseudoRandomBytes(length, (seed * 7919 + k * 104729 + 1) >>> 0);
    if (edgeOk(key[0]) && edgeOk(key[length - 1])) return key;
  }
}

const found = (ms: Match[]) => ms.map((m) => ({ start: m.start, length: m.length }));

describe('a lone key in low-entropy surroundings: one low finding at its exact offset and length', () => {
  test('a node:crypto random 32-byte key in zeros and in English text', () => {
    const key = distinctEdgedKey(32);
    for (const bytes of [Buffer.alloc(8192), englishText(8192)]) {
      key.copy(bytes, 4097);
      expect(found(scanAll(bytes))).toEqual([{ start: 4097, length: 32 }]);
    }
  });

  test('200 pseudo-random 32-byte keys in zeros', () => {
    for (let k = 0; k < 200; k++) {
      const key = distinctEdgedKey(32, k);
      const at = 64 + ((k * 131) % 3000);
      const bytes = Buffer.alloc(4096);
      key.copy(bytes, at);
      const matches = scanAll(bytes);
      expect(found(matches), `@${at}`).toEqual([{ start: at, length: 32 }]);
      expect(matches[0]).toMatchObject({ detector: 'entropy', kind: 'high-entropy', severity: 'low', encoding: 'binary' });
      expect(matches[0].evidence).toMatch(/^high-entropy run, \d\.\d\d bits\/byte \(32 bytes\)$/);
    }
  });

  test('200 pseudo-random 32-byte keys in English text', () => {
    for (let k = 0; k < 200; k++) {
      const key = distinctEdgedKey(32, 1000 + k);
      const at = 64 + ((k * 131) % 3000);
      const bytes = englishText(4096, k + 1);
      key.copy(bytes, at);
      expect(found(scanAll(bytes)), `@${at}`).toEqual([{ start: at, length: 32 }]);
    }
  });

  test('key-sized runs of 16 to 1024 bytes in zeros and in text are found whole; a 2 KiB random block is not reported', () => {
    for (const length of [16, 24, 48, 64, 128, 256, 512, 1024]) {
      for (const background of ['zeros', 'text'] as const) {
        const key = distinctEdgedKey(length, length);
        const bytes = background === 'zeros' ? Buffer.alloc(8192) : englishText(8192, length);
        key.copy(bytes, 1001);
        expect(found(scanAll(bytes)), `${length} bytes in ${background}`).toEqual([{ start: 1001, length }]);
      }
    }
    for (const length of [1100, 2048, 100_000]) {
      const bytes = Buffer.alloc(length + 8192);
      randomBytes(length).copy(bytes, 4000);
      expect(scanAll(bytes), `${length} random bytes`).toEqual([]);
    }
  });

  test('two keys close together are one merged finding; far apart, two', () => {
    const a = distinctEdgedKey(32, 1), b = distinctEdgedKey(32, 2);
    const near = Buffer.alloc(4096);
    a.copy(near, 1000);
    b.copy(near, 1000 + 32 + 20);
    expect(found(scanAll(near))).toEqual([{ start: 1000, length: 84 }]);
    const far = Buffer.alloc(4096);
    a.copy(far, 1000);
    b.copy(far, 2000);
    expect(found(scanAll(far))).toEqual([{ start: 1000, length: 32 }, { start: 2000, length: 32 }]);
  });

  test('evidence and note show nothing of the key', () => {
    const key = distinctEdgedKey(32);
    const bytes = Buffer.alloc(1024);
    key.copy(bytes, 100);
    const text = JSON.stringify(scanAll(bytes));
    for (const encoded of [key.toString('hex').slice(0, 8), key.toString('base64').slice(0, 8)]) expect(text).not.toContain(encoded);
  });
});

describe('no findings above low, at most the cap', () => {
  const check = (bytes: Buffer, label: string) => {
    const chunk = 16 * mib;
    const matches = scanChunked(entropyDetector, bytes, chunk);
    expect(matches.every((m) => m.severity === 'low'), label).toBe(true);
    const perChunk = new Map<number, number>();
    for (const m of matches) perChunk.set(Math.floor(m.offset / chunk), (perChunk.get(Math.floor(m.offset / chunk)) ?? 0) + 1);
    for (const [, n] of perChunk) expect(n, label).toBeLessThanOrEqual(cap);
    return matches;
  };
  test('64 MiB of random bytes: long high-entropy stretches are not reported', () => {
    expect(check(randomBytes(64 * mib), 'random')).toEqual([]);
  });
  test('64 MiB of gzip output: a handful of low hints at most', () => {
    const parts: Buffer[] = [];
    let total = 0;
    const binary = readFileSync(process.execPath);
    for (let round = 0; total < 64 * mib; round++) {
      const out = gzipSync(round % 2 ? binary.subarray(round * 4099) : Buffer.concat([englishText(4 * mib, round), binary.subarray(0, 8 * mib)]), { level: 1 + (round % 9) });
      parts.push(out);
      total += out.length;
    }
    const gzip = Buffer.concat(parts);
    // Deflate output of zero runs is a short periodic pattern (f1 80 f1 80 ...); a few short
    // Huffman-coded stretches between such patterns stand out from them as they should.
    expect(check(gzip, 'gzip').length).toBeLessThanOrEqual(16);
  });
  test('zeros, English text, UTF-16LE text, pointer arrays', () => {
    const pointers = Buffer.alloc(4 * mib);
    const random = pseudoRandomBytes(pointers.length / 2, 3);
    for (let i = 0; i < pointers.length; i += 8) pointers.writeBigUInt64LE(0x7f3a_1000_0000n + BigInt(random.readUInt32LE(i / 2) & 0xfffff0), i);
    for (const [label, bytes] of [
      ['zeros', Buffer.alloc(8 * mib)],
      ['text', englishText(8 * mib)],
      ['utf16', Buffer.from(englishText(4 * mib).toString('latin1'), 'utf16le')],
      ['pointers', pointers],
    ] as const) {
      expect(check(bytes, label), label).toEqual([]);
    }
  });
  test('a dump-like mix of many planted keys stays at the cap per chunk, the best kept', () => {
    const bytes = Buffer.alloc(2 * mib);
    const at: number[] = [];
    for (let k = 0; k < 300; k++) {
      const length = k < 20 ? 512 : 32;
      distinctEdgedKey(length, 5000 + k).copy(bytes, 4000 + k * 6000);
      at.push(4000 + k * 6000);
    }
    const matches = scanAll(bytes);
    expect(matches.length).toBe(cap);
    // The longer runs score higher and are all kept.
    for (const a of at.slice(0, 20)) expect(matches.some((m) => m.start === a && m.length === 512)).toBe(true);
  });
});

describe('chunks', () => {
  /** Plants of several sizes in zeros and text, none starting in the first 32 bytes of a 4096, 65536 or 100_003 chunk. */
  function plantedFile(): { bytes: Buffer; plants: Array<{ offset: number; length: number }> } {
    const bytes = Buffer.concat([Buffer.alloc(200_000), englishText(200_000, 7)]);
    const plants: Array<{ offset: number; length: number }> = [];
    const lengths = [16, 32, 32, 48, 64, 200, 1000];
    const near = (offset: number) => [4096, 65536, 100_003].some((c) => offset % c < 40);
    for (let k = 0, offset = 1000; offset < bytes.length - 3000; k++) {
      const length = lengths[k % lengths.length];
      // Straddle a 4096 boundary every other plant.
      let at = k % 2 ? Math.ceil(offset / 4096) * 4096 - Math.floor(length / 2) : offset;
      while (near(at)) at += 41;
      distinctEdgedKey(length, 9000 + k).copy(bytes, at);
      plants.push({ offset: at, length });
      offset = at + length + 4000 + ((k * 97) % 2000);
    }
    return { bytes, plants };
  }

  test('the same findings for every chunk size, at the planted offsets', () => {
    const { bytes, plants } = plantedFile();
    const absolute = (ms: ReturnType<typeof scanChunked>) => ms.map(({ start: _start, ...rest }) => rest);
    const reference = scanChunked(entropyDetector, bytes, bytes.length);
    expect(reference.map((m) => ({ offset: m.offset, length: m.length }))).toEqual(plants);
    for (const chunk of [4096, 65536, 100_003]) expect(absolute(scanChunked(entropyDetector, bytes, chunk)), `chunk ${chunk}`).toEqual(absolute(reference));
  });

  test('65 bytes in front move every finding by exactly 65', () => {
    const { bytes } = plantedFile();
    const reference = scanChunked(entropyDetector, bytes, 65536);
    const shifted = scanChunked(entropyDetector, Buffer.concat([Buffer.alloc(64), Buffer.from([0]), bytes]), 65536);
    expect(shifted.map((m) => ({ offset: m.offset - 65, length: m.length, note: m.note }))).toEqual(reference.map((m) => ({ offset: m.offset, length: m.length, note: m.note })));
    expect(reference.length).toBeGreaterThan(50);
  });

  test('a run in the first 32 bytes of a chunk is judged on the look-behind; without it (the start of an input) zeros stand before it', () => {
    const bytes = Buffer.alloc(8192);
    distinctEdgedKey(32, 3).copy(bytes, 4096 + 10);
    expect(found(scanAll(bytes))).toEqual([{ start: 4106, length: 32 }]);
    // On its own the array is an input, and zeros before it are what a 65-byte NUL prefix would be.
    expect(found(scanAll(bytes.subarray(4096), 4096))).toEqual([{ start: 10, length: 32 }]);
    const withBefore = [...entropyDetector.scan(bytes.subarray(4096), 4096, undefined, bytes.subarray(0, 4096))];
    expect(found(withBefore)).toEqual([{ start: 10, length: 32 }]);
    // The same run after text: the look-behind says the surroundings are text, not random.
    const noisy = Buffer.concat([randomBytes(4096), bytes.subarray(4096)]);
    expect(found([...entropyDetector.scan(noisy.subarray(4096), 4096, undefined, noisy.subarray(0, 4096))])).toEqual([]);
  });

  test('only runs starting in the body are reported', () => {
    const bytes = Buffer.alloc(8192);
    distinctEdgedKey(32, 4).copy(bytes, 1000);
    expect(scanAll(bytes, 1000)).toEqual([]);
    expect(found(scanAll(bytes, 1001))).toEqual([{ start: 1000, length: 32 }]);
  });
});

describe('chunk invariance at chunk starts (look-behind)', () => {
  const kib = 1024;
  /**
   * 9 MiB of zeros and text; keys of 16 to 512 bytes planted at every distance that matters
   * from 64 KiB boundaries (ahead of odd multiples of 64 KiB and of 1 MiB alike) (so also 1 MiB and 8 MiB ones): just before, across, in the first
   * 32 bytes after (where a run needs the look-behind), and a little and far after; some keys
   * follow a piece of structure (a run of 0x01 bytes) that begins before the boundary and is
   * in the same component. Every plant is one finding at its offset whatever the chunking.
   */
  function boundaryFile(): { bytes: Buffer; plants: Array<{ offset: number; length: number }> } {
    const bytes = Buffer.alloc(9 * mib);
    // Text backgrounds in alternate 256 KiB stretches.
    for (let at = 256 * kib; at < bytes.length; at += 512 * kib) englishText(256 * kib, at).copy(bytes, at);
    const plants: Array<{ offset: number; length: number }> = [];
    const distances = [-300, -40, -17, -1, 0, 1, 5, 20, 31, 32, 33, 100, 1000, 2100, 4000, 4095, 4100];
    const lengths = [16, 32, 48, 64, 200, 512];
    let k = 0;
    // Every other 64 KiB boundary: fewer plants than the cap of 100 in the whole file.
    for (let boundary = 64 * kib; boundary < bytes.length - 64 * kib; boundary += 128 * kib) {
      const distance = distances[k % distances.length];
      const length = lengths[k % lengths.length];
      let at = boundary + distance;
      if (k % 5 === 4) {
        // Structure 20 bytes before the key, in its component (16 bytes of background between).
        const prefix = Buffer.alloc(20, 0x01);
        const textGap = (at >> 18) & 1 ? Buffer.from(' '.repeat(16)) : Buffer.alloc(16);
        at = boundary + 10;
        Buffer.concat([prefix, textGap]).copy(bytes, at - 36);
      }
      distinctEdgedKey(length, 20_000 + k).copy(bytes, at);
      plants.push({ offset: at, length });
      k++;
    }
    // At the one boundary 8 MiB chunks have, in the first 32 bytes and just before it.
    for (const [at, length] of [[8 * mib + 3, 32], [8 * mib - 100, 24]]) {
      distinctEdgedKey(length, 30_000 + length).copy(bytes, at);
      plants.push({ offset: at, length });
    }
    return { bytes, plants: plants.sort((a, b) => a.offset - b.offset) };
  }

  const absolute = (ms: ReturnType<typeof scanChunked>) => ms.map(({ start: _start, ...rest }) => rest);

  test('every plant, at its offset, for chunks of 64 KiB, 1 MiB, 8 MiB (and 4 KiB, 100 003 bytes), and 65 bytes in front move all by 65', () => {
    const { bytes, plants } = boundaryFile();
    const reference = scanChunked(entropyDetector, bytes, bytes.length);
    expect(reference.map((m) => ({ offset: m.offset, length: m.length }))).toEqual(plants);
    expect(reference.every((m) => m.kind === 'high-entropy' && m.severity === 'low' && m.detector === 'entropy')).toBe(true);
    for (const chunk of [64 * kib, mib, 8 * mib, 4096, 100_003]) expect(absolute(scanChunked(entropyDetector, bytes, chunk)), `chunk ${chunk}`).toEqual(absolute(reference));
    const shifted = Buffer.concat([Buffer.alloc(65), bytes]);
    for (const chunk of [64 * kib, mib]) {
      expect(
        scanChunked(entropyDetector, shifted, chunk).map((m) => ({ offset: m.offset - 65, length: m.length, note: m.note, confidence: m.confidence })),
        `shifted, chunk ${chunk}`,
      ).toEqual(reference.map((m) => ({ offset: m.offset, length: m.length, note: m.note, confidence: m.confidence })));
    }
  });

  test('through the scan (chunker look-behind, worker pool): the same findings for 64k/1 job, 1m/2 jobs, 8m, and from a stream', async () => {
    const { bytes, plants } = boundaryFile();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dumpguard-entropy-'));
    try {
      const file = path.join(dir, 'boundaries.bin');
      writeFileSync(file, bytes);
      const runs = [];
      for (const [chunkSizeInBytes, jobs] of [[64 * kib, 1], [mib, 2], [8 * mib, 2]]) {
        runs.push((await scan([file], { chunkSizeInBytes, jobs, detectors: ['entropy'] })).findings);
      }
      runs.push((await scan(['-'], { chunkSizeInBytes: 64 * kib, jobs: 2, detectors: ['entropy'], stdin: Readable.from([bytes.subarray(0, 3 * mib), bytes.subarray(3 * mib)]) })).findings);
      const shape = (fs: Finding[]) => fs.map((f) => ({ offset: f.offset, length: f.length, kind: f.kind, severity: f.severity, note: f.note, confidence: f.confidence }));
      expect(runs[0].map((f) => ({ offset: f.offset, length: f.length }))).toEqual(plants);
      for (const r of runs.slice(1)) expect(shape(r)).toEqual(shape(runs[0]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('random stretches crossing boundaries (long, not reported) with keys beside them: the same for every chunk size', () => {
    const bytes = Buffer.alloc(2 * mib);
    const plants: number[] = [];
    for (let k = 1; k < 30; k++) {
      const boundary = k * 64 * kib;
      // A 3000-byte random stretch across the boundary, then a key 100 bytes after it.
      pseudoRandomBytes(3000, k).copy(bytes, boundary - 1500 + (k % 7) * 100);
      const at = boundary + 1500 + (k % 7) * 100 + 100;
      distinctEdgedKey(32, 40_000 + k).copy(bytes, at);
      plants.push(at);
    }
    const reference = scanChunked(entropyDetector, bytes, bytes.length);
    expect(reference.map((m) => m.offset)).toEqual(plants);
    for (const chunk of [4096, 64 * kib, 100_003]) expect(absolute(scanChunked(entropyDetector, bytes, chunk)), `chunk ${chunk}`).toEqual(absolute(reference));
  });

  test('a key 32 to 40 zero or text bytes after a long random stretch, at every alignment: found (the word pass follows long stretches by strides)', () => {
    for (const background of ['zeros', 'text'] as const) {
      for (let align = 0; align < 4; align++) {
        for (let gap = 32; gap <= 40; gap++) {
          const bytes = background === 'zeros' ? Buffer.alloc(16 * kib) : englishText(16 * kib, gap);
          const stretchAt = 1000 + align;
          pseudoRandomBytes(5000, gap + align).copy(bytes, stretchAt);
          const at = stretchAt + 5000 + gap;
          distinctEdgedKey(32, 60_000 + gap).copy(bytes, at);
          expect(found(scanAll(bytes)), `${background}, align ${align}, gap ${gap}`).toEqual([{ start: at, length: 32 }]);
        }
      }
    }
  });

  test('more than the cap: each chunk keeps its best 100, the file its best 100 (capHighEntropyFindings), the same for every chunk size', () => {
    const bytes = Buffer.alloc(4 * mib);
    for (let k = 0; k < 600; k++) distinctEdgedKey(k % 3 ? 32 : 16 + (k % 200), 50_000 + k).copy(bytes, 3000 + k * 6900);
    const perFile = (chunk: number) => capHighEntropyFindings(scanChunked(entropyDetector, bytes, chunk)).map(({ start: _start, ...rest }) => rest);
    const reference = perFile(bytes.length);
    expect(reference.length).toBe(maximumFindingsPerFile);
    for (const chunk of [64 * kib, mib]) {
      expect(scanChunked(entropyDetector, bytes, chunk).length).toBeGreaterThan(maximumFindingsPerFile);
      expect(perFile(chunk), `chunk ${chunk}`).toEqual(reference);
    }
    // Best first: the kept ones are at least as confident as any dropped one.
    const all = scanChunked(entropyDetector, bytes, 64 * kib);
    const lowestKept = Math.min(...reference.map((m) => m.confidence));
    expect(all.filter((m) => !reference.some((r) => r.offset === m.offset)).every((m) => m.confidence <= lowestKept)).toBe(true);
  });
});

describe('the block map and the window test', () => {
  test('blockEntropies: one value per 4 KiB block of the body', () => {
    const bytes = Buffer.concat([Buffer.alloc(4096), randomBytes(4096), englishText(4096), Buffer.alloc(100, 1), randomBytes(5000)]);
    const map = blockEntropies(bytes, 4096 * 3 + 100);
    expect(map).toBeInstanceOf(Float32Array);
    expect(map.length).toBe(4);
    expect(map[0]).toBe(0);
    expect(map[1]).toBeGreaterThan(7.9);
    expect(map[2]).toBeGreaterThan(3.5);
    expect(map[2]).toBeLessThan(4.6);
    expect(map[3]).toBe(0);
    expect(blockEntropies(bytes, 8192, 1024).length).toBe(8);
  });

  test('isHighEntropyWindow: random windows of key sizes yes; text, zeros, pointers no', () => {
    let random = 0;
    for (let k = 0; k < 1000; k++) if (isHighEntropyWindow(randomBytes(32), 0, 32)) random++;
    expect(random).toBeGreaterThan(995);
    const text = englishText(100_000);
    for (let at = 0; at + 64 < text.length; at += 997) {
      expect(isHighEntropyWindow(text, at, 32)).toBe(false);
      expect(isHighEntropyWindow(text, at, 64)).toBe(false);
    }
    expect(isHighEntropyWindow(Buffer.alloc(64), 0, 64)).toBe(false);
    expect(isHighEntropyWindow(randomBytes(8), 0, 8)).toBe(false);
    expect(isHighEntropyWindow(randomBytes(4096), 0, 4096)).toBe(true);
    expect(highEntropyThreshold(32)).toBeCloseTo(4.46, 2);
    expect([16, 32, 64, 128, 256].map((n) => highEntropyThreshold(n).toFixed(2))).toEqual(['3.48', '4.46', '5.40', '6.23', '6.91']);
    // Too short, or reaching outside the array: never high-entropy.
    const key = randomBytes(64);
    expect(isHighEntropyWindow(key, 0, 15)).toBe(false);
    expect(isHighEntropyWindow(key, 40, 32)).toBe(false);
    expect(isHighEntropyWindow(key, -1, 32)).toBe(false);
  });
});

describe('the word pass: classes of words and the stretches read off them', () => {
  /** Words of every class: zeros, text, controls, DEL, bytes >= 0x80, mixed. */
  function mixedWords(count: number): Buffer {
    const b = Buffer.alloc(4 * count);
    const kinds = [() => 0, () => 0x41 + randomInt(26), () => randomInt(256), () => [0, 9, 10, 13, 0x7f, 0x1f, 0x20, 0x7e, 0x80][randomInt(9)]];
    for (let i = 0; i < b.length; ) {
      const kind = kinds[randomInt(kinds.length)];
      for (let n = 1 + randomInt(64); n > 0 && i < b.length; n--) b[i++] = kind();
    }
    return b;
  }

  test('the module classifies every word as the JS form does (non-zero; a byte neither text nor NUL)', () => {
    expect(anchorEngine()).toBe('wasm');
    const bytes = mixedWords(32 * 5000);
    // Every byte value alone in a word, at each of its four positions.
    for (let v = 0; v < 256; v++) {
      for (let p = 0; p < 4; p++) {
        bytes.writeUInt32LE(0, 4 * (4 * v + p));
        bytes[4 * (4 * v + p) + p] = v;
      }
    }
    const groups = bytes.length / 128;
    const W = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    const zero = new Int32Array(groups), text = new Int32Array(groups);
    classifyWords(W, 0, W.length, zero, text);
    const fromModule = { zero: new Int32Array(groups), text: new Int32Array(groups) };
    expect(filterWordClasses(bytes, 0, groups, (first, z, t, n) => {
      fromModule.zero.set(z.subarray(0, n), first);
      fromModule.text.set(t.subarray(0, n), first);
    })).toBe(true);
    expect(fromModule.zero).toEqual(zero);
    expect(fromModule.text).toEqual(text);
    // The text class per byte value, as the detector's top comment defines it.
    for (let v = 0; v < 256; v++) {
      const notText = v >= 0x80 || v === 0x7f || (v < 0x20 && ![0, 9, 10, 13].includes(v));
      for (let p = 0; p < 4; p++) expect((text[v >> 3] >>> (4 * (v & 7) + p)) & 1, `byte 0x${v.toString(16)} at ${p}`).toBe(notText ? 1 : 0);
    }
  });

  test('stretches read off the bits, 32 at a time, equal a word-by-word reading, piece by piece', () => {
    // Bits with runs of hits and gaps of every length around the split (6 clear words).
    for (let round = 0; round < 20; round++) {
      const words = 32 * 400;
      const hits = new Uint8Array(words);
      for (let j = 0; j < words; ) {
        const run = randomInt(4) === 0 ? randomInt(400) : randomInt(12);
        if (randomInt(2)) hits.fill(1, j, j + run);
        else for (let k = j; k < j + run && k < words; k++) hits[k] = randomInt(3) === 0 ? 1 : 0;
        j += run + randomInt(10);
      }
      const expected: number[] = [];
      let first = -1, last = -(1 << 30);
      for (let j = 0; j < words; j++) {
        if (!hits[j]) continue;
        if (j - last > gapInWords) {
          if (first >= 0 && last - first < maximumSpanInWords) expected.push(first, last);
          first = j;
        }
        last = j;
      }
      if (first >= 0 && last - first < maximumSpanInWords) expected.push(first, last);
      const bits = new Int32Array(words / 32);
      hits.forEach((h, j) => (bits[j >> 5] |= h << (j & 31)));
      const out: number[] = [];
      const state = Int32Array.of(-1, -(1 << 30));
      for (let g = 0; g < bits.length; g += 7) segmentsOfBits(bits.subarray(g, g + 7), Math.min(7, bits.length - g), 32 * g, state, out);
      if (state[0] >= 0 && state[1] - state[0] < maximumSpanInWords) out.push(state[0], state[1]);
      expect(out).toEqual(expected);
      expect(expected.length).toBeGreaterThan(10);
    }
  });
});
