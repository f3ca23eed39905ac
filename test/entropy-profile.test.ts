// The per-file entropy profile: exact block entropies, histogram and down-sampled points,
// blocks aligned to file offsets so the profile is the same for any chunk size, any order in
// which chunks come back and any number of workers; in the JSON report only on request.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { scan } from '../dist/index.js';
import { jsonReport } from '../dist/report/json.js';
import { chunkEntropy, EntropyProfileBuilder, type EntropyProfile } from '../src/entropy-profile.js';
import { pseudoRandomBytes } from './helpers/keys.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dumpguard-profile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const block = 4096;
const mib = 1 << 20;

/** Shannon entropy (bits/byte) written out here, independent of src/. */
function entropyOf(bytes: Uint8Array): number {
  const counts = new Map<number, number>();
  for (const b of bytes) counts.set(b, (counts.get(b) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) h -= (c / bytes.length) * Math.log2(c / bytes.length);
  return h;
}

/** The profile by definition: every block, the histogram, means of blocksPerPoint blocks. */
function expectedProfile(bytes: Uint8Array): EntropyProfile {
  const blocks = Math.ceil(bytes.length / block);
  const millibits = Array.from({ length: blocks }, (_, k) => Math.round(1000 * Math.fround(entropyOf(bytes.subarray(k * block, (k + 1) * block)))));
  let width = 1;
  while (Math.ceil(blocks / width) > 1024) width *= 2;
  const points: number[] = [];
  for (let i = 0; i < Math.ceil(blocks / width); i++) {
    const part = millibits.slice(i * width, (i + 1) * width);
    points.push(Math.round(part.reduce((a, b) => a + b, 0) / part.length) / 1000);
  }
  const counts = new Array(16).fill(0);
  for (const m of millibits) counts[Math.min(15, Math.floor(m / 500))]++;
  return { blockSizeInBytes: block, blocks, histogram: { binWidthInBits: 0.5, counts }, blocksPerPoint: width, points };
}

/** The profile as the scan builds it: chunks of body + margin, results added in a scrambled order. */
function chunkedProfile(bytes: Uint8Array, chunkSize: number): EntropyProfile | undefined {
  const results = [];
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    const slice = bytes.subarray(offset, offset + chunkSize + block);
    const last = offset + chunkSize + block >= bytes.length;
    results.push(chunkEntropy(slice, last ? slice.length : chunkSize, offset));
    if (last) break;
  }
  const builder = new EntropyProfileBuilder();
  // Workers finish in any order: odd chunks first, then even ones backwards.
  for (const r of [...results.filter((_, i) => i % 2), ...results.filter((_, i) => i % 2 === 0).reverse()]) builder.add(r);
  return builder.finish();
}

/** A dump-like mix: zero pages, random pages, text, a fill, at page and odd offsets. */
function mixed(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  const text = Buffer.from('error: connection reset by peer; retrying in 5 seconds (attempt 3 of 10)\n'.repeat(64));
  for (let page = 0, at = 0; at < length; page++, at += 3000 + (page % 5) * 700) {
    const kind = (page * 2654435761 + seed) % 5;
    if (kind === 1) pseudoRandomBytes(Math.min(4000, length - at), seed + page).copy(bytes, at);
    else if (kind === 2) text.copy(bytes, at, 0, Math.min(3500, length - at));
    else if (kind === 3) bytes.fill(0xff, at, Math.min(length, at + 2000));
  }
  return bytes;
}

describe('values', () => {
  test('four blocks: zeros, random, text, a 100-byte fill at the end (shorter last block)', () => {
    const random = randomBytes(block);
    const text = Buffer.from('the quick brown fox jumps over the lazy dog. '.repeat(100)).subarray(0, block);
    const bytes = Buffer.concat([Buffer.alloc(block), random, text, Buffer.alloc(100, 7)]);
    const profile = chunkedProfile(bytes, 8 * mib)!;
    const randomBits = Math.round(1000 * Math.fround(entropyOf(random))) / 1000;
    const textBits = Math.round(1000 * Math.fround(entropyOf(text))) / 1000;
    expect(profile).toEqual({
      blockSizeInBytes: 4096,
      blocks: 4,
      histogram: { binWidthInBits: 0.5, counts: [2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1] },
      blocksPerPoint: 1,
      points: [0, randomBits, textBits, 0],
    });
    expect(randomBits).toBeGreaterThan(7.9);
    expect(textBits).toBeGreaterThanOrEqual(4);
    expect(textBits).toBeLessThan(4.5);
    expect(profile).toEqual(expectedProfile(bytes));
  });

  test('down-sampling: at most 1024 points, the mean of a power-of-two run of blocks, fixed by the size', () => {
    for (const [length, width, points] of [
      [4 * mib, 1, 1024],
      [4 * mib + 1, 2, 513],
      [5 * mib + 123, 2, 641],
      [9 * mib, 4, 576],
    ] as const) {
      const bytes = mixed(length, length);
      const profile = chunkedProfile(bytes, 1 * mib)!;
      expect({ width: profile.blocksPerPoint, points: profile.points.length, blocks: profile.blocks }, `${length}`).toEqual({ width, points, blocks: Math.ceil(length / block) });
      expect(profile, `${length}`).toEqual(expectedProfile(bytes));
      expect(profile.histogram.counts.reduce((a, b) => a + b, 0)).toBe(profile.blocks);
    }
  });

  test('an empty input has no profile; a 1-byte input one block', () => {
    expect(chunkedProfile(new Uint8Array(0), 65536)).toBeUndefined();
    expect(chunkedProfile(Uint8Array.of(9), 65536)).toEqual({ blockSizeInBytes: 4096, blocks: 1, histogram: { binWidthInBits: 0.5, counts: [1, ...new Array(15).fill(0)] }, blocksPerPoint: 1, points: [0] });
  });
});

describe('chunk invariance', () => {
  test('the same profile for chunks of 4 KiB, 64 KiB, 100 003 bytes, 1 MiB and 8 MiB, in any completion order', () => {
    const bytes = mixed(6 * mib + 4321, 5);
    const reference = expectedProfile(bytes);
    for (const chunk of [4096, 65536, 100_003, mib, 8 * mib]) expect(chunkedProfile(bytes, chunk), `chunk ${chunk}`).toEqual(reference);
  });

  test('through the scan: the same profile for 64k/1 job and 1m/2 jobs and 8m; in the JSON report at summary.perFile[].entropy; absent without the option', async () => {
    const bytes = mixed(3 * mib + 999, 11);
    const file = path.join(tmp, 'mixed.bin');
    writeFileSync(file, bytes);
    const profiles = [];
    for (const [chunkSizeInBytes, jobs] of [[65536, 1], [mib, 2], [8 * mib, 2]]) {
      const { summary } = await scan([file], { chunkSizeInBytes, jobs, entropyProfile: true });
      profiles.push(summary.perFile[0].entropy);
    }
    const reference = expectedProfile(bytes);
    for (const p of profiles) expect(p).toEqual(reference);
    // With the entropy and aes detectors on too (their look-behind and margin change nothing).
    const withDetectors = await scan([file], { chunkSizeInBytes: 65536, jobs: 2, entropyProfile: true, detectors: ['aes', 'entropy'] });
    expect(withDetectors.summary.perFile[0].entropy).toEqual(reference);
    const json = JSON.parse(jsonReport(withDetectors.findings, withDetectors.summary, 'test'));
    expect(json.summary.perFile[0].entropy).toEqual(reference);
    const plain = await scan([file], { chunkSizeInBytes: 65536, jobs: 1 });
    expect(plain.summary.perFile[0].entropy).toBeUndefined();
  });
});
