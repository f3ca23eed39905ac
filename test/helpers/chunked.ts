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
    for (const m of detector.scan(slice, bodyLength)) out.push({ ...m, offset: offset + m.start });
    if (last) break;
  }
  return out.sort((a, b) => a.offset - b.offset || b.length - a.length);
}
