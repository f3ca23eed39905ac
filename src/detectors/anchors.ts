// The anchor search every detector starts from, done once per chunk for all of them.
//
// Detectors find candidates by fixed byte strings (`-----BEGIN`, `02 01`, `RSA`, `"kty"`, ...).
// Searched one needle at a time over a whole 8 MiB chunk, each needle streams the chunk from
// the L3 cache again: with two dozen needles that was two thirds of the scan's time. Searched
// block by block instead, every needle reads a block while it sits in L1/L2, and the chunk
// leaves memory once (measured on the bench's dump-like data: 1.95 → 1.18 ns/byte for 24
// needles with 32 KiB blocks).

import { clearPageMap, filterSearch, isFilterMemory, planFilter, zeroPagesSeen, type FilterPlan } from './anchor-filter.js';

/** Positions of each needle in one buffer, ascending; keyed by the needle objects asked for. */
export type AnchorHits = ReadonlyMap<Buffer, ArrayLike<number> & Iterable<number>>;

/**
 * Hits as 32-bit integers in a buffer that doubles as it fills: a flood of anchors (a million
 * `02 01` in 9 MB) is 4 bytes a hit outside the JS heap, not 8 to 12 in arrays the worker's
 * heap keeps until its next full collection (that pushed a flood's scan past 256 MiB RSS).
 */
export class HitList {
  // Allocated on the first hit: most needles have none in a chunk, and a small file is a chunk.
  private data = noHits;
  private count = 0;
  push(at: number): void {
    if (this.count === this.data.length) {
      const grown = new Int32Array(Math.max(64, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.count++] = at;
  }
  positions(): Int32Array {
    return this.data.subarray(0, this.count);
  }
}

const noHits = new Int32Array(0);

/** Small enough that a block stays in L1/L2 while every needle reads it (16 to 64 KiB measured alike). */
const blockLength = 32 * 1024;

/**
 * Buffer.indexOf switches to a slower algorithm for needles longer than six bytes (measured:
 * about 1.7 GB/s against 4.5 GB/s on random bytes), so longer needles are searched by their
 * first six bytes and the rest is compared.
 */
const fastNeedleLength = 6;

/**
 * After a hit, the next few bytes are searched in JS before another native call: each
 * Buffer.indexOf call costs about half a microsecond, which a flood of anchors (a million
 * BEGIN lines, repeated structures) would pay per hit.
 */
const localWindowInBytes = 64;

/** Whether `needle` occurs at `at` of `haystack` (whole: false when it would run past the end). */
export function bytesAt(haystack: Uint8Array, needle: Uint8Array, at: number): boolean {
  if (at < 0 || at + needle.length > haystack.length) return false;
  for (let k = 0; k < needle.length; k++) if (haystack[at + k] !== needle[k]) return false;
  return true;
}

interface Search {
  needle: Buffer;
  /** The part of the needle handed to Buffer.indexOf: at most six bytes, opening on a rare byte. */
  window: Buffer;
  /** Where the window sits in the needle. */
  shift: number;
  hits: HitList;
}

/**
 * How often a byte turns up in memory, roughly (lower is rarer). Buffer.indexOf is memchr on
 * the first byte of what it looks for, then a compare: each occurrence of that byte is a stop.
 * A needle opening on `e`, `s` or `-` stops every few bytes of text; opened on a capital letter
 * or a byte above 0x7f it mostly runs at memchr speed.
 */
function commonness(byte: number): number {
  if (byte === 0x00) return 100;
  if (byte === 0x20 || byte === 0xff) return 50;
  if (byte >= 0x61 && byte <= 0x7a) return 2 + (LETTER_FREQUENCY[byte - 0x61] ?? 0);
  if ((byte >= 0x30 && byte <= 0x39) || byte < 0x20 || '-./_:=,'.includes(String.fromCharCode(byte))) return 3;
  if (byte >= 0x41 && byte <= 0x5a) return 1.5;
  return 1;
}
/** English letter frequencies in percent, a to z: text in dumps is mostly lower case. */
const LETTER_FREQUENCY = [8.2, 1.5, 2.8, 4.3, 12.7, 2.2, 2.0, 6.1, 7.0, 0.15, 0.8, 4.0, 2.4, 6.7, 7.5, 1.9, 0.1, 6.0, 6.3, 9.1, 2.8, 1.0, 2.4, 0.15, 2.0, 0.07];
/** A window shorter than this would make every occurrence of one or two bytes a hit. */
const minimumWindowLength = 3;

/** Each needle's window and its key, worked out once per needle object (detectors' needles are constants). */
const plans = new WeakMap<Buffer, { key: string; window: Buffer; shift: number }>();

function planFor(needle: Buffer): { key: string; window: Buffer; shift: number } {
  let plan = plans.get(needle);
  if (!plan) {
    let shift = 0;
    const lastShift = needle.length - Math.min(needle.length, minimumWindowLength);
    for (let k = 1; k <= lastShift; k++) if (commonness(needle[k]) < commonness(needle[shift])) shift = k;
    plan = { key: needle.toString('hex'), window: needle.subarray(shift, shift + fastNeedleLength), shift };
    plans.set(needle, plan);
  }
  return plan;
}

/** Every position in `buffer` where a whole needle occurs, per needle (equal needles share one search). */
export function findAnchors(buffer: Buffer, needles: readonly Buffer[], engine: 'auto' | 'js' = 'auto'): Map<Buffer, Int32Array> {
  return anchorSearchWhileFilling(buffer, needles, engine).finish(buffer.length);
}

/**
 * The anchor search of a buffer being filled from its start (a worker reading its chunk in
 * pieces): advance(filled) searches what it can of the first `filled` bytes while they are
 * still in the core's cache, finish(length) the rest. Searched after the whole 8 MiB read, the
 * chunk came back from memory, and two workers doing so slowed each other by half.
 */
export function anchorSearchWhileFilling(
  buffer: Uint8Array,
  needles: readonly Buffer[],
  engine: 'auto' | 'js' = 'auto',
): { advance(filled: number): void; finish(length: number): Map<Buffer, Int32Array>; onlyZeros(): boolean; zeroPages(): number[] | undefined } {
  const { asked, searches } = prepare(needles);
  // One needle is memchr's job; for more, one SIMD pass looks for all of them at once.
  const plan = searches.length > 1 && engine === 'auto' ? filterPlanFor(searches) : undefined;
  // Piece by piece only in the module's memory (a pinned chunk): another buffer is copied in once, at finish.
  const inPlace = isFilterMemory(buffer);
  const onHit = (id: number, at: number) => searches[id].hits.push(at);
  let searched = 0;
  /** Settled by finish(): every byte went through the SIMD filter, and all were zero. */
  let onlyZeros = false;
  /** Settled by finish() likewise: the runs of 4 KiB pages (from the buffer's start) that were all zeros. */
  let zeroPages: number[] | undefined;
  if (plan) clearPageMap(buffer.length);
  return {
    /** After finish(): the bytes were all zeros (a hole of a sparse core); read off the page map then, before other searches reuse it. */
    onlyZeros: () => onlyZeros,
    /** After finish(): [start, end) pairs of the zero pages' runs; undefined when the JS search ran (nothing is known then). */
    zeroPages: () => zeroPages,
    advance(filled) {
      // Windows whose needles may run past the bytes read so far wait for the next piece.
      const to = filled - (plan?.longestNeedle ?? 0);
      if (!plan || !inPlace || to <= searched) return;
      if (filterSearch(buffer.subarray(0, filled), plan, onHit, searched, to)) searched = to;
    },
    finish(length) {
      // Detectors without anchors (aes, entropy alone) need no pass at all.
      if (searches.length === 0) return new Map();
      const whole = Buffer.from(buffer.buffer, buffer.byteOffset, length);
      if (plan && filterSearch(whole, plan, onHit, Math.min(searched, length), length)) {
        zeroPages = zeroPagesSeen(length);
        onlyZeros = zeroPages.length === 2 && zeroPages[0] === 0 && zeroPages[1] === length;
        return hitsAsked(asked, searches);
      }
      for (const search of searches) search.hits = new HitList();
      return searchInJs(whole, asked, searches);
    },
  };
}

function prepare(needles: readonly Buffer[]): { asked: Map<Buffer, Search>; searches: Search[] } {
  const distinct = new Map<string, Search>();
  const asked = new Map<Buffer, Search>();
  for (const needle of needles) {
    if (needle.length === 0 || needle[0] === 0) throw new Error('an anchor must start with a non-zero byte');
    const { key, window, shift } = planFor(needle);
    let search = distinct.get(key);
    if (!search) {
      search = { needle, window, shift, hits: new HitList() };
      distinct.set(key, search);
    }
    asked.set(needle, search);
  }
  return { asked, searches: [...distinct.values()] };
}

function searchInJs(buffer: Buffer, asked: ReadonlyMap<Buffer, Search>, searches: readonly Search[]): Map<Buffer, Int32Array> {
  for (const [from, to] of nonZeroRanges(buffer)) {
    for (let blockStart = from; blockStart < to; blockStart += blockLength) {
      const blockEnd = Math.min(to, blockStart + blockLength);
      for (const search of searches) searchBlock(buffer, search, blockStart, blockEnd);
    }
  }
  return hitsAsked(asked, searches);
}

function hitsAsked(asked: ReadonlyMap<Buffer, Search>, searches: readonly Search[]): Map<Buffer, Int32Array> {
  const positions = new Map(searches.map((search) => [search, search.hits.positions()]));
  return new Map([...asked].map(([needle, search]) => [needle, positions.get(search)!]));
}

/** Filter tables per needle set (detectors' sets are few and constant), worked out once each. */
const filterPlans = new Map<string, FilterPlan | undefined>();

function filterPlanFor(searches: readonly Search[]): FilterPlan | undefined {
  const key = searches.map((s) => planFor(s.needle).key).join(',');
  if (!filterPlans.has(key)) {
    if (filterPlans.size >= 64) filterPlans.clear();
    filterPlans.set(key, planFilter(searches.map(({ needle, shift }) => ({ needle, shift }))));
  }
  return filterPlans.get(key);
}

/**
 * Pages of zeros are most of a real core (60 to 90% of the cores we measured) and no anchor
 * starts in one: every anchor's first byte is non-zero (asserted in findAnchors). One compare
 * per page skips them for every needle at once. An anchor that starts in a non-zero page and
 * runs on into a zero page is still found: searchBlock reads a needle's length past its block.
 */
const pageLength = 4096;
const zeroPage = Buffer.alloc(pageLength);

/** [from, to) ranges covering every page of `buffer` that holds a non-zero byte, in order. */
export function nonZeroRanges(buffer: Buffer): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let open = -1;
  for (let page = 0; page < buffer.length; page += pageLength) {
    const end = Math.min(buffer.length, page + pageLength);
    // Most non-zero pages show it in their first bytes, without a native call.
    const zero = (buffer[page] | buffer[page + 1] | buffer[page + 2] | buffer[end - 1]) === 0 && buffer.compare(zeroPage, 0, end - page, page, end) === 0;
    if (zero && open !== -1) {
      ranges.push([open, page]);
      open = -1;
    } else if (!zero && open === -1) open = page;
  }
  if (open !== -1) ranges.push([open, buffer.length]);
  return ranges;
}

/** Appends the starts in [blockStart, blockEnd) of the whole needle (within buffer) to its hits. */
function searchBlock(buffer: Buffer, search: Search, blockStart: number, blockEnd: number): void {
  const { needle, window, shift, hits } = search;
  const lastStart = Math.min(blockEnd - 1, buffer.length - needle.length);
  if (lastStart < blockStart) return;
  // Window positions for needle starts in [blockStart, lastStart]; the view runs a window's
  // length past them, so a needle straddling the block's border is found once.
  const from = blockStart + shift;
  const to = lastStart + shift;
  const view = buffer.subarray(from, Math.min(buffer.length, to + window.length));
  const first = window[0];
  let position = view.indexOf(window, 0);
  while (position !== -1) {
    const at = from + position;
    if (at > to) return;
    if (bytesAt(buffer, needle, at - shift)) hits.push(at - shift);
    const stop = Math.min(to, at + localWindowInBytes);
    let next = -1;
    for (let i = at + 1; i <= stop; i++) {
      if (buffer[i] === first && bytesAt(buffer, window, i)) {
        next = i;
        break;
      }
    }
    if (next !== -1) position = next - from;
    else if (stop >= to) return;
    else position = view.indexOf(window, stop + 1 - from);
  }
}

/**
 * The hits a detector asked for: from the shared search when the worker ran one, else searched
 * here (a detector called on its own, as in tests).
 */
export function anchorHits(buffer: Buffer, needles: readonly Buffer[], shared: AnchorHits | undefined): AnchorHits {
  if (shared && needles.every((n) => shared.has(n))) return shared;
  return findAnchors(buffer, needles);
}

/** The hits of `needle` below `limit`, ascending. */
export function* hitsBelow(hits: AnchorHits, needle: Buffer, limit: number): Generator<number> {
  for (const at of hits.get(needle) ?? []) {
    if (at >= limit) return;
    yield at;
  }
}
