// A stream's bytes (standard input, a FIFO, content decompressed from a container) kept in a
// temporary file as the first pass scans them, so that the raw-key search (src/raw/search.ts),
// which reads the input a second time around the public keys the first pass found, runs over
// them as over a regular file: a stream cannot be read twice. The file sits in a fresh private
// directory under os.tmpdir() (TMPDIR; mkdtemp makes it 0700), is created 0600, and is removed
// by `dispose`. Disk use is at most the stream's length. The file is made at the first write:
// a small stream (one chunk of at most 1 MiB: a zip's small entries) is held in memory instead,
// and written only if its raw pass has public keys to search (the file cost 1 ms a stream).
//
// Writes are positioned, queued one after another, and never reject: a failure (ENOSPC, EIO)
// is kept, later writes are skipped, and `finish` tells the caller that the raw pass cannot
// run. The first pass does not depend on the spool. Ranges known to be all zeros are not
// written: they stay holes of a sparse file, which read back as zeros (writing every byte of the
// bench's 4 GiB on stdin, 60% zero pages, cost about 4.5 CPU s on ext4).
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeError } from '../errors.js';

export const SPOOL_DIRECTORY_PREFIX = 'dumpguard-spool-';

/** Zero runs shorter than this are written, not left as holes: at most one write per 36 KiB of data and holes. */
export const minimumHoleInBytes = 32 * 1024;
const pageInBytes = 4096;
const zeroPage = new Uint8Array(pageInBytes);

/**
 * The runs of bytes [0, length) to write, as [start, end) pairs one after another: all but the
 * runs of zero pages (from page boundaries of `bytes`) at least minimumHoleInBytes long. Each
 * page is compared with a zero page (memcmp, native: data pages stop at their first bytes).
 */
export function dataRuns(bytes: Uint8Array, length: number): number[] {
  const runs: number[] = [];
  const zero = Buffer.from(zeroPage.buffer, 0, pageInBytes);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, length);
  let dataFrom = 0;
  let zerosFrom = -1;
  for (let page = 0; page < length; page += pageInBytes) {
    const end = Math.min(length, page + pageInBytes);
    if (zero.compare(view, page, end, 0, end - page) === 0) {
      if (zerosFrom < 0) zerosFrom = page;
    } else if (zerosFrom >= 0) {
      if (page - zerosFrom >= minimumHoleInBytes) {
        if (zerosFrom > dataFrom) runs.push(dataFrom, zerosFrom);
        dataFrom = page;
      }
      zerosFrom = -1;
    }
  }
  const end = zerosFrom >= 0 && length - zerosFrom >= minimumHoleInBytes ? zerosFrom : length;
  if (end > dataFrom) runs.push(dataFrom, end);
  return runs;
}

/**
 * dataRuns from what the anchor filter saw instead of the bytes: `zeroPages`, the runs of zero
 * pages of the chunk ([start, end) pairs from its first byte, page-aligned; a run may end past
 * `length`, in the chunk's margin). The same runs where the filter's pages are the chunk's; a
 * page that holds the body's end and a non-zero margin byte counts as data (written, which is
 * never wrong).
 */
export function dataRunsAround(zeroPages: readonly number[], length: number): number[] {
  const runs: number[] = [];
  let dataFrom = 0;
  for (let i = 0; i + 1 < zeroPages.length && zeroPages[i] < length; i += 2) {
    const from = zeroPages[i];
    const to = Math.min(length, zeroPages[i + 1]);
    if (to - from < minimumHoleInBytes) continue;
    if (from > dataFrom) runs.push(dataFrom, from);
    dataFrom = to;
  }
  if (length > dataFrom) runs.push(dataFrom, length);
  return runs;
}

// A failpoint for the test suite: the second write fails as a full disk would.
const fault = process.env.DUMPGUARD_TEST_FAULT;

/** A stream that is one chunk of at most this many bytes is held in memory until its raw pass is known to be wanted. */
export const maximumHeldInBytes = 1024 * 1024;

export class Spool {
  private tail: Promise<void> = Promise.resolve();
  private error: unknown;
  private disposed = false;
  private written = 0;
  /** The byte ranges written, [start, end), in the order written. */
  private readonly writtenRanges: Array<[number, number]> = [];
  private directory: string | undefined;
  private fileHandle: FileHandle | undefined;
  /** A small stream's bytes, kept until `finish` says whether they are wanted on disk. */
  private held: { bytes: Uint8Array; position: number } | undefined;
  /** The spool file, or where it was to be (for messages); set when it is first needed. */
  path = os.tmpdir();
  /** The end of the bytes written, held or skipped so far (the stream's length, once all are done). */
  size = 0;

  /**
   * The directory and the file, made when the first bytes are written (a stream held in memory
   * whose raw pass has nothing to search never touches the disk). A failure is kept.
   */
  private async open(): Promise<FileHandle | undefined> {
    if (this.fileHandle || this.error !== undefined || this.disposed) return this.fileHandle;
    try {
      this.directory = await mkdtemp(path.join(os.tmpdir(), SPOOL_DIRECTORY_PREFIX));
      this.path = path.join(this.directory, 'stream');
      this.fileHandle = await open(this.path, 'wx+', 0o600);
    } catch (error) {
      this.error = error;
      if (!this.directory) this.path = os.tmpdir();
    }
    return this.fileHandle;
  }

  /**
   * Queues `bytes` to be written at `position`; resolves once they are written (or skipped
   * after a failure), so the caller can then hand the buffer on. Never rejects.
   */
  write(bytes: Uint8Array, position: number): Promise<void> {
    this.tail = this.tail.then(async () => {
      if (this.error !== undefined || this.disposed) return;
      try {
        const handle = await this.open();
        if (!handle) return;
        if (fault === 'spool-enospc' && this.written > 0) throw Object.assign(new Error('no space left on device (injected)'), { code: 'ENOSPC' });
        for (let done = 0; done < bytes.length; ) {
          const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
          if (bytesWritten === 0) throw new Error('write wrote nothing');
          done += bytesWritten;
        }
        this.written = Math.max(this.written, position + bytes.length);
        if (bytes.length > 0) this.writtenRanges.push([position, position + bytes.length]);
        this.size = Math.max(this.size, this.written);
      } catch (error) {
        this.error = error;
      }
    });
    return this.tail;
  }

  /**
   * A copy of a whole small stream's bytes (at most maximumHeldInBytes), kept in memory: written
   * by `finish` only if the raw pass has something to search.
   */
  hold(bytes: Uint8Array, position: number): void {
    this.held = { bytes: new Uint8Array(bytes), position }; // a copy (a Buffer's slice() would not be)
    this.size = Math.max(this.size, position + bytes.length);
  }

  /** `length` bytes of zeros at `position`: left a hole, not written. */
  skip(position: number, length: number): void {
    this.size = Math.max(this.size, position + length);
  }

  /** Bytes that will never be written (their buffer was lost): the spool cannot hold the stream. */
  lose(reason: string): void {
    this.error ??= new Error(reason);
  }

  /**
   * Every queued write done, the held bytes written, the file as long as the stream (holes at
   * its end too): undefined when the spool holds the whole stream, else why not.
   */
  async finish(): Promise<string | undefined> {
    const held = this.held;
    this.held = undefined;
    if (held) await this.write(held.bytes, held.position);
    await this.tail;
    if (this.error === undefined && this.size > this.written) {
      try {
        const handle = await this.open();
        if (handle) await handle.truncate(this.size);
        this.written = this.size;
      } catch (error) {
        this.error = error;
      }
    }
    return this.error === undefined ? undefined : describeError(this.error);
  }

  /**
   * The ranges of [0, size) never written, [start, end), in order: the file's holes, which read
   * back as zeros (the runs of zero pages left out, the chunks that were all zeros). The raw pass
   * fills them instead of reading them. Meaningful once `finish` said the spool holds the stream.
   */
  holes(): Array<[number, number]> {
    const holes: Array<[number, number]> = [];
    let at = 0;
    for (const [start, end] of [...this.writtenRanges].sort((a, b) => a[0] - b[0])) {
      if (start > at) holes.push([at, start]);
      at = Math.max(at, end);
    }
    if (this.size > at) holes.push([at, this.size]);
    return holes;
  }

  /** The open spool file (only when `finish` said it holds the stream). */
  get handle(): FileHandle {
    if (!this.fileHandle || this.error !== undefined) throw new Error('the spool file is not usable');
    return this.fileHandle;
  }

  /**
   * Closes and removes the file and its directory; safe to call more than once. Never rejects:
   * a file that could not be removed is said (it holds the stream's bytes).
   */
  async dispose(): Promise<string | undefined> {
    this.disposed = true;
    this.held = undefined;
    await this.tail;
    const directory = this.directory;
    this.directory = undefined;
    if (!directory) return undefined;
    await this.fileHandle?.close().catch(() => {});
    try {
      await rm(directory, { recursive: true, force: true });
      return undefined;
    } catch (error) {
      return `could not remove the spool file ${this.path}: ${describeError(error)}`;
    }
  }
}
