// The raw-key search of one file (main thread), after the detectors' pass:
//  1. the public keys the workers collected from the file (minus CA roots unless --deep) and
//     the --known-keys keys become targets, each with its SPKI fingerprint;
//  2. a second pass over the file in the worker pool finds every raw form of every modulus,
//     coordinate and public key (src/raw/occurrences.ts);
//  3. the neighbourhoods of those occurrences are read back and their candidate windows tested
//     in the pool (src/raw/verify.ts); --deep tests RSA primes over the whole file.
// Everything here is a function of the file's bytes and the options: the same for any chunk
// size and worker count.
import type { FileHandle } from 'node:fs/promises';
import { derBitString, derOid, derSequence } from '../keys/der-encode.js';
import { curveByName, ecSpkiFingerprint } from '../keys/ec.js';
import { fingerprintOfSpki } from '../keys/fingerprint.js';
import { rsaSpkiFingerprint } from '../keys/rsa.js';
import { redactedBinaryEvidence } from '../report/redact.js';
import type { Slots } from '../input/chunker.js';
import type { ChunkResult, ChunkTask } from '../pool/worker.js';
import type { Finding } from '../types.js';
import { strideFor } from './occurrences.js';
import type { RawTask } from './task.js';
import { hexToBytes, longestPrefix, packPatterns, patternSetId, patternsOf, type PublicValue, type RawForm, type RawTarget } from './targets.js';
import type { Radii, RawMatch, VerifyOccurrence } from './verify.js';
import { ZeroPages } from './zero-pages.js';

/** Neighbourhoods tested around each occurrence (bytes either side), chosen from measurements (README). */
export const DEFAULT_RADII: Radii = {
  prime: 64 * 1024,
  primeUnaligned: 16 * 1024,
  scalarNear: 8 * 1024,
  scalar: 32 * 1024,
  scalarFromWords: 256 * 1024,
  scalarUnaligned: 2 * 1024,
};
/** --deep: wider neighbourhoods for scalars (RSA primes are tested over the whole file). */
export const DEEP_RADII: Radii = { prime: 64 * 1024, primeUnaligned: 64 * 1024, scalarNear: 256 * 1024, scalar: 1024 * 1024, scalarFromWords: 1024 * 1024, scalarUnaligned: 16 * 1024 };
/** Default mode: the first this many occurrences of one key (by offset) get a neighbourhood search. */
export const maximumOccurrencesPerKey = 64;
/** Default mode: at most this many public keys of the file are searched (--known-keys first, then by fingerprint). */
export const maximumTargetsPerFile = 64;

export interface RawSearchHost {
  path: string;
  handle: FileHandle;
  size: number;
  /** Bounds the reads in flight (each worker reads its own range of the file). */
  slots: Slots;
  /** Bytes one worker buffer takes per task (the first pass's chunk + margin). */
  bufferSizeInBytes: number;
  /**
   * The pages of the file known to be all zeros: those the first pass saw all zeros (most of a
   * real core, whole chunks of a sparse one) and a spooled stream's holes (the runs of zero
   * pages it did not write). No public value is all zeros, so no occurrence lies inside them: a
   * chunk of the second pass within them is not read again, and the parts of a chunk or window
   * inside them are filled with zeros by the worker instead of read.
   */
  zeroPages?: ZeroPages;
  run(task: ChunkTask): Promise<ChunkResult>;
  signal?: AbortSignal;
  deep: boolean;
  /** The file's format ('hprof': every int[] and byte[] of a key's length is a candidate, src/raw/hprof-arrays.ts). */
  format?: string;
}

/** The public keys seen in one file, by fingerprint. */
export class FilePublicKeys {
  private readonly keys = new Map<string, { target: RawTarget; caRoot: boolean }>();

  add(values: readonly PublicValue[] | undefined): void {
    for (const value of values ?? []) {
      const target = toTarget(value);
      if (!target) continue;
      const known = this.keys.get(target.fingerprint);
      if (!known) this.keys.set(target.fingerprint, { target, caRoot: value.caRoot });
      else {
        known.caRoot ||= value.caRoot;
        // Seen as a stated public key too: no longer only derived.
        if (known.target.type === 'ec' && known.target.derived && !(target.type === 'ec' && target.derived)) known.target = target;
      }
    }
  }

  /**
   * Targets for the search: the known keys, then the file's (CA roots only under --deep).
   * Published and --test-keys test keys are left out unless --deep: their findings would be
   * lowered to low anyway (every openssl executable carries six of them, 512 to 15360 bits).
   */
  targets(known: readonly RawTarget[], deep: boolean, testKeys: ReadonlyMap<string, unknown> = new Map()): RawTarget[] {
    const out = new Map<string, RawTarget>(known.map((t) => [t.fingerprint, t]));
    const own = [...this.keys.values()].filter((k) => deep || (!k.caRoot && !testKeys.has(k.target.fingerprint))).map((k) => k.target).sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
    for (const t of own) if (!out.has(t.fingerprint)) out.set(t.fingerprint, t);
    const all = [...out.values()];
    return deep ? all : all.slice(0, Math.max(known.length, maximumTargetsPerFile));
  }
}

export function toTarget(value: PublicValue): RawTarget | undefined {
  try {
    if (value.type === 'rsa') return { type: 'rsa', n: value.n, e: value.e, fingerprint: rsaSpkiFingerprint(BigInt('0x' + value.n), BigInt('0x' + value.e)) };
    if (value.type === 'ec') {
      const curve = curveByName(value.curve);
      return curve && { type: 'ec', curve: value.curve, point: value.point, fingerprint: ecSpkiFingerprint(curve, hexToBytes(value.point)), ...(value.derived ? { derived: true } : {}) };
    }
    const oid = value.curve === 'Ed25519' ? '1.3.101.112' : '1.3.101.110';
    return { type: 'okp', curve: value.curve, key: value.key, fingerprint: fingerprintOfSpki(derSequence(derSequence(derOid(oid)), derBitString(hexToBytes(value.key)))) };
  } catch {
    return undefined;
  }
}

const FORM_NAMES: Record<RawForm, string> = {
  'raw-le': 'little-endian limbs (OpenSSL BIGNUM, Go big.Int)',
  'raw-be': 'big-endian',
  'raw-words': 'little-endian 32-bit words, big-endian order (Java BigInteger)',
};

function describe(target: RawTarget, match: RawMatch): string {
  if (target.type === 'rsa') return `raw prime factor of RSA-${BigInt('0x' + target.n).toString(2).length} modulus, ${FORM_NAMES[match.form]}`;
  if (target.type === 'ec') return `raw ${target.curve} private scalar, ${FORM_NAMES[match.form]}`;
  return `raw ${target.curve} private key`;
}

export async function searchRawKeys(host: RawSearchHost, targets: readonly RawTarget[]): Promise<Finding[]> {
  if (targets.length === 0 || host.size === 0) return [];
  const patterns = patternsOf(targets);
  const setId = patternSetId(patterns);
  const packed = packPatterns(patterns);
  const bufferSize = host.bufferSizeInBytes;
  const strideInBytes = strideFor(patterns);
  const roundUp = (n: number) => Math.ceil(n / strideInBytes) * strideInBytes;
  const marginInBytes = roundUp(Math.max(0, ...patterns.map((p) => p.bytes.length)) + strideInBytes);
  const hprof = host.format === 'hprof';
  const lookBehindInBytes = roundUp(Math.max(longestPrefix(patterns), hprof ? 8 : 0));
  const chunkSizeInBytes = Math.floor((bufferSize - marginInBytes - lookBehindInBytes) / strideInBytes) * strideInBytes;

  const radii = host.deep ? DEEP_RADII : DEFAULT_RADII;
  // Read around each occurrence as far as its key's tests reach: an RSA modulus's primes are
  // within ±64 KiB, a scalar's allocation within ±32 KiB, ±256 KiB of Java words.
  const reachOf = (o: VerifyOccurrence) =>
    targets[o.target].type === 'rsa' ? Math.max(radii.prime, radii.primeUnaligned) : Math.max(radii.scalar, radii.scalarUnaligned, o.form === 'raw-words' ? radii.scalarFromWords : 0);
  // Where candidate tests are dense: within ±scalarNear of an EC or Ed25519/X25519 value every
  // aligned window is a derivation (30 to 60 µs; thousands in random-looking memory), within
  // ±primeUnaligned of a modulus held big-endian outside DER every byte offset is a candidate.
  const denseReachOf = (o: VerifyOccurrence) =>
    targets[o.target].type === 'rsa' ? (o.form === 'raw-be' && !o.encoded ? radii.primeUnaligned : 0) : Math.max(radii.scalarNear, radii.scalarUnaligned);
  /** No occurrence's neighbourhood reaches further than this from it. */
  const farthest = Math.max(radii.prime, radii.primeUnaligned, radii.scalar, radii.scalarUnaligned, radii.scalarFromWords, radii.scalarNear) + Math.max(0, ...patterns.map((p) => p.bytes.length));
  const everywhere = host.deep ? targets.flatMap((t, i) => (t.type === 'rsa' ? [i] : [])) : [];
  const widest = 2 * 1024 + 8; // the longest candidate window (a prime of a 16384-bit modulus is 1024 bytes)
  const largestStep = bufferSize - widest - lookBehindOfWindows;
  const zeros = host.zeroPages ?? new ZeroPages();

  // Pass 2 finds the occurrences of every raw form over the whole file, in chunks that start
  // stride-aligned; the candidate tests around them start as soon as every occurrence that can
  // reach their piece of the file is known (all chunks before it done), between the chunks'
  // tasks, not after the last of them: one phase's idle workers and long tail are the other's.
  // Which occurrences are kept, and so which bytes are tested, does not depend on when.
  const chunkCount = Math.ceil(host.size / chunkSizeInBytes);
  const chunkOccurrences: Array<Array<{ offset: number; pattern: number; encoded: boolean }> | undefined> = new Array(chunkCount);
  const arrayMatches: Array<RawMatch & { offset: number }> = [];
  const inFlight: Promise<void>[] = [];
  const results: Promise<Finding[]>[] = [];
  /** Per key its first occurrences by offset (all under --deep): the ones whose neighbourhoods are searched. */
  const kept: VerifyOccurrence[] = [];
  const perTarget = new Map<number, number>();
  const present = new Set<number>();
  /** Chunks [0, settledChunks) are done and their occurrences taken, in order. */
  let settledChunks = 0;
  /** Candidate tests are planned for [0, plannedTo). */
  let plannedTo = 0;
  /** Kept occurrences before this one reach no byte at or after plannedTo (planning stays linear in them). */
  let firstReaching = 0;
  // A failed task fails the search, after the tasks in flight settle: a rejection left waiting
  // while the loop waits for a slot would be unhandled (the process would die with exit code 1).
  let failure: { error: unknown } | undefined;

  const settle = () => {
    while (settledChunks < chunkCount && chunkOccurrences[settledChunks] !== undefined) {
      for (const o of chunkOccurrences[settledChunks]!) {
        const p = patterns[o.pattern];
        present.add(p.target);
        const count = perTarget.get(p.target) ?? 0;
        perTarget.set(p.target, count + 1);
        if (host.deep || count < maximumOccurrencesPerKey) kept.push({ target: p.target, start: o.offset, length: p.bytes.length, form: p.form, encoded: o.encoded });
      }
      chunkOccurrences[settledChunks++] = [];
    }
    // Every occurrence that starts before the first chunk not done is known; none after it reaches back past `farthest`.
    const known = settledChunks >= chunkCount ? host.size : settledChunks * chunkSizeInBytes;
    plan(known >= host.size ? host.size : Math.max(0, known - farthest));
  };
  /** The candidate tests of [plannedTo, to): the kept neighbourhoods there, in pieces, dense ones first. */
  const plan = (to: number) => {
    if (to <= plannedTo || failure || host.signal?.aborted) return;
    const from = plannedTo;
    plannedTo = to;
    while (firstReaching < kept.length && kept[firstReaching].start + farthest <= from) firstReaching++;
    const reaching = kept.slice(firstReaching);
    const clip = (ranges: Array<[number, number]>) => mergedRanges(ranges).flatMap(([a, b]): Array<[number, number]> => (Math.max(a, from) < Math.min(b, to) ? [[Math.max(a, from), Math.min(b, to)]] : []));
    const spans = clip([...(everywhere.length > 0 ? [[0, host.size] as [number, number]] : []), ...reaching.map((o): [number, number] => [Math.max(0, o.start - reachOf(o)), Math.min(host.size, o.start + o.length + reachOf(o))])]);
    const dense = clip(reaching.flatMap((o): Array<[number, number]> => (denseReachOf(o) > 0 ? [[Math.max(0, o.start - denseReachOf(o)), Math.min(host.size, o.start + o.length + denseReachOf(o))]] : [])));
    const pieces: Array<{ from: number; to: number; dense: boolean }> = [];
    const split = (a: number, b: number, isDense: boolean) => {
      // A neighbourhood is split among the workers, so that its candidate tests do not run in
      // one task while the other workers wait; dense parts in small pieces, handed out first
      // (left in the queue's tail, one of them kept a worker busy 35 ms after the other was done).
      const step = Math.min(largestStep, Math.max(isDense ? minimumDensePieceInBytes : minimumVerifyPieceInBytes, Math.ceil((b - a) / verifyPiecesPerSpan)));
      for (let x = a; x < b; x += step) pieces.push({ from: x, to: Math.min(b, x + step), dense: isDense });
    };
    for (const [a, b] of spans) {
      let at = a;
      for (const [da, db] of dense) {
        if (db <= at || da >= b) continue;
        if (da > at) split(at, da, false);
        split(Math.max(da, at), Math.min(db, b), true);
        at = Math.min(db, b);
      }
      if (at < b) split(at, b, false);
    }
    for (const piece of [...pieces.filter((q) => q.dense), ...pieces.filter((q) => !q.dense)]) {
      const tested = verifyWindow(host, targets, reaching, radii, everywhere, piece.from, piece.to, Math.min(host.size, piece.to + widest), zeros);
      results.push(tested.catch((error: unknown) => ((failure ??= { error }), [])));
    }
  };

  /** Chunks waiting to go as one task (a batch of consecutive chunks to read, in order). */
  let batch: Array<{ chunk: number; readFrom: number; readTo: number; bodyStart: number; bodyLength: number; zeros: number[] }> = [];
  const dispatch = async () => {
    if (batch.length === 0) return;
    const taken = batch;
    batch = [];
    const [first, ...rest] = taken;
    const chunks = taken.map((b) => b.chunk);
    const raw: RawTask = { step: 'occurrences', offset: first.readFrom, bodyStart: first.bodyStart, setId, patterns: packed, ...(hprof ? { hprofTargets: [...targets] } : {}), ...(rest.length > 0 ? { next: rest.map((b) => ({ offset: b.readFrom, bodyStart: b.bodyStart, length: b.readTo - b.readFrom, bodyLength: b.bodyLength, ...(b.zeros.length > 0 ? { zeros: b.zeros } : {}) })) } : {}) };
    // A slot before planning on: a 20 GB file is not a queue of 2,500 tasks.
    await host.slots.acquire();
    inFlight.push(
      runInSlot(host, first.readFrom, first.readTo, { bodyLength: first.bodyLength, detectorIds: [], raw }, first.zeros).then(
        (result) => {
          for (const c of chunks) chunkOccurrences[c] = [];
          // Each occurrence is of the chunk whose body it starts in.
          for (const o of result.raw?.occurrences ?? []) chunkOccurrences[Math.floor(o.offset / chunkSizeInBytes)]!.push(o);
          for (const c of chunks) chunkOccurrences[c]!.sort((x, y) => x.offset - y.offset || x.pattern - y.pattern);
          for (const m of result.raw?.matches ?? []) arrayMatches.push({ ...m, offset: first.readFrom + m.start });
          settle();
        },
        (error: unknown) => void (failure ??= { error }),
      ),
    );
  };
  for (let chunk = 0; chunk < chunkCount && !host.signal?.aborted && !failure; chunk++) {
    const offset = chunk * chunkSizeInBytes;
    const readFrom = Math.max(0, offset - lookBehindInBytes);
    const readTo = Math.min(host.size, offset + chunkSizeInBytes + marginInBytes);
    if (zeros.covers(readFrom, readTo)) {
      chunkOccurrences[chunk] = [];
      settle();
      continue;
    }
    batch.push({ chunk, readFrom, readTo, bodyStart: offset - readFrom, bodyLength: Math.max(0, Math.min(chunkSizeInBytes, readTo - offset)), zeros: zeros.within(readFrom, readTo) });
    // An hprof's array matches are relative to the task's one chunk.
    if (batch.length >= (hprof ? 1 : chunksPerOccurrenceTask)) await dispatch();
  }
  if (!host.signal?.aborted && !failure) await dispatch();
  await Promise.all(inFlight);
  if (failure) throw failure.error;
  if (host.signal?.aborted) return [];
  settle();
  const tested = (await Promise.all(results)).flat();
  if (failure) throw (failure as { error: unknown }).error;
  // A derived point (curve guessed) counts only where it occurs in the file.
  const searched = (i: number) => !(targets[i].type === 'ec' && (targets[i] as { derived?: boolean }).derived) || present.has(i);
  return [...arrayMatches.filter((m) => searched(m.target)).map((m) => rawFinding(host.path, targets[m.target], m, m.offset)), ...tested].sort(
    (x, y) => x.offset - y.offset || x.length - y.length || x.kind.localeCompare(y.kind) || (x.fingerprint ?? '').localeCompare(y.fingerprint ?? '') || (x.encoding ?? '').localeCompare(y.encoding ?? ''),
  );
}

/**
 * A raw task over bytes [from, to) of the file, read by the worker that runs it (fewer at the
 * end of a file that shrank), in a slot the caller holds; the slot is given back. A failed
 * read rejects with its offset.
 */
async function runInSlot(host: RawSearchHost, from: number, to: number, task: Omit<ChunkTask, 'length' | 'read'>, zeros: number[] = []): Promise<ChunkResult> {
  try {
    const result = await host.run({ ...task, length: to - from, read: { fd: host.handle.fd, position: from, ...(zeros.length > 0 ? { zeros } : {}) } });
    if (result.readError) throw new Error(`read failed at offset ${result.readError.offset}: ${result.readError.message}`);
    return result;
  } finally {
    host.slots.release();
  }
}

/** Sorted, with touching and overlapping ranges joined. */
export function mergedRanges(ranges: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const merged: Array<[number, number]> = [];
  for (const [from, to] of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = merged[merged.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/**
 * Chunks of the second pass one occurrence task reads and searches, one after the other: half
 * the round trips to the workers (each 0.3 ms of the main thread's, 0.1 to 0.2 ms of a
 * worker's). Measured, 10 alternating runs each on the bench's raw-keys file, the raw pass's
 * medians: one chunk 225 and 232 ms (CPU 431 and 444 ms), two 207 and 220 ms (401 and 413), three
 * and four no better than two.
 */
const chunksPerOccurrenceTask = 2;

/** Bytes read before each window: a candidate's allocation header (8 bytes) is looked at wherever the window starts. */
const lookBehindOfWindows = 8;
/** A neighbourhood's candidate tests go to this many tasks, each of at least 8 KiB of candidates (each reads its piece plus 2 KiB). */
const verifyPiecesPerSpan = 16;
const minimumVerifyPieceInBytes = 32 * 1024;
/** Where candidates are dense (see searchRawKeys) pieces may be as small as this. */
const minimumDensePieceInBytes = 2 * 1024;

async function verifyWindow(host: RawSearchHost, targets: readonly RawTarget[], occurrences: VerifyOccurrence[], radii: Radii, everywhere: number[], from: number, to: number, readTo: number, zeros: ZeroPages): Promise<Finding[]> {
  const base = Math.max(0, from - lookBehindOfWindows);
  const reach = Math.max(radii.prime, radii.primeUnaligned, radii.scalar, radii.scalarFromWords, radii.scalarUnaligned);
  const near = occurrences.filter((o) => o.start + o.length + reach > from && o.start - reach < to).map((o) => ({ ...o, start: o.start - base }));
  const raw: RawTask = { step: 'verify', offset: base, candidateStart: from - base, candidateEnd: to - base, targets: [...targets], occurrences: near, radii, everywhere };
  await host.slots.acquire();
  const result = await runInSlot(host, base, readTo, { bodyLength: to - base, detectorIds: [], raw }, zeros.within(base, readTo));
  return (result.raw?.matches ?? []).map((m) => rawFinding(host.path, targets[m.target], m, base + m.start));
}

function rawFinding(path: string, target: RawTarget, m: RawMatch, offset: number): Finding {
  return {
    path,
    offset,
    length: m.length,
    detector: 'raw',
    kind: m.kind,
    severity: 'high',
    confidence: 1,
    encoding: m.form,
    fingerprint: target.fingerprint,
    evidence: redactedBinaryEvidence(describe(target, m), m.length),
    identity: target.fingerprint,
  };
}

/** The search of one file, its findings and a failure added to the file's (a failed search fails the gate closed). */
export async function searchRawKeysOfFile(host: RawSearchHost, targets: readonly RawTarget[], findings: Finding[], errors: Array<{ path: string; message: string }>): Promise<void> {
  try {
    findings.push(...(await searchRawKeys(host, targets)));
  } catch (error) {
    if (host.signal?.aborted) return;
    errors.push({ path: host.path, message: `raw key search failed: ${error instanceof Error ? error.message : String(error)}` });
  }
}
