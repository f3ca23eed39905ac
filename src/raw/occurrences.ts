// Where the public values' raw forms occur: one pass over a chunk that looks at one aligned
// 4-byte word in every S bytes (the stride).
//
// Every 4-byte substring, at every offset, of every pattern goes into an open-addressing hash
// table keyed by its 32-bit value. An occurrence of a pattern that is long enough for its
// alignment (see strideFor) contains a whole S-aligned 4-byte word of the file, so looking up
// only those words (one Uint32 read each, zero words skipped at once, a 16 KiB Bloom filter in
// L1 before the table) finds every occurrence; each table hit is verified by comparing the
// whole pattern. S is 32 with EC targets (32-byte coordinates as 8-aligned limbs, the point's
// 64 big-endian bytes anywhere), 16 with Ed25519/X25519 keys (32 bytes anywhere), 128 with RSA
// moduli alone. The cost is one probe per non-zero stride, whatever the number of patterns,
// and the memory bandwidth of reading the chunk.
import { filterProbe, isFilterMemory, unitsWithin } from '../detectors/anchor-filter.js';
import { bytesAt, HitList } from '../detectors/anchors.js';
import type { RawPattern } from './targets.js';

export interface PatternTable {
  readonly patterns: readonly RawPattern[];
  readonly mask: number;
  readonly shift: number;
  readonly key: Int32Array;
  /** Pattern index + 1 at each slot; 0 marks an empty slot. */
  readonly ref: Int32Array;
  /** Offset of the slot's word inside its pattern. */
  readonly at: Int32Array;
  readonly maxPatternLength: number;
  /**
   * How far into known zeros next to probed bytes the search looks: a candidate's compare (a
   * pattern starting or ending beside them) and its encoded prefix. A worker fills only this
   * much of each zero range's edges for an occurrence task (filling whole ranges was a fifth of
   * the pass's time on the bench's dump), not the rest: its words are not probed.
   */
  readonly zeroReachInBytes: number;
  readonly strideInBytes: number;
  /** The longest run of occupied slots (around the end too): no probe chain is longer. */
  readonly longestRun: number;
  /**
   * Two bits per key in one of 4096 words (passesFilter): 16 KiB stay in L1 while the 64 KiB
   * table does not, and nearly every random word stops here.
   */
  readonly filter: Int32Array;
}

export interface Occurrence {
  /** Offset in the chunk (the caller adds the chunk's). */
  start: number;
  pattern: number;
  /** Preceded by the pattern's encodedPrefix: inside DER or an encoded point. */
  encoded: boolean;
}

/**
 * One aligned 4-byte word is looked up in every S bytes. A pattern of L bytes at an a-aligned
 * offset has an S-aligned word inside it when S - a + 4 <= L: S is the largest power of two
 * every pattern allows (32 for 32-byte limbs, 16 for a 32-byte key at any alignment).
 */
export function strideFor(patterns: readonly RawPattern[]): number {
  const allowed = Math.min(...patterns.map((p) => p.bytes.length + Math.min(p.alignment, 4) - 4));
  let stride = 4;
  while (stride * 2 <= allowed && stride < maximumStrideInBytes) stride *= 2;
  return stride;
}
const maximumStrideInBytes = 128;
const MULTIPLIER = 0x9e3779b1 | 0;
const SECOND_MULTIPLIER = 0x85ebca6b | 0;
/** 4096 words of 32 bits: 16 KiB, in L1 beside the chunk's stream. */
const filterWords = 4096;

/**
 * The table's filter, a blocked Bloom filter: a key sets two bits of one 32-bit word (the word
 * by the top 12 bits of its table hash, the bits by the top 10 of a second hash). With the
 * bench's six public keys (6,000 words of their forms) one bit in ten is set and a random word
 * passes about once in a hundred; the 65536-bit filter it replaces (one bit per key) passed one
 * in eleven, and a group of four probed words one in three. wasm/anchor-scan.wat's probe makes
 * the same test, written out for each of its four words.
 */
function filterBitsOf(word: number): number {
  const second = Math.imul(word, SECOND_MULTIPLIER);
  return (1 << (second >>> 27)) | (1 << ((second >>> 22) & 31));
}

/** `product`: the word's table hash product (its top 12 bits choose the filter word). */
function passesFilter(filter: Int32Array, word: number, product: number): boolean {
  const bits = filterBitsOf(word);
  return (filter[product >>> 20] & bits) === bits;
}

/**
 * A chunk reports at most this many occurrences (a dump that repeats a modulus a million times
 * is hostile or degenerate: memory stays bounded, and the search looks at the first ones).
 */
export const maximumOccurrencesPerChunk = 16384;

/** Words with fewer distinct bytes than this are not keys of the table (ff ff ff ff, 00 00 00 01): they would hit everywhere. */
const minimumDistinctBytesPerWord = 3;

export function buildPatternTable(patterns: readonly RawPattern[]): PatternTable {
  // Plain loops over typed arrays: each worker builds this cold, before its first chunk, and
  // an array of [key, pattern, at] tuples took 5 to 16 ms there for four thousand words.
  let total = 0;
  for (const p of patterns) total += Math.max(0, p.bytes.length - 3);
  const keys = new Int32Array(total);
  const owners = new Int32Array(total);
  const offsets = new Int32Array(total);
  let count = 0;
  for (let i = 0; i < patterns.length; i++) {
    const b = patterns[i].bytes;
    for (let j = 0; j + 4 <= b.length; j++) {
      const distinct = 1 + Number(b[j + 1] !== b[j]) + Number(b[j + 2] !== b[j] && b[j + 2] !== b[j + 1]) + Number(b[j + 3] !== b[j] && b[j + 3] !== b[j + 1] && b[j + 3] !== b[j + 2]);
      if (distinct < minimumDistinctBytesPerWord) continue;
      keys[count] = b[j] | (b[j + 1] << 8) | (b[j + 2] << 16) | (b[j + 3] << 24);
      owners[count] = i;
      offsets[count++] = j;
    }
  }
  let bits = 4;
  while (1 << bits < count * 4) bits++;
  const size = 1 << bits;
  const mask = size - 1;
  const shift = 32 - bits;
  const slotKey = new Int32Array(size);
  const ref = new Int32Array(size);
  const at = new Int32Array(size);
  const filter = new Int32Array(filterWords);
  for (let w = 0; w < count; w++) {
    const key = keys[w];
    const product = Math.imul(key, MULTIPLIER);
    filter[product >>> 20] |= filterBitsOf(key);
    let h = product >>> shift;
    while (ref[h] !== 0) h = (h + 1) & mask;
    slotKey[h] = key;
    ref[h] = owners[w] + 1;
    at[h] = offsets[w];
  }
  return {
    patterns,
    mask,
    shift,
    key: slotKey,
    ref,
    at,
    maxPatternLength: Math.max(0, ...patterns.map((p) => p.bytes.length)),
    zeroReachInBytes: 8 + Math.max(0, ...patterns.map((p) => p.bytes.length + (p.encodedPrefix?.length ?? 0))),
    strideInBytes: strideFor(patterns),
    longestRun: longestRun(ref),
    filter,
  };
}

/**
 * The longest run of occupied slots of a table of a power-of-two size with an empty slot (a
 * quarter at most is full), around the end too: from one empty slot once round, without a
 * remainder per slot (each worker runs this cold; a loop twice round with one took 4 to 6 ms).
 */
export function longestRun(ref: Int32Array): number {
  const mask = ref.length - 1;
  const empty = ref.indexOf(0);
  if (empty < 0) return ref.length;
  let longest = 0;
  let run = 0;
  for (let k = 1; k <= mask; k++) {
    if (ref[(empty + k) & mask] === 0) run = 0;
    else if (++run > longest) longest = run;
  }
  return longest;
}

export interface OccurrenceSearch {
  advance(filled: number): void;
  finish(bodyEnd: number, length: number, bodyStart?: number): Occurrence[];
}

/**
 * `zeros`: [from, to) pairs of byte offsets in `bytes`, sorted and disjoint, that are known to be
 * zeros (the holes of a spool, a sparse core's zero chunks: the worker fills them instead of
 * reading them). The words wholly inside them are not probed: a zero word is never a candidate,
 * so the occurrences are the same as with every word probed.
 */
export function occurrenceSearchWhileFilling(table: PatternTable, bytes: Uint8Array, zeros: readonly number[] = []): OccurrenceSearch {
  const step = table.strideInBytes >>> 2;
  // (word index, slot) pairs, in the order found.
  const candidateWords = new HitList();
  const candidateSlots = new HitList();
  const onCandidate = (word: number, slot: number) => (candidateWords.push(word), candidateSlots.push(slot));
  // The probed words (multiples of step) that lie wholly in a zero range, as [from, to) pairs of
  // word indexes, each a multiple of step: from the first such word to the first one past the range.
  const skips: number[] = [];
  const wordsInZeros = unitsWithin(zeros, 0, 4);
  for (let z = 0; z + 1 < wordsInZeros.length; z += 2) {
    const from = Math.ceil(wordsInZeros[z] / step) * step;
    const to = Math.ceil(wordsInZeros[z + 1] / step) * step;
    if (from < to) skips.push(from, to);
  }
  const probeRange = (from: number, to: number) => {
    if (!filterProbe(bytes, table, from, to, step, onCandidate)) probeInJs(table, bytes, from, to, onCandidate);
  };
  /** Words below this were probed or skipped (a multiple of step). */
  let probed = 0;
  /** The first skip that may still lie ahead of `probed`. */
  let skip = 0;
  /** Probes every word index below `to` (a multiple of step) not probed yet, but the known zeros. */
  const probeTo = (to: number) => {
    if (table.patterns.length === 0 || to <= probed) return;
    let from = probed;
    for (; skip < skips.length && skips[skip] < to; skip += 2) {
      if (skips[skip + 1] <= from) continue;
      if (skips[skip] > from) probeRange(from, skips[skip]);
      from = Math.max(from, skips[skip + 1]);
      // A skip that reaches past `to` is not done with yet.
      if (from > to) break;
    }
    if (from < to) probeRange(from, to);
    probed = Math.max(from, to);
  };
  return {
    advance(filled) {
      // Pinned chunks only: elsewhere the JS probe runs once, at finish.
      if (isFilterMemory(bytes)) probeTo(Math.floor(filled / 4 / step) * step);
    },
    finish(bodyEnd, length, bodyStart = 0) {
      const out: Occurrence[] = [];
      if (table.patterns.length === 0) return out;
      const end = Math.min(length, bodyEnd + table.maxPatternLength) & ~3;
      const words = end >>> 2;
      probeTo(Math.ceil(words / step) * step);
      const seen = new Set<string>();
      const { at, patterns } = table;
      const wordOf = candidateWords.positions();
      const slotOf = candidateSlots.positions();
      for (let k = 0; k < wordOf.length; k++) {
        const i = wordOf[k];
        // Words probed past the chunk's end are not the chunk's; the cap is checked between words.
        if (i >= words || (out.length >= maximumOccurrencesPerChunk && i !== wordOf[k - 1])) break;
        const h = slotOf[k];
        const r = table.ref[h];
        const pattern = patterns[r - 1].bytes;
        const start = i * 4 - at[h];
        if (start < bodyStart || start >= bodyEnd || start + pattern.length > length) continue;
        const id = `${r - 1}:${start}`;
        if (seen.has(id) || !bytesAt(bytes, pattern, start)) continue;
        seen.add(id);
        const prefix = patterns[r - 1].encodedPrefix;
        out.push({ start, pattern: r - 1, encoded: prefix !== undefined && bytesAt(bytes, prefix, start - prefix.length) });
      }
      return out.sort((a, b) => a.start - b.start || a.pattern - b.pattern);
    },
  };
}

/** The probe in JS: one aligned word in every stride of bytes[4·from, 4·words) (from a multiple of the stride in words). */
function probeInJs(table: PatternTable, bytes: Uint8Array, from: number, words: number, onCandidate: (word: number, slot: number) => void): void {
  words = Math.min(words, bytes.length >>> 2);
  const u32 = bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, words) : new Uint32Array(bytes.slice(0, 4 * words).buffer, 0, words);
  const { key: keys, ref, mask, shift, filter } = table;
  const step = table.strideInBytes >>> 2;
  for (let i = from; i < words; i += step) {
    const word = u32[i] | 0;
    if (word === 0) continue;
    const product = Math.imul(word, MULTIPLIER);
    if (!passesFilter(filter, word, product)) continue;
    let h = product >>> shift;
    for (let r = ref[h]; r !== 0; h = (h + 1) & mask, r = ref[h]) if (keys[h] === word) onCandidate(i, h);
  }
}
