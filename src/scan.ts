// The pipeline: enumerate → chunk → worker pool → merge, per file, with bounded memory.
// Files are processed a few at a time (small files would otherwise idle the workers) and
// reported in enumeration order, so output is deterministic.
import { constants as fsConstants, createReadStream, open as openFd } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Socket } from 'node:net';
import os from 'node:os';
import { addAbortSignal, Readable } from 'node:stream';
import { detectorsById, requiredMarginInBytes } from './detectors/index.js';
import { describeError, UsageError } from './errors.js';
import { ReadError, scanFileRanges, Slots, streamChunks, type FileRange, type FilledChunk, type RangeOutcome } from './input/chunker.js';
import { fileHead } from './input/file-head.js';
import { headReader, StreamHead } from './input/containers/stream-head.js';
import { enumerateInputs, type InputSource } from './input/enumerate.js';
import { maximumHeldInBytes, Spool } from './input/spool.js';
import {
  CONTAINER_SNIFF_BYTES,
  DEFAULT_CONTAINER_LIMITS,
  locatePosition,
  scanContainerFile,
  sniffContainer,
  type ContainerHost,
  type Place,
} from './input/containers/index.js';
import { applyInventory, loadInventory } from './keys/inventory.js';
import { lowerPublishedTestKeys, publishedTestKeys } from './keys/published-test-keys.js';
import { Gate, type GateRules } from './gate.js';
import { mergeFileFindings } from './merge.js';
import { loadKnownTargets } from './raw/known.js';
import { FilePublicKeys, searchRawKeysOfFile } from './raw/search.js';
import { ZeroPages } from './raw/zero-pages.js';
import { capHighEntropyFindings } from './detectors/entropy.js';
import { EntropyProfileBuilder, profileBlockSizeInBytes, type EntropyProfile } from './entropy-profile.js';
import { describeOffsets, fileReader, locate, readLayout, sniffFormat, SNIFF_BYTES, type DumpLayout } from './formats/index.js';
import { BufferPool, ChunkPool } from './pool/pool.js';
import type { ChunkResult, ChunkTask } from './pool/worker.js';
import type { DetectorId, FileSummary, Finding, ScanError, Severity, Skipped, Summary } from './types.js';
import { SEVERITIES } from './types.js';

/** Chosen from bench/ measurements (see README): large enough to amortise worker round trips. */
export const defaultChunkSizeInBytes = 8 * 1024 * 1024;

export interface ScanOptions {
  jobs?: number;
  chunkSizeInBytes?: number;
  include?: readonly string[];
  exclude?: readonly string[];
  followSymlinks?: boolean;
  detectors?: readonly DetectorId[];
  /** Files of the organisation's public keys: a private key matching one is `critical`. */
  knownKeys?: readonly string[];
  /** More published or internal test keys (fingerprint lists etc.) to lower to `low`, beside the shipped list. */
  testKeys?: readonly string[];
  /** A dump truncated against its own headers is an error (exit 2), not a warning. */
  strict?: boolean;
  /** Accepted findings by identity (--baseline) and allowlisted fingerprints (config): suppressed, counted. */
  gate?: GateRules;
  /** Progress: an input starts (size when known), a chunk is done, findings are reported. */
  onFileStart?(path: string, sizeInBytes: number | undefined): void;
  onBytesScanned?(bytes: number): void;
  /** Standard input, for the path '-' (tests pass their own stream). */
  stdin?: Readable;
  signal?: AbortSignal;
  /** Called once per input, in enumeration order, with its findings sorted by offset. */
  onFileDone?(path: string, findings: Finding[]): void;
  onError?(error: ScanError): void;
  /**
   * Compressed files and archives (gzip, zstd, xz, lz4, zip, tar; by content) are decompressed
   * as streams and scanned. Per stream: stop after this many decompressed bytes (default 64 GiB)...
   */
  maxDecompressedSizeInBytes?: number;
  /** ...or when it expands more than this many times its compressed bytes (default 1000). */
  maxExpansionRatio?: number;
  /** A stream cut short by a limit, or corrupt, truncated or unsupported content, is a warning instead of an error (exit 2). */
  allowPartial?: boolean;
  /** The per-file entropy profile (summary.perFile[].entropy, src/entropy-profile.ts): costs a pass over every byte, so on request. */
  entropyProfile?: boolean;
  /** Raw keys (detector raw): also through CA root keys, primes tested over the whole file, wider neighbourhoods. Slow. */
  deep?: boolean;
}

export interface ScanResult {
  findings: Finding[];
  summary: Summary;
  /** Findings the baseline or allowlist suppressed (not in `findings`). */
  suppressed: Finding[];
}

/**
 * A running scan: iterate it for findings as each input completes (in input order), await
 * `summary` for the totals, or await the run itself for `{ findings, summary }`.
 */
export interface ScanRun extends AsyncIterable<Finding>, PromiseLike<ScanResult> {
  readonly summary: Promise<Summary>;
}

export function scan(paths: readonly string[], options: ScanOptions = {}): ScanRun {
  const queue: Finding[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  const result = runPipeline(paths, {
    ...options,
    onFileDone(path, findings) {
      options.onFileDone?.(path, findings);
      queue.push(...findings);
      wake?.();
    },
  });
  // Observed here so a caller who only iterates gets the error from the iterator, not as an unhandled rejection.
  result.then(
    () => ((finished = true), wake?.()),
    () => ((finished = true), wake?.()),
  );
  return {
    get summary() {
      return result.then((r) => r.summary);
    },
    then(onFulfilled, onRejected) {
      return result.then(onFulfilled, onRejected);
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        if (finished) {
          await result; // rethrows a failed scan's error
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
  };
}

async function runPipeline(paths: readonly string[], options: ScanOptions): Promise<ScanResult> {
  const started = process.hrtime.bigint();
  const jobs = options.jobs ?? os.availableParallelism();
  const chunkSizeInBytes = options.chunkSizeInBytes ?? defaultChunkSizeInBytes;
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) throw new UsageError(`--jobs must be an integer from 1 to 256, got ${jobs}`);
  const enabled = detectorsById(options.detectors);
  // The entropy profile reads each block that starts in a chunk's body to its end.
  const marginInBytes = Math.max(requiredMarginInBytes(enabled), options.entropyProfile ? profileBlockSizeInBytes : 0);
  if (!Number.isInteger(chunkSizeInBytes) || chunkSizeInBytes < 4096) throw new UsageError('--chunk-size must be at least 4k');
  const sizes = { chunkSizeInBytes, marginInBytes, lookBehindInBytes: Math.max(0, ...enabled.map((d) => d.lookBehindInBytes ?? 0)) };
  const containerLimits = {
    ...DEFAULT_CONTAINER_LIMITS,
    ...(options.maxDecompressedSizeInBytes !== undefined ? { maxDecompressedSizeInBytes: options.maxDecompressedSizeInBytes } : {}),
    ...(options.maxExpansionRatio !== undefined ? { maxExpansionRatio: options.maxExpansionRatio } : {}),
  };
  if (!Number.isSafeInteger(containerLimits.maxDecompressedSizeInBytes) || containerLimits.maxDecompressedSizeInBytes < 1) throw new UsageError('--max-decompressed-size must be at least 1 byte');
  if (!(containerLimits.maxExpansionRatio >= 1) || !Number.isFinite(containerLimits.maxExpansionRatio)) throw new UsageError('--max-expansion-ratio must be a number of at least 1');
  const inventory = await loadInventory(options.knownKeys ?? []);
  const testKeys = new Map([...publishedTestKeys(), ...(await loadInventory(options.testKeys ?? []))]);
  const gate = new Gate(options.gate ?? {});
  const detectorIds = enabled.map((d) => d.id);
  const rawKnownTargets = detectorIds.includes('raw') ? await loadKnownTargets(options.knownKeys ?? []) : [];

  const skipped: Skipped[] = [];
  const warnings: Skipped[] = [];
  const errors: ScanError[] = [];
  const perFile: FileSummary[] = [];
  const findings: Finding[] = [];
  const reportError = (error: ScanError) => {
    errors.push(error);
    options.onError?.(error);
  };

  const pool = new ChunkPool(jobs);
  // Two buffers per worker keep every worker busy while the next chunk is read.
  const buffers = new BufferPool(chunkSizeInBytes + marginInBytes, 2 * jobs + 1);
  // Chunks the workers read themselves: as many in flight as there would be buffers.
  const slots = new Slots(2 * jobs + 1);
  const fileConcurrency = 2 * jobs;

  const scanOne = async (source: InputSource): Promise<{ findings: Finding[]; bytes: number; scannedBytes: number; skippedRanges: FileSummary['skippedRanges']; errors: ScanError[]; warnings: Skipped[]; layout?: DumpLayout; entropy?: EntropyProfile }> => {
    const fileErrors: ScanError[] = [];
    const fileWarnings: Skipped[] = [];
    let layout: DumpLayout | undefined;
    let objects: Map<number, { region: string; address?: string }> | undefined;
    const fileFindings: Finding[] = [];
    // Content decompressed from a container in the file: findings at positions in each stream, placed at the end.
    const streams: Array<{ place: Place; findings: Finding[]; layout?: DumpLayout }> = [];
    let bytes = 0;
    /** Coverage of the file's own bytes: what the detectors saw, and every range they did not, with why. */
    let scannedBytes = 0;
    const skippedRanges: Array<{ from: number; to: number; reason: string }> = [];
    const inFlight: Promise<void>[] = [];
    const publicKeys = new FilePublicKeys();
    /** The pages the workers found all zeros (whole chunks, and the anchor filter's zero pages), for the raw search to skip. */
    const zeroPages = new ZeroPages();
    /** The file's own bytes' entropy profile, on request (a container's compressed bytes get none). */
    const profile = options.entropyProfile ? new EntropyProfileBuilder() : undefined;
    /**
     * A chunk's results into `into` (offsets in that byte stream), its public keys into `keys`
     * (that byte stream's, for its raw pass); progress counts the file's own bytes only.
     */
    const absorb = (offset: number, bodyLength: number, result: ChunkResult, into: Finding[], keys: FilePublicKeys | undefined) => {
      const ownBytes = into === fileFindings;
      if (ownBytes) options.onBytesScanned?.(bodyLength);
      if (ownBytes && result.failures.length === 0) scannedBytes += bodyLength;
      if (ownBytes && result.failures.length > 0) skippedRanges.push({ from: offset, to: offset + bodyLength, reason: `detector ${result.failures.map((f) => f.detector).join(', ')} failed` });
      for (const failure of result.failures) {
        fileErrors.push({ path: source.path, offset, message: `detector ${failure.detector} failed on the chunk at offset ${offset}: ${failure.message}` });
      }
      if (result.entropy) profile!.add(result.entropy);
      keys?.add(result.publics);
      for (const m of result.matches) {
        into.push({
          path: source.path,
          offset: offset + m.start,
          length: m.length,
          detector: m.detector,
          kind: m.kind,
          severity: m.severity,
          confidence: m.confidence,
          encoding: m.encoding,
          ...(m.fingerprint ? { fingerprint: m.fingerprint } : {}),
          evidence: m.evidence,
          ...(m.note ? { note: m.note } : {}),
          ...(m.inner ? { inner: m.inner } : {}),
          identity: m.fingerprint ?? m.contentId,
        });
      }
    };
    const workerFailed = (offset: number, bodyLength: number, error: unknown, ownBytes: boolean) => {
      if (ownBytes) skippedRanges.push({ from: offset, to: offset + bodyLength, reason: 'worker failed' });
      fileErrors.push({ path: source.path, offset, message: `worker failed on the chunk at offset ${offset}: ${describeError(error)}` });
    };
    const own: Sink = { findings: fileFindings, keys: publicKeys, zeroPages };
    /**
     * A chunk already read (a stream's, a small file's), its buffer transferred to the worker;
     * resolves when its results are absorbed into `sink`.
     */
    const dispatch = (chunk: FilledChunk, sink: Sink = own): Promise<void> => {
      const into = sink.findings;
      const ownBytes = into === fileFindings;
      if (ownBytes) bytes = Math.max(bytes, chunk.offset + chunk.length);
      if (chunk.bodyLength === 0) {
        buffers.release(chunk.buffer);
        return Promise.resolve();
      }
      const task: ChunkTask = { buffer: chunk.buffer, length: chunk.length, bodyLength: chunk.bodyLength, detectorIds, ...(chunk.before ? { before: chunk.before } : {}), ...(profile && ownBytes ? { profileOffset: chunk.offset } : {}), ...(sink.spool ? { spool: true } : {}) };
      // After the transfer chunk.buffer is detached: whether it was a pooled buffer is known only now.
      const pooled = chunk.buffer.byteLength === buffers.bufferSizeInBytes;
      const done = pool.run(task, options.signal).then(
        (result) => {
          absorb(chunk.offset, chunk.bodyLength, result, into, sink.keys);
          const buffer = result.buffer!;
          if (result.zeros) sink.zeroPages?.add(chunk.offset, chunk.offset + chunk.length);
          if (result.zeroPages) sink.zeroPages?.addRuns(chunk.offset, result.zeroPages);
          if (!sink.spool) return buffers.release(buffer);
          // A stream's body is spooled from the buffer the worker gave back (its bytes as they
          // were), then the buffer is reused: the writes (on libuv's threads) overlap the next
          // chunks' scans instead of holding this one back, and the buffers bound what waits on
          // the disk. Runs of zero pages (the worker says where) stay holes.
          if (chunk.offset === 0 && chunk.bodyLength === chunk.length && chunk.length <= maximumHeldInBytes) {
            // The whole stream, and small: kept in memory until its raw pass is known to be wanted.
            sink.spool.hold(new Uint8Array(buffer, 0, chunk.bodyLength), 0);
            return buffers.release(buffer);
          }
          const runs = result.zeros ? [] : (result.dataRuns ?? [0, chunk.bodyLength]);
          sink.spool.skip(chunk.offset, chunk.bodyLength);
          let written: Promise<void> | undefined;
          for (let i = 0; i < runs.length; i += 2) written = sink.spool.write(new Uint8Array(buffer, runs[i], runs[i + 1] - runs[i]), chunk.offset + runs[i]);
          if (!written) return buffers.release(buffer);
          // Writes are done in order: the last one done, the buffer is free.
          void written.then(() => buffers.release(buffer));
        },
        (error) => {
          if (pooled) buffers.replaceLost();
          sink.spool?.lose(`the chunk at offset ${chunk.offset} did not come back from its worker`);
          workerFailed(chunk.offset, chunk.bodyLength, error, ownBytes);
        },
      );
      inFlight.push(done);
      return done;
    };
    const spoolForRaw = () => (detectorIds.includes('raw') ? new Spool() : undefined);
    /** A spool file left behind holds the stream's bytes: an error of the input. */
    const disposeSpool = async (spool: Spool | undefined) => {
      const left = await spool?.dispose();
      if (left) fileErrors.push({ path: source.path, message: left });
    };
    /**
     * The raw pass (the second pass of detector raw, as for a regular file) over a spooled stream,
     * once its first pass is absorbed: findings at positions in the stream, into `into`. A spool
     * that failed is an error of the input (the gate fails closed); the first pass stands.
     */
    const rawPassOfSpool = async (spool: Spool, name: string, sink: Sink) => {
      // No public key to search for: nothing to read again (a small stream held in memory never reaches the disk).
      if (options.signal?.aborted || targetsOf(sink).length === 0) return;
      const failure = await spool.finish();
      if (options.signal?.aborted) return;
      if (failure !== undefined) {
        fileErrors.push({ path: source.path, message: `raw pass not run: could not spool ${name} to ${spool.path}: ${failure}` });
        return;
      }
      // The spool's holes (zero pages it did not write) are filled by the raw pass, not read back.
      await rawPassOf(spool.handle, spool.size, sink, spool.holes());
    };
    const targetsOf = (sink: Sink) => (sink.keys ?? new FilePublicKeys()).targets(rawKnownTargets, options.deep ?? false, testKeys);
    /**
     * The raw pass over bytes [0, size) of an open file that holds what the first pass scanned;
     * `holes`: more ranges known to be zeros (a spool's), beside the first pass's zero chunks.
     */
    const rawPassOf = async (handle: FileHandle, size: number, sink: Sink, holes: ReadonlyArray<readonly [number, number]> = []) => {
      const head = size > 0 ? await fileReader(handle)(0, Math.min(SNIFF_BYTES, size)) : new Uint8Array(0);
      const zeros = sink.zeroPages ?? new ZeroPages();
      for (const [from, to] of holes) zeros.add(from, to);
      const host = { path: source.path, handle, size, slots, bufferSizeInBytes: buffers.bufferSizeInBytes, zeroPages: zeros, run: (task: ChunkTask) => pool.run(task, options.signal), signal: options.signal, deep: options.deep ?? false, format: sniffFormat(head) };
      await searchRawKeysOfFile(host, targetsOf(sink), sink.findings, fileErrors);
    };
    /** A chunk of the open regular file, read by the worker that scans it. */
    const scanRange = (fd: number, sizeAtOpen: number, range: FileRange): Promise<RangeOutcome> => {
      const read = { fd, position: range.offset, ...(sizes.lookBehindInBytes ? { behind: sizes.lookBehindInBytes } : {}) };
      const task: ChunkTask = { length: range.want, bodyLength: range.bodyLength, detectorIds, read, ...(profile ? { profileOffset: range.offset } : {}) };
      return pool.run(task, options.signal).then(
        (result) => {
          bytes = Math.max(bytes, range.offset + result.length);
          const failure = result.readError;
          if (result.zeros && !failure) zeroPages.add(range.offset, range.offset + result.length);
          if (result.zeroPages && !failure) zeroPages.addRuns(range.offset, result.zeroPages);
          // Scanned as far as it could be read: the worker says which body that was.
          if (result.bodyLength > 0) absorb(range.offset, result.bodyLength, result, fileFindings, publicKeys);
          if (failure) {
            // The chunk before reads the same failure in its margin: one error per failing offset.
            if (!fileErrors.some((e) => e.offset === failure.offset && e.message.startsWith('read failed'))) {
              fileErrors.push({ path: source.path, offset: failure.offset, message: `read failed at offset ${failure.offset}: ${failure.message}` });
            }
            if (failure.offset < range.offset + range.bodyLength) skippedRanges.push({ from: failure.offset, to: range.offset + range.bodyLength, reason: 'read failed' });
          }
          return { length: result.length, failed: failure !== undefined };
        },
        (error) => {
          // What the chunk held is unknown: as much as the size at open gave it.
          const planned = Math.max(0, Math.min(range.want, sizeAtOpen - range.offset));
          bytes = Math.max(bytes, range.offset + planned);
          workerFailed(range.offset, planned < range.want ? planned : range.bodyLength, error, true);
          return { length: 0, failed: false };
        },
      );
    };
    try {
      if (source.kind === 'file') {
        const handle = await open(source.path, 'r');
        try {
          // The dump's own map (ELF program headers, minidump memory lists): it adds addresses
          // and regions to findings, it never changes what is scanned.
          const size = (await handle.stat()).size;
          options.onFileStart?.(source.path, size);
          // A compressed file or an archive (by its first bytes): its content is what is scanned.
          const start = fileHead(handle, size);
          const head = await start.read(0, Math.min(CONTAINER_SNIFF_BYTES, size));
          if (sniffContainer(head) !== undefined) {
            const host: ContainerHost = {
              limits: containerLimits,
              signal: options.signal,
              progress: (n) => options.onBytesScanned?.(n),
              problem: ({ offset, message }) => {
                if (options.allowPartial) fileWarnings.push({ path: source.path, reason: `@${offset}: ${message} (--allow-partial)` });
                else fileErrors.push({ path: source.path, offset, message });
              },
              scanBytes: async (pieces, place) => {
                const stream: (typeof streams)[number] = { place, findings: [] };
                streams.push(stream);
                // Its own raw pass, over its spool, through the public keys in it.
                const spool = spoolForRaw();
                const sink: Sink = { findings: stream.findings, keys: new FilePublicKeys(), zeroPages: new ZeroPages(), ...(spool ? { spool } : {}) };
                const chunks: Promise<void>[] = [];
                // The stream's first bytes are kept to read its layout (an ELF core inside a .zst still gets addresses).
                const head = new StreamHead();
                // A failing stream is scanned up to the failure (the chunker's last chunk included), then the failure goes on.
                let failure: { error: unknown } | undefined;
                const guarded = async function* () {
                  try {
                    for await (const piece of pieces) {
                      head.add(piece);
                      yield piece;
                    }
                  } catch (error) {
                    failure = { error };
                  }
                };
                try {
                  for await (const chunk of streamChunks(Readable.from(guarded(), { objectMode: true, highWaterMark: 1 }), sizes, buffers)) {
                    if (options.signal?.aborted) {
                      buffers.release(chunk.buffer);
                      break;
                    }
                    chunks.push(dispatch(chunk, sink));
                  }
                  stream.layout = await streamLayout(head.bytes(), head.length);
                  // Over what was decoded, a failing stream's too; before the next stream is spooled.
                  if (spool) {
                    await Promise.all(chunks);
                    await rawPassOfSpool(spool, `the decompressed stream ${place.prefix.replace(/-$/, '')}`, sink);
                  }
                } finally {
                  await disposeSpool(spool);
                }
                if (failure) throw failure.error;
              },
            };
            bytes = await scanContainerFile(handle, size, host);
          } else {
            layout = await readLayout(start.read, size);
            // A small file is in its head already; the workers read the others themselves.
            const whole = await start.takeWhole();
            if (whole) dispatch({ offset: 0, buffer: whole.buffer, length: whole.length, bodyLength: whole.length, ...(sizes.lookBehindInBytes ? { before: new Uint8Array(0) } : {}) });
            else await scanFileRanges(size, sizes, slots, (range) => (options.signal?.aborted ? Promise.resolve({ length: 0, failed: true }) : scanRange(handle.fd, size, range)));
            // A dump still being written (or truncated under us) is scanned as far as it goes, and said so.
            if (!options.signal?.aborted && bytes !== size) {
              fileWarnings.push({ path: source.path, reason: `file changed size while read: ${size} bytes when opened, ${bytes} bytes read` });
            }
          }
          await Promise.all(inFlight);
          // Private keys in raw integer form, through the public keys seen (src/raw/search.ts): a second pass.
          if (detectorIds.includes('raw') && streams.length === 0 && !options.signal?.aborted) {
            await searchRawKeysOfFile({ path: source.path, handle, size: bytes, slots, bufferSizeInBytes: buffers.bufferSizeInBytes, zeroPages, run: (task) => pool.run(task, options.signal), signal: options.signal, deep: options.deep ?? false, format: layout?.format }, publicKeys.targets(rawKnownTargets, options.deep ?? false, testKeys), fileFindings, fileErrors);
          }
          // Heap dumps have objects, not mapped regions: say which object each finding is in.
          if (layout && fileFindings.length > 0) objects = await describeOffsets(layout.format, fileReader(handle), size, fileFindings.map((f) => f.offset));
        } finally {
          await handle.close();
        }
      } else {
        options.onFileStart?.(source.path, undefined);
        const stream = source.path === '-' ? (options.stdin ?? process.stdin) : await openStream(source.path);
        if (options.signal) addAbortSignal(options.signal, stream);
        // A block device can be read again where it is: only stdin and FIFOs are spooled.
        const device = source.path !== '-' && detectorIds.includes('raw') && (await stat(source.path)).isBlockDevice();
        const spool = device ? undefined : spoolForRaw();
        const sink: Sink = spool ? { ...own, spool } : own;
        try {
          try {
            for await (const chunk of streamChunks(stream, sizes, buffers)) {
              if (options.signal?.aborted) {
                buffers.release(chunk.buffer);
                break;
              }
              dispatch(chunk, sink);
            }
          } finally {
            if (source.path !== '-' || options.signal?.aborted) stream.destroy();
          }
          await Promise.all(inFlight);
          if (spool) await rawPassOfSpool(spool, source.path === '-' ? 'stdin' : source.path, sink);
          if (device && !options.signal?.aborted) {
            const again = await open(source.path, 'r');
            try {
              await rawPassOf(again, bytes, own);
            } finally {
              await again.close();
            }
          }
        } finally {
          await disposeSpool(spool);
        }
      }
    } catch (error) {
      await Promise.allSettled(inFlight);
      const offset = error instanceof ReadError ? error.offset : undefined;
      const reason = describeError(error instanceof ReadError ? error.reason : error);
      fileErrors.push({ path: source.path, ...(offset !== undefined ? { offset } : {}), message: offset !== undefined ? `read failed at offset ${offset}: ${reason}` : `cannot read: ${reason}` });
    }
    fileErrors.sort((a, b) => (a.offset ?? -1) - (b.offset ?? -1));
    // Each decompressed stream is merged on its own positions, then placed: offset = the container's, inner = the path inside.
    const inner = streams.flatMap((s) =>
      mergeFileFindings(s.findings).map((f) => {
        const placed = s.layout ? placeInMemory(f, s.layout) : f;
        return { ...placed, ...locatePosition(s.place, f.offset, f.inner) };
      }),
    );
    const all = capHighEntropyFindings(inner.length > 0 ? [...mergeFileFindings(fileFindings), ...inner].sort((a, b) => a.offset - b.offset) : mergeFileFindings(fileFindings));
    const merged = lowerPublishedTestKeys(applyInventory(all, inventory), testKeys);
    const placed = layout ? merged.map((f) => placeInMemory(f, layout!)) : merged;
    const described = objects?.size ? placed.map((f) => (objects!.has(f.offset) && !f.region ? { ...f, region: objects!.get(f.offset)!.region } : f)) : placed;
    skippedRanges.sort((a, b) => a.from - b.from);
    // A container's bytes count as scanned when all of its content was (its errors say otherwise).
    const entropy = profile?.finish();
    return { findings: described, bytes, scannedBytes: streams.length > 0 && fileErrors.length === 0 ? bytes : scannedBytes, skippedRanges, errors: fileErrors, warnings: fileWarnings, layout, ...(entropy ? { entropy } : {}) };
  };

  try {
    // A sliding window of files in flight; results are taken in enumeration order.
    const window: Array<{ source: InputSource; result: ReturnType<typeof scanOne> }> = [];
    const settle = async () => {
      const { source, result } = window.shift()!;
      const done = await result;
      done.errors.forEach(reportError);
      done.findings = gate.filter(done.findings);
      if (done.bytes === 0 && done.errors.length === 0) warnings.push({ path: source.path, reason: 'empty input: nothing to scan' });
      warnings.push(...done.warnings);
      for (const warning of done.layout?.warnings ?? []) {
        if (options.strict && warning.startsWith('truncated')) reportError({ path: source.path, message: `${warning} (--strict)` });
        else warnings.push({ path: source.path, reason: warning });
      }
      perFile.push({
        path: source.path,
        bytes: done.bytes,
        scannedBytes: done.scannedBytes,
        skippedRanges: done.skippedRanges,
        findings: done.findings.length,
        ...(done.layout ? { format: done.layout.format } : {}),
        ...(done.layout && Object.keys(done.layout.facts).length ? { facts: done.layout.facts } : {}),
        ...(done.entropy ? { entropy: done.entropy } : {}),
      });
      findings.push(...done.findings);
      options.onFileDone?.(source.path, done.findings);
    };
    const inputs = enumerateInputs(paths, options, { skipped: (s) => skipped.push(s), error: reportError });
    for await (const source of inputs) {
      if (options.signal?.aborted) break;
      window.push({ source, result: scanOne(source) });
      if (window.length >= fileConcurrency) await settle();
    }
    while (window.length) await settle();
  } finally {
    await pool.close();
  }

  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const bytes = perFile.reduce((sum, f) => sum + f.bytes, 0);
  const findingsBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) findingsBySeverity[f.severity]++;
  return {
    findings,
    suppressed: gate.suppressedFindings,
    summary: {
      files: perFile.length,
      bytes,
      seconds,
      megabytesPerSecond: seconds > 0 ? bytes / 1e6 / seconds : 0,
      findingsBySeverity,
      skipped,
      warnings,
      errors,
      perFile,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      interrupted: options.signal?.aborted ?? false,
      suppressed: gate.suppressed,
      staleBaselineEntries: gate.staleBaselineEntries(),
    },
  };
}

/**
 * Where the results of a byte stream's chunks go: its findings (at positions in it), and for
 * its raw pass its public keys, the pages the workers found all zeros, and its spool (a stream
 * that cannot be read again: stdin, a FIFO, decompressed content).
 */
interface Sink {
  findings: Finding[];
  keys?: FilePublicKeys;
  zeroPages?: ZeroPages;
  spool?: Spool;
}

/**
 * The layout of a decompressed stream from its first bytes. A layout that needs bytes past
 * them (or does not parse) is left out: the stream's findings then have no addresses.
 */
async function streamLayout(head: Uint8Array, length: number): Promise<DumpLayout | undefined> {
  try {
    const layout = await readLayout(headReader(head, length), length);
    return layout.regions.length > 0 ? layout : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A FIFO or block device named by the user. A FIFO is opened non-blocking and read through a
 * socket, because a blocking read of an idle FIFO holds a libuv thread that no abort can free:
 * Ctrl-C must stop a scan that waits on a writer.
 */
async function openStream(path: string): Promise<Readable> {
  const info = await stat(path);
  if (!info.isFIFO()) return createReadStream(path, { highWaterMark: 1 << 20 });
  // A plain descriptor, owned by the socket from here: a FileHandle would try to close it again.
  const fd = await new Promise<number>((resolve, reject) => openFd(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK, (error, opened) => (error ? reject(error) : resolve(opened))));
  return new Socket({ fd, readable: true, writable: false });
}

const LOWER: Record<Severity, Severity> = { critical: 'critical', high: 'high', medium: 'low', low: 'low' };

/**
 * The finding's virtual address and memory region, where the dump's format tells. Key-shaped
 * bytes that did not validate and sit in a read-only file-backed mapping are a library's or
 * executable's own data (test vectors, PEM labels compiled in): one level lower, and said so.
 */
function placeInMemory(finding: Finding, layout: DumpLayout): Finding {
  const where = locate(layout, finding.offset);
  if (!where) return finding;
  const placed: Finding = { ...finding, address: where.address, region: where.region };
  if (where.readOnly && where.fileBacked && (finding.severity === 'medium' || finding.severity === 'low')) {
    const note = `in a read-only mapping of ${where.region}`;
    return { ...placed, severity: LOWER[finding.severity], note: finding.note ? `${finding.note}; ${note}` : note };
  }
  return placed;
}
