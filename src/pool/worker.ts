// Runs the enabled detectors over one chunk: a range of a file it reads itself, or a buffer
// received by transfer and given back (worker-entry.cts), with only small, already redacted
// matches beside it.
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { anchorSearchWhileFilling } from '../detectors/anchors.js';
import { pinChunkBuffer, unpinChunkBuffer } from '../detectors/anchor-filter.js';
import { runnableDetectors } from '../detectors/index.js';
import { describeError } from '../errors.js';
import { readFullSync, type ReadError } from '../input/chunker.js';
import { dataRuns, dataRunsAround } from '../input/spool.js';
import { chunkEntropy, type ChunkEntropy } from '../entropy-profile.js';
import { collectPublics } from '../raw/collect.js';
import { runRawTask, tableFor, type OccurrencePiece, type RawResult, type RawTask } from '../raw/task.js';
import { occurrenceSearchWhileFilling, type OccurrenceSearch } from '../raw/occurrences.js';
import type { PublicValue } from '../raw/targets.js';
import type { DetectorId, Match } from '../types.js';

export interface ChunkTask {
  /** The chunk's bytes, transferred; or, with `read`, none: the worker reads them itself. */
  buffer?: ArrayBuffer;
  /** Valid bytes in buffer (body + margin actually read); with `read`, the bytes to read. */
  length: number;
  /** With `read`, the body of a full read: a short read's body ends where the bytes end. */
  bodyLength: number;
  /**
   * A range of an open file (by descriptor: threads share the process's) to read into the worker's
   * own buffer. `zeros`: [from, to) pairs relative to `position`, sorted and disjoint, known to
   * read as zeros (a spool's holes, a sparse core's zero chunks): filled with zeros, not read.
   */
  read?: { fd: number; position: number; behind?: number; zeros?: number[] };
  detectorIds: DetectorId[];
  /** The bytes just before the chunk, for detectors with a look-behind (empty at the input's start). */
  before?: Uint8Array;
  /** The chunk's absolute offset, when the per-file entropy profile is wanted (src/entropy-profile.ts). */
  profileOffset?: number;
  /** The raw-key search's own tasks (src/raw/task.ts): no detectors run. */
  raw?: RawTask;
  /** A stream's chunk that is spooled (src/input/spool.ts): say which runs of the body are not zeros. */
  spool?: true;
}

export interface ChunkResult {
  /** The task's buffer, given back; none for a task that had the worker read. */
  buffer?: ArrayBuffer;
  /** Bytes the chunk had (those the worker read, for a `read` task). */
  length: number;
  /** The body the detectors scanned (for a `read` task, as the read allowed: see scanTask). */
  bodyLength: number;
  /** The chunk's bytes were all zeros (a hole of a sparse core): the raw search need not read them again, nor a stream's spool hold them. */
  zeros?: boolean;
  /**
   * With detector raw: the runs of 4 KiB pages (counted from the chunk's first byte; the last may
   * be short) the anchor filter saw all zeros, [start, end) pairs: the raw search fills them
   * instead of reading them again. Absent when the JS search ran (nothing is known then).
   */
  zeroPages?: number[];
  /** A `read` task's read failed at this absolute offset: the chunk was scanned up to it. */
  readError?: { offset: number; message: string };
  matches: Match[];
  failures: Array<{ detector: DetectorId; message: string }>;
  /** Entropies of the 4 KiB blocks starting in the body, when asked for by profileOffset. */
  entropy?: ChunkEntropy;
  /** Public keys starting in the body, for the raw search (detector raw). */
  publics?: PublicValue[];
  raw?: RawResult;
  /** With `spool`: the runs of the body to write, [start, end) pairs (long runs of zeros left out). */
  dataRuns?: number[];
}

/** 128 bits of SHA-256: an identity for the matched bytes that cannot be turned back into them. */
function contentDigest(bytes: Uint8Array): string {
  return 'content:' + createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
}

// Failpoints for the test suite, so the fail-closed paths are exercised for real.
const fault = process.env.DUMPGUARD_TEST_FAULT;

export default function scanChunk(task: ChunkTask): ChunkResult {
  try {
    if (task.raw?.step === 'occurrences' && task.raw.next) return scanOccurrencePieces(task, task.raw.next);
    return scanTask(task);
  } finally {
    unpinChunkBuffer();
  }
}

/** An occurrence task of several chunks: each read and searched in turn into the one chunk buffer. */
function scanOccurrencePieces(task: ChunkTask, next: OccurrencePiece[]): ChunkResult {
  const raw = { ...(task.raw as Extract<RawTask, { step: 'occurrences' }>), next: undefined };
  const pieces: ChunkTask[] = [
    { ...task, raw },
    ...next.map((p): ChunkTask => ({ length: p.length, bodyLength: p.bodyLength, detectorIds: [], read: { fd: task.read!.fd, position: p.offset, ...(p.zeros ? { zeros: p.zeros } : {}) }, raw: { ...raw, offset: p.offset, bodyStart: p.bodyStart } })),
  ];
  const occurrences: NonNullable<RawResult['occurrences']> = [];
  let length = 0;
  for (const piece of pieces) {
    const result = scanTask(piece);
    unpinChunkBuffer();
    if (result.readError) return result;
    occurrences.push(...(result.raw?.occurrences ?? []));
    length += result.length;
  }
  return { length, bodyLength: 0, matches: [], failures: [], raw: { occurrences } };
}

function scanTask(task: ChunkTask): ChunkResult {
  if (fault === 'worker-crash') process.exit(3);
  let bytes: Uint8Array;
  let before = task.before;
  let bodyLength = task.bodyLength;
  let readError: ChunkResult['readError'];
  const enabled = task.raw ? [] : runnableDetectors(task.detectorIds);
  const needles = enabled.flatMap((d) => d.anchors ?? []);
  // The anchors (or the raw pass's words) are searched piece by piece as the chunk is read,
  // while each piece is in cache.
  let search: ReturnType<typeof anchorSearchWhileFilling> | undefined;
  let rawSearch: OccurrenceSearch | undefined;
  const follow = (view: Uint8Array) => {
    if (!task.raw) return (search = anchorSearchWhileFilling(view, needles));
    if (task.raw.step === 'occurrences') return (rawSearch = occurrenceSearchWhileFilling(tableFor(task.raw), view, task.read?.zeros));
    return undefined;
  };
  if (task.read) {
    const range = readRange(task.read, task.length, follow, task.raw !== undefined, task.raw?.step === 'occurrences' && !task.raw.hprofTargets ? tableFor(task.raw).zeroReachInBytes : undefined);
    if (range.readError && task.raw) return { matches: [], failures: [], length: range.bytes.length, bodyLength: 0, readError: range.readError };
    ({ bytes, readError } = range);
    if (range.before) before = range.before;
    // A short read is the file's end: a chunk's body is then all it read (no chunk follows);
    // a failed one is scanned as far as it got, up to its body's end (the next chunk has the
    // rest); the raw pass's bodies are planned from the file's size and only shrink.
    if (bytes.length < task.length && !task.raw) bodyLength = readError ? Math.min(bodyLength, bytes.length) : bytes.length;
    if (bytes.length < task.length && task.raw?.step === 'occurrences') bodyLength = Math.max(0, Math.min(bodyLength, bytes.length - task.raw.bodyStart));
  } else bytes = new Uint8Array(task.buffer!, 0, task.length);
  const matches: Match[] = [];
  const failures: ChunkResult['failures'] = [];
  if (task.raw) return { buffer: task.buffer, length: bytes.length, bodyLength, matches, failures, raw: runRawTask(task.raw, bytes, bodyLength, rawSearch) };
  // One search for every detector's anchors.
  // A transferred chunk is searched at once (findAnchors), the same search, so its zeros flag is known too.
  const anchors = (search ??= anchorSearchWhileFilling(bytes, needles)).finish(bytes.length);
  // The pages the anchor filter saw all zeros (undefined: unknown): the word passes of aes and
  // entropy leave them out, the raw search does not read them again, a spool does not write them.
  const zeroPages = search.zeroPages();
  for (const detector of enabled) {
    try {
      if (fault === 'detector-throw') throw new Error('injected detector fault');
      for (const match of detector.scan(bytes, bodyLength, anchors, before, zeroPages)) {
        if (match.start >= bodyLength) continue;
        matches.push(match.fingerprint || match.contentId ? match : { ...match, contentId: contentDigest(bytes.subarray(match.start, match.start + match.length)) });
      }
    } catch (error) {
      failures.push({ detector: detector.id, message: describeError(error) });
    }
  }
  const result: ChunkResult = { buffer: task.buffer, length: bytes.length, bodyLength, matches, failures, ...(readError ? { readError } : {}), ...(search?.onlyZeros() ? { zeros: true } : {}) };
  if (task.detectorIds.includes('raw')) {
    if (zeroPages && zeroPages.length > 0 && !result.zeros) result.zeroPages = zeroPages;
    try {
      result.publics = collectPublics(bytes, bodyLength, anchors);
    } catch (error) {
      failures.push({ detector: 'raw', message: describeError(error) });
    }
  }
  if (task.profileOffset !== undefined) result.entropy = chunkEntropy(bytes, bodyLength, task.profileOffset);
  if (task.spool) {
    // The anchor filter saw the zero pages already; the byte comparisons only when it did not run.
    result.dataRuns = zeroPages ? dataRunsAround(zeroPages, bodyLength) : dataRuns(bytes, bodyLength);
  }
  return result;
}

/** Reads of a chunk in pieces that stay in a core's L2 cache (2 MiB here) until searched. */
const readPieceInBytes = 256 * 1024;

/** The worker's own chunk buffer when the anchor search's memory cannot hold it, reused task after task. */
let own = new Uint8Array(0);

/**
 * Bytes [position, position + length) of the file (fewer at its end), and the `behind` bytes
 * before them for a detector's look-behind, in one read: into the anchor search's memory,
 * pinned until the task ends (a worker runs one task at a time). `follow` makes a search over
 * the chunk's bytes (past the look-behind) that is advanced after each piece read. `zeroEdge`:
 * of each known zero range fill only this many bytes at either end (the rest keeps whatever
 * the buffer held: for an occurrence search, which looks no further in; PatternTable.zeroReachInBytes).
 */
function readRange(read: NonNullable<ChunkTask['read']>, length: number, follow: (chunk: Uint8Array) => { advance(filled: number): void } | undefined, raw = false, zeroEdge?: number): { bytes: Uint8Array; before?: Uint8Array; readError?: ChunkResult['readError'] } {
  const behind = Math.min(read.behind ?? 0, read.position);
  let view = pinChunkBuffer(behind + length);
  if (!view) {
    if (own.length < behind + length) own = new Uint8Array(behind + length);
    view = own.subarray(0, behind + length);
  }
  let got: number;
  let readError: ChunkResult['readError'];
  try {
    const follower = follow(view.subarray(behind));
    const progress = follower && { piece: readPieceInBytes, filled: (filled: number) => follower.advance(filled - behind) };
    const readSome = failingRead ?? (raw ? zeroPageFailingRead : undefined);
    got = read.zeros?.length ? readAroundZeros(read.fd, view, read.position - behind, behind, read.zeros, readSome, progress, zeroEdge) : readFullSync(read.fd, view, read.position - behind, readSome, progress);
  } catch (error) {
    const failure = error as ReadError;
    got = failure.offset - (read.position - behind);
    readError = { offset: failure.offset, message: describeError(failure.reason) };
  }
  const bytes = view.subarray(Math.min(got, behind), got);
  return { bytes, ...(read.behind !== undefined ? { before: view.slice(0, Math.min(got, behind)) } : {}), ...(readError ? { readError } : {}) };
}

/**
 * Fills `view` from the file at `position` as readFullSync does, but the ranges `zeros` (pairs
 * relative to position + behind) are filled with zeros, not read: a hole of a sparse file costs
 * the kernel a zero-fill and a copy per page, TypedArray.fill a fraction of that. With `edge`,
 * only that many bytes at either end of a range are filled. A short read (the file's end)
 * stops there; a failing one throws a ReadError at its offset.
 */
function readAroundZeros(fd: number, view: Uint8Array, position: number, behind: number, zeros: readonly number[], read: Parameters<typeof readFullSync>[3], progress?: { piece: number; filled(length: number): void }, edge = Number.POSITIVE_INFINITY): number {
  let at = 0;
  for (let z = 0; z <= zeros.length; z += 2) {
    const dataTo = z < zeros.length ? Math.min(view.length, Math.max(at, behind + zeros[z])) : view.length;
    if (dataTo > at) {
      const from = at;
      at += readFullSync(fd, view.subarray(from, dataTo), position + from, read, progress && { piece: progress.piece, filled: (filled) => progress.filled(from + filled) });
      if (at < dataTo) return at;
    }
    if (z < zeros.length) {
      const zeroTo = Math.min(view.length, behind + zeros[z + 1]);
      if (zeroTo > at) {
        if (zeroTo - at > 2 * edge) {
          view.fill(0, at, at + edge);
          view.fill(0, zeroTo - edge, zeroTo);
        } else view.fill(0, at, zeroTo);
        at = zeroTo;
        progress?.filled(at);
      }
    }
  }
  return at;
}

/**
 * DUMPGUARD_TEST_FAULT=read-eio@N: a bad sector, bytes [N, N + 4096): a read reaching it
 * returns the bytes before it, a read starting in it fails with EIO.
 */
const failingRead = (() => {
  const at = /^read-eio@(\d+)$/.exec(fault ?? '');
  if (!at) return undefined;
  const badFrom = Number(at[1]);
  const badTo = badFrom + 4096;
  return (fd: number, view: Uint8Array, offset: number, length: number, position: number): number => {
    if (position >= badFrom && position < badTo) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', errno: -5, syscall: 'read' });
    return readSync(fd, view, offset, position < badFrom ? Math.min(length, badFrom - position) : length, position);
  };
})();

/**
 * DUMPGUARD_TEST_FAULT=raw-read-zero-pages: a read of the raw pass (src/raw/search.ts) that
 * brings back a whole 4 KiB page of zeros (4 KiB-aligned in the file) fails with EIO. The first
 * pass sees every zero page of its chunks (and a spool leaves long runs of them as holes): the
 * raw pass is to fill those with zeros, not read them.
 */
const zeroPageFailingRead = (() => {
  if (fault !== 'raw-read-zero-pages') return undefined;
  const pageInBytes = 4096;
  const zeroPage = Buffer.alloc(pageInBytes);
  return (fd: number, view: Uint8Array, offset: number, length: number, position: number): number => {
    const got = readSync(fd, view, offset, length, position);
    const bytes = Buffer.from(view.buffer, view.byteOffset + offset, got);
    for (let page = Math.ceil(position / pageInBytes) * pageInBytes; page + pageInBytes <= position + got; page += pageInBytes) {
      if (zeroPage.compare(bytes, page - position, page - position + pageInBytes) === 0) {
        throw Object.assign(new Error(`EIO: the raw pass read the zero page at ${page} (injected: raw-read-zero-pages)`), { code: 'EIO' });
      }
    }
    return got;
  };
})();
