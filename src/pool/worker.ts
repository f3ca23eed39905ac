// Runs the enabled detectors over one chunk. Receives the chunk's buffer by transfer and
// gives it back by transfer, with only small, already redacted matches beside it.
import { createHash } from 'node:crypto';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { findAnchors } from '../detectors/anchors.js';
import { runnableDetectors } from '../detectors/index.js';
import { describeError } from '../errors.js';
import { chunkEntropy, type ChunkEntropy } from '../entropy-profile.js';
import { collectPublics } from '../raw/collect.js';
import { runRawTask, type RawResult, type RawTask } from '../raw/task.js';
import type { PublicValue } from '../raw/targets.js';
import type { DetectorId, Match } from '../types.js';

export interface ChunkTask {
  buffer: ArrayBuffer;
  /** Valid bytes in buffer (body + margin actually read). */
  length: number;
  bodyLength: number;
  detectorIds: DetectorId[];
  /** The bytes just before the chunk, for detectors with a look-behind (empty at the input's start). */
  before?: Uint8Array;
  /** The chunk's absolute offset, when the per-file entropy profile is wanted (src/entropy-profile.ts). */
  profileOffset?: number;
  /** The raw-key search's own tasks (src/raw/task.ts): no detectors run. */
  raw?: RawTask;
}

export interface ChunkResult {
  buffer: ArrayBuffer;
  matches: Match[];
  failures: Array<{ detector: DetectorId; message: string }>;
  /** Entropies of the 4 KiB blocks starting in the body, when asked for by profileOffset. */
  entropy?: ChunkEntropy;
  /** Public keys starting in the body, for the raw search (detector raw). */
  publics?: PublicValue[];
  raw?: RawResult;
}

/** 128 bits of SHA-256: an identity for the matched bytes that cannot be turned back into them. */
function contentDigest(bytes: Uint8Array): string {
  return 'content:' + createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
}

// Failpoints for the test suite, so the fail-closed paths are exercised for real.
const fault = process.env.DUMPGUARD_TEST_FAULT;

export default function scanChunk(task: ChunkTask): unknown {
  if (fault === 'worker-crash') process.exit(3);
  const bytes = new Uint8Array(task.buffer, 0, task.length);
  const matches: Match[] = [];
  const failures: ChunkResult['failures'] = [];
  if (task.raw) return transferBack({ buffer: task.buffer, matches, failures, raw: runRawTask(task.raw, bytes, task.bodyLength) });
  const enabled = runnableDetectors(task.detectorIds);
  // One blocked search for every detector's anchors: the chunk is read from memory once.
  const anchors = findAnchors(Buffer.from(task.buffer, 0, task.length), enabled.flatMap((d) => d.anchors ?? []));
  for (const detector of enabled) {
    try {
      if (fault === 'detector-throw') throw new Error('injected detector fault');
      for (const match of detector.scan(bytes, task.bodyLength, anchors, task.before)) {
        if (match.start >= task.bodyLength) continue;
        matches.push(match.fingerprint || match.contentId ? match : { ...match, contentId: contentDigest(bytes.subarray(match.start, match.start + match.length)) });
      }
    } catch (error) {
      failures.push({ detector: detector.id, message: describeError(error) });
    }
  }
  const result: ChunkResult = { buffer: task.buffer, matches, failures };
  if (task.detectorIds.includes('raw')) {
    try {
      result.publics = collectPublics(bytes, task.bodyLength, anchors);
    } catch (error) {
      failures.push({ detector: 'raw', message: describeError(error) });
    }
  }
  if (task.profileOffset !== undefined) result.entropy = chunkEntropy(bytes, task.bodyLength, task.profileOffset);
  return transferBack(result);
}

function transferBack(result: ChunkResult): unknown {
  return move({
    get [transferableSymbol]() {
      return [result.buffer];
    },
    get [valueSymbol]() {
      return result;
    },
  } as never);
}
