// Where the public values' raw forms occur: one pass over a chunk's 8-byte-ALIGNED words.
//
// Every 8-byte substring, at every offset, of every pattern goes into an open-addressing hash
// table keyed by its 64-bit value. An occurrence of a pattern (at any alignment) that is at
// least 15 bytes long contains a whole aligned word of the file, so looking up only the
// aligned words (two Uint32 reads each, zero words skipped at once) finds every occurrence;
// each table hit is verified by comparing the whole pattern. The cost is one table probe per
// non-zero aligned word, whatever the number of patterns (the table stays in cache).
import type { RawForm, RawPattern } from './targets.js';

export interface PatternTable {
  readonly patterns: readonly RawPattern[];
  readonly mask: number;
  readonly shift: number;
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  /** Pattern index + 1 at each slot; 0 marks an empty slot. */
  readonly ref: Int32Array;
  /** Offset of the slot's word inside its pattern. */
  readonly at: Int32Array;
  readonly maxPatternLength: number;
}

export interface Occurrence {
  /** Offset in the chunk (the caller adds the chunk's). */
  start: number;
  pattern: number;
}

const MULTIPLIER_LO = 0x9e3779b1 | 0;
const MULTIPLIER_HI = 0x85ebca77 | 0;

/** Words with fewer distinct bytes than this are not keys of the table (ff…ff, 00 00 00 01 …): they would hit everywhere. */
const minimumDistinctBytesPerWord = 4;

export function buildPatternTable(patterns: readonly RawPattern[]): PatternTable {
  const words: Array<[number, number, number, number]> = [];
  for (let i = 0; i < patterns.length; i++) {
    const b = patterns[i].bytes;
    for (let j = 0; j + 8 <= b.length; j++) {
      if (new Set(b.subarray(j, j + 8)).size < minimumDistinctBytesPerWord) continue;
      words.push([read32(b, j), read32(b, j + 4), i, j]);
    }
  }
  let bits = 4;
  while (1 << bits < words.length * 4) bits++;
  const size = 1 << bits;
  const table: PatternTable = {
    patterns,
    mask: size - 1,
    shift: 32 - bits,
    lo: new Int32Array(size),
    hi: new Int32Array(size),
    ref: new Int32Array(size),
    at: new Int32Array(size),
    maxPatternLength: Math.max(0, ...patterns.map((p) => p.bytes.length)),
  };
  for (const [lo, hi, i, j] of words) {
    let h = hash(lo, hi, table.shift);
    while (table.ref[h] !== 0) h = (h + 1) & table.mask;
    table.lo[h] = lo;
    table.hi[h] = hi;
    table.ref[h] = i + 1;
    table.at[h] = j;
  }
  return table;
}

function read32(b: Uint8Array, j: number): number {
  return (b[j] | (b[j + 1] << 8) | (b[j + 2] << 16) | (b[j + 3] << 24)) | 0;
}

function hash(lo: number, hi: number, shift: number): number {
  return (Math.imul(lo, MULTIPLIER_LO) ^ Math.imul(hi ^ (lo >>> 15), MULTIPLIER_HI)) >>> shift;
}

/**
 * Occurrences whose start is in [0, bodyLength) and that lie wholly in [0, length). `bytes`
 * must start at an 8-aligned file offset (the raw pass cuts its chunks so).
 */
export function findOccurrences(table: PatternTable, bytes: Uint8Array, bodyLength: number, length: number): Occurrence[] {
  const out: Occurrence[] = [];
  if (table.patterns.length === 0) return out;
  const seen = new Set<string>();
  const end = Math.min(length, bodyLength + table.maxPatternLength) & ~7;
  const words = end >>> 2;
  const u32 =
    bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, words) : new Uint32Array(bytes.slice(0, end).buffer, 0, words);
  const { lo: tlo, hi: thi, ref, at, mask, shift, patterns } = table;
  for (let i = 0; i < words; i += 2) {
    const lo = u32[i] | 0;
    const hi = u32[i + 1] | 0;
    if ((lo | hi) === 0) continue;
    let h = (Math.imul(lo, MULTIPLIER_LO) ^ Math.imul(hi ^ (lo >>> 15), MULTIPLIER_HI)) >>> shift;
    for (let r = ref[h]; r !== 0; h = (h + 1) & mask, r = ref[h]) {
      if (tlo[h] !== lo || thi[h] !== hi) continue;
      const pattern = patterns[r - 1].bytes;
      const start = i * 4 - at[h];
      if (start < 0 || start >= bodyLength || start + pattern.length > length) continue;
      const key = `${r - 1}:${start}`;
      if (seen.has(key) || !equalAt(bytes, start, pattern)) continue;
      seen.add(key);
      out.push({ start, pattern: r - 1 });
    }
  }
  return out.sort((a, b) => a.start - b.start || a.pattern - b.pattern);
}

function equalAt(bytes: Uint8Array, start: number, pattern: Uint8Array): boolean {
  for (let k = 0; k < pattern.length; k++) if (bytes[start + k] !== pattern[k]) return false;
  return true;
}

export type { RawForm };
