// The Windows key blob detector, against blobs built byte by byte (test/helpers/windows-blobs.ts)
// from node:crypto keys following Microsoft's documented layouts.
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { beforeAll, describe, expect, test } from 'vitest';
import { windowsBlobDetector } from '../../src/detectors/windows-blob.js';
import type { Match } from '../../src/types.js';
import { fingerprintOf, pseudoRandomBytes } from '../helpers/keys.js';
import { prng as random } from '../helpers/random.js';
import {
  bigEndian,
  CALG_RSA_KEYX,
  CALG_RSA_SIGN,
  cngEccPrivateBlob,
  cngEccPublicBlob,
  cngRsaLayout,
  cngRsaPrivateBlob,
  cngRsaPublicBlob,
  cryptoApiLayout,
  cryptoApiPrivateKeyBlob,
  cryptoApiPrivateKeyBlobLength,
  cryptoApiPublicKeyBlob,
  ecIntegers,
  rsaIntegers,
  type EcCurveName,
  type EcUsage,
  type RsaIntegers,
} from '../helpers/windows-blobs.js';

function scan(bytes: Uint8Array, bodyLength = bytes.length): Match[] {
  return [...windowsBlobDetector.scan(bytes, bodyLength)];
}

/** `blob` after `offset` pseudo-random bytes, followed by `trailer` more (the margin). */
function plant(blob: Buffer, offset: number, seed = 17, trailer = 257): Buffer {
  return Buffer.concat([pseudoRandomBytes(offset, seed), blob, pseudoRandomBytes(trailer, seed + 1)]);
}

/** The evidence names the structure and its length and shows none of the key in any encoding. */
function expectRedactedEvidence(evidence: string, typeName: string, length: number, secrets: Buffer[]): void {
  expect(evidence).toMatch(/^(CryptoAPI|CNG) [A-Z_]+ \(/);
  expect(evidence).toContain(typeName);
  expect(evidence).toContain(`(${length} bytes)`);
  expect(evidence.length).toBeLessThan(120);
  const encoded = secrets.flatMap((s) => [s.toString('hex'), s.toString('hex').toUpperCase(), s.toString('base64'), s.toString('base64url')]);
  const leaked: string[] = [];
  for (let i = 0; i + 8 <= evidence.length; i++) {
    const window = evidence.slice(i, i + 8);
    if (encoded.some((text) => text.includes(window))) leaked.push(window);
  }
  expect(leaked, 'evidence windows found in an encoding of the key').toEqual([]);
}

const offsets = [1, 65, 4095, 12347];

// --- RSA -------------------------------------------------------------------------------------

type RsaFormat = 'CryptoAPI PRIVATEKEYBLOB CALG_RSA_KEYX' | 'CryptoAPI PRIVATEKEYBLOB CALG_RSA_SIGN' | 'CNG BCRYPT_RSAPRIVATE_BLOB' | 'CNG BCRYPT_RSAFULLPRIVATE_BLOB';
const rsaFormats: Record<RsaFormat, { build: (k: RsaIntegers) => Buffer; typeName: string; expectedLength: (bits: number) => number }> = {
  'CryptoAPI PRIVATEKEYBLOB CALG_RSA_KEYX': { build: (k) => cryptoApiPrivateKeyBlob(k, CALG_RSA_KEYX), typeName: 'PRIVATEKEYBLOB', expectedLength: (b) => 20 + (9 * b) / 16 },
  'CryptoAPI PRIVATEKEYBLOB CALG_RSA_SIGN': { build: (k) => cryptoApiPrivateKeyBlob(k, CALG_RSA_SIGN), typeName: 'PRIVATEKEYBLOB', expectedLength: (b) => 20 + (9 * b) / 16 },
  // 24-byte header, 3-byte exponent (65537), modulus, two primes.
  'CNG BCRYPT_RSAPRIVATE_BLOB': { build: (k) => cngRsaPrivateBlob(k, false), typeName: 'BCRYPT_RSAPRIVATE_BLOB', expectedLength: (b) => 24 + 3 + b / 8 + 2 * (b / 16) },
  // ... then exponent1, exponent2, coefficient and the private exponent.
  'CNG BCRYPT_RSAFULLPRIVATE_BLOB': { build: (k) => cngRsaPrivateBlob(k, true), typeName: 'BCRYPT_RSAFULLPRIVATE_BLOB', expectedLength: (b) => 24 + 3 + 2 * (b / 8) + 5 * (b / 16) },
};
const rsaFormatNames = Object.keys(rsaFormats) as RsaFormat[];
const rsaSizes = [1024, 2048, 4096] as const;

const rsaKeys = new Map<number, { key: KeyObject; integers: RsaIntegers; fingerprint: string }>();
let rsa16384: { key: KeyObject; integers: RsaIntegers; fingerprint: string };

function rsaSecrets(k: RsaIntegers): Buffer[] {
  return [k.n, k.d, k.p, k.q, k.dp, k.dq, k.qi].map((v) => bigEndian(v));
}

beforeAll(() => {
  for (const bits of rsaSizes) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    rsaKeys.set(bits, { key: privateKey, integers: rsaIntegers(privateKey), fingerprint: fingerprintOf(privateKey) });
  }
  const key = createPrivateKey(readFileSync(new URL('../fixtures/test-key-rsa16384.pem', import.meta.url), 'utf8'));
  rsa16384 = { key, integers: rsaIntegers(key), fingerprint: fingerprintOf(key) };
});

describe('RSA blobs', () => {
  const table = rsaSizes.flatMap((bits) => rsaFormatNames.flatMap((format) => offsets.map((offset) => ({ bits, format, offset }))));

  test.each(table)('$format, RSA $bits at offset $offset: one high finding with the PEM fingerprint', ({ bits, format, offset }) => {
    const { integers, fingerprint } = rsaKeys.get(bits)!;
    expect(integers.bits).toBe(bits);
    const spec = rsaFormats[format];
    const blob = spec.build(integers);
    const length = spec.expectedLength(bits);
    expect(blob.length).toBe(length);
    const bytes = plant(blob, offset, bits + offset);

    const matches = scan(bytes);
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({
      start: offset,
      length,
      detector: 'windows-blob',
      kind: 'rsa-private-key',
      severity: 'high',
      encoding: 'binary',
      fingerprint,
    });
    expect(matches[0].note).toBeUndefined();
    expectRedactedEvidence(matches[0].evidence, spec.typeName, length, [blob.subarray(20), ...rsaSecrets(integers)]);

    // Chunk rule: a match belongs to the chunk whose body holds its first byte.
    expect(scan(bytes, offset)).toEqual([]);
    expect(scan(bytes, offset + 1)).toEqual(matches);
  });

  test.each(rsaFormatNames)('%s: found when it ends exactly at the end of the bytes, not when one byte short', (format) => {
    const { integers, fingerprint } = rsaKeys.get(2048)!;
    const blob = rsaFormats[format].build(integers);
    const bytes = plant(blob, 33, 5, 0);
    expect(scan(bytes)).toMatchObject([{ start: 33, length: blob.length, severity: 'high', fingerprint }]);
    expect(scan(bytes.subarray(0, bytes.length - 1))).toEqual([]);
  });

  test('the description says which CryptoAPI algorithm the key was for', () => {
    const { integers } = rsaKeys.get(2048)!;
    const [keyx] = scan(plant(cryptoApiPrivateKeyBlob(integers, CALG_RSA_KEYX), 9));
    const [sign] = scan(plant(cryptoApiPrivateKeyBlob(integers, CALG_RSA_SIGN), 9));
    expect(keyx.evidence).toContain('CALG_RSA_KEYX');
    expect(sign.evidence).toContain('CALG_RSA_SIGN');
    expect(keyx.evidence).toContain('2048');
  });

  test('a plain Uint8Array, and a view at an odd byteOffset of a larger ArrayBuffer, scan the same', () => {
    const { integers, fingerprint } = rsaKeys.get(1024)!;
    const bytes = plant(cngRsaPrivateBlob(integers, true), 65);
    const expected = scan(bytes);
    expect(expected).toMatchObject([{ start: 65, severity: 'high', fingerprint }]);
    expect(scan(new Uint8Array(bytes))).toEqual(expected);
    const backing = new Uint8Array(bytes.length + 10);
    backing.set(bytes, 3);
    expect(scan(backing.subarray(3, 3 + bytes.length))).toEqual(expected);
  });
});

describe('16384-bit RSA, the largest key, and the chunk margin', () => {
  const longest = cryptoApiPrivateKeyBlobLength(16384);

  test('maxMatchLengthInBytes covers a 16384-bit CryptoAPI PRIVATEKEYBLOB (20 + 9*16384/16 bytes)', () => {
    expect(longest).toBe(9236);
    expect(windowsBlobDetector.maxMatchLengthInBytes).toBeGreaterThanOrEqual(longest);
  });

  test.each(rsaFormatNames)('%s of the 16384-bit fixture key: one high finding', (format) => {
    const { integers, fingerprint } = rsa16384;
    expect(integers.bits).toBe(16384);
    const spec = rsaFormats[format];
    const blob = spec.build(integers);
    expect(blob.length).toBe(spec.expectedLength(16384));
    const matches = scan(plant(blob, 4095));
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({ start: 4095, length: blob.length, kind: 'rsa-private-key', severity: 'high', fingerprint });
  });

  /**
   * Body then exactly maxMatchLengthInBytes of margin (what scan.ts allocates when only this
   * detector is enabled), the blob starting at the body's last byte.
   */
  function foundAtTheLastBodyByte(format: RsaFormat): void {
    const blob = rsaFormats[format].build(rsa16384.integers);
    const body = 8192;
    const bytes = pseudoRandomBytes(body + windowsBlobDetector.maxMatchLengthInBytes, 99);
    const start = body - 1;
    bytes.set(blob.subarray(0, bytes.length - start), start);
    expect(blob.length).toBeLessThanOrEqual(windowsBlobDetector.maxMatchLengthInBytes);
    expect(scan(bytes, body)).toMatchObject([{ start, length: blob.length, severity: 'high' }]);
  }

  test.each(['CryptoAPI PRIVATEKEYBLOB CALG_RSA_KEYX', 'CryptoAPI PRIVATEKEYBLOB CALG_RSA_SIGN', 'CNG BCRYPT_RSAPRIVATE_BLOB'] as RsaFormat[])(
    '%s at the last body byte fits in a margin of maxMatchLengthInBytes',
    (format) => foundAtTheLastBodyByte(format),
  );

  // KNOWN BUG (src/detectors/windows-blob.ts, maximumBlobLengthInBytes): a 16384-bit
  // BCRYPT_RSAFULLPRIVATE_BLOB is 24 + 3 + 2·2048 + 5·1024 = 9243 bytes, longer than the 9236 the
  // detector declares, so one starting in the last 7 bytes of a chunk body is lost. Remove
  // `.fails` once the bound is fixed.
  test('CNG BCRYPT_RSAFULLPRIVATE_BLOB at the last body byte fits in a margin of maxMatchLengthInBytes', () => {
    foundAtTheLastBodyByte('CNG BCRYPT_RSAFULLPRIVATE_BLOB');
  });
});

// --- EC --------------------------------------------------------------------------------------

const curves: EcCurveName[] = ['P-256', 'P-384', 'P-521'];
const usages: EcUsage[] = ['ECDH', 'ECDSA'];
const ecKeys = new Map<EcCurveName, { key: KeyObject; fingerprint: string }>();
for (const curve of curves) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  ecKeys.set(curve, { key: privateKey, fingerprint: fingerprintOf(privateKey) });
}
const cbKeys: Record<EcCurveName, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
const magicText: Record<EcUsage, Record<EcCurveName, string>> = {
  ECDH: { 'P-256': 'ECK2', 'P-384': 'ECK4', 'P-521': 'ECK6' },
  ECDSA: { 'P-256': 'ECS2', 'P-384': 'ECS4', 'P-521': 'ECS6' },
};

describe('EC blobs', () => {
  const table = curves.flatMap((curve) => usages.flatMap((usage) => offsets.map((offset) => ({ curve, usage, offset }))));

  test.each(table)('BCRYPT_ECCPRIVATE_BLOB $usage $curve at offset $offset: one high finding with the PEM fingerprint', ({ curve, usage, offset }) => {
    const { key, fingerprint } = ecKeys.get(curve)!;
    const k = ecIntegers(key);
    const blob = cngEccPrivateBlob(k, usage);
    const length = 8 + 3 * cbKeys[curve];
    expect(blob.length).toBe(length);
    expect(blob.toString('latin1', 0, 4)).toBe(magicText[usage][curve]);
    const bytes = plant(blob, offset, offset * 7 + cbKeys[curve]);

    const matches = scan(bytes);
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({
      start: offset,
      length,
      detector: 'windows-blob',
      kind: 'ec-private-key',
      severity: 'high',
      encoding: 'binary',
      fingerprint,
    });
    expect(matches[0].note).toBeUndefined();
    expectRedactedEvidence(matches[0].evidence, 'BCRYPT_ECCPRIVATE_BLOB', length, [k.x, k.y, k.d]);
    expect(matches[0].evidence).toContain(usage);
    expect(matches[0].evidence).toContain(curve);

    expect(scan(bytes, offset)).toEqual([]);
    expect(scan(bytes, offset + 1)).toEqual(matches);
  });

  test.each(curves)('%s: found when it ends exactly at the end of the bytes, not when one byte short', (curve) => {
    const blob = cngEccPrivateBlob(ecIntegers(ecKeys.get(curve)!.key), 'ECDSA');
    const bytes = plant(blob, 3, 8, 0);
    expect(scan(bytes)).toMatchObject([{ start: 3, length: blob.length, severity: 'high' }]);
    expect(scan(bytes.subarray(0, bytes.length - 1))).toEqual([]);
  });
});

// --- Negatives and damaged keys ----------------------------------------------------------------

describe('public blobs, zeroed memory and damaged keys', () => {
  test.each(rsaSizes)('CryptoAPI PUBLICKEYBLOB (RSA1) and BCRYPT_RSAPUBLIC_BLOB of RSA %i: nothing', (bits) => {
    const { integers } = rsaKeys.get(bits)!;
    for (const blob of [cryptoApiPublicKeyBlob(integers, CALG_RSA_KEYX), cryptoApiPublicKeyBlob(integers, CALG_RSA_SIGN), cngRsaPublicBlob(integers)]) {
      expect(blob.toString('latin1').includes('RSA1')).toBe(true);
      for (const offset of offsets) expect(scan(plant(blob, offset))).toEqual([]);
    }
  });

  test.each(curves.flatMap((curve) => usages.map((usage) => ({ curve, usage }))))('BCRYPT_ECCPUBLIC_BLOB $usage $curve: nothing', ({ curve, usage }) => {
    const k = ecIntegers(ecKeys.get(curve)!.key);
    // A public blob followed by the private scalar still isn't a private blob: the magic says public.
    expect(scan(plant(cngEccPublicBlob(k, usage), 65))).toEqual([]);
    expect(scan(plant(Buffer.concat([cngEccPublicBlob(k, usage), k.d]), 65))).toEqual([]);
  });

  test.each(rsaFormatNames)('%s with a correct header and all-zero key material: nothing', (format) => {
    const { integers } = rsaKeys.get(2048)!;
    const blob = rsaFormats[format].build(integers);
    // CryptoAPI: everything after the 20-byte header; CNG: everything after the public exponent.
    const materialStart = format.startsWith('CryptoAPI') ? 20 : cngRsaLayout(integers).modulus;
    blob.fill(0, materialStart);
    expect(scan(plant(blob, 65))).toEqual([]);
    // ...and with zero padding around it, as freshly zeroed memory would be.
    expect(scan(Buffer.concat([Buffer.alloc(64), blob, Buffer.alloc(64)]))).toEqual([]);
  });

  test.each(curves.flatMap((curve) => usages.map((usage) => ({ curve, usage }))))('BCRYPT_ECCPRIVATE_BLOB $usage $curve with all-zero X, Y and d: nothing', ({ curve, usage }) => {
    const blob = cngEccPrivateBlob(ecIntegers(ecKeys.get(curve)!.key), usage);
    blob.fill(0, 8);
    expect(scan(plant(blob, 65))).toEqual([]);
    expect(scan(Buffer.concat([Buffer.alloc(64), blob, Buffer.alloc(64)]))).toEqual([]);
  });

  /** Offset inside each RSA blob of prime1, coefficient and the private exponent (where present). */
  function rsaOffsets(format: RsaFormat, k: RsaIntegers): Record<'prime1' | 'coefficient' | 'privateExponent', number | undefined> {
    if (format.startsWith('CryptoAPI')) {
      const layout = cryptoApiLayout(k.bits);
      return { prime1: layout.prime1, coefficient: layout.prime1 + 4 * (k.bits / 16), privateExponent: layout.privateExponent };
    }
    const layout = cngRsaLayout(k);
    const half = k.bits / 16;
    return format === 'CNG BCRYPT_RSAFULLPRIVATE_BLOB'
      ? { prime1: layout.prime1, coefficient: layout.prime1 + 4 * half, privateExponent: layout.prime1 + 5 * half }
      : { prime1: layout.prime1, coefficient: undefined, privateExponent: undefined };
  }

  // BCRYPT_RSAPRIVATE_BLOB holds neither coefficient nor d.
  const damaged = rsaFormatNames
    .flatMap((format) => (['prime1', 'coefficient', 'privateExponent'] as const).map((field) => ({ format, field })))
    .filter(({ format, field }) => format !== 'CNG BCRYPT_RSAPRIVATE_BLOB' || field === 'prime1');
  test.each(damaged)('$format with one $field byte flipped: exactly one medium finding, never high', ({ format, field }) => {
    const { integers, fingerprint } = rsaKeys.get(2048)!;
    const at = rsaOffsets(format, integers)[field]!;
    const blob = rsaFormats[format].build(integers);
    blob[at + 7] ^= 0xff;
    const matches = scan(plant(blob, 4095));
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({ start: 4095, length: blob.length, kind: 'rsa-private-key', severity: 'medium', encoding: 'binary' });
    // n and e are intact, so the public key, and its fingerprint, still are.
    expect(matches[0].fingerprint).toBe(fingerprint);
    expect(matches[0].note).toBeTruthy();
    expect(matches[0].confidence).toBeLessThan(0.99);
  });

  test.each(curves.flatMap((curve) => (['X', 'Y'] as const).map((coordinate) => ({ curve, coordinate }))))(
    'BCRYPT_ECCPRIVATE_BLOB $curve with $coordinate flipped: exactly one medium finding, fingerprint from d',
    ({ curve, coordinate }) => {
      const { key, fingerprint } = ecKeys.get(curve)!;
      const blob = cngEccPrivateBlob(ecIntegers(key), 'ECDSA');
      blob[8 + (coordinate === 'X' ? 0 : cbKeys[curve]) + 5] ^= 0x01;
      const matches = scan(plant(blob, 1));
      expect(matches).toHaveLength(1);
      expect(matches[0]).toMatchObject({ start: 1, length: blob.length, kind: 'ec-private-key', severity: 'medium' });
      expect(matches[0].fingerprint).toBe(fingerprint);
      expect(matches[0].note).toBeTruthy();
    },
  );

  test.each(curves)('BCRYPT_ECCPRIVATE_BLOB %s with d flipped: exactly one medium finding, not the original key', (curve) => {
    const { key, fingerprint } = ecKeys.get(curve)!;
    const blob = cngEccPrivateBlob(ecIntegers(key), 'ECDH');
    blob[8 + 2 * cbKeys[curve] + 9] ^= 0x40;
    const matches = scan(plant(blob, 12347));
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({ start: 12347, severity: 'medium', kind: 'ec-private-key' });
    expect(matches[0].fingerprint).not.toBe(fingerprint);
  });

  test('64 MiB of pseudo-random bytes: no findings', () => {
    const bytes = pseudoRandomBytes(64 * 1024 * 1024, 0x2545f491);
    expect(scan(bytes)).toEqual([]);
  });

  test('text naming the magics over and over: no findings', () => {
    const text = 'RSA2 ECS2 RSA3 ECK6 '.repeat(100_000);
    expect(scan(Buffer.from(text, 'latin1'))).toEqual([]);
    expect(scan(Buffer.from(text, 'utf16le'))).toEqual([]);
    // Magics packed back to back, and each followed by NULs, as in a table of constants.
    expect(scan(Buffer.from('RSA2RSA3ECK2ECK4ECK6ECS2ECS4ECS6'.repeat(20_000), 'latin1'))).toEqual([]);
    expect(scan(Buffer.from('RSA2\0\0\0\0RSA3\0\0\0\0ECS2\0\0\0\0ECK6\0\0\0\0'.repeat(20_000), 'latin1'))).toEqual([]);
  });
});

// --- Robustness --------------------------------------------------------------------------------

describe('robustness', () => {
  test('20,000 mutated blobs: never throw, every scan of a ~2 KiB buffer under 50 ms, never a wrong high', () => {
    interface Base {
      name: string;
      bytes: Buffer;
      blobStart: number;
      blobLength: number;
      /** Where the key material begins (the header ends). */
      materialStart: number;
      /** Offsets (in the blob) of u32 length fields. */
      lengthFields: number[];
      fingerprint: string;
    }
    const bases: Base[] = [];
    const blobStart = 64;
    const place = (name: string, blob: Buffer, materialStart: number, lengthFields: number[], fingerprint: string) => {
      const total = Math.max(2048, blobStart + blob.length + 64);
      const bytes = Buffer.concat([pseudoRandomBytes(blobStart, bases.length + 1), blob, pseudoRandomBytes(total - blobStart - blob.length, bases.length + 101)]);
      bases.push({ name, bytes, blobStart, blobLength: blob.length, materialStart, lengthFields, fingerprint });
    };
    const { integers, fingerprint } = rsaKeys.get(2048)!;
    for (const format of rsaFormatNames) {
      const cryptoApi = format.startsWith('CryptoAPI');
      place(format, rsaFormats[format].build(integers), cryptoApi ? 20 : 24, cryptoApi ? [12] : [4, 8, 12, 16, 20], fingerprint);
    }
    for (const curve of curves) {
      for (const usage of usages) place(`ECC ${usage} ${curve}`, cngEccPrivateBlob(ecIntegers(ecKeys.get(curve)!.key), usage), 8, [4], ecKeys.get(curve)!.fingerprint);
    }
    // Every base is found, high, before mutation; this also warms up the code paths timed below.
    for (const base of bases) expect(scan(base.bytes), base.name).toMatchObject([{ start: blobStart, severity: 'high', fingerprint: base.fingerprint }]);

    const rnd = random(0xdecafbad);
    const int = (n: number) => Math.floor(rnd() * n);
    const interesting = [0, 1, 2, 3, 8, 16, 32, 48, 64, 66, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 16385, 65536, 0x7fffffff, 0xffffffff];
    const problems: string[] = [];
    let slowest = 0;
    let slowestName = '';
    const counts = { flip: 0, truncate: 0, length: 0, high: 0, medium: 0 };

    for (let i = 0; i < 20_000; i++) {
      const base = bases[i % bases.length];
      const copy = Buffer.from(base.bytes);
      let bytes: Buffer = copy;
      let operation: string;
      const r = rnd();
      if (r < 0.45) {
        operation = 'flip';
        const flips = 1 + int(4);
        for (let f = 0; f < flips; f++) {
          // Half the flips land in the header, where they change how the rest is read.
          const at = base.blobStart + (rnd() < 0.5 ? int(base.materialStart) : int(base.blobLength));
          copy[at] ^= 1 + int(255);
        }
      } else if (r < 0.65) {
        operation = 'truncate';
        bytes = copy.subarray(0, base.blobStart + int(base.blobLength));
      } else {
        operation = 'length';
        const field = base.blobStart + base.lengthFields[int(base.lengthFields.length)];
        const old = copy.readUInt32LE(field);
        const choice = rnd();
        const value = choice < 0.3 ? interesting[int(interesting.length)] : choice < 0.7 ? old + (int(33) - 16) : Math.floor(rnd() * 2 ** 32);
        copy.writeUInt32LE(value >>> 0, field);
      }
      counts[operation as 'flip' | 'truncate' | 'length']++;
      const bodyLength = rnd() < 0.7 ? bytes.length : int(bytes.length + 1);

      let matches: Match[] = [];
      const t0 = performance.now();
      try {
        matches = scan(bytes, bodyLength);
      } catch (error) {
        problems.push(`#${i} ${base.name} ${operation}: threw ${String(error)}`);
      }
      let elapsed = performance.now() - t0;
      // A slow first run may be a GC pause or another process on the machine: the cost of a
      // buffer is its best of four runs, which an algorithmic blow-up would not escape.
      for (let retry = 0; retry < 3 && elapsed > 10; retry++) {
        const t1 = performance.now();
        scan(bytes, bodyLength);
        elapsed = Math.min(elapsed, performance.now() - t1);
      }
      if (elapsed > slowest) [slowest, slowestName] = [elapsed, `#${i} ${base.name} ${operation}`];

      const materialTampered = !copy.subarray(base.blobStart + base.materialStart, base.blobStart + base.blobLength).equals(base.bytes.subarray(base.blobStart + base.materialStart, base.blobStart + base.blobLength));
      for (const m of matches) {
        const ok =
          m.detector === 'windows-blob' &&
          Number.isInteger(m.start) && m.start >= 0 && m.start < bodyLength &&
          Number.isInteger(m.length) && m.length > 0 && m.start + m.length <= bytes.length &&
          m.length <= windowsBlobDetector.maxMatchLengthInBytes &&
          (m.kind === 'rsa-private-key' || m.kind === 'ec-private-key') &&
          (m.severity === 'high' || m.severity === 'medium') &&
          m.encoding === 'binary' &&
          /^(CryptoAPI|CNG) [A-Z_]+ \(.*\(\d+ bytes\)$/.test(m.evidence);
        if (!ok) problems.push(`#${i} ${base.name} ${operation}: bad match ${JSON.stringify(m)}`);
        if (m.severity === 'high') {
          counts.high++;
          if (m.fingerprint !== base.fingerprint) problems.push(`#${i} ${base.name} ${operation}: high finding for another key`);
          if (materialTampered && m.start === base.blobStart) problems.push(`#${i} ${base.name} ${operation}: tampered key material reported high`);
        } else counts.medium++;
      }
      if (operation === 'truncate' && matches.length > 0) problems.push(`#${i} ${base.name}: truncated blob still reported`);
    }

    expect(problems.slice(0, 20)).toEqual([]);
    expect(counts.flip + counts.truncate + counts.length).toBe(20_000);
    // The mutations exercise both verdicts, not just rejection.
    expect(counts.high).toBeGreaterThan(100);
    expect(counts.medium).toBeGreaterThan(100);
    expect(slowest, `slowest scan: ${slowestName}`).toBeLessThan(50);
  });
});
