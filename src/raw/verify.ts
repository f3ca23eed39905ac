// Candidate private integers near the occurrences of a public value, confirmed by mathematics
// (in the worker). A library keeps the private parts of a key next to its public parts
// (OpenSSL's RSA and EC_KEY, Go's rsa.PrivateKey, Java's key objects), so each window of the
// right size in a neighbourhood of an occurrence is read in each raw form and tested:
//   RSA      a prime factor p of n (k/2 bytes): odd, top bytes in the range n's cofactor allows,
//            not low-entropy, then n % p === 0n;
//   EC       the private scalar d: d·G = Q (node:crypto derives the public point);
//   Ed25519/X25519  the 32-byte private key (the Ed25519 seed is tested right before its
//            public key first, the layout of Go's and BoringSSL's 64-byte private keys).
// Cheap byte filters run first; BigInt and node:crypto only on what passes them.
import { createECDH, createPrivateKey, createPublicKey, type ECDH } from 'node:crypto';
import { filterKeyWindows, type KeyWindowScan } from '../detectors/anchor-filter.js';
import { curveByName } from '../keys/ec.js';
import { hexToBytes, type RawForm, type RawTarget } from './targets.js';

/** Neighbourhoods, in bytes either side of an occurrence (see README: cost model). */
export interface Radii {
  /** RSA primes as raw-le (8-aligned) and raw-words (4-aligned). */
  prime: number;
  /** RSA primes as raw-be, at any alignment. */
  primeUnaligned: number;
  /** EC and Ed25519/X25519 private keys as raw-le / raw-words (aligned): every window this near... */
  scalarNear: number;
  /** ...and, as far as this, limb and word windows that start a heap allocation of their size (see allocationHeaded)... */
  scalar: number;
  /**
   * ...and as far as this from a raw-words occurrence (BigInteger coordinates: a JVM heap, where
   * Java 25 leaves the scalar's arrays 139 to 186 KiB from its point's).
   */
  scalarFromWords: number;
  /** EC private scalars as raw-be, at any alignment. */
  scalarUnaligned: number;
}

export interface VerifyTask {
  /** Absolute offset of bytes[0]. */
  offset: number;
  /** Candidates starting in [candidateStart, candidateEnd) are this task's; the bytes around them are read, not owned (a look-behind for allocation headers). */
  candidateStart?: number;
  candidateEnd: number;
  targets: RawTarget[];
  /** Occurrences near this window (start relative to bytes[0], may be negative or past the end). */
  occurrences: VerifyOccurrence[];
  radii: Radii;
  /** Targets whose primes are tested over the whole window (--deep). */
  everywhere: number[];
}

/**
 * An occurrence of a public value. Candidates are tested in the forms its own form suggests:
 * near a raw-le or an encoded raw-be occurrence (a certificate beside the library's structures)
 * aligned little-endian limbs; near raw-words, aligned words; near a raw-be occurrence that is
 * not encoded (hprof, .NET), big-endian at any alignment.
 */
export interface VerifyOccurrence {
  target: number;
  start: number;
  length: number;
  form: RawForm;
  encoded: boolean;
}

export interface RawMatch {
  start: number;
  length: number;
  target: number;
  form: RawForm;
  kind: 'rsa-private-key' | 'ec-private-key' | 'ed25519-private-key' | 'x25519-private-key';
}

type Interval = [number, number];

type Near = 'limbs' | 'words' | 'unaligned' | 'any';

/** Whether an occurrence in `o`'s form suggests candidates `near` it. */
function suggests(near: Near, o: VerifyOccurrence): boolean {
  if (near === 'limbs') return o.form !== 'raw-words';
  if (near === 'words') return o.form === 'raw-words';
  if (near === 'unaligned') return o.form === 'raw-be' && !o.encoded;
  // EC scalars: a runtime may keep the scalar in another form than its point. A JVM holds
  // the point as BigInteger int[] coordinates (raw-words) and the scalar as a little-endian
  // byte[] (ECPrivateKeyImpl.arrayS, raw-le): measured 14.1 to 14.4 KiB before the x
  // coordinate in five gcores of Java 17, 139 to 186 KiB in three of Java 25 (scalarFromWords).
  return true;
}

/**
 * Union of [start - r, start + length + r) over the occurrences of the target that suggest
 * `near` (r: `radius`, or `wordsRadius` for a raw-words occurrence), clipped to [from, to),
 * sorted. Plain loops: this runs for every target of every task, cold in each worker, and as
 * a chain of filter, map and sort callbacks TurboFan took 30 to 44 ms to compile it, again
 * after each deoptimization.
 */
function neighbourhoodsFrom(occurrences: readonly VerifyOccurrence[], target: number, near: Near, radius: number, wordsRadius: number, from: number, to: number): Interval[] {
  const raw: Interval[] = [];
  for (let k = 0; k < occurrences.length; k++) {
    const o = occurrences[k];
    if (o.target !== target || !suggests(near, o)) continue;
    const r = o.form === 'raw-words' ? wordsRadius : radius;
    const a = Math.max(from, o.start - r);
    const b = Math.min(to, o.start + o.length + r);
    if (a >= b) continue;
    // Insertion by start: a task has a few occurrences of a key.
    const interval: Interval = [a, b];
    let i = raw.push(interval) - 1;
    for (; i > 0 && raw[i - 1][0] > a; i--) raw[i] = raw[i - 1];
    raw[i] = interval;
  }
  const out: Interval[] = [];
  for (let k = 0; k < raw.length; k++) {
    const last = out.length > 0 ? out[out.length - 1] : undefined;
    if (last !== undefined && raw[k][0] <= last[1]) last[1] = Math.max(last[1], raw[k][1]);
    else out.push(raw[k]);
  }
  return out;
}

/** What a window must pass before its costly test: cheap byte filters of a private integer. */
export interface WindowFilter {
  width: number;
  form: RawForm;
  /** The most significant byte is at most this (an EC order's top byte). */
  topMax: number;
  /** An RSA prime: a non-zero top byte, odd, its top six bytes at least this bound's, and no factor from 3 to 17. */
  primeBoundTop?: number;
  /** At least distinctMin distinct values among the distinctCount bytes from the window's start (keys are random; pointers, text and padding are not). */
  distinctCount: number;
  distinctMin: number;
}

/**
 * Calls test(x) for the windows of `filter` at positions x of `bytes` (absolute offset
 * offset + x) that are taken and pass the filter, in order: the positions of [from, to) on
 * the grid of `step` (absolute multiples of it), taken when aligned to `takeAlign` (0: never)
 * or when they start an allocation of the window's size in the form `headed` (allocationHeaded).
 * The walk and the filters run in the WebAssembly module when it is loaded (a JS loop over
 * the positions calling the test had the test inlined into it, and TurboFan spent 56 ms
 * compiling that loop, twice, in every worker, for a pass of a few hundred milliseconds); the
 * JS below does exactly the same otherwise (or with `inModule` false: tests compare the two).
 */
export function eachWindow(bytes: Uint8Array, offset: number, from: number, to: number, step: number, takeAlign: number, headed: HeaderForm | undefined, filter: WindowFilter, test: (x: number) => void, inModule = true): void {
  const first = from + ((step - ((offset + from) % step)) % step);
  const last = Math.min(to, bytes.length - filter.width + 1);
  if (first >= last) return;
  const { width, form, topMax, primeBoundTop, distinctCount, distinctMin } = filter;
  const scan: KeyWindowScan = {
    step,
    phase: offset % 8,
    takeAlign,
    elements: headed === undefined ? 0 : headed === 'raw-le' ? width : width / 4,
    glibcSize: headed === 'raw-le' ? glibcChunkSize(width) : 0,
    width,
    form: form === 'raw-be' ? 0 : form === 'raw-le' ? 1 : 2,
    topMax,
    prime: primeBoundTop !== undefined,
    boundHi: Math.floor((primeBoundTop ?? 0) / 2 ** 24),
    boundLo: (primeBoundTop ?? 0) % 2 ** 24,
    distinctCount,
    distinctMin,
  };
  if (inModule && filterKeyWindows(bytes, first, last, scan, test)) return;
  for (let x = first; x < last; x += step) {
    const taken = (takeAlign !== 0 && (offset + x) % takeAlign === 0) || (headed !== undefined && (bytes[x - 1] | bytes[x - 2]) === 0 && allocationHeaded(bytes, x, width, headed));
    if (taken && passes(bytes, x, filter)) test(x);
  }
}

/** The byte filters of eachWindow, in JS. */
function passes(bytes: Uint8Array, x: number, filter: WindowFilter): boolean {
  const { width, form, primeBoundTop } = filter;
  const top = bytes[byteIndex(form, x, width, 0)];
  if (top > filter.topMax) return false;
  if (primeBoundTop !== undefined) {
    if (top === 0 || !(bytes[byteIndex(form, x, width, width - 1)] & 1)) return false;
    let six = 0;
    for (let i = 0; i < 6; i++) six = six * 256 + bytes[byteIndex(form, x, width, i)];
    if (six < primeBoundTop) return false;
    // A prime factor of a modulus has no small factor (62% of odd random windows have one of these).
    let r = 0;
    for (let i = 0; i < width; i++) r = (r * 256 + bytes[byteIndex(form, x, width, i)]) % smallPrimesProduct;
    if (r % 3 === 0 || r % 5 === 0 || r % 7 === 0 || r % 11 === 0 || r % 13 === 0 || r % 17 === 0) return false;
  }
  return distinctAtLeast(bytes, x, filter.distinctCount, filter.distinctMin);
}

/** 3 · 5 · 7 · 11 · 13 · 17. */
const smallPrimesProduct = 255255;

/** Every `align`-aligned window in the intervals. */
function alignedWindows(bytes: Uint8Array, offset: number, intervals: Interval[], align: number, filter: WindowFilter, test: (x: number) => void): void {
  for (const [a, b] of intervals) eachWindow(bytes, offset, a, b, align, 1, undefined, filter, test);
}

export function verifyCandidates(bytes: Uint8Array, task: VerifyTask): RawMatch[] {
  const found: RawMatch[] = [];
  const end = Math.min(task.candidateEnd, bytes.length);
  const start = task.candidateStart ?? 0;
  const { prime, primeUnaligned, scalarNear, scalar, scalarFromWords, scalarUnaligned } = task.radii;
  const occurrences = task.occurrences;
  for (let index = 0; index < task.targets.length; index++) {
    const target = task.targets[index];
    const everywhere = task.everywhere.includes(index);
    const around = (near: Near, radius: number, wordsRadius = radius): Interval[] => (everywhere ? [[start, end]] : neighbourhoodsFrom(occurrences, index, near, radius, wordsRadius, start, end));
    if (target.type === 'rsa') findPrimes(bytes, task.offset, target, index, around('limbs', prime), around('words', prime), around('unaligned', primeUnaligned), found);
    else if (target.type === 'ec') {
      const far = around('any', scalar, Math.max(scalar, scalarFromWords));
      findScalars(bytes, task.offset, target, index, around('any', scalarNear), far, around('words', scalarNear), far, around('unaligned', scalarUnaligned), found);
    } else {
      findOkp(bytes, task.offset, target, index, occurrences.filter((o) => o.target === index), neighbourhoodsFrom(occurrences, index, 'limbs', scalarNear, scalarNear, start, end), neighbourhoodsFrom(occurrences, index, 'limbs', scalar, scalar, start, end), start, end, found);
    }
  }
  return found.sort((a, b) => a.start - b.start || a.length - b.length);
}

/**
 * The `width`-byte value at x in `form`, most significant byte first, into `out` (a Buffer of
 * that width), by native copies: a loop over byteIndex here made each worker's candidate tests
 * hot JS that TurboFan compiled for 4 to 8 ms, twice a worker.
 */
function bigEndianInto(out: Buffer, bytes: Uint8Array, x: number, form: RawForm): Buffer {
  out.set(bytes.subarray(x, x + out.length));
  if (form === 'raw-le') out.reverse();
  else if (form === 'raw-words') out.swap32(); // each 32-bit word little-endian, the words in big-endian order
  return out;
}

/** Index in memory of the value's i-th most significant byte, for a value of `width` bytes at x. */
function byteIndex(form: RawForm, x: number, width: number, i: number): number {
  if (form === 'raw-be') return x + i;
  if (form === 'raw-le') return x + width - 1 - i;
  return x + (i & ~3) + 3 - (i & 3); // raw-words: word order big-endian, bytes in a word little-endian
}

/** At least `minimum` distinct values among `count` bytes from x (keys are random; pointers, text and padding are not). */
const seenStamp = new Uint32Array(256);
let stamp = 0;
export function distinctAtLeast(bytes: Uint8Array, x: number, count: number, minimum: number): boolean {
  stamp++;
  let distinct = 0;
  for (let k = 0; k < count; k++) {
    const v = bytes[x + k];
    if (seenStamp[v] !== stamp) {
      seenStamp[v] = stamp;
      if (++distinct >= minimum) return true;
    }
  }
  return false;
}

function findPrimes(bytes: Uint8Array, offset: number, target: Extract<RawTarget, { type: 'rsa' }>, index: number, limbs: Interval[], words: Interval[], unaligned: Interval[], found: RawMatch[]): void {
  const n = BigInt('0x' + target.n);
  const nBits = n.toString(2).length;
  const width = Math.ceil(Math.ceil(nBits / 2) / 8);
  // q = n / p < 2^(8·width), so p > n >> (8·width): its top six bytes are at least those of that bound.
  const bound = (n >> BigInt(8 * width)).toString(16).padStart(2 * width, '0');
  const filter = (form: RawForm): WindowFilter => ({ width, form, topMax: 255, primeBoundTop: parseInt(bound.slice(0, 12), 16), distinctCount: 16, distinctMin: 8 });
  // The candidate's bytes most significant first, hex-encoded natively (a string built two
  // digits at a time cost more than the remainder).
  const bigEndian = Buffer.alloc(width);
  const test = (x: number, form: RawForm) => {
    const p = BigInt('0x' + bigEndianInto(bigEndian, bytes, x, form).toString('hex'));
    if (p > 1n && p < n && n % p === 0n) found.push({ start: x, length: width, target: index, form, kind: 'rsa-private-key' });
  };
  alignedWindows(bytes, offset, limbs, 8, filter('raw-le'), (x) => test(x, 'raw-le'));
  if (width % 4 === 0) alignedWindows(bytes, offset, words, 4, filter('raw-words'), (x) => test(x, 'raw-words'));
  alignedWindows(bytes, offset, unaligned, 1, filter('raw-be'), (x) => test(x, 'raw-be'));
}

const ecdhByCurve = new Map<string, ECDH>();

/** The form of an allocation header before a window: a glibc chunk or HotSpot byte[] (limbs), a HotSpot int[] (words). */
export type HeaderForm = 'raw-le' | 'raw-words';

/**
 * The 8 bytes before x are an allocator's header for an allocation of exactly this window, in
 * the far part of a neighbourhood the only windows worth a 30 to 60 µs derivation:
 *   glibc malloc (raw-le)  the chunk header of an allocation of exactly the limbs of a
 *                          `width`-byte scalar (chunk size = limbs + 8 rounded up to 16, low
 *                          three bits flags), before every BIGNUM limb array OpenSSL allocates;
 *                          random bytes pass with odds of 2^-61;
 *   a HotSpot array        (64-bit JVM) the element count just before the data: `width` for a
 *                          byte[] (raw-le: Java 17's ECPrivateKeyImpl.arrayS), width/4 for an
 *                          int[] (raw-words: a BigInteger magnitude), after a non-zero 4-byte
 *                          compressed class pointer (the default), or at x-8 followed by 4
 *                          bytes of zero padding without compressed class pointers; random
 *                          bytes pass with odds of 2^-32.
 */
function allocationHeaded(bytes: Uint8Array, x: number, width: number, form: HeaderForm): boolean {
  if (x < 8) return false;
  const elements = form === 'raw-le' ? width : width / 4;
  const before = (bytes[x - 4] | (bytes[x - 3] << 8) | (bytes[x - 2] << 16) | (bytes[x - 1] << 24)) >>> 0;
  const twoBefore = (bytes[x - 8] | (bytes[x - 7] << 8) | (bytes[x - 6] << 16) | (bytes[x - 5] << 24)) >>> 0;
  if ((before === elements && twoBefore !== 0) || (twoBefore === elements && before === 0)) return true;
  if (form !== 'raw-le' || (bytes[x - 7] | bytes[x - 6] | bytes[x - 5] | before) !== 0) return false;
  return (bytes[x - 8] & ~7) === glibcChunkSize(width);
}

/** The size glibc's malloc gives the chunk of a `width`-byte integer's limbs (limbs + 8 rounded up to 16, at least 32). */
function glibcChunkSize(width: number): number {
  const limbs = Math.ceil(width / 8) * 8;
  return Math.max(32, Math.ceil((limbs + 8) / 16) * 16);
}

/**
 * The windows of `far`, at 4-byte alignment, that are in `near` and `align`-aligned, or else
 * start an allocation of their size (allocationHeaded): near windows all at the form's
 * alignment, far ones only with an allocation header, at 4-byte alignment (a HotSpot byte[]'s
 * data starts 4 bytes into an 8-byte word with compact object headers, or without compressed
 * class pointers since Java 22).
 */
function nearOrHeaded(bytes: Uint8Array, offset: number, near: Interval[], far: Interval[], align: number, filter: WindowFilter, headerForm: HeaderForm, test: (x: number) => void): void {
  let k = 0;
  for (const [a, b] of far) {
    let at = a;
    while (at < b) {
      while (k < near.length && near[k][1] <= at) k++;
      const inNear = k < near.length && near[k][0] <= at;
      // Up to where `at`'s side of the near intervals ends.
      const to = inNear ? Math.min(b, near[k][1]) : Math.min(b, k < near.length ? near[k][0] : b);
      eachWindow(bytes, offset, at, to, 4, inNear ? align : 0, headerForm, filter, test);
      at = to;
    }
  }
}

function findScalars(bytes: Uint8Array, offset: number, target: Extract<RawTarget, { type: 'ec' }>, index: number, limbs: Interval[], farLimbs: Interval[], words: Interval[], farWords: Interval[], unaligned: Interval[], found: RawMatch[]): void {
  const curve = curveByName(target.curve);
  if (!curve) return;
  const width = curve.scalarLengthInBytes;
  let ecdh = ecdhByCurve.get(curve.ecdhName);
  if (!ecdh) ecdhByCurve.set(curve.ecdhName, (ecdh = createECDH(curve.ecdhName)));
  const point = Buffer.from(hexToBytes(target.point));
  // The order's top byte bounds the scalar's (0x01 for P-521, 0xff for the 256-bit curves).
  const filter = (form: RawForm): WindowFilter => ({ width, form, topMax: width === 66 ? 0x01 : 0xff, distinctCount: width, distinctMin: Math.ceil(width * 0.6) });
  const scalar = Buffer.alloc(width);
  const test = (x: number, form: RawForm) => {
    try {
      ecdh!.setPrivateKey(bigEndianInto(scalar, bytes, x, form));
    } catch {
      return; // zero or not below the order
    }
    if (ecdh!.getPublicKey().equals(point)) found.push({ start: x, length: width, target: index, form, kind: 'ec-private-key' });
  };
  nearOrHeaded(bytes, offset, limbs, farLimbs, 8, filter('raw-le'), 'raw-le', (x) => test(x, 'raw-le'));
  if (width % 4 === 0) nearOrHeaded(bytes, offset, words, farWords, 4, filter('raw-words'), 'raw-words', (x) => test(x, 'raw-words'));
  alignedWindows(bytes, offset, unaligned, 1, filter('raw-be'), (x) => test(x, 'raw-be'));
}

function okpPublic(curve: 'Ed25519' | 'X25519', privateKey: Uint8Array): Buffer | undefined {
  try {
    const d = Buffer.from(privateKey).toString('base64url');
    const key = createPrivateKey({ key: { kty: 'OKP', crv: curve, d, x: d }, format: 'jwk' });
    return Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url');
  } catch {
    return undefined;
  }
}

function findOkp(bytes: Uint8Array, offset: number, target: Extract<RawTarget, { type: 'okp' }>, index: number, occurrences: VerifyTask['occurrences'], aligned: Interval[], farAligned: Interval[], start: number, end: number, found: RawMatch[]): void {
  const key = Buffer.from(hexToBytes(target.key));
  const kind = target.curve === 'Ed25519' ? 'ed25519-private-key' : 'x25519-private-key';
  const tested = new Set<number>();
  const filter: WindowFilter = { width: 32, form: 'raw-be', topMax: 255, distinctCount: 32, distinctMin: 20 };
  const test = (x: number) => {
    if (tested.has(x) || x < start || x >= end || x + 32 > bytes.length) return;
    tested.add(x);
    const derived = okpPublic(target.curve, bytes.subarray(x, x + 32));
    if (derived?.equals(key)) found.push({ start: x, length: 32, target: index, form: 'raw-be', kind });
  };
  // seed ‖ public key (Go's ed25519.PrivateKey, BoringSSL), then the aligned neighbourhood.
  for (const o of occurrences) if (o.start >= 32 && passes(bytes, o.start - 32, filter)) test(o.start - 32);
  nearOrHeaded(bytes, offset, aligned, farAligned, 8, filter, 'raw-le', test);
}
