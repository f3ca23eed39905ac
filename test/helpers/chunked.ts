// The chunk rule in-process: cut bytes into body + margin chunks as the chunker does and run
// a detector over each, so a detector's findings can be checked for chunk-size invariance
// without the worker pool.
import type { Detector, Match } from '../../src/types.js';

export type AbsoluteMatch = Match & { offset: number };

export function scanChunked(detector: Detector, bytes: Uint8Array, chunkSizeInBytes: number, marginInBytes = detector.maxMatchLengthInBytes): AbsoluteMatch[] {
  const out: AbsoluteMatch[] = [];
  for (let offset = 0; offset < bytes.length || offset === 0; offset += chunkSizeInBytes) {
    const slice = bytes.subarray(offset, offset + chunkSizeInBytes + marginInBytes);
    const last = offset + chunkSizeInBytes + marginInBytes >= bytes.length;
    const bodyLength = last ? slice.length : chunkSizeInBytes;
    // A detector with a look-behind gets the bytes before the chunk, as the chunker hands them over.
    const before = detector.lookBehindInBytes ? bytes.subarray(Math.max(0, offset - detector.lookBehindInBytes), offset) : undefined;
    for (const m of detector.scan(slice, bodyLength, undefined, before)) out.push({ ...m, offset: offset + m.start });
    if (last) break;
  }
  return out.sort((a, b) => a.offset - b.offset || b.length - a.length);
}

const rank = { critical: 4, high: 3, medium: 2, low: 1 } as const;

/**
 * What merge keeps of a file's matches: a match inside another at least as severe (a SEC1 key
 * inside its PKCS#8, found alone when a chunk boundary cuts the wrapper) is folded into it.
 */
export function outermost<T extends { offset: number; length: number; severity: keyof typeof rank }>(matches: readonly T[]): T[] {
  return matches.filter((m) => !matches.some((o) => o !== m && o.offset <= m.offset && o.offset + o.length >= m.offset + m.length && rank[o.severity] >= rank[m.severity] && (o.offset !== m.offset || o.length !== m.length)));
}
