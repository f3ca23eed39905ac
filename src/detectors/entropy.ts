// Entropy: the map of a dump (entropy per 4 KiB block), a cheap "is this window random?"
// for other detectors, and low-severity hints at key-sized random runs that stand out from
// low-entropy surroundings (a 32-byte key among zeros or in text). Entropy alone is the classic
// false-alarm machine, so findings are `low` (informational, never a gate on their own), long
// random stretches (compressed streams, encrypted blobs, random pools) are not reported, and
// each file reports at most the best 100 (capHighEntropyFindings).
//
// Measured (Shannon entropy in bits/byte of uniformly placed windows, 20 000 windows each;
// 0.1% / 50% / 99.9% quantiles):
//
//   window   random              English text        pointers (8-byte)   gzip (0.1% / 50%)
//   16 B     3.58 / 4.00 / 4.00  2.45 / 3.25 / 3.75  2.66 / 3.25 / 3.25  3.45 / 4.00
//   32 B     4.56 / 4.88 / 5.00  3.04 / 3.63 / 4.08  3.25 / 3.63 / 3.75  4.41 / 4.88
//   64 B     5.50 / 5.77 / 5.97  3.48 / 3.89 / 4.20  3.74 / 4.05 / 4.25  5.27 / 5.75
//   128 B    6.33 / 6.55 / 6.74  3.75 / 4.03 / 4.24  4.17 / 4.41 / 4.59  5.95 / 6.54
//   256 B    7.01 / 7.18 / 7.33  3.93 / 4.10 / 4.25  4.52 / 4.70 / 4.83  6.46 / 7.16
//   1024 B   7.75 / 7.81 / 7.86  4.08 / 4.15 / 4.23  4.99 / 5.08 / 5.15  7.41 / 7.80
//
// So n random bytes have at most log2(n) bits/byte over an n-byte window (32 random bytes:
// about 4.9, not 8), and "random" is judged against random data of the same length (the 0.1%
// quantile above, less 0.1 bit), never against 8; window sizes follow the run (16 to 1024
// bytes), and 32-byte surroundings are "low" at 3 bits/byte or less, or, for text, 4.3 (above
// every text window measured, below every random one).
//
// Runs are defined by the bytes alone, so that they are the same for any chunking and any
// alignment. Two backgrounds are tried: zeros (K = {00}) and text (K = printable ASCII, tab,
// LF, CR and NUL, which also covers UTF-16LE text). Against a background K:
// - a component is a stretch from a byte not in K to a byte not in K, in which no 32 bytes in a
//   row are in K, with 32 bytes of K on each side: the same whatever byte of it one starts from;
// - it is split into pieces at 16 bytes of K in a row; a piece counts when it is 16 bytes or
//   longer and as random as random data of its length (entropy, and the zero, text and
//   4/8-byte repeat counts of looksRandom): so two keys 20 zero bytes apart are one finding;
// - the finding runs from the first to the end of the last piece that counts, if that is 16 to
//   1024 bytes long and its 32-byte surroundings are low-entropy.
// A key among zeros is also a component against text (less its text-like bytes): of
// overlapping findings, the one against zeros is kept.
//
// Speed: a word pass finds the stretches of words holding a byte not in K (zeros: a non-zero
// word; text: a byte >= 0x80 or a control byte), at most ~1 KiB long between 7 K-words. The
// words are classified for both backgrounds at once, 32 to a bitmap word, in WebAssembly SIMD
// (wasm/anchor-scan.wat, wordClasses; classifyWords is its JS form), and the stretches read
// off the bitmaps: a group of 32 words all in K, all hits, or interleaved without a gap costs
// one compare. Longer stretches (random pools, compressed data, code, text against zeros) are
// dropped there; only short ones are examined byte by byte. Measured on the bench's dump-like
// data, single thread: 0.8 GB/s for the first version, about 2 GB/s with a JS word loop, about
// 4 GB/s with the SIMD classes.
//
// Limits:
// - A finding starts at the first byte not in K, so a key whose first byte looks like its
//   surroundings (a zero among zeros, a letter in text) is reported from its second byte.
// - A random key fails the randomness tests about once in 10^3 (16 bytes) to 10^4 (32 bytes
//   and more): the price of not reporting pointers, short strings and code.
// - Chunks: a run is judged by its surroundings on both sides, so a chunk needs the bytes
//   before its start too. The detector declares a look-behind (4 KiB, which the chunker hands
//   over as `before`) and a margin of 4 KiB: runs starting in a chunk's first 4 KiB are judged
//   on the look-behind stitched to the chunk's start, the others on the chunk itself, and
//   overlaps are resolved with every run within reach seen. So the findings are the same for
//   any chunk size and any alignment. Without `before` (a chunk scanned on its own: the start
//   of an input), zeros are taken to stand before it, as they would behind a prefix of zeros.
// - Keys among other low-entropy data (fills of 0xff, sparse small integers, machine code,
//   pointers) are not reported: only zeros and text are backgrounds.
import type { Detector, Match } from '../types.js';
import { redactedBinaryEvidence } from '../report/redact.js';
import { filterWordClasses, unitsWithin } from './anchor-filter.js';

/** Shortest and longest runs reported. */
const minimumRunLength = 16;
const maximumRunLength = 1024;
/** Bytes of background in a row that end a component, and the surroundings checked on each side of a finding. */
const surroundingLength = 32;
/**
 * Low-entropy surroundings (32 bytes): at most 3 bits/byte (zeros, fills, sparse integers), or
 * text (90% or more text or NUL bytes: ASCII and UTF-16LE) of at most 4.3 bits/byte, above
 * every text window measured and below every random one. Machine code and pointer arrays
 * (3.7 to 5 bits/byte, mostly non-text) are not low: short random-looking stretches between
 * pointers are everywhere in a heap and say nothing.
 */
const maximumSurroundingEntropy = 3;
const maximumTextSurroundingEntropy = 4.3;
const minimumTextShare = 0.9;
/** Background bytes in a row that split a run into pieces judged separately. */
const pieceGap = 16;
/** Findings per chunk body, best first (the file keeps its best 100 of all chunks' best 100s). */
const maximumFindingsPerChunk = 100;

// ---------------------------------------------------------------------------------------------
// Entropy of a window

/** c·log2(c) for counts up to 4096, so a window's entropy is a sum over its histogram. */
const cLogC = new Float64Array(4097);
for (let c = 1; c < cLogC.length; c++) cLogC[c] = c * Math.log2(c);

const histogram = new Uint32Array(256);

/** Shannon entropy (bits/byte) of bytes[start..start+length). */
export function shannonEntropy(bytes: Uint8Array, start: number, length: number): number {
  if (length <= 0) return 0;
  const end = start + length;
  // The histogram is all zeros between calls.
  if (length > 512) {
    for (let i = start; i < end; i++) histogram[bytes[i]]++;
    const entropy = entropyOfHistogram(histogram, length);
    histogram.fill(0);
    return entropy;
  }
  // Short windows: count, then sum and clear over the window itself (O(length), not O(256)).
  for (let i = start; i < end; i++) histogram[bytes[i]]++;
  let sum = 0;
  for (let i = start; i < end; i++) {
    const c = histogram[bytes[i]];
    if (c) {
      sum += cLogC[c];
      histogram[bytes[i]] = 0;
    }
  }
  return Math.log2(length) - sum / length;
}

function entropyOfHistogram(h: Uint32Array, n: number): number {
  let sum = 0;
  for (let b = 0; b < 256; b++) {
    const c = h[b];
    if (c) sum += c < cLogC.length ? cLogC[c] : c * Math.log2(c);
  }
  return Math.log2(n) - sum / n;
}

/** The 0.1% quantile of the entropy of n random bytes (measured), by log2(n). */
const randomEntropyFloor: ReadonlyArray<[number, number]> = [
  [16, 3.58], [24, 4.14], [32, 4.56], [48, 5.11], [64, 5.5], [128, 6.33], [256, 7.01], [512, 7.48], [1024, 7.75], [4096, 7.93],
];

/** Entropy (bits/byte) that n bytes must reach to count as random: the 0.1% quantile of random data, less 0.1. */
export function highEntropyThreshold(length: number): number {
  const table = randomEntropyFloor;
  if (length <= table[0][0]) return table[0][1] - 0.1;
  for (let k = 1; k < table.length; k++) {
    const [n1, h1] = table[k];
    if (length <= n1) {
      const [n0, h0] = table[k - 1];
      const t = (Math.log2(length) - Math.log2(n0)) / (Math.log2(n1) - Math.log2(n0));
      return h0 + t * (h1 - h0) - 0.1;
    }
  }
  return table[table.length - 1][1] - 0.1;
}

/**
 * The cheap "is this window high-entropy?" for other detectors (the raw-key search of issue #6
 * filters candidate primes and scalars with it): whether bytes[start..start+length) is as random
 * as random data of that length, i.e. its Shannon entropy reaches highEntropyThreshold(length)
 * (the 0.1% quantile of random windows of that length, less 0.1 bit: 16 bytes 3.48, 32 bytes
 * 4.46, 64 bytes 5.40, 128 bytes 6.23, 256 bytes 6.91 bits/byte), so a random window fails it
 * about once in 1000. Windows under 16 bytes, or reaching outside `bytes`, are never
 * high-entropy. O(length), no allocation (one shared histogram: call it from one thread).
 */
export function isHighEntropyWindow(bytes: Uint8Array, start: number, length: number): boolean {
  if (length < minimumRunLength || start < 0 || start + length > bytes.length) return false;
  return shannonEntropy(bytes, start, length) >= highEntropyThreshold(length);
}

/**
 * Entropy (bits/byte) of each `blockSize` block of the body (the last block may be shorter),
 * for the per-file profile.
 */
export function blockEntropies(bytes: Uint8Array, bodyLength: number, blockSize = 4096): Float32Array {
  return entropiesOfBlocks(bytes, 0, Math.min(bodyLength, bytes.length), Math.min(bodyLength, bytes.length), blockSize);
}

/** Lane histograms per block size: counts of one lane fit 16 bits for blocks up to 256 KiB. */
const laneHistograms = new Map<number, Uint16Array | Uint32Array>();

/**
 * Entropy (bits/byte) of the blocks [s, min(s + blockSize, readEnd)) for s = firstStart,
 * firstStart + blockSize, ... below startEnd: the blocks that start in a chunk's body, read on
 * into its margin (the per-file profile aligns them to absolute file offsets).
 *
 * Speed (the profile's cost is this function): an all-zero block (most of a core) is found
 * by OR-ing its words and is 0 without a histogram; other blocks are counted into four
 * histograms, one per byte lane of a 32-bit word, of 16-bit counts: a quarter of the loads
 * of a byte loop, no store-to-load stalls on repeated bytes, and a 2 KiB table that stays in
 * L1 (measured 1.4x faster than 32-bit counts).
 */
export function entropiesOfBlocks(bytes: Uint8Array, firstStart: number, startEnd: number, readEnd: number, blockSize: number): Float32Array {
  readEnd = Math.min(readEnd, bytes.length);
  const out = new Float32Array(Math.max(0, Math.ceil((startEnd - firstStart) / blockSize)));
  let h = laneHistograms.get(blockSize);
  if (!h) laneHistograms.set(blockSize, (h = blockSize <= 1 << 18 ? new Uint16Array(1024) : new Uint32Array(1024)));
  const shift = (4 - (bytes.byteOffset & 3)) & 3;
  const W = new Int32Array(bytes.buffer, bytes.byteOffset + shift, Math.max(0, (bytes.length - shift) >> 2));
  for (let k = 0; k < out.length; k++) {
    const from = firstStart + k * blockSize, to = Math.min(readEnd, from + blockSize);
    const n = to - from;
    if (n <= 0) continue;
    // Whole words of the block, and the bytes before and after them.
    const firstWord = Math.min(W.length, Math.max(0, (from - shift + 3) >> 2)), endWord = Math.max(firstWord, Math.min(W.length, (to - shift) >> 2));
    const wordsFrom = shift + 4 * firstWord, wordsTo = shift + 4 * endWord;
    let any = 0;
    for (let i = from; i < Math.min(to, wordsFrom); i++) any |= bytes[i];
    for (let i = Math.max(from, wordsTo); i < to; i++) any |= bytes[i];
    let j = firstWord;
    for (; j + 4 <= endWord && any === 0; j += 4) any = W[j] | W[j + 1] | W[j + 2] | W[j + 3];
    for (; j < endWord && any === 0; j++) any = W[j];
    if (any === 0) continue; // all zeros: entropy 0
    h.fill(0);
    for (let i = from; i < Math.min(to, wordsFrom); i++) h[bytes[i]]++;
    for (let i = Math.max(from, wordsTo); i < to; i++) h[bytes[i]]++;
    for (let w = firstWord; w < endWord; w++) {
      const x = W[w];
      h[x & 255]++;
      h[256 + ((x >>> 8) & 255)]++;
      h[512 + ((x >>> 16) & 255)]++;
      h[768 + (x >>> 24)]++;
    }
    let sum = 0;
    for (let b = 0; b < 256; b++) {
      const c = h[b] + h[256 + b] + h[512 + b] + h[768 + b];
      if (c) sum += c < cLogC.length ? cLogC[c] : c * Math.log2(c);
    }
    out[k] = Math.log2(n) - sum / n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Runs

const TEXT = Uint8Array.from({ length: 256 }, (_, b) => ((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d ? 1 : 0));

function isText(b: number): boolean {
  return TEXT[b] === 1;
}

/** The entropy of bytes[start..start+length) if they are low-entropy surroundings, else -1. */
function lowSurroundingEntropy(bytes: Uint8Array, start: number, length: number): number {
  const entropy = shannonEntropy(bytes, start, length);
  if (entropy <= maximumSurroundingEntropy) return entropy;
  if (entropy > maximumTextSurroundingEntropy) return -1;
  let text = 0;
  for (let i = start; i < start + length; i++) if (bytes[i] === 0 || isText(bytes[i])) text++;
  return text >= minimumTextShare * length ? entropy : -1;
}

/** Per count of looksRandom, the share of random pieces it may reject. */
const rejectShare = 1e-4;

/** The smallest k with P(X > k) < rejectShare for X ~ Poisson(mean). */
function poissonBound(mean: number): number {
  let term = Math.exp(-mean), cumulative = term;
  let k = 0;
  while (1 - cumulative >= rejectShare && k < 4096) {
    k++;
    term *= mean / k;
    cumulative += term;
  }
  return k;
}

const poissonBounds = new Map<number, number>();
function cachedPoissonBound(mean: number): number {
  const key = Math.round(mean * 1e6);
  let bound = poissonBounds.get(key);
  if (bound === undefined) poissonBounds.set(key, (bound = poissonBound(mean)));
  return bound;
}

/** Share of byte values that are text (printable ASCII, tab, LF, CR). */
const textShare = 98 / 256;

/**
 * Besides its entropy, a random piece has the byte statistics of random data, which short
 * stretches of structure and text often do not. Counted against what random bytes give:
 * - zero bytes (about length/256) and pairs of adjacent zero bytes (about length/65536):
 *   pointers 0x00007fxx... and small integers bring them;
 * - text bytes (about 38%): a 17-character environment variable among zeros has the entropy
 *   of 17 random bytes, but is all text;
 * - bytes equal to the byte 4 or 8 further on (about 2·length/256): the mark of 32- and 64-bit
 *   words whose random-looking low bytes would pass for a key.
 * Each bound is exceeded by random data with probability below 1e-4.
 */
function looksRandom(bytes: Uint8Array, start: number, length: number): boolean {
  let zeros = 0, zeroPairs = 0, text = 0, pairs = 0;
  const end = start + length;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b === 0) {
      zeros++;
      if (i + 1 < end && bytes[i + 1] === 0) zeroPairs++;
    } else if (isText(b)) text++;
    if (i + 4 < end && b === bytes[i + 4]) pairs++;
    if (i + 8 < end && b === bytes[i + 8]) pairs++;
  }
  const textMean = length * textShare;
  return (
    zeros <= cachedPoissonBound(length / 256) &&
    zeroPairs <= cachedPoissonBound((length - 1) / 65536) &&
    text <= textMean + 3.8 * Math.sqrt(textMean * (1 - textShare)) + 0.5 &&
    pairs <= cachedPoissonBound(Math.max(0, 2 * length - 12) / 256)
  );
}

export interface Run {
  start: number;
  length: number;
  entropy: number;
  surroundings: number;
  score: number;
  againstZeros?: boolean;
}

/** Backgrounds: 1 for the byte values in K. */
const ZERO = Uint8Array.from({ length: 256 }, (_, b) => (b === 0 ? 1 : 0));
const TEXT_OR_NUL = Uint8Array.from(TEXT, (t, b) => (t || b === 0 ? 1 : 0));

interface Component {
  start: number;
  /** Exclusive: one past the last byte not in K. */
  end: number;
}

/**
 * The component against K containing the non-K byte at `at`: walks left and right until
 * `surroundingLength` bytes of K in a row. 'unseen' when its left side is not in the chunk,
 * 'long' when it grows past the longest finding (with the end reached so far) or reaches back
 * before `joinsLongBefore`, the end of a long component already skipped.
 */
function componentAt(bytes: Uint8Array, K: Uint8Array, at: number, joinsLongBefore: number): Component | 'unseen' | { long: number } {
  let start = at;
  for (let i = at - 1; start - i <= surroundingLength; i--) {
    if (i < 0) return 'unseen';
    if (K[bytes[i]] === 0) {
      start = i;
      // Reaching back past a skipped long component means being part of it.
      if (at - start > maximumRunLength + surroundingLength || start < joinsLongBefore) return { long: at + 1 };
    }
  }
  let last = at;
  for (let i = at + 1; i < bytes.length && i - last <= surroundingLength; i++) {
    if (K[bytes[i]] === 0) {
      last = i;
      if (last - start > maximumRunLength + surroundingLength) return { long: last + 1 };
    }
  }
  return { start, end: last + 1 };
}

/** Judges a component (see the top of this file): the finding it holds, if any. */
function judge(bytes: Uint8Array, K: Uint8Array, component: Component): Run | undefined {
  const { start, end } = component;
  let regionStart = -1, regionEnd = -1, acceptedBytes = 0, ratioSum = 0;
  let pieceStart = start, gap = 0;
  for (let i = start; i <= end; i++) {
    const atEnd = i === end;
    if (!atEnd && K[bytes[i]] === 0) {
      if (gap >= pieceGap) pieceStart = i;
      gap = 0;
      continue;
    }
    gap++;
    if (gap === pieceGap || atEnd) {
      const pieceEnd = i - gap + 1;
      const length = pieceEnd - pieceStart;
      if (length >= minimumRunLength) {
        const ratio = shannonEntropy(bytes, pieceStart, length) / highEntropyThreshold(length);
        if (ratio >= 1 && looksRandom(bytes, pieceStart, length)) {
          if (regionStart < 0) regionStart = pieceStart;
          regionEnd = pieceEnd;
          acceptedBytes += length;
          ratioSum += ratio * length;
        }
      }
    }
  }
  if (regionStart < 0) return undefined;
  const length = regionEnd - regionStart;
  if (length > maximumRunLength || regionStart < surroundingLength) return undefined;
  const rightLength = Math.min(surroundingLength, bytes.length - regionEnd);
  const left = lowSurroundingEntropy(bytes, regionStart - surroundingLength, surroundingLength);
  const right = rightLength > 0 ? lowSurroundingEntropy(bytes, regionEnd, rightLength) : 0;
  if (left < 0 || right < 0) return undefined;
  const surroundings = Math.max(left, right);
  const entropy = shannonEntropy(bytes, regionStart, length);
  // Longer and more random runs first; among equals, those standing out more.
  const score = (ratioSum / acceptedBytes) * Math.log2(acceptedBytes) - 0.1 * surroundings;
  return { start: regionStart, length, entropy, surroundings, score };
}

/** Bytes before a chunk the detector reads, and bytes after it (the margin). */
export const entropyLookBehindInBytes = 4096;
const entropyMarginInBytes = 4096;
/**
 * Runs starting in a chunk's first `headLength` bytes are judged on the look-behind stitched to
 * the chunk's start. The others are judged on the chunk alone: a run, the component it lies in
 * (at most ~1 KiB), its 32-byte surroundings and any run it overlaps (another ~2 KiB) all lie
 * within 2.2 KiB before it, so 4 KiB in, the chunk holds everything its verdict depends on.
 */
const headLength = 4096;
/** Runs starting this far past the body are found too, to resolve overlaps with those in it. */
const overlapReach = maximumRunLength;

/** What stands before the start of an input: surroundings of zeros. */
const inputStart = new Uint8Array(2 * surroundingLength);

/**
 * Key-like high-entropy runs starting in bytes[0..bodyLength) (see the top of this file): at
 * most the best `cap` (100), in offset order. `before` holds the bytes just before bytes[0]
 * (the chunk's look-behind); empty or absent, bytes[0] is the start of the input.
 */
export function findHighEntropyRuns(bytes: Uint8Array, bodyLength: number, cap = maximumFindingsPerChunk, before?: Uint8Array, zeroPages?: readonly number[]): Run[] {
  // The start of the input is judged as if zeros came before it (nothing is low entropy): a
  // run there is then reported exactly as it is behind a prefix of zeros (the 65-byte shift).
  if (!before || before.length === 0) before = inputStart;
  const head = Math.min(headLength, bodyLength);
  const stitched = new Uint8Array(before.length + Math.min(bytes.length, head + entropyMarginInBytes));
  stitched.set(before);
  stitched.set(bytes.subarray(0, stitched.length - before.length), before.length);
  const runs = resolvedRuns(stitched, before.length + head, before.length);
  for (const run of runs) run.start -= before.length;
  if (bodyLength > head) runs.push(...resolvedRuns(bytes, bodyLength, head, zeroPages));
  return bestRuns(runs, cap);
}

/** Confidence 0.3 to 0.5, rising with the score, rounded so that it orders findings the same everywhere. */
function confidenceOf(score: number): number {
  return Math.round(1000 * (0.3 + 0.2 * Math.min(1, Math.max(0, (score - 4) / 8)))) / 1000;
}

/** Best first: higher confidence (the score, rounded), then lower offset. The per-file cap uses the same order. */
function bestRuns(runs: Run[], cap: number): Run[] {
  return runs
    .sort((a, b) => confidenceOf(b.score) - confidenceOf(a.score) || a.start - b.start)
    .slice(0, cap)
    .sort((a, b) => a.start - b.start);
}

/**
 * Findings per file: the best `maximumFindingsPerFile` entropy findings, in the order of
 * bestRuns. Each chunk reports its best 100 in that order, so the file's best 100 are among
 * them whatever the chunking: the result does not depend on chunk size.
 */
export const maximumFindingsPerFile = 100;
export function capHighEntropyFindings<T extends { detector: string; confidence: number; offset: number; inner?: string }>(findings: T[]): T[] {
  const entropy = findings.filter((f) => f.detector === 'entropy');
  if (entropy.length <= maximumFindingsPerFile) return findings;
  const kept = new Set(
    entropy
      .sort((a, b) => b.confidence - a.confidence || a.offset - b.offset || (a.inner ?? '').localeCompare(b.inner ?? ''))
      .slice(0, maximumFindingsPerFile),
  );
  return findings.filter((f) => f.detector !== 'entropy' || kept.has(f));
}

/**
 * The runs starting in bytes[from..bodyLength), overlaps resolved: of a run against text that
 * overlaps one against zeros (the same key, trimmed of its text-like bytes), the one against
 * zeros is kept. Runs against one background never overlap (their components are disjoint).
 */
function resolvedRuns(bytes: Uint8Array, bodyLength: number, from: number, zeroPages?: readonly number[]): Run[] {
  const found = collectRuns(bytes, bodyLength + overlapReach, zeroPages);
  const zeros = found.filter((r) => r.againstZeros);
  return found.filter(
    (r) => r.start >= from && r.start < bodyLength && (r.againstZeros || !zeros.some((z) => r.start < z.start + z.length && z.start < r.start + r.length)),
  );
}

/**
 * Every run starting before `until`, against either background (against zeros wins at equal
 * starts), in offset order. `zeroPages`: known zero pages of `bytes`, whose words are not read.
 */
function collectRuns(bytes: Uint8Array, until: number, zeroPages?: readonly number[]): Run[] {
  const found = new Map<number, Run>();
  const limit = Math.min(bytes.length, until + maximumRunLength + 8 * surroundingLength);
  const shift = (4 - (bytes.byteOffset & 3)) & 3;
  const count = Math.max(0, (limit - shift) >> 2);
  const W = new Int32Array(bytes.buffer, bytes.byteOffset + shift, count);

  /** Per background: bytes before this are in components already examined or skipped, and the last skip. */
  let doneUntil = 0;
  let skippedUntil = -1;
  /** Examines words [firstWord, lastWord] (holding bytes not in K) byte by byte. */
  const examine = (K: Uint8Array, firstWord: number, lastWord: number) => {
    const from = Math.max(doneUntil, shift + 4 * firstWord), to = Math.min(bytes.length, shift + 4 * lastWord + 4);
    let at = from;
    for (; at < to; at++) {
      if (K[bytes[at]] === 1) continue;
      const c = componentAt(bytes, K, at, skippedUntil);
      if (c === 'unseen' || 'long' in c) {
        // Its left end is before the chunk, or it is too long: skip it.
        at = skippedUntil = skipComponent(bytes, K, c === 'unseen' ? at : c.long - 1);
        at--;
        continue;
      }
      at = c.end + surroundingLength - 1;
      if (c.start >= until) continue;
      const run = judge(bytes, K, c);
      if (!run || run.start >= until) continue;
      run.againstZeros = K === ZERO;
      if (!found.has(run.start) || run.againstZeros) found.set(run.start, run);
    }
    doneUntil = Math.max(doneUntil, at);
  };

  // The word pass: stretches of words holding a byte not in K, at most ~1 KiB long between 7
  // K-words (zeros: any non-zero word; text: a word with a byte that is not text or NUL). The
  // words are classified 32 at a time into one bit each per background (WebAssembly SIMD,
  // wasm/anchor-scan.wat's wordClasses, or classifyWords in JS), and the stretches read off the
  // bits (segmentsOfBits): an all-zero or all-hit group of 32 words costs one compare. Then the
  // short stretches are examined byte by byte, against zeros first.
  const zeroSegments: number[] = [], textSegments: number[] = [];
  const zeroState = Int32Array.of(-1, -(1 << 30)), textState = Int32Array.of(-1, -(1 << 30));
  const groups = count >> 5;
  const onBits = (firstGroup: number, zero: Int32Array, text: Int32Array, n: number) => {
    segmentsOfBits(zero, n, 32 * firstGroup, zeroState, zeroSegments);
    segmentsOfBits(text, n, 32 * firstGroup, textState, textSegments);
  };
  let classified = filterWordClasses(bytes, shift, groups, onBits, unitsWithin(zeroPages, shift, 128)) ? groups : 0;
  for (; 32 * classified < count; classified += jsGroupsPerPiece) {
    const n = Math.min(jsGroupsPerPiece, Math.ceil(count / 32) - classified);
    classifyWords(W, 32 * classified, Math.min(count, 32 * (classified + n)), jsZeroBits, jsTextBits);
    onBits(classified, jsZeroBits, jsTextBits, n);
  }
  for (const [state, out] of [[zeroState, zeroSegments], [textState, textSegments]] as const) {
    if (state[0] >= 0 && state[1] - state[0] < maximumSpanInWords) out.push(state[0], state[1]);
  }
  doneUntil = 0;
  skippedUntil = -1;
  for (let k = 0; k < zeroSegments.length; k += 2) examine(ZERO, zeroSegments[k], zeroSegments[k + 1]);
  doneUntil = 0;
  skippedUntil = -1;
  for (let k = 0; k < textSegments.length; k += 2) examine(TEXT_OR_NUL, textSegments[k], textSegments[k + 1]);

  return [...found.values()].sort((a, b) => a.start - b.start);
}

/** Stretches of hit words spanning this many words or more are too long to hold a finding. */
export const maximumSpanInWords = ((maximumRunLength + 2 * surroundingLength) >> 2) + 2;
/**
 * Hit words more than this apart start a new stretch (6 words without a hit between). Components
 * are 32 bytes of K apart, which always holds 7 whole K-words: splitting there never joins two
 * components, so the length limit drops no short component.
 */
export const gapInWords = (surroundingLength >> 2) - 2;

/** Groups of 32 words classified per piece in JS (without the module, and the last words). */
const jsGroupsPerPiece = 1024;
const jsZeroBits = new Int32Array(jsGroupsPerPiece);
const jsTextBits = new Int32Array(jsGroupsPerPiece);

/**
 * The JS form of wasm/anchor-scan.wat's wordClasses for the words [from, to) (from a multiple
 * of 32): bit t of zero[g] set when word from + 32g + t is non-zero, of text[g] when it holds a
 * byte outside TEXT_OR_NUL; bits past `to` are clear.
 */
export function classifyWords(W: Int32Array, from: number, to: number, zero: Int32Array, text: Int32Array): void {
  for (let g = 0; from + 32 * g < to; g++) {
    let z = 0, t = 0;
    for (let k = 0, j = from + 32 * g; k < 32 && j < to; k++, j++) {
      const w = W[j];
      if (w === 0) continue;
      z |= 1 << k;
      if (holdsNonText(w)) t |= 1 << k;
    }
    zero[g] = z;
    text[g] = t;
  }
}

/** Per byte of v (all bytes below 0x80): 0x80 where the byte is zero. */
function zeroBytes(v: number): number {
  return ~(((v + 0x7f7f7f7f) | 0) | v);
}

/**
 * Whether word w holds a byte outside TEXT_OR_NUL: a byte >= 0x80, or (all bytes below 0x80)
 * a control byte other than NUL, tab, LF and CR, or DEL. Word arithmetic (exact per byte, no
 * carries between bytes below 0x80), so that code, pointers and binary structures count as
 * "not text" at word speed and form long stretches, dropped without a byte-by-byte look.
 */
function holdsNonText(w: number): boolean {
  if ((w & 0x80808080) !== 0) return true;
  const control = ~((w + 0x60606060) | 0); // bit 7 set for bytes below 0x20
  const allowed = zeroBytes(w) | zeroBytes(w ^ 0x09090909) | zeroBytes(w ^ 0x0a0a0a0a) | zeroBytes(w ^ 0x0d0d0d0d);
  return (((control & ~allowed) | zeroBytes(w ^ 0x7f7f7f7f)) & 0x80808080) !== 0;
}

/**
 * The stretches [first, last] of words holding a byte not in K ("hits", one bit per word in
 * `bits`, 32 words per element, the first element's bit 0 being word `firstWord`), split where
 * hits are more than gapInWords apart, that span fewer than maximumSpanInWords, appended to `out`
 * as first, last pairs. Resumable piece by piece: the open stretch is kept in state = [first,
 * last]; the caller closes the last one. Groups without a hit (zero pages; text against text)
 * and groups of hits only (random pools, compressed data, code) cost one compare each.
 */
export function segmentsOfBits(bits: Int32Array, groups: number, firstWord: number, state: Int32Array, out: number[]): void {
  const gap = gapInWords, maximumSpan = maximumSpanInWords;
  let first = state[0], last = state[1];
  for (let g = 0; g < groups; g++) {
    let b = bits[g];
    if (b === 0) continue;
    const base = firstWord + 32 * g;
    if (b === -1) {
      if (base - last > gap) {
        if (first >= 0 && last - first < maximumSpan) out.push(first, last);
        first = base;
      }
      last = base + 31;
      continue;
    }
    const lowest = b & -b, highest = 1 << (31 - Math.clz32(b));
    if (base + 31 - Math.clz32(lowest) - last <= gap) {
      // Joining the open stretch, and no run of 6 clear bits (a split: hits gapInWords + 1
      // apart) between the group's lowest and highest hit (pointers and small integers
      // interleave zero and non-zero words): no split inside, the stretch runs to the highest.
      const z = ~b & ((highest - lowest) | 0);
      const pairs = z & (z >>> 1), fours = pairs & (pairs >>> 2);
      if ((fours & (pairs >>> 4)) === 0) {
        last = base + 31 - Math.clz32(b);
        continue;
      }
    }
    while (b !== 0) {
      const j = base + 31 - Math.clz32(b & -b);
      if (j - last > gap) {
        if (first >= 0 && last - first < maximumSpan) out.push(first, last);
        first = j;
      }
      last = j;
      b &= b - 1;
    }
  }
  state[0] = first;
  state[1] = last;
}

/**
 * From a byte inside a long component, a position not past the start of the next component:
 * the first of 7 whole words of K in a row (every gap between components holds 7), found word
 * by word. It may fall inside the component (a gap of 28 to 31 bytes): that costs a second
 * look, never a missed component.
 */
function skipComponent(bytes: Uint8Array, K: Uint8Array, at: number): number {
  let run = 0;
  let i = (at + 4) & ~3;
  for (; i + 4 <= bytes.length; i += 4) {
    if (K[bytes[i]] & K[bytes[i + 1]] & K[bytes[i + 2]] & K[bytes[i + 3]]) {
      if (++run === 7) return i - 24;
    } else run = 0;
  }
  return bytes.length;
}

export const entropyDetector: Detector = {
  id: 'entropy',
  maxMatchLengthInBytes: entropyMarginInBytes,
  lookBehindInBytes: entropyLookBehindInBytes,
  *scan(bytes, bodyLength, _anchors, before, zeroPages) {
    for (const run of findHighEntropyRuns(bytes, bodyLength, maximumFindingsPerChunk, before, zeroPages)) {
      const match: Match = {
        start: run.start,
        length: run.length,
        detector: 'entropy',
        kind: 'high-entropy',
        severity: 'low',
        confidence: confidenceOf(run.score),
        encoding: 'binary',
        evidence: redactedBinaryEvidence(`high-entropy run, ${run.entropy.toFixed(2)} bits/byte`, run.length),
        note: `${run.entropy.toFixed(2)} bits/byte over ${run.length} bytes (random data of this length: ≥ ${highEntropyThreshold(run.length).toFixed(2)}), surroundings ≤ ${run.surroundings.toFixed(2)} bits/byte`,
      };
      yield match;
    }
  },
};
