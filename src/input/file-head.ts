// The first bytes of an open file, read once. Sniffing the container, reading the dump's layout
// and scanning a small file all start at offset 0: one read serves them all. For a folder of
// small files that was three reads per file where one does (each positioned read is a trip
// through libuv's thread pool and a promise).
import type { FileHandle } from 'node:fs/promises';
import { fileReader, type ReadAt } from '../formats/index.js';
import { readFull } from './chunker.js';

/** Enough for the format sniffers (4 KiB) and for the whole of most small files. */
export const FILE_HEAD_BYTES = 64 * 1024;

export interface FileHead {
  /** Positioned reads, from the cached head where it covers them. */
  read: ReadAt;
  /**
   * The whole file in a buffer of its own, when it fits the head and was read to its end at
   * the size it had at open; the buffer is handed over (to be transferred to a worker) and
   * later reads go to the file.
   */
  takeWhole(): Promise<{ buffer: ArrayBuffer; length: number } | undefined>;
}

export function fileHead(handle: FileHandle, sizeAtOpen: number): FileHead {
  const direct = fileReader(handle);
  // One byte past the size at open: a file that grew is seen to have grown.
  const capacity = Math.min(sizeAtOpen + 1, FILE_HEAD_BYTES);
  let loaded: Promise<{ buffer: ArrayBuffer; length: number }> | undefined;
  let taken = false;
  const load = () =>
    (loaded ??= (async () => {
      const buffer = new ArrayBuffer(capacity);
      // Stopping at the size at open saves the second read that would only see the end (one
      // read per small file, not two).
      const length = await readFull(handle, new Uint8Array(buffer), 0, sizeAtOpen);
      return { buffer, length };
    })());
  return {
    async read(offset, length) {
      if (taken || offset + length > capacity) return direct(offset, length);
      // A head that cannot be read is read again directly, so the error is the read's own.
      const head = await load().catch(() => undefined);
      if (taken || !head) return direct(offset, length);
      const end = Math.min(head.length, offset + length);
      return new Uint8Array(head.buffer.slice(Math.min(offset, end), end));
    },
    async takeWhole() {
      if (taken || sizeAtOpen + 1 > FILE_HEAD_BYTES) return undefined;
      // On a read error the chunker reads again and reports it, with its offset.
      const head = await load().catch(() => undefined);
      if (taken || !head || head.length !== sizeAtOpen) return undefined;
      taken = true;
      return head;
    },
  };
}
