// The raw-key search's word probe in the SIMD module (wasm/anchor-scan.wat `probe`), against
// the JS probe, on real public keys' raw forms planted at every alignment the forms allow.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { withPinnedChunk } from '../helpers/pinned.js';
import { collectPublics } from '../../src/raw/collect.js';
import { buildPatternTable, maximumOccurrencesPerChunk, occurrenceSearchWhileFilling, type Occurrence } from '../../src/raw/occurrences.js';
import { toTarget } from '../../src/raw/search.js';
import { patternsOf } from '../../src/raw/targets.js';
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
});
