// The public keys raw private integers are found through, and the raw forms a crypto library
// keeps integers in. Shared by the main thread (which collects and fingerprints the public
// keys) and the workers (which search their forms and test candidates against them).
//
// A value v of k bytes (big-endian, no leading zero) is held in memory as:
//   raw-be     the same k bytes: hprof int[] magnitudes (Java ints are written big-endian),
//              .NET and CNG buffers, Go 1.20+ crypto/ecdh scalars;
//   raw-le     the k bytes reversed: OpenSSL BIGNUM (64-bit limbs, least significant first,
//              each limb little-endian on x86-64) and Go big.Int words, one and the same;
//   raw-words  32-bit words in big-endian order, each word little-endian: a Java BigInteger's
//              int[] magnitude in a raw JVM heap (mag[0] is the most significant int).
// P-256 and secp256k1 public points are also searched in OpenSSL's Montgomery form
// (x·2^256 mod p, raw-le), which is how its EC_POINTs hold coordinates for those curves.
import { createHash } from 'node:crypto';
import type { Encoding } from '../types.js';

export type RawForm = Extract<Encoding, 'raw-le' | 'raw-be' | 'raw-words'>;
export const RAW_FORMS: readonly RawForm[] = ['raw-le', 'raw-be', 'raw-words'];

/** A public key as the worker reports it: hex strings (structured-clone friendly), never private bytes. */
export type PublicValue =
  | { type: 'rsa'; n: string; e: string; caRoot: boolean }
  /** derived: computed from a private scalar whose curve the structure does not name (one value per candidate curve). */
  | { type: 'ec'; curve: string; point: string; caRoot: boolean; derived?: boolean }
  | { type: 'okp'; curve: 'Ed25519' | 'X25519'; key: string; caRoot: boolean };

/** A public key the raw search looks for, with the fingerprint every finding of it carries. */
export type RawTarget =
  | { type: 'rsa'; fingerprint: string; n: string; e: string }
  /** derived: searched only when its point occurs in the file (a wrong curve's point does not). */
  | { type: 'ec'; fingerprint: string; curve: string; point: string; derived?: boolean }
  | { type: 'okp'; fingerprint: string; curve: 'Ed25519' | 'X25519'; key: string };

/** One byte string to find: a form of a modulus, a coordinate or a public key. */
export interface RawPattern {
  target: number;
  form: RawForm;
  bytes: Uint8Array;
  /**
   * The alignment the form has in memory, which the occurrence search may rely on: 8 for
   * limbs (malloc'd BIGNUM arrays, Go word slices), 4 for Java int[] data, 1 for big-endian
   * bytes (DER, hprof arrays). A shorter stride is needed only for short unaligned patterns.
   */
  alignment: number;
  /**
   * raw-be only: the bytes that precede the value where it is ENCODED rather than held as an
   * integer (a DER INTEGER header, the 04 of an uncompressed point, x before y). An encoded
   * occurrence (a certificate, an SPKI, a DER key the der detector reads) is not searched for
   * unaligned big-endian candidates: no library keeps its private integers inside one.
   */
  encodedPrefix?: Uint8Array;
}

export function hexToBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/** Big-endian bytes, leading zeros dropped (an INTEGER's content may carry one). */
export function minimalBigEndian(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

/** The value's bytes in a raw form (see the top of this file). */
export function inForm(bigEndian: Uint8Array, form: RawForm): Uint8Array {
  if (form === 'raw-be') return bigEndian;
  if (form === 'raw-le') return Uint8Array.from(bigEndian).reverse();
  const padded = new Uint8Array(Math.ceil(bigEndian.length / 4) * 4);
  padded.set(bigEndian, padded.length - bigEndian.length);
  for (let i = 0; i < padded.length; i += 4) padded.subarray(i, i + 4).reverse();
  return padded;
}

/** Field primes of the curves whose points OpenSSL keeps in Montgomery form (R = 2^256). */
const MONTGOMERY_FIELDS: Record<string, bigint> = {
  'P-256': 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
  secp256k1: 2n ** 256n - 2n ** 32n - 977n,
};

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytesToHex(bytes));
}

function fromBigInt(value: bigint, width: number): Uint8Array {
  return hexToBytes(value.toString(16).padStart(width * 2, '0'));
}

/** Patterns shorter than this are not searched: a short coordinate form would match by chance. */
export const minimumPatternLengthInBytes = 24;

/** Every byte string the occurrence search looks for, for each target. */
export function patternsOf(targets: readonly RawTarget[]): RawPattern[] {
  const patterns: RawPattern[] = [];
  const add = (target: number, value: Uint8Array, forms: readonly RawForm[], encodedPrefix?: Uint8Array) => {
    const be = minimalBigEndian(value);
    if (be.length < minimumPatternLengthInBytes) return;
    for (const form of forms) patterns.push({ target, form, bytes: inForm(be, form), alignment: ALIGNMENT[form], ...(form === 'raw-be' && encodedPrefix ? { encodedPrefix } : {}) });
  };
  targets.forEach((t, i) => {
    if (t.type === 'rsa') {
      const n = minimalBigEndian(hexToBytes(t.n));
      add(i, n, RAW_FORMS, derIntegerHeader(n));
    } else if (t.type === 'okp') patterns.push({ target: i, form: 'raw-be', bytes: hexToBytes(t.key), alignment: 1, encodedPrefix: Uint8Array.of(0x03, 0x21, 0x00) });
    else {
      const point = hexToBytes(t.point);
      const size = (point.length - 1) / 2;
      const coordinates = [point.subarray(1, 1 + size), point.subarray(1 + size)];
      // Big-endian, the two coordinates together (an encoded point after its 04, a CNG or Go
      // public key): long enough for a wide stride at any alignment. Each coordinate alone in
      // the aligned forms.
      patterns.push({ target: i, form: 'raw-be', bytes: point.subarray(1), alignment: 1, encodedPrefix: Uint8Array.of(0x04) });
      for (const c of coordinates) add(i, c, ['raw-le', 'raw-words']);
      const p = MONTGOMERY_FIELDS[t.curve];
      if (p) for (const c of coordinates) add(i, fromBigInt((toBigInt(c) << 256n) % p, size), ['raw-le']);
    }
  });
  return patterns;
}

const ALIGNMENT: Record<RawForm, number> = { 'raw-le': 8, 'raw-words': 4, 'raw-be': 1 };

/** The DER INTEGER header (and the 00 of a positive value with its top bit set) before a value's bytes. */
function derIntegerHeader(value: Uint8Array): Uint8Array {
  const pad = value[0] & 0x80 ? 1 : 0;
  const length = value.length + pad;
  const header = length < 0x80 ? [0x02, length] : length < 0x100 ? [0x02, 0x81, length] : [0x02, 0x82, length >> 8, length & 0xff];
  return Uint8Array.from(pad ? [...header, 0x00] : header);
}

/** The longest encoded prefix: how far back of a chunk the occurrence search reads. */
export function longestPrefix(patterns: readonly RawPattern[]): number {
  return Math.max(0, ...patterns.map((p) => p.encodedPrefix?.length ?? 0));
}

/**
 * A pattern set as two typed arrays, for a task message: every occurrence task carries its set
 * (whichever worker runs it builds the table once), and as 30 objects with a Uint8Array each it
 * took 76 µs to serialize and 80 µs to deserialize, a task, on both threads; packed, a memcpy.
 * meta: per pattern target, form (index in RAW_FORMS), alignment, length, prefix length (-1:
 * none); bytes: each pattern's bytes, then its prefix's, in order.
 */
export interface PackedPatterns {
  meta: Int32Array;
  bytes: Uint8Array;
}

export function packPatterns(patterns: readonly RawPattern[]): PackedPatterns {
  const meta = new Int32Array(5 * patterns.length);
  const bytes = new Uint8Array(patterns.reduce((sum, p) => sum + p.bytes.length + (p.encodedPrefix?.length ?? 0), 0));
  let at = 0;
  patterns.forEach((p, i) => {
    meta.set([p.target, RAW_FORMS.indexOf(p.form), p.alignment, p.bytes.length, p.encodedPrefix ? p.encodedPrefix.length : -1], 5 * i);
    bytes.set(p.bytes, at);
    at += p.bytes.length;
    if (p.encodedPrefix) bytes.set(p.encodedPrefix, at);
    at += p.encodedPrefix?.length ?? 0;
  });
  return { meta, bytes };
}

export function unpackPatterns({ meta, bytes }: PackedPatterns): RawPattern[] {
  const patterns: RawPattern[] = [];
  let at = 0;
  for (let i = 0; i < meta.length; i += 5) {
    const [target, form, alignment, length, prefixLength] = meta.subarray(i, i + 5);
    const pattern: RawPattern = { target, form: RAW_FORMS[form], bytes: bytes.slice(at, at + length), alignment };
    at += length;
    if (prefixLength >= 0) pattern.encodedPrefix = bytes.slice(at, (at += prefixLength));
    patterns.push(pattern);
  }
  return patterns;
}

/** Identity of a pattern set: workers build their table once per set. */
export function patternSetId(patterns: readonly RawPattern[]): string {
  const hash = createHash('sha256');
  for (const p of patterns) hash.update(`${p.target}:${p.form}:${p.alignment}:${bytesToHex(p.bytes)}:${p.encodedPrefix ? bytesToHex(p.encodedPrefix) : ''};`);
  return hash.digest('base64url').slice(0, 16);
}
