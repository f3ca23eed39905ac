// Cuts an input into chunks of body + margin with absolute offsets. A match belongs to the
// chunk where it starts, and the margin lets a detector read to the match's end, so findings
// are the same for any chunk size.
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

export interface ChunkSizes {
  chunkSizeInBytes: number;
  marginInBytes: number;
  /** Bytes before each chunk to hand over as `before` (detectors with a look-behind); 0 or absent: none. */
  lookBehindInBytes?: number;
}

/** A chunk read into a pooled buffer: bytes [0, length) of buffer, body [0, bodyLength). */
export interface FilledChunk {
  offset: number;
  buffer: ArrayBuffer;
  length: number;
  bodyLength: number;
  /**
   * With a look-behind: a copy of the lookBehindInBytes bytes before `offset` (fewer at the
   * input's start: empty for the first chunk). Copied from the previous chunk's body before it
   * is handed on, so it costs no extra read.
   */
  before?: Uint8Array;
}

/** Where chunk buffers come from; a buffer not handed on in a chunk is given back. */
export interface BufferLender {
  acquire(): Promise<ArrayBuffer>;
  release(buffer: ArrayBuffer): void;
}

/**
 * Positioned reads of a regular file until EOF (not until the stat size: files written by
 * a crashing process can still grow or shrink). The margin is re-read by the next chunk.
 */
export async function* fileChunks(
  handle: FileHandle,
  sizes: ChunkSizes,
  lender: BufferLender,
  sizeAtOpen?: number,
  /** The whole file, already read (src/input/file-head.ts). */
  content?: { buffer: ArrayBuffer; length: number },
): AsyncGenerator<FilledChunk> {
  const want = sizes.chunkSizeInBytes + sizes.marginInBytes;
  if (sizeAtOpen !== undefined && sizeAtOpen + 1 < want) {
    const whole = content ? { offset: 0, buffer: content.buffer, length: content.length, bodyLength: content.length } : await wholeSmallFile(handle, sizeAtOpen);
    if (whole) {
      yield sizes.lookBehindInBytes ? { ...whole, before: new Uint8Array(0) } : whole;
      return;
    }
  }
  const behind = sizes.lookBehindInBytes ?? 0;
  let before = behind > 0 ? new Uint8Array(0) : undefined;
  for (let offset = 0; ; offset += sizes.chunkSizeInBytes) {
    const buffer = await lender.acquire();
    const view = new Uint8Array(buffer, 0, want);
    let length: number;
    try {
      length = await readFull(handle, view, offset);
    } catch (error) {
      lender.release(buffer);
      throw error;
    }
    if (length === 0 && offset > 0) {
      lender.release(buffer);
      return;
    }
    const last = length < want;
    const chunk: FilledChunk = { offset, buffer, length, bodyLength: last ? length : sizes.chunkSizeInBytes, ...(before ? { before } : {}) };
    if (before && !last) before = view.slice(Math.max(0, sizes.chunkSizeInBytes - behind), sizes.chunkSizeInBytes);
    yield chunk;
    if (last) return;
  }
}

/**
 * A file smaller than a chunk is read into a buffer of its own size (one byte more, to see it
 * grow): sending a pooled 8 MiB buffer to a worker and back for every 1 KiB file made V8 run a
 * full collection every few files (external memory churn), which capped a folder of small
 * files at a few hundred files a second. Undefined when the file grew past its size at open:
 * it is then read in pooled chunks like any other.
 */
async function wholeSmallFile(handle: FileHandle, sizeAtOpen: number): Promise<FilledChunk | undefined> {
  const buffer = new ArrayBuffer(sizeAtOpen + 1);
  const view = new Uint8Array(buffer);
  const length = await readFull(handle, view, 0, sizeAtOpen);
  if (length === view.length) return undefined;
  return { offset: 0, buffer, length, bodyLength: length };
}

/**
 * Positioned reads into `view` from `position` until it is full or the file ends; returns the
 * bytes read. With `enough`, a read that brings the total to it stops there (the size at open:
 * a regular file reads short only at its end). A failing read throws a ReadError at the offset
 * reached.
 */
export async function readFull(handle: Pick<FileHandle, 'read'>, view: Uint8Array, position: number, enough = view.length): Promise<number> {
  let length = 0;
  try {
    while (length < view.length) {
      const { bytesRead } = await handle.read(view, length, view.length - length, position + length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === enough) break;
    }
  } catch (error) {
    throw new ReadError(position + length, error);
  }
  return length;
}

/** A read that failed part-way: the offset tells how far the input was covered. */
export class ReadError extends Error {
  constructor(readonly offset: number, readonly reason: unknown) {
    super(reason instanceof Error ? reason.message : String(reason));
    this.name = 'ReadError';
  }
}

/**
 * Sequential chunks of a stream (stdin, a FIFO): the margin of each chunk is copied to the
 * start of the next buffer, so offsets are stream offsets and matches across chunks are kept.
 */
export async function* streamChunks(stream: Readable, sizes: ChunkSizes, lender: BufferLender): AsyncGenerator<FilledChunk> {
  const want = sizes.chunkSizeInBytes + sizes.marginInBytes;
  let held: ArrayBuffer | undefined = await lender.acquire();
  let view = new Uint8Array(held, 0, want);
  let length = 0;
  let offset = 0;
  const behind = sizes.lookBehindInBytes ?? 0;
  let before = behind > 0 ? new Uint8Array(0) : undefined;
  try {
    try {
      for await (const piece of stream as AsyncIterable<Buffer>) {
        let used = 0;
        while (used < piece.length) {
          const n = Math.min(piece.length - used, want - length);
          view.set(piece.subarray(used, used + n), length);
          length += n;
          used += n;
          if (length === want) {
            const next = await lender.acquire();
            const nextView = new Uint8Array(next, 0, want);
            nextView.set(view.subarray(sizes.chunkSizeInBytes, want), 0);
            const full: FilledChunk = { offset, buffer: held, length, bodyLength: sizes.chunkSizeInBytes, ...(before ? { before } : {}) };
            if (before) before = view.slice(Math.max(0, sizes.chunkSizeInBytes - behind), sizes.chunkSizeInBytes);
            held = next;
            view = nextView;
            length = sizes.marginInBytes;
            offset += sizes.chunkSizeInBytes;
            yield full;
          }
        }
      }
    } catch (error) {
      throw new ReadError(offset + length, error);
    }
    const last: FilledChunk = { offset, buffer: held, length, bodyLength: length, ...(before ? { before } : {}) };
    held = undefined;
    yield last;
  } finally {
    if (held) lender.release(held);
  }
}
