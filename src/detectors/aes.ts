// Expanded AES key schedules (FIPS-197 §5.2) at any byte offset: the way cold-boot tools
// (aeskeyfind, findaes, bulk_extractor's aes scanner) find AES keys in memory, because a key
// on its own is 16 to 32 random bytes, but its schedule is 176 to 240 bytes bound together by
// the key expansion.
//
// Method. Most schedule words satisfy w[i] = w[i-1] XOR w[i-Nk] (no S-box). XOR works byte by
// byte, so the relation holds for any 4-byte window that lies inside the schedule's relation
// words, whatever the schedule's alignment: one pass over the chunk's 4-byte-aligned words
// finds every schedule at every byte offset (a 16-byte round key always holds at least two
// aligned words of its three relation words). The pass compares W[j] ^ W[j-1] with W[j+lag]
// for the six lags the layouts produce; random data passes with probability 2^-32 per word and
// zero runs never pass (the XOR must be non-zero). The pass runs in WebAssembly SIMD, 16 words
// at a time (wasm/anchor-scan.wat), relationLags is its JS form. Only around those rare hits
// is a candidate start scored by the layout's full relation pattern, and the best starts get the full check:
// the schedule is rebuilt from each round-key-sized window of the candidate and compared bit
// by bit with memory; up to a few flipped bits (decayed memory, like aeskeyfind -t) are
// tolerated, and the key comes from the best rebuild, never from one assumed-clean window.
//
// Layouts (each also with the bytes of every 32-bit word reversed, as OpenSSL's portable C
// code stores round keys as native u32 of big-endian words, GETU32):
// - encryption: w[0..4(Nr+1)) in order, the FIPS-197 / AES-NI layout;
// - decryption: the equivalent inverse cipher as OpenSSL's AES_set_decrypt_key and
//   aesni_set_decrypt_key store it: round keys in reverse order, InvMixColumns applied to all
//   but the first and the last stored;
// - reversed: round keys in reverse order without InvMixColumns.
import { createHash } from 'node:crypto';
import type { Detector, Match } from '../types.js';
import { redactedBinaryEvidence } from '../report/redact.js';
import { filterAesRelations, unitsWithin } from './anchor-filter.js';

// ---------------------------------------------------------------------------------------------
// FIPS-197 arithmetic

function xtime(a: number): number {
  return ((a << 1) ^ (a & 0x80 ? 0x1b : 0)) & 0xff;
}

function gmul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) {
    if (b & 1) p ^= a;
    a = xtime(a);
    b >>= 1;
  }
  return p;
}

const SBOX = new Uint8Array(256);
{
  // Multiplicative inverse in GF(2^8) via exp/log tables of generator 3, then the affine map.
  const exp = new Uint8Array(256);
  const log = new Uint8Array(256);
  let x = 1;
  for (let i = 0; i < 255; i++) {
    exp[i] = x;
    log[x] = i;
    x ^= xtime(x);
  }
  for (let a = 0; a < 256; a++) {
    const inv = a === 0 ? 0 : exp[(255 - log[a]) % 255];
    let s = inv;
    let r = inv;
    for (let k = 0; k < 4; k++) {
      r = ((r << 1) | (r >> 7)) & 0xff;
      s ^= r;
    }
    SBOX[a] = s ^ 0x63;
  }
}

const MUL = (factor: number) => Uint8Array.from({ length: 256 }, (_, a) => gmul(a, factor));
const MUL2 = MUL(2);
const MUL3 = MUL(3);
const MUL9 = MUL(9);
const MUL11 = MUL(11);
const MUL13 = MUL(13);
const MUL14 = MUL(14);

const RCON = new Uint8Array(16);
RCON[1] = 1;
for (let i = 2; i < 16; i++) RCON[i] = xtime(RCON[i - 1]);

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, a) => {
  let n = 0;
  for (let v = a; v; v &= v - 1) n++;
  return n;
});

/** MixColumns on the column at s[o..o+4), written to d[p..p+4). */
function mixColumn(s: Uint8Array, o: number, d: Uint8Array, p: number): void {
  const a0 = s[o], a1 = s[o + 1], a2 = s[o + 2], a3 = s[o + 3];
  d[p] = MUL2[a0] ^ MUL3[a1] ^ a2 ^ a3;
  d[p + 1] = a0 ^ MUL2[a1] ^ MUL3[a2] ^ a3;
  d[p + 2] = a0 ^ a1 ^ MUL2[a2] ^ MUL3[a3];
  d[p + 3] = MUL3[a0] ^ a1 ^ a2 ^ MUL2[a3];
}

/** InvMixColumns on the column at s[o..o+4), written to d[p..p+4). */
function invMixColumn(s: Uint8Array, o: number, d: Uint8Array, p: number): void {
  const a0 = s[o], a1 = s[o + 1], a2 = s[o + 2], a3 = s[o + 3];
  d[p] = MUL14[a0] ^ MUL11[a1] ^ MUL13[a2] ^ MUL9[a3];
  d[p + 1] = MUL9[a0] ^ MUL14[a1] ^ MUL11[a2] ^ MUL13[a3];
  d[p + 2] = MUL13[a0] ^ MUL9[a1] ^ MUL14[a2] ^ MUL11[a3];
  d[p + 3] = MUL11[a0] ^ MUL13[a1] ^ MUL9[a2] ^ MUL14[a3];
}

interface AesSize {
  bits: 128 | 192 | 256;
  /** Key words. */
  nk: number;
  rounds: number;
  /** Schedule words, 4·(rounds + 1). */
  words: number;
  /** Schedule bytes. */
  length: number;
  /** Flipped bits tolerated across the schedule (aeskeyfind's default -t is 10). */
  maxFlippedBits: number;
}

const SIZES: readonly AesSize[] = [
  { bits: 128, nk: 4, rounds: 10, words: 44, length: 176, maxFlippedBits: 10 },
  { bits: 192, nk: 6, rounds: 12, words: 52, length: 208, maxFlippedBits: 12 },
  { bits: 256, nk: 8, rounds: 14, words: 60, length: 240, maxFlippedBits: 14 },
];

function sizeOfKey(length: number): AesSize {
  const size = SIZES.find((s) => s.nk * 4 === length);
  if (!size) throw new RangeError(`an AES key is 16, 24 or 32 bytes, not ${length}`);
  return size;
}

/** The word function g_i of the expansion: w[i] = w[i-Nk] ^ g_i(w[i-1]), into t[0..4). */
function roundWord(e: Uint8Array, i: number, nk: number, t: Uint8Array): void {
  const o = 4 * (i - 1);
  if (i % nk === 0) {
    t[0] = SBOX[e[o + 1]] ^ RCON[i / nk];
    t[1] = SBOX[e[o + 2]];
    t[2] = SBOX[e[o + 3]];
    t[3] = SBOX[e[o]];
  } else if (nk > 6 && i % nk === 4) {
    t[0] = SBOX[e[o]];
    t[1] = SBOX[e[o + 1]];
    t[2] = SBOX[e[o + 2]];
    t[3] = SBOX[e[o + 3]];
  } else {
    t[0] = e[o];
    t[1] = e[o + 1];
    t[2] = e[o + 2];
    t[3] = e[o + 3];
  }
}

const scratchWord = new Uint8Array(4);

/**
 * Completes schedule `e` (FIPS byte order) from its words [from, from + Nk): forwards by the
 * expansion, backwards by its inverse w[i-Nk] = w[i] ^ g_i(w[i-1]).
 */
function completeSchedule(e: Uint8Array, from: number, size: AesSize): void {
  const { nk, words } = size;
  const t = scratchWord;
  for (let i = from + nk; i < words; i++) {
    roundWord(e, i, nk, t);
    const o = 4 * i, p = 4 * (i - nk);
    e[o] = e[p] ^ t[0];
    e[o + 1] = e[p + 1] ^ t[1];
    e[o + 2] = e[p + 2] ^ t[2];
    e[o + 3] = e[p + 3] ^ t[3];
  }
  for (let i = from + nk - 1; i >= nk && i - nk < from; i--) {
    roundWord(e, i, nk, t);
    const o = 4 * i, p = 4 * (i - nk);
    e[p] = e[o] ^ t[0];
    e[p + 1] = e[o + 1] ^ t[1];
    e[p + 2] = e[o + 2] ^ t[2];
    e[p + 3] = e[o + 3] ^ t[3];
  }
}

/** FIPS-197 KeyExpansion: the 176-, 208- or 240-byte encryption schedule of a 16-, 24- or 32-byte key. */
export function expandKey(key: Uint8Array): Uint8Array {
  const size = sizeOfKey(key.length);
  const e = new Uint8Array(size.length);
  e.set(key);
  completeSchedule(e, 0, size);
  return e;
}

export type AesScheduleForm = 'encryption' | 'decryption' | 'reversed';

/** Round keys in reverse order; with `inverseMixColumns`, InvMixColumns on all but the first and last stored. */
function reverseRoundKeys(encryption: Uint8Array, rounds: number, inverseMixColumns: boolean, out: Uint8Array): Uint8Array {
  for (let p = 0; p <= rounds; p++) {
    const from = 16 * (rounds - p), to = 16 * p;
    if (inverseMixColumns && p > 0 && p < rounds) {
      for (let c = 0; c < 16; c += 4) invMixColumn(encryption, from + c, out, to + c);
    } else {
      out.set(encryption.subarray(from, from + 16), to);
    }
  }
  return out;
}

/**
 * The decryption schedule of `key` as OpenSSL's AES_set_decrypt_key (and aesni_set_decrypt_key)
 * stores it: the encryption round keys in reverse order, InvMixColumns applied to round keys
 * 1..Nr-1 (the equivalent inverse cipher of FIPS-197 §5.3.5). With `inverseMixColumns` false,
 * the plain reverse-order form.
 */
export function decryptionSchedule(key: Uint8Array, inverseMixColumns = true): Uint8Array {
  const size = sizeOfKey(key.length);
  return reverseRoundKeys(expandKey(key), size.rounds, inverseMixColumns, new Uint8Array(size.length));
}

/** The schedule with the 4 bytes of every 32-bit word reversed (OpenSSL's portable C layout on little-endian CPUs). */
export function swapWordBytes(schedule: Uint8Array): Uint8Array {
  const out = new Uint8Array(schedule.length);
  for (let i = 0; i < schedule.length; i++) out[i] = schedule[i ^ 3];
  return out;
}

/** `AES:` + hex of the first 8 bytes of SHA-256 of the key: identifies a key without revealing it. */
export function aesKeyFingerprint(key: Uint8Array): string {
  return 'AES:' + createHash('sha256').update(key).digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------------------------------------
// Layouts and their word relations

interface Layout {
  size: AesSize;
  form: AesScheduleForm;
  /** The relation W[q] ^ W[q-1] ^ W[q+lag] = 0 this layout satisfies at most of its words. */
  lag: number;
  /** Byte offsets 4q..4q+3 of the words q where the relation holds in every schedule of this layout. */
  relationBytes: Int32Array;
  /**
   * Relation bytes a candidate start must satisfy to be fully checked: all of them but three
   * per tolerated flipped bit (a flip spoils the relation of its byte as each of its three terms).
   */
  minimumScore: number;
}

/** Relation lags, in words: encryption forms look back Nk words, reversed forms look ahead. */
const LAGS = [-4, -6, -8, 4, 2, 8] as const;

function layoutBytes(key: Uint8Array, form: AesScheduleForm): Uint8Array {
  if (form === 'encryption') return expandKey(key);
  return decryptionSchedule(key, form === 'decryption');
}

function relationHolds(s: Uint8Array, q: number, lag: number): boolean {
  for (let b = 0; b < 4; b++) if ((s[4 * q + b] ^ s[4 * (q - 1) + b] ^ s[4 * (q + lag) + b]) !== 0) return false;
  return true;
}

const LAYOUTS: Layout[] = [];
for (const size of SIZES) {
  for (const form of ['encryption', 'decryption', 'reversed'] as const) {
    const lag = form === 'encryption' ? -size.nk : size.bits === 128 ? 4 : size.bits === 192 ? 2 : 8;
    // The words where the relation holds for every key: those where it holds for two
    // unrelated fixed keys (an accidental zero in one is not in the other).
    const keys = [0x3c, 0xa7].map((seed) => Uint8Array.from({ length: size.nk * 4 }, (_, i) => (seed * (i + 1) * 0x9d + (i * i * 0x1f)) & 0xff));
    const schedules = keys.map((k) => layoutBytes(k, form));
    const words: number[] = [];
    for (let q = 1; q < size.words; q++) {
      if (q + lag < 0 || q + lag >= size.words) continue;
      if (schedules.every((s) => relationHolds(s, q, lag))) words.push(q);
    }
    const relationBytes = Int32Array.from(words.flatMap((q) => [4 * q, 4 * q + 1, 4 * q + 2, 4 * q + 3]));
    LAYOUTS.push({ size, form, lag, relationBytes, minimumScore: Math.max(16, relationBytes.length - 3 * size.maxFlippedBits) });
  }
}

const LONGEST = 240;

// ---------------------------------------------------------------------------------------------
// The full check

export interface AesScheduleMatch {
  start: number;
  size: 128 | 192 | 256;
  form: AesScheduleForm;
  /** True when each 32-bit word's bytes are reversed (native u32 of big-endian words). */
  wordsByteSwapped: boolean;
  flippedBits: number;
  key: Uint8Array;
}

const memory = new Uint8Array(LONGEST);
const encryption = new Uint8Array(LONGEST);
const rebuilt = new Uint8Array(LONGEST);
const stored = new Uint8Array(LONGEST);
const byteCounts = new Uint8Array(256);

/**
 * A schedule of random key bytes repeats no byte value often; zero runs, fills and other
 * structured data do. aeskeyfind rejects more than 8 repeats in 176 bytes; 10 keeps every
 * window aeskeyfind accepts and loses a random 240-byte schedule about once in 10^6.
 */
const maxRepeatsOfAByte = 10;

function lowEntropy(bytes: Uint8Array, start: number, length: number): boolean {
  byteCounts.fill(0);
  for (let i = start; i < start + length; i++) if (++byteCounts[bytes[i]] > maxRepeatsOfAByte) return true;
  return false;
}

/** Stored layout bytes (FIPS byte order within words) of the encryption schedule `e`, into `out`. */
function toLayout(e: Uint8Array, layout: Layout, out: Uint8Array): void {
  if (layout.form === 'encryption') out.set(e.subarray(0, layout.size.length));
  else reverseRoundKeys(e, layout.size.rounds, layout.form === 'decryption', out);
}

/** The encryption schedule read out of stored layout bytes `m` (errors and all), into `out`. */
function fromLayout(m: Uint8Array, layout: Layout, out: Uint8Array): void {
  const { rounds, length } = layout.size;
  if (layout.form === 'encryption') {
    out.set(m.subarray(0, length));
    return;
  }
  for (let p = 0; p <= rounds; p++) {
    const from = 16 * p, to = 16 * (rounds - p);
    if (layout.form === 'decryption' && p > 0 && p < rounds) {
      for (let c = 0; c < 16; c += 4) mixColumn(m, from + c, out, to + c);
    } else {
      for (let c = 0; c < 16; c++) out[to + c] = m[from + c];
    }
  }
}

function hamming(a: Uint8Array, b: Uint8Array, length: number, limit: number): number {
  let d = 0;
  for (let i = 0; i < length; i++) {
    d += POPCOUNT[a[i] ^ b[i]];
    if (d > limit) return d;
  }
  return d;
}

/**
 * The fewest flipped bits between bytes[start..start+length) and a schedule of `layout`, and
 * that schedule's key, if within the layout's tolerance. Every Nk-word window of the read
 * schedule rebuilds a candidate, so flips anywhere, the key words included, are tolerated.
 */
function checkLayout(bytes: Uint8Array, start: number, layout: Layout, wordsByteSwapped: boolean): { flippedBits: number; key: Uint8Array } | undefined {
  const { size } = layout;
  const { length, nk, words } = size;
  for (let i = 0; i < length; i++) memory[i] = bytes[start + (wordsByteSwapped ? i ^ 3 : i)];
  fromLayout(memory, layout, encryption);
  let best = size.maxFlippedBits + 1;
  let bestKey: Uint8Array | undefined;
  const tried: Uint8Array[] = [];
  // Round-key-aligned windows first (cheap: clean memory is settled by the first), then
  // every other word offset, so that flips spread over all aligned windows still leave a
  // clean run of Nk words to rebuild from.
  for (const from of windowOrder(size)) {
    rebuilt.set(encryption.subarray(4 * from, 4 * (from + nk)), 4 * from);
    completeSchedule(rebuilt, from, size);
    // Windows without flips rebuild the same key: each key is compared with memory once.
    if (!tried.some((key) => sameKey(rebuilt, key))) {
      const key = rebuilt.slice(0, 4 * nk);
      tried.push(key);
      toLayout(rebuilt, layout, stored);
      const d = hamming(stored, memory, length, best - 1);
      if (d < best) {
        best = d;
        bestKey = key;
        if (d === 0) break;
      }
    }
  }
  return bestKey ? { flippedBits: best, key: bestKey } : undefined;
}

const windowOrders = new Map<AesSize, number[]>();

/** Window starts: multiples of Nk and the last window, then every other word offset. */
function windowOrder(size: AesSize): number[] {
  let order = windowOrders.get(size);
  if (!order) {
    const lastStart = size.words - size.nk;
    const aligned: number[] = [];
    for (let from = 0; from < lastStart; from += size.nk) aligned.push(from);
    aligned.push(lastStart);
    const rest: number[] = [];
    for (let from = 0; from <= lastStart; from++) if (!aligned.includes(from)) rest.push(from);
    order = [...aligned, ...rest];
    windowOrders.set(size, order);
  }
  return order;
}

function sameKey(schedule: Uint8Array, key: Uint8Array): boolean {
  for (let i = 0; i < key.length; i++) if (schedule[i] !== key[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Candidates

function u32At(bytes: Uint8Array, b: number): number {
  return (bytes[b] | (bytes[b + 1] << 8) | (bytes[b + 2] << 16) | (bytes[b + 3] << 24)) >>> 0;
}

/** Full checks per candidate region at most: a real schedule is the first or among the first few. */
const maximumChecksPerRegion = 16;

class Finder {
  readonly found = new Map<number, AesScheduleMatch>();
  /** Per lag: starts below this were already scored. */
  private readonly scoredUntil = new Map<number, number>();

  constructor(private readonly bytes: Uint8Array, private readonly bodyLength: number) {}

  /** Scores candidate starts in [lo, hi) for the layouts of `lag` and fully checks the best. */
  region(lag: number, lo: number, hi: number): void {
    const { bytes } = this;
    lo = Math.max(lo, this.scoredUntil.get(lag) ?? 0, 0);
    hi = Math.min(hi, this.bodyLength);
    if (hi <= lo) return;
    this.scoredUntil.set(lag, hi);
    const layouts = LAYOUTS.filter((l) => l.lag === lag);
    // rel[b - lo] = 1 when byte b satisfies the relation x[b] ^ x[b-4] ^ x[b+4·lag] = 0 with
    // x[b] != x[b-4] (zero runs and repeats satisfy it trivially). Byte by byte, so a flipped
    // bit costs a candidate at most three relation bytes, not three words.
    const end = Math.min(bytes.length, hi + LONGEST);
    const rel = new Uint8Array(Math.max(0, end - lo));
    const ahead = 4 * lag;
    const from = Math.max(lo, 4, -ahead), to = Math.min(end, bytes.length - Math.max(0, ahead));
    for (let b = from; b < to; b++) {
      const x = bytes[b], y = bytes[b - 4];
      if (x !== y && (x ^ y) === bytes[b + ahead]) rel[b - lo] = 1;
    }
    const candidates: Array<{ start: number; layout: Layout; score: number }> = [];
    for (const layout of layouts) {
      const { relationBytes, size, minimumScore } = layout;
      for (let s = lo; s < hi && s + size.length <= bytes.length; s++) {
        // Misses beyond the tolerance end the count: most starts fail within ~40 bytes.
        const allowedMisses = relationBytes.length - minimumScore;
        let misses = 0;
        const o = s - lo;
        for (let k = 0; k < relationBytes.length && misses <= allowedMisses; k++) misses += 1 - rel[o + relationBytes[k]];
        if (misses <= allowedMisses) candidates.push({ start: s, layout, score: relationBytes.length - misses });
      }
    }
    candidates.sort((a, b) => b.score - a.score || a.start - b.start);
    let checks = 0;
    for (const c of candidates) {
      if (checks >= maximumChecksPerRegion) break;
      if (this.overlapsFound(c.start, c.layout.size.length)) continue;
      checks++;
      if (lowEntropy(bytes, c.start, c.layout.size.length)) continue;
      for (const swapped of [false, true]) {
        const result = checkLayout(bytes, c.start, c.layout, swapped);
        if (!result || !keyLooksRandom(result.key)) continue;
        this.found.set(c.start, { start: c.start, size: c.layout.size.bits, form: c.layout.form, wordsByteSwapped: swapped, ...result });
        break;
      }
    }
  }

  private overlapsFound(start: number, length: number): boolean {
    for (const m of this.found.values()) {
      const mLength = SIZES.find((s) => s.bits === m.size)!.length;
      if (start < m.start + mLength && m.start < start + length) return true;
    }
    return false;
  }
}

/** A key of a few distinct bytes (all zeros, a repeated pattern) is no secret worth a finding. */
function keyLooksRandom(key: Uint8Array): boolean {
  const seen = new Set<number>();
  for (const b of key) seen.add(b);
  return seen.size >= key.length / 2;
}

/**
 * Bit k set when the relation of lag LAGS[k] nearly holds at word j: W[j] ^ W[j-1] ^ W[j+lag]
 * has at most one bit set (so decayed memory does not hide a schedule). The three words must
 * have two bits or more and W[j] ^ W[j-1] no zero 16-bit half: schedule words are random (one
 * with fewer bits comes once in 10^8, a zero half once in 32,768), while a relation with a zero
 * or one-bit term holds trivially in structured data (a repeated word beside the small integer
 * 1, 2 or 4; zero runs; pointers, whose high halves are equal). And W[j] or
 * W[j-1] must have a byte >= 0x80 (8 schedule bytes all below 0x80 come once in 256, and the
 * dozens of other relation words of the schedule still hit; text never passes).
 * wasm/anchor-scan.wat's aesRelations filters the words for this, 16 at a time.
 */
export function relationLags(W: Int32Array, j: number): number {
  const w = W[j], v = W[j - 1];
  if ((w & (w - 1)) === 0 || (v & (v - 1)) === 0 || ((w | v) & 0x80808080) === 0) return 0;
  const d = w ^ v;
  if ((d & (d - 1)) === 0 || (d & 0xffff) === 0 || d >>> 16 === 0) return 0;
  let lags = 0;
  for (let k = 0; k < LAGS.length; k++) {
    const u = W[j + LAGS[k]];
    const x = d ^ u;
    if ((x & (x - 1)) === 0 && (u & (u - 1)) !== 0) lags |= 1 << k;
  }
  return lags;
}

/** Hits a cluster needs to be scored: a schedule gives a dozen or more even with flipped bits; structured data gives ones and twos. */
const minimumHits = 3;

/** Hits of one lag closer than this (in words) belong to one candidate region. */
const regionGapInWords = 64;

/**
 * Every AES key schedule starting in bytes[0..bodyLength), reading at most 240 bytes past a
 * start. Exposed for tests and tools; the detector wraps it.
 */
export function findAesKeySchedules(bytes: Uint8Array, bodyLength: number, zeroPages?: readonly number[]): AesScheduleMatch[] {
  const finder = new Finder(bytes, bodyLength);
  const end = Math.min(bytes.length, bodyLength + LONGEST);
  // A 4-byte-aligned word view (aligned in memory, which is all a typed array needs).
  const shift = (4 - (bytes.byteOffset & 3)) & 3;
  const count = Math.max(0, (end - shift) >> 2);
  if (count < 16) return [];
  const W = new Int32Array(bytes.buffer, bytes.byteOffset + shift, count);
  // Per lag: the current cluster of hits (first and last word index, number of hits).
  const first = new Int32Array(LAGS.length).fill(-1);
  const last = new Int32Array(LAGS.length).fill(-1 << 30);
  const hits = new Int32Array(LAGS.length);
  const flush = (k: number) => {
    if (hits[k] >= minimumHits) {
      const lo = shift + 4 * first[k] - LONGEST;
      const hi = shift + 4 * last[k] + 4;
      finder.region(LAGS[k], lo, hi);
    }
    hits[k] = 0;
    first[k] = -1;
  };
  const hit = (k: number, j: number) => {
    if (j - last[k] > regionGapInWords) flush(k);
    if (first[k] < 0) first[k] = j;
    last[k] = j;
    hits[k]++;
  };
  const atWord = (j: number) => {
    const lags = relationLags(W, j);
    for (let k = 0; k < LAGS.length; k++) if (lags & (1 << k)) hit(k, j);
  };
  // Every word j with all its lag words inside the view: the module's SIMD pass does whole
  // blocks of 16 words and leaves few words to look at; JS does the rest (or all, without it).
  // A word of a known zero page after its first relates nowhere (W[j] ^ W[j-1] = 0): not read.
  const from = 8, to = count - 8;
  const skip = unitsWithin(zeroPages, shift, 4).map((w, k) => (k % 2 === 0 ? w + 1 : w));
  for (let j = filterAesRelations(bytes, shift, from, to, atWord, skip); j < to; j++) atWord(j);
  for (let k = 0; k < LAGS.length; k++) flush(k);
  return [...finder.found.values()].sort((a, b) => a.start - b.start);
}

/**
 * Keys that are published constants, not secrets: 00 01 02 ... (16, 24 or 32 bytes) is the
 * key of the SP 800-90A CTR_DRBG derivation function (Block_Cipher_df), which every OpenSSL
 * process holds expanded for its random generators (and the FIPS-197 Appendix C example key).
 * Reported `low`, so a gate does not fail on every OpenSSL core.
 */
function publishedConstant(key: Uint8Array): string | undefined {
  for (let i = 0; i < key.length; i++) if (key[i] !== i) return undefined;
  return 'published constant key (SP 800-90A CTR_DRBG derivation-function key, held by every OpenSSL process)';
}

const evidenceForms: Record<AesScheduleForm, string> = {
  encryption: 'encryption form',
  decryption: 'decryption form',
  reversed: 'reverse-order form',
};

const formNames: Record<AesScheduleForm, string> = {
  encryption: 'encryption form',
  decryption: 'decryption form, equivalent inverse cipher',
  reversed: 'decryption form, reverse order',
};

export const aesDetector: Detector = {
  id: 'aes',
  maxMatchLengthInBytes: LONGEST,
  *scan(bytes, bodyLength, _anchors, _before, zeroPages) {
    for (const m of findAesKeySchedules(bytes, bodyLength, zeroPages)) {
      const layoutLength = SIZES.find((s) => s.bits === m.size)!.length;
      const order = m.wordsByteSwapped ? ', 32-bit words byte-swapped' : '';
      const constant = publishedConstant(m.key);
      const match: Match = {
        start: m.start,
        length: layoutLength,
        detector: 'aes',
        kind: 'aes-key-schedule',
        severity: constant ? 'low' : 'high',
        confidence: m.flippedBits === 0 ? 0.99 : Math.max(0.8, 0.97 - 0.01 * m.flippedBits),
        encoding: 'binary',
        evidence: redactedBinaryEvidence(`AES-${m.size} key schedule (${evidenceForms[m.form]})`, layoutLength),
        fingerprint: aesKeyFingerprint(m.key),
        note: `AES-${m.size} (${m.size} bits), ${formNames[m.form]}${order}, ${m.flippedBits} flipped bit${m.flippedBits === 1 ? '' : 's'}${constant ? `; ${constant}` : ''}`,
      };
      m.key.fill(0);
      yield match;
    }
  },
};
