// The raw search's candidate windows (src/raw/verify.ts eachWindow): which positions are taken
// (aligned, or starting an allocation header) and which windows pass the byte filters of a
// private integer. The WebAssembly module (wasm/anchor-scan.wat keyWindows) must give exactly
// the positions the JS form gives, in the same order.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { anchorEngine } from '../../src/detectors/anchor-filter.js';
import { eachWindow, type HeaderForm, type WindowFilter } from '../../src/raw/verify.js';
import { prng } from '../helpers/random.js';

type Form = WindowFilter['form'];

function windows(bytes: Uint8Array, offset: number, from: number, to: number, step: number, takeAlign: number, headed: HeaderForm | undefined, filter: WindowFilter, inModule: boolean): number[] {
  const out: number[] = [];
  eachWindow(bytes, offset, from, to, step, takeAlign, headed, filter, (x) => out.push(x), inModule);
  return out;
}

/** The i-th most significant byte's index, written independently of verify.ts. */
function msb(form: Form, x: number, width: number, i: number): number {
  if (form === 'raw-be') return x + i;
  if (form === 'raw-le') return x + width - 1 - i;
  return x + 4 * Math.floor(i / 4) + 3 - (i % 4);
}

/** Memory like a heap's: random stretches, zeros, text, small integers, and allocation headers of the sizes the filters look for. */
function heapLike(size: number, seed: number): Uint8Array {
  const random = prng(seed);
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; ) {
    const run = 16 + Math.floor(random() * 600);
    const kind = Math.floor(random() * 4);
    for (let k = at; k < Math.min(size, at + run); k++) bytes[k] = kind === 0 ? Math.floor(random() * 256) : kind === 1 ? 0 : kind === 2 ? 0x20 + Math.floor(random() * 95) : k % 8 === 0 ? Math.floor(random() * 4) : 0;
    at += run;
  }
  const view = new DataView(bytes.buffer);
  for (let h = 0; h < size / 64; h++) {
    const x = 8 + 4 * Math.floor(random() * ((size - 16) / 4));
    const elements = [32, 48, 66, 8, 12, 128][Math.floor(random() * 6)];
    const shape = Math.floor(random() * 3);
    if (shape === 0) {
      view.setUint32(x - 8, 1 + Math.floor(random() * 0xffff), true); // a compressed class pointer
      view.setUint32(x - 4, elements, true);
    } else if (shape === 1) {
      view.setUint32(x - 8, elements, true);
      view.setUint32(x - 4, 0, true);
    } else {
      view.setUint32(x - 8, [48, 80, 96, 32][Math.floor(random() * 4)] | Math.floor(random() * 8), true); // glibc size | flags
      view.setUint32(x - 4, 0, true);
    }
  }
  return bytes;
}

describe('candidate windows: the module against the JS form', () => {
  test('the module is live here (else the comparison below would compare JS with itself)', () => {
    expect(anchorEngine()).toBe('wasm');
  });

  test('every step, alignment, header form, byte form and filter, at every phase: the same positions', () => {
    const random = prng(11);
    let compared = 0;
    let nonEmpty = 0;
    for (let round = 0; round < 60; round++) {
      const bytes = heapLike(16 * 1024, 100 + round);
      for (let c = 0; c < 40; c++) {
        const width = [32, 48, 66, 128, 256][Math.floor(random() * 5)];
        const form: Form = (['raw-be', 'raw-le', 'raw-words'] as const)[Math.floor(random() * 3)];
        const prime = random() < 0.4;
        // A bound taken from a window of the buffer (so ties on the top six bytes happen), or random.
        const probe = Math.floor(random() * (bytes.length - width));
        let six = 0;
        for (let i = 0; i < 6; i++) six = six * 256 + bytes[msb(form, probe, width, i)];
        const bound = random() < 0.5 ? six + Math.floor(random() * 3) - 1 : Math.floor(random() * 2 ** 48);
        const filter: WindowFilter = {
          width,
          form,
          topMax: random() < 0.3 ? 1 : 255,
          ...(prime ? { primeBoundTop: Math.max(0, bound) } : {}),
          distinctCount: prime ? 16 : width,
          distinctMin: prime ? 8 : Math.ceil(width * (random() < 0.5 ? 0.6 : 0.3)),
        };
        const step = [1, 4, 8][Math.floor(random() * 3)];
        const takeAlign = [0, 1, 4, 8][Math.floor(random() * 4)];
        const headed = ([undefined, 'raw-le', 'raw-words'] as const)[Math.floor(random() * 3)];
        const offset = Math.floor(random() * 4096);
        const from = Math.floor(random() * bytes.length);
        const to = from + Math.floor(random() * (bytes.length - from + 64));
        const js = windows(bytes, offset, from, to, step, takeAlign, headed, filter, false);
        const module = windows(bytes, offset, from, to, step, takeAlign, headed, filter, true);
        expect(module, JSON.stringify({ round, c, filter, step, takeAlign, headed, offset, from, to })).toEqual(js);
        compared++;
        if (js.length > 0) nonEmpty++;
      }
    }
    expect(compared).toBe(2400);
    // Most cases take some windows (the comparison is not of empty lists).
    expect(nonEmpty).toBeGreaterThan(1200);
  });

  test('more windows than the output room holds in one call: all of them, in order', () => {
    const bytes = new Uint8Array(256 * 1024);
    for (let k = 0; k < bytes.length; k++) bytes[k] = k % 251;
    const filter: WindowFilter = { width: 32, form: 'raw-be', topMax: 255, distinctCount: 32, distinctMin: 20 };
    const module = windows(bytes, 0, 0, bytes.length, 1, 1, undefined, filter, true);
    expect(module.length).toBe(bytes.length - 31);
    expect(module).toEqual(windows(bytes, 0, 0, bytes.length, 1, 1, undefined, filter, false));
  });
});

describe('candidate windows: what is taken and what passes', () => {
  const prime = BigInt('0x' + Buffer.from((generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as { p: string }).p, 'base64url').toString('hex'));
  const random32 = (seed: number) => {
    const r = prng(seed);
    return Uint8Array.from({ length: 32 }, () => Math.floor(r() * 256));
  };

  for (const inModule of [true, false]) {
    const engine = inModule ? 'module' : 'JS';

    test(`${engine}: far from an occurrence only windows after an allocation header of their size are taken`, () => {
      const bytes = new Uint8Array(4096);
      const view = new DataView(bytes.buffer);
      const key = random32(3);
      // A glibc chunk of 32-byte limbs (size 48, flag PREV_INUSE), a HotSpot byte[32] with a
      // compressed class pointer, an int[8] (raw-words) without one, and a bare copy of the key.
      view.setUint32(1000, 48 | 1, true);
      bytes.set(key, 1008);
      view.setUint32(2000, 0x00c01234, true);
      view.setUint32(2004, 32, true);
      bytes.set(key, 2008);
      view.setUint32(3000, 8, true);
      bytes.set(key, 3008);
      bytes.set(key, 3500);
      // Windows that hold part of the key and some zeros have at most 25 distinct bytes.
      expect(new Set(key).size).toBeGreaterThanOrEqual(26);
      const filter: WindowFilter = { width: 32, form: 'raw-le', topMax: 255, distinctCount: 32, distinctMin: 26 };
      expect(windows(bytes, 0, 0, 4096, 4, 0, 'raw-le', filter, inModule)).toEqual([1008, 2008]);
      expect(windows(bytes, 0, 0, 4096, 4, 0, 'raw-words', { ...filter, form: 'raw-words' }, inModule)).toEqual([3008]);
      // Near an occurrence every aligned window is taken: here those at absolute multiples of 8 (offset 4: x = 4 mod 8).
      expect(windows(bytes, 4, 3400, 3600, 4, 8, 'raw-le', filter, inModule)).toEqual([3500]);
      const shifted = windows(bytes, 0, 3400, 3600, 4, 8, 'raw-le', filter, inModule);
      expect(shifted.every((x) => x % 8 === 0) && !shifted.includes(3500)).toBe(true);
    });

    test(`${engine}: an RSA prime's filters: odd, top byte not zero, top six bytes at least the bound's, no factor 3 to 17, 8 distinct of the first 16`, () => {
      const width = 128;
      const bytes = new Uint8Array(4 * width);
      const x = 128;
      const put = (value: bigint) => bytes.set(Buffer.from(value.toString(16).padStart(2 * width, '0'), 'hex'), x);
      const get = () => BigInt('0x' + Buffer.from(bytes.subarray(x, x + width)).toString('hex'));
      put(prime);
      let six = 0;
      for (let i = 0; i < 6; i++) six = six * 256 + bytes[x + i];
      const filter = (bound: number): WindowFilter => ({ width, form: 'raw-be', topMax: 255, primeBoundTop: bound, distinctCount: 16, distinctMin: 8 });
      const at = (f: WindowFilter) => windows(bytes, 0, x, x + 1, 1, 1, undefined, f, inModule);
      expect(at(filter(six))).toEqual([x]);
      expect(at(filter(six - 1))).toEqual([x]);
      expect(at(filter(six + 1))).toEqual([]);
      put(prime - 1n); // even
      expect(at(filter(0))).toEqual([]);
      put(prime);
      bytes[x] = 0;
      expect(at(filter(0))).toEqual([]);
      // Odd multiples of 3, 5, ... 17 near the prime: not a prime factor.
      for (const small of [3n, 5n, 7n, 11n, 13n, 17n]) {
        let multiple = prime - (prime % small);
        if (multiple % 2n === 0n) multiple -= small;
        put(multiple);
        expect(at(filter(0)), String(small)).toEqual([]);
      }
      // Seven distinct values among the first 16 bytes: low entropy, not a prime's; eight: passes
      // unless the value has a small factor (worked out here with BigInt).
      put(prime);
      for (let k = 0; k < 16; k++) bytes[x + k] = [0xc3, 1, 2, 3, 4, 5, 6][k % 7];
      expect(at(filter(0))).toEqual([]);
      const outcomes = new Set<boolean>();
      for (let last = 7; last < 40; last++) {
        bytes[x + 15] = last;
        const value = get();
        const smallFactor = [3n, 5n, 7n, 11n, 13n, 17n].some((q) => value % q === 0n);
        expect(at(filter(0)), String(last)).toEqual(smallFactor ? [] : [x]);
        outcomes.add(smallFactor);
      }
      expect(outcomes.size).toBe(2);
    });

    test(`${engine}: an EC scalar's filters: the top byte at most the order's, 60% distinct bytes, in each form`, () => {
      const key = random32(9);
      for (const form of ['raw-be', 'raw-le', 'raw-words'] as const) {
        const bytes = new Uint8Array(256);
        bytes.set(key, 64);
        const top = msb(form, 64, 32, 0);
        bytes[top] = 0x02;
        const filter: WindowFilter = { width: 32, form, topMax: 0x01, distinctCount: 32, distinctMin: 20 };
        expect(windows(bytes, 0, 64, 65, 1, 1, undefined, filter, inModule), form).toEqual([]);
        bytes[top] = 0x01;
        expect(windows(bytes, 0, 64, 65, 1, 1, undefined, filter, inModule), form).toEqual(new Set(bytes.subarray(64, 96)).size >= 20 ? [64] : []);
      }
    });
  }
});
