// Compressed streams inside the scanned bytes: gzip members (RFC 1952) and zlib streams
// (RFC 1950) found by their headers anywhere in a chunk — compressed HTTP bodies, PNG image
// data, package caches and log archives in a process's memory or a disk snapshot. Each one is
// decompressed with a bounded budget and the other enabled detectors run on what comes out
// (bulk_extractor's recursion). A key found so is reported at the stream: `start` = its first
// header byte, `length` = the compressed bytes it spans, `inner` = `GZIP-512` / `ZLIB-512`,
// the key's position in the decompressed bytes (the notation of src/input/containers/provenance.ts).
//
// Chunk invariance: a stream is read from its header for at most MAX_EMBEDDED_INPUT_IN_BYTES,
// which is this detector's maxMatchLengthInBytes, so the chunk margin always holds those bytes
// and the result never depends on where chunks fall. A longer stream is decoded as far as those
// bytes go (its first ~64 KiB of compressed data); a longer reach would need a wider margin for
// every chunk.
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import type { Detector, Match, Severity } from '../types.js';
import { plausibleDeflateStart } from './deflate-start.js';
import { anchorHits, hitsBelow, type AnchorHits } from './anchors.js';

/** Compressed bytes read per stream, from its first header byte (and the detector's longest match). */
export const MAX_EMBEDDED_INPUT_IN_BYTES = 64 * 1024;
/** Decompressed bytes scanned per stream: a bomb stops here (1000:1 deflate fills it from 2 KiB). */
export const MAX_EMBEDDED_OUTPUT_IN_BYTES = 2 * 1024 * 1024;
/**
 * Streams inside decompressed streams are not followed (depth 1): nested compression inside a
 * dump's memory is rare, and each level multiplies the work on every false header.
 */
export const MAX_EMBEDDED_DEPTH = 1;
/** Decompressed content shorter than this cannot hold a key (an Ed25519 PKCS#8 DER is 48 bytes). */
const MIN_OUTPUT_IN_BYTES = 48;
/** A gzip header's file name or comment longer than this is not a header (real ones are short paths). */
const MAX_GZIP_TEXT_FIELD_IN_BYTES = 1024;
/** Decodes tried per candidate: each retry halves the input, to get under the output budget or before corrupt data. */
const MAX_DECODE_ATTEMPTS = 8;

type Label = 'GZIP' | 'ZLIB';

/** The anchors: a gzip member's ID1 ID2 CM, and the four zlib headers with CMF 0x78 (32 KiB window, deflate) and no preset dictionary. */
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);
/**
 * CMF 0x78 (deflate, 32 KiB window): what zlib, browsers, PNG and HTTP stacks write, with the
 * four FLG values for which (CMF*256+FLG)%31==0 and FDICT=0. Smaller windows (CINFO < 7) are
 * rare and would make eight times the candidates.
 */
const ZLIB_HEADERS = [0x01, 0x5e, 0x9c, 0xda].map((flg) => Buffer.from([0x78, flg]));
const ANCHORS = [GZIP_MAGIC, ...ZLIB_HEADERS];

interface Stream {
  label: Label;
  start: number;
  /** Where the deflate data starts. */
  dataStart: number;
  /** zlib streams are handed to the decoder with their header (it checks the Adler-32 too); gzip members as raw deflate. */
  raw: boolean;
}

/**
 * The embedded-stream detector, running `inner` on what it decompresses (a function, so the
 * registry can name detectors defined after it). The worker binds it to the enabled detectors.
 */
export function createEmbeddedStreamsDetector(inner: readonly Detector[] | (() => readonly Detector[]), depth = 1): Detector {
  const innerDetectors = () => {
    const list = (typeof inner === 'function' ? inner() : inner).filter((d) => d.id !== 'embedded');
    return depth < MAX_EMBEDDED_DEPTH ? [...list, createEmbeddedStreamsDetector(list, depth + 1)] : list;
  };
  return {
    id: 'embedded',
    maxMatchLengthInBytes: MAX_EMBEDDED_INPUT_IN_BYTES,
    // Searched in the worker's one shared pass with every detector's anchors.
    anchors: ANCHORS,
    *scan(bytes, bodyLength, shared) {
      const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
      for (const stream of candidates(buffer, bodyLength, anchorHits(buffer, ANCHORS, shared))) {
        const end = Math.min(buffer.length, stream.start + MAX_EMBEDDED_INPUT_IN_BYTES);
        if (!plausibleDeflateStart(buffer, stream.dataStart, end)) continue;
        const decoded = inflateBounded(buffer.subarray(stream.raw ? stream.dataStart : stream.start, end), stream.raw);
        if (!decoded || decoded.output.length < MIN_OUTPUT_IN_BYTES) continue;
        // A gzip member ends with CRC-32 and ISIZE; a zlib stream's Adler-32 was consumed by the decoder.
        const trailer = stream.raw && decoded.ended ? 8 : 0;
        const consumedEnd = (stream.raw ? stream.dataStart : stream.start) + decoded.consumed + trailer;
        const length = Math.min(end, consumedEnd) - stream.start;
        yield* innerMatches(innerDetectors(), decoded.output, stream, length);
      }
    },
  };
}

/** Header positions in the body, in order: gzip members with a sane header, zlib streams by their two bytes. */
function candidates(buffer: Buffer, bodyLength: number, hits: AnchorHits): Stream[] {
  const found: Stream[] = [];
  for (const start of hitsBelow(hits, GZIP_MAGIC, bodyLength)) {
    const dataStart = gzipDataStart(buffer, start, Math.min(buffer.length, start + MAX_EMBEDDED_INPUT_IN_BYTES));
    if (dataStart !== undefined) found.push({ label: 'GZIP', start, dataStart, raw: true });
  }
  for (const header of ZLIB_HEADERS) {
    for (const start of hitsBelow(hits, header, bodyLength)) found.push({ label: 'ZLIB', start, dataStart: start + 2, raw: false });
  }
  return found.sort((a, b) => a.start - b.start);
}

/**
 * The deflate data's offset after a gzip member header at `start` (RFC 1952 2.3), or undefined
 * when the header is not one: reserved flag bits set, an XFL or OS value no compressor writes,
 * or an optional field running past `end`.
 */
function gzipDataStart(bytes: Uint8Array, start: number, end: number): number | undefined {
  if (start + 10 > end) return undefined;
  const flags = bytes[start + 3];
  const xfl = bytes[start + 8];
  const os = bytes[start + 9];
  if ((flags & 0xe0) !== 0 || (xfl !== 0 && xfl !== 2 && xfl !== 4) || (os > 13 && os !== 255)) return undefined;
  let at = start + 10;
  if (flags & 0x04) {
    if (at + 2 > end) return undefined;
    at += 2 + (bytes[at] | (bytes[at + 1] << 8));
  }
  for (const flag of [0x08, 0x10]) {
    if (!(flags & flag)) continue;
    const stop = Math.min(end, at + MAX_GZIP_TEXT_FIELD_IN_BYTES);
    while (at < stop && bytes[at] !== 0) at++;
    if (at >= stop) return undefined;
    at++;
  }
  if (flags & 0x02) at += 2;
  return at < end ? at : undefined;
}

/**
 * Decompresses as much of `input` as decodes, within the output budget. A stream cut off by the
 * input bound (or the file's end) decodes to where its bytes stop (Z_SYNC_FLUSH returns what it
 * has instead of failing); one that overflows the budget or meets corrupt data is retried on
 * the first half of its input, so a bomb or a damaged tail still yields its leading content.
 */
function inflateBounded(input: Uint8Array, raw: boolean): { output: Buffer; consumed: number; ended: boolean } | undefined {
  // Most candidates that pass the first-block checks still fail in the decoder, and building
  // the stack trace of each thrown error was a third of this detector's time: errors here carry none.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return decodeAttempts(input, raw);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

function decodeAttempts(input: Uint8Array, raw: boolean): { output: Buffer; consumed: number; ended: boolean } | undefined {
  let length = input.length;
  for (let attempt = 0; attempt < MAX_DECODE_ATTEMPTS && length > 0; attempt++) {
    try {
      const options = { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: MAX_EMBEDDED_OUTPUT_IN_BYTES, info: true } as const;
      const result = (raw ? zlib.inflateRawSync : zlib.inflateSync)(input.subarray(0, length), options) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
      // Input left over means the decoder met the stream's end; a stream ending exactly at the bound
      // counts as cut off. A stream decoded from part of its input spans all of it, as far as anyone knows.
      const consumed = attempt === 0 ? result.engine.bytesWritten : input.length;
      return { output: result.buffer, consumed, ended: consumed < input.length };
    } catch {
      length >>= 1;
    }
  }
  return undefined;
}

const RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1 };

/** The inner detectors' matches in the decompressed bytes, folded as merge.ts folds a file's, placed at the stream. */
function* innerMatches(inner: readonly Detector[], output: Buffer, stream: Stream, length: number): Generator<Match> {
  const found: Match[] = [];
  for (const detector of inner) for (const m of detector.scan(output, output.length)) found.push(m);
  found.sort((a, b) => a.start - b.start || b.length - a.length);
  const kept: Match[] = [];
  for (const m of found) {
    const outer = kept.find((o) => o.start <= m.start && o.start + o.length >= m.start + m.length && RANK[o.severity] >= RANK[m.severity]);
    if (!outer) kept.push(m);
  }
  for (const m of kept) {
    yield {
      ...m,
      start: stream.start,
      length,
      inner: `${stream.label}-${m.start}${m.inner ? `/${m.inner}` : ''}`,
      // The identity of a key without a fingerprint is its decompressed bytes, as for a key in plain bytes.
      ...(m.fingerprint ? {} : { contentId: contentDigest(output.subarray(m.start, m.start + m.length)) }),
    };
  }
}

/** As the worker's: 128 bits of SHA-256, an identity that cannot be turned back into the bytes. */
function contentDigest(bytes: Uint8Array): string {
  return 'content:' + createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
}
