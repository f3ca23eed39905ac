// Sizes at the edges of the chunk rule, and a real core dump cut short, through the BUILT CLI.
//  - files of 0 and 1 bytes, and of chunk size ± 1, margin ± 1 and chunk + margin ± 1 bytes,
//    with --chunk-size 64k; the margin is the largest maxMatchLengthInBytes of the registry
//    (dist/detectors/index.js), as the scan computes it;
//  - for each size: garbage (exit 0), a key that ends exactly at EOF, and (where it fits) a key
//    starting one byte before, at, and one byte after the chunk boundary (exit 1, exact offset);
//  - samples/core-holdkey-pem.core truncated at every 4 KiB of its first 64 KiB: the key at
//    its recorded offset (samples/offsets.json) is reported exactly when the copy holds it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { detectors } from '../../dist/detectors/index.js';
import { repoRoot } from '../helpers/cli.js';
import { pkcs8Pem, pseudoRandomBytes, testKeys, fingerprintOf } from '../helpers/keys.js';
import { expectHealthy, expectWithinTime, findingsOf, scanMeasured, scratchDir } from './helpers.js';

const { dir, remove } = scratchDir('sizes');
afterAll(remove);

const CHUNK = 64 * 1024;
const MARGIN = Math.max(...detectors.map((d: { maxMatchLengthInBytes: number }) => d.maxMatchLengthInBytes));
const keys = testKeys();
// Without its final newline: the armor, from `-----BEGIN` to the last dash of the END line.
const pem = Buffer.from(pkcs8Pem(keys.ec.privateKey).trimEnd());
const armorLength = pem.length;
const fingerprint = fingerprintOf(keys.ec.privateKey);

const sizes = [...new Set([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, MARGIN - 1, MARGIN, MARGIN + 1, CHUNK + MARGIN - 1, CHUNK + MARGIN, CHUNK + MARGIN + 1])].sort((a, b) => a - b);

function put(name: string, bytes: Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** `size` bytes of filler with the key at `offset` (pseudo-random filler never holds a key). */
function planted(size: number, offset: number, seed: number): Buffer {
  const bytes = pseudoRandomBytes(size, seed);
  pem.copy(bytes, offset);
  return bytes;
}

test('the margin is the registry maximum and the sizes cover chunk ± 1, margin ± 1, chunk + margin ± 1', () => {
  expect(MARGIN).toBeGreaterThanOrEqual(16 * 1024);
  expect(sizes).toContain(CHUNK + MARGIN + 1);
  expect(sizes.length).toBeGreaterThanOrEqual(8);
});

describe.concurrent(`sizes around --chunk-size 64k (chunk ${CHUNK}, margin ${MARGIN})`, () => {
  for (const size of sizes) {
    test(`${size} bytes of garbage → exit 0`, async ({ expect }) => {
      const file = put(`garbage-${size}.bin`, pseudoRandomBytes(size, size + 1));
      const r = await scanMeasured(file, ['--chunk-size', '64k'], { bytes: size });
      expectHealthy(r, 0);
      expectWithinTime(r, size);
      expect(findingsOf(r)).toEqual([]);
      if (size === 0) expect(r.stderrText).toMatch(/empty/);
      expect(r.stderrText).toMatch(new RegExp(`scanned 1 file\\(s\\), ${size} bytes`));
    });

    if (size >= pem.length) {
      test(`${size} bytes, a key ending exactly at EOF → exit 1 at offset ${size - pem.length}`, async ({ expect }) => {
        const file = put(`at-eof-${size}.bin`, planted(size, size - pem.length, size + 2));
        const r = await scanMeasured(file, ['--chunk-size', '64k'], { bytes: size });
        expectHealthy(r, 1);
        expect(findingsOf(r).map((f) => [f.offset, f.length, f.detector, f.severity, f.fingerprint])).toEqual([[size - pem.length, armorLength, 'pem', 'high', fingerprint]]);
      });
    }
  }

  for (const offset of [CHUNK - 1, CHUNK, CHUNK + 1]) {
    test(`a key starting at ${offset} (chunk boundary ${offset - CHUNK >= 0 ? '+' : ''}${offset - CHUNK}) of a ${CHUNK + MARGIN + 1}-byte file → found once, exact offset`, async ({ expect }) => {
      const size = CHUNK + MARGIN + 1;
      const file = put(`boundary-${offset}.bin`, planted(size, offset, offset));
      const r = await scanMeasured(file, ['--chunk-size', '64k'], { bytes: size });
      expectHealthy(r, 1);
      expect(findingsOf(r).map((f) => [f.offset, f.length, f.severity, f.fingerprint])).toEqual([[offset, armorLength, 'high', fingerprint]]);
    });
  }
});

describe.concurrent('samples/core-holdkey-pem.core truncated at every 4 KiB of its first 64 KiB', () => {
  const core = fs.readFileSync(path.join(repoRoot, 'samples/core-holdkey-pem.core'));
  const offsets = JSON.parse(fs.readFileSync(path.join(repoRoot, 'samples/offsets.json'), 'utf8'));
  const keyOffset: number = offsets['core-holdkey-pem.core']['test-key-rsa2048.pem'][0];
  const keyPem = fs.readFileSync(path.join(repoRoot, 'samples/test-key-rsa2048.pem'));
  const keyEnd = keyOffset + keyPem.length - 1;

  for (let size = 4096; size <= 64 * 1024; size += 4096) {
    // Holding the whole key: high at its offset. Cut inside it (past the BEGIN line and enough
    // body to be key-shaped): still reported at its offset. Cut before it: clean. The copy's
    // ELF headers declare the full size: a warning, never an error (exit 2 only with --strict).
    const expected = size >= keyEnd ? 'whole' : size > keyOffset + 100 ? 'cut' : 'absent';
    test(`${size} bytes (${expected === 'absent' ? 'before the key' : expected === 'cut' ? 'cut inside the key' : 'holds the key'}) → exit ${expected === 'absent' ? 0 : 1}`, async ({ expect }) => {
      const file = put(`core-${size}.core`, core.subarray(0, size));
      const r = await scanMeasured(file, ['--chunk-size', '64k'], { bytes: size });
      expectHealthy(r, expected === 'absent' ? 0 : 1);
      expect(r.stderrText).toMatch(/truncated/);
      const pemFindings = findingsOf(r).filter((f) => f.detector === 'pem');
      if (expected === 'absent') expect(findingsOf(r)).toEqual([]);
      else expect(pemFindings.map((f) => [f.offset, f.severity])).toEqual([[keyOffset, expected === 'whole' ? 'high' : 'medium']]);
      if (expected === 'whole') expect(pemFindings[0].length).toBe(keyPem.length - 1);
    });
  }
});
