// Cuts an input into chunks of body + margin with absolute offsets. A match belongs to the
// chunk where it starts, and the margin lets a detector read to the match's end, so findings
// are the same for any chunk size.
import { readSync } from 'node:fs';
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

/** One chunk of a regular file, read by the worker that scans it (src/pool/worker.ts). */
export interface FileRange {
  offset: number;
  /** Bytes to read from offset: body + margin. */
  want: number;
  /** The body, when the read is full: a short read's body is all it read. */
  bodyLength: number;
}

/** What scanning one range found out about the file. */
export interface RangeOutcome {
  /** Bytes read from the range's offset. */
  length: number;
  /** The read failed (at offset + length). */
  failed: boolean;
}

/**
 * The chunks of a regular file for workers that read their own bytes: a worker reading into
 * its own buffer spares the transfer of every chunk and makes `--jobs 1` one thread that reads
 * and scans (the main thread and libuv's pool were a second core's worth of work beside it).
 * Every chunk up to the size at open is handed out, as many in flight as `slots` allow, even
 * after a failed read (a bad sector costs the chunks that cover it, not the rest of the dump);
 * a file that grew is then followed, a chunk at a time, until a read comes back short (files
 * written by a crashing process can still grow or shrink). The margin is re-read by the next
 * chunk.
 */
export async function scanFileRanges(sizeAtOpen: number, sizes: ChunkSizes, slots: Slots, scanRange: (range: FileRange) => Promise<RangeOutcome>): Promise<void> {
  const want = sizes.chunkSizeInBytes + sizes.marginInBytes;
  const inFlight: Array<Promise<RangeOutcome>> = [];
  // Resolves once the chunk is handed out (a slot was free), with its outcome still to come.
  const handOut = async (offset: number): Promise<{ outcome: Promise<RangeOutcome> }> => {
    await slots.acquire();
    const outcome = scanRange({ offset, want, bodyLength: sizes.chunkSizeInBytes }).finally(() => slots.release());
    inFlight.push(outcome);
    return { outcome };
  };
  let last: Promise<RangeOutcome>;
  let offset = 0;
  // The chunks a file of the size at open has (at least one: a size of 0 at open, as procfs
  // gives, says little); the last of them reads short unless the file grew.
  for (; ; offset += sizes.chunkSizeInBytes) {
    last = (await handOut(offset)).outcome;
    if (offset + want > sizeAtOpen) break;
  }
  for (;;) {
    const outcome = await last;
    if (outcome.failed || outcome.length < want) break;
    offset += sizes.chunkSizeInBytes;
    last = (await handOut(offset)).outcome;
  }
  await Promise.all(inFlight);
}

/** A counting semaphore: at most `capacity` holders at once. */
export class Slots {
  private held = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(readonly capacity: number) {}
  acquire(): Promise<void> {
    if (this.held < this.capacity) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held--;
  }
}

/**
 * The same contract as readFull, synchronously, for a worker reading its own chunk (a
 * worker has nothing else to do meanwhile). `read` is fs.readSync unless a test fakes it.
 */
export function readFullSync(
  fd: number,
  view: Uint8Array,
  position: number,
  read: (fd: number, view: Uint8Array, offset: number, length: number, position: number) => number = readSync,
  /** Called after each read with the bytes filled so far; reads are then at most `piece` bytes. */
  progress?: { piece: number; filled(length: number): void },
): number {
  let length = 0;
  const most = progress?.piece ?? view.length;
  try {
    while (length < view.length) {
      const bytesRead = read(fd, view, length, Math.min(most, view.length - length), position + length);
      if (bytesRead === 0) break;
      length += bytesRead;
      progress?.filled(length);
    }
  } catch (error) {
    throw new ReadError(position + length, error);
  }
  return length;
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
