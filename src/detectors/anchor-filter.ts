// The SIMD side of the anchor search: every needle at once in one pass over the bytes
// (wasm/anchor-scan.wat, Teddy). Buffer.indexOf is memchr per needle: with two dozen needles
// that was two dozen passes, 1.9 ns/byte on the bench's dump-like data; one SIMD pass tests
// sixteen positions for all needles with a dozen instructions. The module's memory also holds
// each worker's chunk, so its other word passes are driven from here too: the raw search's
// word probe, the AES relation filter and the entropy detector's word classes.
import { readFileSync } from 'node:fs';
import { packageRoot } from '../package-root.js';

/** A needle and the 2 or 3 of its bytes, from `shift`, the filter looks for. */
export interface FilterNeedle {
  needle: Uint8Array;
  shift: number;
}

export interface FilterPlan {
  readonly count: number;
  readonly longestNeedle: number;
  /** Nibble tables, bucket table, needle entries and needle bytes, as written to the module's memory. */
  readonly image: Uint8Array;
  /** Output bytes one 16-position block may need: every needle at every lane. */
  readonly reserve: number;
}

interface Engine {
  memory: WebAssembly.Memory;
  scan(data: number, dataLength: number, from: number, to: number, out: number, outEnd: number, reserve: number, buckets: number, pageMap: number): number;
  probe(data: number, from: number, to: number, step: number, keys: number, refs: number, mask: number, shift: number, filter: number, out: number, outEnd: number, reserve: number): number;
  aesRelations(data: number, from: number, to: number, out: number, outEnd: number): number;
  wordClasses(data: number, groups: number, zeroOut: number, textOut: number): void;
  keyWindows(data: number, from: number, to: number, step: number, phase: number, takeAlign: number, elements: number, glibcSize: number, width: number, form: number, topMax: number, prime: number, boundHi: number, boundLo: number, distinctCount: number, distinctMin: number, seen: number, out: number, outEnd: number): number;
}

const bucketCount = 8;
const fingerprintLength = 3;
// The memory layout wasm/anchor-scan.wat documents.
/** Where a call leaves its output pointer. */
const outPointerAddress = 124;
const bucketsAddress = 128;
const entriesAddress = 256;
const needleBytesAddress = 2048;
const imageLength = 8192;
const outAddress = imageLength;
const outLength = 128 * 1024;
/** One byte per 4 KiB page of a haystack, set by `scan` where it met a non-zero byte. */
const pageMapAddress = outAddress + outLength;
const pageInBytes = 4096;
/** Positions are signed 32-bit in the module; larger buffers go to the JS search. */
export const maximumFilterLength = 256 * 1024 * 1024;
const pageMapLength = maximumFilterLength / pageInBytes;
const dataAddress = pageMapAddress + pageMapLength;
/** Readable bytes after the haystack: the filter loads up to 64 bytes past a position. */
const slack = 64;

const wasmUrl = new URL('wasm/anchor-scan.wasm', packageRoot);
let engine: Engine | null | undefined;
let planInMemory: FilterPlan | undefined;

function loadEngine(): Engine | null {
  if (engine === undefined) {
    try {
      engine = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmUrl))).exports as unknown as Engine;
    } catch {
      // No module (a build without `npm run build`'s wasm step) or no SIMD: the JS search gives the same hits.
      engine = null;
    }
  }
  return engine;
}

/** Which search findAnchors uses in this thread: tests assert the SIMD one is live. */
export function anchorEngine(): 'wasm' | 'js' {
  return loadEngine() ? 'wasm' : 'js';
}

/** The filter's tables for these needles, or undefined when they do not fit it. */
export function planFilter(needles: readonly FilterNeedle[]): FilterPlan | undefined {
  const totalBytes = needles.reduce((sum, n) => sum + n.needle.length, 0);
  if (needles.length === 0 || (entriesAddress + 16 * needles.length > needleBytesAddress) || needleBytesAddress + totalBytes > imageLength) return undefined;
  const prints = needles.map(({ needle, shift }) => {
    const print = needle.subarray(shift, shift + fingerprintLength);
    if (print.length < 2 || print[0] === 0) throw new Error('a fingerprint needs two bytes and a non-zero first byte');
    return print;
  });
  const bucketOf = assignBuckets(prints);

  const image = new Uint8Array(imageLength);
  const view = new DataView(image.buffer);
  prints.forEach((print, id) => {
    const bit = 1 << bucketOf[id];
    for (let j = 0; j < fingerprintLength; j++) {
      for (let nibble = 0; nibble < 16; nibble++) {
        // A 2-byte fingerprint takes any byte at its third position.
        const low = j >= print.length || (print[j] & 15) === nibble;
        const high = j >= print.length || print[j] >> 4 === nibble;
        if (low) image[32 * j + nibble] |= bit;
        if (high) image[32 * j + 16 + nibble] |= bit;
      }
    }
  });
  let entry = entriesAddress;
  let bytesAt = needleBytesAddress;
  const byBucket = needles.map((_, id) => id).sort((a, b) => bucketOf[a] - bucketOf[b] || a - b);
  for (let bucket = 0; bucket < bucketCount; bucket++) {
    const members = byBucket.filter((id) => bucketOf[id] === bucket);
    view.setInt32(bucketsAddress + 8 * bucket, entry, true);
    view.setInt32(bucketsAddress + 8 * bucket + 4, members.length, true);
    for (const id of members) {
      const { needle, shift } = needles[id];
      image.set(needle, bytesAt);
      view.setInt32(entry, bytesAt, true);
      view.setInt32(entry + 4, needle.length, true);
      view.setInt32(entry + 8, shift, true);
      view.setInt32(entry + 12, id, true);
      entry += 16;
      bytesAt += needle.length;
    }
  }
  return { count: needles.length, longestNeedle: Math.max(...needles.map((n) => n.needle.length)), image, reserve: 16 * 8 * needles.length };
}

/**
 * Buckets chosen to keep the expected share of positions a bucket lets through small: on
 * uniform bytes a bucket passes (|low nibbles|·|high nibbles|/256) per fingerprint position,
 * multiplied over the positions. Greedy, then single moves while the sum falls.
 */
function assignBuckets(prints: readonly Uint8Array[]): number[] {
  // Per needle and fingerprint position, its low and high nibble as one bit of a 16-bit mask
  // (0 past a short fingerprint's end): a bucket's distinct nibbles are the popcount of an OR.
  const low = prints.map((print) => Array.from({ length: fingerprintLength }, (_, j) => (j < print.length ? 1 << (print[j] & 15) : 0)));
  const high = prints.map((print) => Array.from({ length: fingerprintLength }, (_, j) => (j < print.length ? 1 << (print[j] >> 4) : 0)));
  /** The pass rate of `members` plus `extra` (-1: none) less `without` (-1: none). */
  const passRate = (members: readonly number[], extra = -1, without = -1): number => {
    let rate = 1;
    let any = false;
    for (let j = 0; j < fingerprintLength; j++) {
      let lows = 0, highs = 0, short = false;
      for (let k = 0; k <= members.length; k++) {
        const id = k < members.length ? members[k] : extra;
        if (id < 0 || id === without) continue;
        any = true;
        if (low[id][j] === 0) short = true;
        lows |= low[id][j];
        highs |= high[id][j];
      }
      // A 2-byte fingerprint takes any byte at the third position: the bucket passes them all there.
      if (!short) rate *= (popcount(lows) * popcount(highs)) / 256;
    }
    return any ? rate : 0;
  };
  const bucketOf = new Array<number>(prints.length).fill(0);
  const members: number[][] = Array.from({ length: bucketCount }, () => []);
  const order = prints.map((_, id) => id).sort((a, b) => prints[a].length - prints[b].length || compareBytes(prints[a], prints[b]));
  for (const id of order) {
    let best = 0;
    let bestIncrease = Infinity;
    for (let bucket = 0; bucket < bucketCount; bucket++) {
      const increase = passRate(members[bucket], id) - passRate(members[bucket]);
      if (increase < bestIncrease) [best, bestIncrease] = [bucket, increase];
    }
    members[best].push(id);
    bucketOf[id] = best;
  }
  for (let round = 0, moved = true; moved && round < 50; round++) {
    moved = false;
    for (const id of order) {
      const from = bucketOf[id];
      const saved = passRate(members[from]) - passRate(members[from], -1, id);
      for (let bucket = 0; bucket < bucketCount; bucket++) {
        if (bucket === from) continue;
        const cost = passRate(members[bucket], id) - passRate(members[bucket]);
        if (cost < saved - 1e-12) {
          members[from] = members[from].filter((m) => m !== id);
          members[bucket].push(id);
          bucketOf[id] = bucket;
          moved = true;
          break;
        }
      }
    }
  }
  return bucketOf;
}

function popcount(mask: number): number {
  let count = 0;
  for (let m = mask; m !== 0; m &= m - 1) count++;
  return count;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let k = 0; k < Math.min(a.length, b.length); k++) if (a[k] !== b[k]) return a[k] - b[k];
  return a.length - b.length;
}

/**
 * Calls onHit(needle id, start) for every whole occurrence of every planned needle in
 * `haystack` whose fingerprint starts in [from, to), in ascending order per needle. False when the filter is not available (no
 * module, or a haystack too large for it): the caller searches in JS.
 */
export function filterSearch(haystack: Uint8Array, plan: FilterPlan, onHit: (id: number, start: number) => void, from = 0, to = haystack.length): boolean {
  const placed = inModule(haystack);
  if (!placed) return false;
  const { wasm, data } = placed;
  const memory = new Uint8Array(wasm.memory.buffer);
  if (planInMemory !== plan) {
    memory.set(plan.image, 0);
    planInMemory = plan;
  }
  untilDone(wasm, from, to, (at) => wasm.scan(data, haystack.length, at, to, outAddress, outAddress + outLength, plan.reserve, bucketsAddress, pageMapAddress), (start, id) => onHit(id, start));
  return true;
}

/**
 * Calls onCandidate(j), in order, for the words j in [from, to) of the 32-bit words at
 * bytes[wordStart..] (from >= 8, to + 8 <= the words in `bytes`) where an AES schedule
 * relation may nearly hold (wasm/anchor-scan.wat, aesRelations: a superset of the words where
 * aes.ts's relationLags finds one), but for those in `skip` ([first, end) pairs of word indexes,
 * sorted). The module does whole blocks of 16 words, and each range's last few words are all
 * handed on. Returns `to`, or `from` without the module: the caller then does every word in JS.
 */
export function filterAesRelations(bytes: Uint8Array, wordStart: number, from: number, to: number, onCandidate: (word: number) => void, skip: readonly number[] = []): number {
  const placed = inModule(bytes);
  if (!placed) return from;
  const { wasm, data } = placed;
  for (const [a, b] of rangesBetween(skip, from, to)) {
    const end = a + ((b - a) & ~15);
    untilDone(wasm, a, end, (at) => wasm.aesRelations(data + wordStart, at, end, outAddress, outAddress + outLength), onCandidate);
    for (let j = end; j < b; j++) onCandidate(j);
  }
  return to;
}

/** [from, to) less the sorted [first, end) pairs of `skip`, as ranges in order. */
function rangesBetween(skip: readonly number[], from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let at = from;
  for (let k = 0; k + 1 < skip.length && at < to; k += 2) {
    if (skip[k + 1] <= at) continue;
    if (skip[k] >= to) break;
    if (skip[k] > at) out.push([at, skip[k]]);
    at = skip[k + 1];
  }
  if (at < to) out.push([at, to]);
  return out;
}

/**
 * The runs of whole units of `unitBytes` (counted from byte `start`) that lie inside `ranges`
 * ([from, to) byte pairs, sorted: known zero pages or ranges): [first, end) pairs of unit indexes.
 */
export function unitsWithin(ranges: readonly number[] | undefined, start: number, unitBytes: number): number[] {
  const runs: number[] = [];
  for (let z = 0; ranges && z + 1 < ranges.length; z += 2) {
    const first = Math.max(0, Math.ceil((ranges[z] - start) / unitBytes));
    const end = Math.floor((ranges[z + 1] - start) / unitBytes);
    if (first < end) runs.push(first, end);
  }
  return runs;
}

/** Groups of 32 words classified per call: two bitmaps of 64 KiB in the output room. */
const classGroupsPerCall = outLength / 8;

/**
 * The entropy word pass's classes of the words [0, 32·groups) at bytes[wordStart..], group by
 * group of 32 (wasm/anchor-scan.wat, wordClasses): onBits(first group, zero bits, text bits,
 * groups) per piece, the bitmaps valid only during the call. The groups of `zeroGroups` ([first,
 * end) pairs, sorted: all zero words) are not read: both their classes are empty. False
 * without the module.
 */
export function filterWordClasses(bytes: Uint8Array, wordStart: number, groups: number, onBits: (firstGroup: number, zero: Int32Array, text: Int32Array, count: number) => void, zeroGroups: readonly number[] = []): boolean {
  const placed = inModule(bytes);
  if (!placed) return false;
  const { wasm, data } = placed;
  const zero = new Int32Array(wasm.memory.buffer, outAddress, classGroupsPerCall);
  const text = new Int32Array(wasm.memory.buffer, outAddress + 4 * classGroupsPerCall, classGroupsPerCall);
  const classify = (from: number, to: number) => {
    for (let g = from; g < to; g += classGroupsPerCall) {
      const count = Math.min(classGroupsPerCall, to - g);
      wasm.wordClasses(data + wordStart + 128 * g, count, outAddress, outAddress + 4 * classGroupsPerCall);
      onBits(g, zero, text, count);
    }
  };
  // Only the groups a zero range hands on are cleared (a run of pages is 32 groups a page, the
  // bitmaps 16 K groups each).
  const empty = (from: number, to: number) => {
    const count = Math.min(classGroupsPerCall, to - from);
    zero.fill(0, 0, count);
    text.fill(0, 0, count);
    for (let g = from; g < to; g += classGroupsPerCall) onBits(g, zero, text, Math.min(classGroupsPerCall, to - g));
  };
  let at = 0;
  for (const [a, b] of rangesBetween(zeroGroups, 0, groups)) {
    if (a > at) empty(at, a);
    classify(a, b);
    at = b;
  }
  if (at < groups) empty(at, groups);
  return true;
}

/** Which positions keyWindows takes and what their windows must pass (wasm/anchor-scan.wat documents each). */
export interface KeyWindowScan {
  step: number;
  /** The absolute offset of bytes[0], mod 8. */
  phase: number;
  takeAlign: number;
  elements: number;
  glibcSize: number;
  width: number;
  /** 0 big-endian, 1 little-endian, 2 32-bit words most significant first. */
  form: number;
  topMax: number;
  prime: boolean;
  boundHi: number;
  boundLo: number;
  distinctCount: number;
  distinctMin: number;
}

/** The stamps keyWindows counts distinct bytes with: the last 1 KiB of the output room. */
const seenAddress = outAddress + outLength - 1024;

/**
 * Calls onWindow(x) for the positions x = from, from + step, ... below `to` of `bytes` that
 * keyWindows (wasm/anchor-scan.wat) takes and passes, in order. False without the module: the
 * caller does the same in JS (src/raw/verify.ts).
 */
export function filterKeyWindows(bytes: Uint8Array, from: number, to: number, scan: KeyWindowScan, onWindow: (x: number) => void): boolean {
  const placed = inModule(bytes);
  if (!placed) return false;
  const { wasm, data } = placed;
  const { step, phase, takeAlign, elements, glibcSize, width, form, topMax, prime, boundHi, boundLo, distinctCount, distinctMin } = scan;
  untilDone(wasm, from, to, (at) => wasm.keyWindows(data, at, to, step, phase, takeAlign, elements, glibcSize, width, form, topMax, prime ? 1 : 0, boundHi, boundLo, distinctCount, distinctMin, seenAddress, outAddress, seenAddress), onWindow);
  return true;
}

/**
 * Calls a module function from `from` until it returns `to` (each call stops early when its
 * output is nearly full and returns where to resume), handing on the (a, b) pairs it wrote.
 */
function untilDone(wasm: Engine, from: number, to: number, call: (at: number) => number, onPair: (a: number, b: number) => void): void {
  const out = new Int32Array(wasm.memory.buffer, outAddress, outLength / 4);
  for (let at = from; ; ) {
    const stop = call(at);
    const written = (new Int32Array(wasm.memory.buffer, outPointerAddress, 1)[0] - outAddress) / 4;
    for (let k = 0; k < written; k += 2) onPair(out[k], out[k + 1]);
    if (stop >= to) return;
    at = stop;
  }
}

/** Whether `view` lies in the module's memory (a pinned chunk): searched there in place, piece by piece. */
export function isFilterMemory(view: Uint8Array): boolean {
  return engine !== undefined && engine !== null && view.buffer === engine.memory.buffer;
}

/** The module and where `haystack` is in its memory, or undefined (no module, too large, no room): the caller works in JS. */
function inModule(haystack: Uint8Array): { wasm: Engine; data: number } | undefined {
  const wasm = loadEngine();
  if (!wasm || haystack.length > maximumFilterLength) return undefined;
  const data = place(wasm, haystack);
  return data === undefined ? undefined : { wasm, data };
}

/**
 * Where the haystack is in the module's memory: in place when it is a view of it (a worker's
 * chunk, read straight into it), else copied in. Undefined when it cannot be placed without
 * growing the memory under a pinned chunk (growing detaches every view of the old memory).
 */
function place(wasm: Engine, haystack: Uint8Array): number | undefined {
  const size = () => wasm.memory.buffer.byteLength;
  if (haystack.buffer === wasm.memory.buffer) return haystack.byteOffset + haystack.length + slack <= size() ? haystack.byteOffset : undefined;
  probeTableInMemory = undefined;
  // Beside a pinned chunk: the scratch room reserved after it (a decompressed stream's bytes).
  const at = pinnedLength > 0 ? align(dataAddress + pinnedLength + slack) : dataAddress;
  if (at + haystack.length + slack > size()) {
    if (pinnedLength > 0) return undefined;
    wasm.memory.grow(Math.ceil((at + haystack.length + slack - size()) / 65536));
  }
  new Uint8Array(wasm.memory.buffer).set(haystack, at);
  return at;
}

const align = (n: number) => Math.ceil(n / 64) * 64;

/** Bytes at dataAddress that a worker's chunk occupies while it is scanned (0: none). */
let pinnedLength = 0;
/** Room kept after a pinned chunk for other haystacks: the embedded-stream detector's 2 MiB of output fits. */
const scratchLength = 2 * 1024 * 1024 + 4096;

/**
 * A buffer of `length` bytes inside the module's memory, for a worker to read its chunk into:
 * the anchor search then runs on it in place, without a copy (0.13 ns/byte). It stays valid,
 * and the memory is not grown, until unpinChunkBuffer(). Undefined without the module.
 */
export function pinChunkBuffer(length: number): Uint8Array | undefined {
  const wasm = loadEngine();
  if (!wasm || length > maximumFilterLength || pinnedLength > 0) return undefined;
  const needed = align(dataAddress + length + slack) + scratchLength + slack;
  if (wasm.memory.buffer.byteLength < needed) wasm.memory.grow(Math.ceil((needed - wasm.memory.buffer.byteLength) / 65536));
  pinnedLength = length;
  return new Uint8Array(wasm.memory.buffer, dataAddress, length);
}

export function unpinChunkBuffer(): void {
  pinnedLength = 0;
}

/** The raw search's word table, as src/raw/occurrences.ts builds it. */
export interface ProbeTable {
  readonly key: Int32Array;
  readonly ref: Int32Array;
  readonly filter: Int32Array;
  readonly mask: number;
  readonly shift: number;
  /** The longest run of occupied slots (around the end too): no probe chain is longer. */
  readonly longestRun: number;
}

/** The table in the scratch room. */
let probeTableInMemory: { table: ProbeTable; at: number } | undefined;

/**
 * Calls onCandidate(word index, slot) for every word i in [from, to), i a multiple of `step`,
 * of the pinned chunk `view`, and every slot of `table` whose key equals it, in word order,
 * then probe order (the order of the JS loop it replaces). False when it cannot run here (no
 * module, `view` not pinned, a table too big for the scratch room): the caller probes in JS.
 */
export function filterProbe(view: Uint8Array, table: ProbeTable, from: number, to: number, step: number, onCandidate: (word: number, slot: number) => void): boolean {
  const wasm = loadEngine();
  if (!wasm || !isFilterMemory(view) || pinnedLength === 0 || from % step !== 0) return false;
  const tableAt = align(dataAddress + pinnedLength + slack);
  const size = table.key.length;
  // The scratch room after the pinned chunk (pinChunkBuffer made the memory that large).
  if (8 * size + table.filter.byteLength > scratchLength) return false;
  // Where the room is depends on the pinned chunk's length: the table is written again when it moves.
  if (probeTableInMemory?.table !== table || probeTableInMemory.at !== tableAt) {
    const memory = new Int32Array(wasm.memory.buffer, tableAt, 2 * size + table.filter.length);
    memory.set(table.key, 0);
    memory.set(table.ref, size);
    memory.set(table.filter, 2 * size);
    probeTableInMemory = { table, at: tableAt };
  }
  // Output room for the longest chain's worth of hits per word.
  const reserve = 8 * (table.longestRun + 1);
  if (reserve > outLength / 2) return false;
  untilDone(wasm, from, to, (at) => wasm.probe(view.byteOffset, at, to, step, tableAt, tableAt + 4 * size, table.mask, table.shift, tableAt + 8 * size, outAddress, outAddress + outLength, reserve), onCandidate);
  return true;
}

/** Clears the module's page map (wasm/anchor-scan.wat) for a haystack of `length` bytes. */
export function clearPageMap(length: number): void {
  const wasm = loadEngine();
  if (!wasm) return;
  const memory = new Uint8Array(wasm.memory.buffer);
  memory.fill(0, pageMapAddress, pageMapAddress + Math.min(pageMapLength, Math.ceil(length / pageInBytes)));
}

/**
 * The runs of 4 KiB pages (from the haystack's start; the last one may be short) of bytes
 * [0, length) in which the filter met no non-zero byte since clearPageMap(length), as
 * [start, end) byte pairs: all zeros, if every position of [0, length) was scanned. Empty without the module.
 */
export function zeroPagesSeen(length: number): number[] {
  const wasm = loadEngine();
  const runs: number[] = [];
  if (!wasm || length > maximumFilterLength) return runs;
  const map = new Uint8Array(wasm.memory.buffer, pageMapAddress, Math.ceil(length / pageInBytes));
  // Native searches from run to run, not a loop over every page: this runs for every chunk, and
  // a hot JS loop is compiled anew in every worker.
  for (let page = map.indexOf(0); page !== -1; ) {
    const end = map.indexOf(1, page);
    runs.push(page * pageInBytes, end === -1 ? length : end * pageInBytes);
    page = end === -1 ? -1 : map.indexOf(0, end);
  }
  return runs;
}
