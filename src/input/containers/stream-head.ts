// The first bytes of a decompressed stream, kept as it passes, to read the content's layout
// from (an ELF core's program headers and notes, a minidump's directory sit at its start).
// The scan keeps them to give findings in a core.zst their addresses; `dumpguard info` to
// print the layout.
import type { ReadAt } from '../../formats/index.js';

/** How much of a decompressed stream is kept. */
export const STREAM_HEAD_IN_BYTES = 4 * 1024 * 1024;

export class StreamHead {
  private readonly pieces: Uint8Array[] = [];
  private kept = 0;
  /** Bytes of the stream seen so far, kept or not. */
  length = 0;

  add(piece: Uint8Array): void {
    this.length += piece.length;
    if (this.kept >= STREAM_HEAD_IN_BYTES) return;
    // A copy: the decoder may reuse its output buffer.
    const keep = piece.slice(0, STREAM_HEAD_IN_BYTES - this.kept);
    this.pieces.push(keep);
    this.kept += keep.length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.pieces);
  }
}

/** Positioned reads over a kept head of a stream `length` bytes long; a read past the head throws. */
export function headReader(head: Uint8Array, length: number): ReadAt {
  return async (offset, n) => {
    const end = Math.min(offset + n, length);
    if (end > head.length) throw new Error('past the kept head of the stream');
    return head.subarray(Math.min(offset, end), end);
  };
}
