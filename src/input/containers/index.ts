// Containers: compressed streams (gzip, zstd, xz, lz4) and archives (zip, tar) recognised by
// their first bytes, decompressed as streams and walked entry by entry, nested up to a depth
// limit. The bytes they hold are handed to the host (the scan pipeline) as streams with a Place,
// which turns positions into a finding's `offset` + `inner` (see provenance.ts). Limits stop
// decompression bombs; corrupt or truncated data is scanned as far as it decodes. Problems are
// reported to the host, which fails the gate closed unless --allow-partial.
import type { FileHandle } from 'node:fs/promises';
import { ReadError } from '../chunker.js';
import { fileReader } from '../../formats/index.js';
import { ByteReader } from './byte-reader.js';
import { DecodeError, EXPANSION_RATIO_GRACE_IN_BYTES, LimitStop, type ContainerLimits } from './limits.js';
import { unlz4 } from './lz4.js';
import { childPlace, describePosition, FILE_PLACE, segment, type Place } from './provenance.js';
import { CONTAINER_SNIFF_BYTES, LABELS, sniffContainer, type ContainerFormat } from './sniff.js';
import { walkTar } from './tar.js';
import { unxz } from './xz.js';
import { findZipDirectory, nextLocalEntry, skipDataDescriptor, zipDataStart, zipDirectoryEntries, type ZipEntry } from './zip.js';
import { gunzip, inflateRaw } from './zlib.js';
import { unzstd } from './zstd.js';

export { sniffContainer, CONTAINER_SNIFF_BYTES, type ContainerFormat } from './sniff.js';
export { DEFAULT_CONTAINER_LIMITS, DEFAULT_MAX_DECOMPRESSED_SIZE_IN_BYTES, DEFAULT_MAX_EXPANSION_RATIO, EXPANSION_RATIO_GRACE_IN_BYTES, MAX_CONTAINER_DEPTH, MAX_ZSTD_WINDOW_IN_BYTES, type ContainerLimits } from './limits.js';
export { locatePosition, escapeEntryName, type Place } from './provenance.js';

export interface ContainerProblem {
  /** The file offset: where decoding stopped for a container in the file's own bytes, else the outermost container's offset. */
  offset: number;
  message: string;
}

export interface ContainerHost {
  readonly limits: ContainerLimits;
  readonly signal?: AbortSignal;
  /**
   * Scans a stream of content bytes at `place` through the chunker and the workers; resolves when
   * every chunk was handed on. It reads `pieces` to their end, and if they fail it scans what
   * came before the failure, then rethrows.
   */
  scanBytes(pieces: AsyncIterable<Uint8Array>, place: Place): Promise<void>;
  /** Content that could not be covered whole (limit, corrupt or truncated data, unsupported feature). */
  problem(problem: ContainerProblem): void;
  /** Bytes of the file read so far (progress). */
  progress?(bytes: number): void;
}

const READ_PIECE_IN_BYTES = 1024 * 1024;

type Decoder = (input: ByteReader) => AsyncIterable<Uint8Array>;
const STREAM_DECODERS: Record<'gzip' | 'zstd' | 'xz' | 'lz4', Decoder> = { gzip: gunzip, zstd: unzstd, xz: unxz, lz4: unlz4 };
const ZIP_METHODS: Record<number, { name: string; decoder: Decoder }> = {
  0: { name: 'stored', decoder: (input) => input.rest() },
  8: { name: 'deflate', decoder: inflateRaw },
  93: { name: 'zstd', decoder: unzstd },
  95: { name: 'xz', decoder: unxz },
};

/** The first error that is not a chunker's wrapper around it. */
function cause(error: unknown): unknown {
  while (error instanceof ReadError && (error.reason instanceof DecodeError || error.reason instanceof LimitStop || error.reason instanceof ReadError)) error = error.reason;
  return error;
}

/** A stream being decoded: who owns a DecodeError or a LimitStop, and how far it got. */
interface Meter {
  out: number;
}

/**
 * Scans a regular file whose content is a container. Throws ReadError when the file cannot be
 * read; every other problem goes to host.problem. Returns the bytes of the file read.
 */
export async function scanContainerFile(handle: FileHandle, size: number, host: ContainerHost): Promise<number> {
  const walk = new ContainerWalk(handle, size, host);
  try {
    const head = await fileReader(handle)(0, Math.min(CONTAINER_SNIFF_BYTES, size));
    if (sniffContainer(head) === 'zip') await walk.zipFile();
    else await walk.content(new ByteReader(walk.readFile(0, size)), FILE_PLACE, 0, []);
  } catch (error) {
    const c = cause(error);
    if (c instanceof LimitStop && c.owner === walk) host.problem({ offset: walk.bytesRead, message: c.message });
    else throw c;
  }
  // At least the head was read (an archive of encrypted entries only reads no data).
  return Math.max(walk.bytesRead, Math.min(size, CONTAINER_SNIFF_BYTES));
}

class ContainerWalk {
  /** Decompressed bytes of every stream and entry of the file together. */
  private total = 0;
  bytesRead = 0;
  private readonly read;

  constructor(private readonly handle: FileHandle, private readonly size: number, private readonly host: ContainerHost) {
    this.read = fileReader(handle);
  }

  /** Positioned reads of [start, start + length) into fresh buffers. */
  async *readFile(start: number, length: number): AsyncGenerator<Uint8Array> {
    const end = start + length;
    for (let at = start; at < end; ) {
      if (this.host.signal?.aborted) throw new ReadError(at, this.host.signal.reason ?? new Error('aborted'));
      const buffer = new Uint8Array(Math.min(READ_PIECE_IN_BYTES, end - at));
      let got: number;
      try {
        ({ bytesRead: got } = await this.handle.read(buffer, 0, buffer.length, at));
      } catch (error) {
        throw new ReadError(at, error);
      }
      if (got === 0) return;
      at += got;
      if (at > this.bytesRead) {
        this.host.progress?.(at - Math.max(this.bytesRead, start));
        this.bytesRead = at;
      }
      yield buffer.subarray(0, got);
    }
  }

  /** Content at `place`: a container is opened, anything else is scanned. */
  async content(reader: ByteReader, place: Place, depth: number, chain: ContainerFormat[]): Promise<void> {
    try {
      await reader.fill(CONTAINER_SNIFF_BYTES);
      const format = sniffContainer(reader.peek(CONTAINER_SNIFF_BYTES));
      if (format === undefined) return await this.host.scanBytes(reader.rest(), place);
      if (depth >= this.host.limits.maxDepth) {
        this.problemAt(place, 0, `${format} content at ${describePosition(place, 0)} is nested deeper than the container depth limit (${this.host.limits.maxDepth}): scanned as raw bytes, not decompressed`);
        return await this.host.scanBytes(reader.rest(), place);
      }
      if (format === 'xz' && chain.includes('xz')) {
        this.problemAt(place, 0, `xz stream at ${describePosition(place, 0)} is inside another xz stream, which the xz decoder cannot do: scanned as raw bytes, not decompressed`);
        return await this.host.scanBytes(reader.rest(), place);
      }
      if (format === 'tar') return await this.tar(reader, place, depth, chain);
      if (format === 'zip') return await this.zipStream(reader, place, depth, chain);
      const inner = childPlace(place, 0, LABELS[format]);
      return await this.stream(format, STREAM_DECODERS[format], reader, place, 0, inner, depth, chain);
    } finally {
      await reader.close();
    }
  }

  /**
   * Decodes `input` (which sits at `inputBase` of `inputPlace`) and walks the decoded content at
   * `inner`. Stops at a limit or a decoding failure of this stream, reports it, and returns.
   */
  private async stream(
    format: ContainerFormat | string,
    decoder: Decoder,
    input: ByteReader,
    inputPlace: Place,
    inputBase: number,
    inner: Place,
    depth: number,
    chain: ContainerFormat[],
  ): Promise<void> {
    const meter: Meter = { out: 0 };
    const start = input.position;
    const output = this.metered(decoder(input), meter, inner, () => input.position - start);
    const chainHere = typeof format === 'string' && format in LABELS ? [...chain, format as ContainerFormat] : chain;
    try {
      await this.content(new ByteReader(output), inner, depth + 1, chainHere);
    } catch (error) {
      const c = cause(error);
      const stoppedAt = inputBase + (input.position - start);
      if (c instanceof LimitStop && c.owner === meter) this.problemAt(inputPlace, stoppedAt, c.message);
      else if (c instanceof DecodeError && c.owner === meter) {
        this.problemAt(inputPlace, stoppedAt, `${c.message}; decoded and scanned up to ${describePosition(inner, meter.out)}`);
      } else throw c;
    }
  }

  /** Counts a decoder's output against the limits, and marks the decoder's own failures as this stream's. */
  private async *metered(output: AsyncIterable<Uint8Array>, meter: Meter, inner: Place, consumed: () => number): AsyncGenerator<Uint8Array> {
    const { maxDecompressedSizeInBytes: maxSize, maxExpansionRatio: ratio } = this.host.limits;
    const grace = EXPANSION_RATIO_GRACE_IN_BYTES;
    const iterator = output[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await iterator.next();
        } catch (error) {
          // A DecodeError that no inner stream claimed is this decoder's own.
          if (error instanceof DecodeError && !error.owner) error.owner = meter;
          throw error;
        }
        if (next.done) return;
        let piece = next.value;
        if (meter.out + piece.length > maxSize) {
          piece = piece.subarray(0, maxSize - meter.out);
          meter.out += piece.length;
          this.total += piece.length;
          if (piece.length > 0) yield piece;
          throw new LimitStop(
            meter,
            `decompression stopped at ${describePosition(inner, meter.out)}: the stream holds more than the maximum decompressed size of ${maxSize} bytes (--max-decompressed-size); the rest of it was not scanned`,
          );
        }
        meter.out += piece.length;
        this.total += piece.length;
        const compressed = consumed();
        if (meter.out > ratio * compressed + grace) {
          throw new LimitStop(
            meter,
            `decompression stopped at ${describePosition(inner, meter.out)}: ${meter.out} bytes from ${compressed} compressed bytes is over the maximum expansion ratio of ${ratio}:1 (--max-expansion-ratio); the rest of the stream was not scanned`,
          );
        }
        if (this.total > ratio * this.size + grace) {
          throw new LimitStop(
            this,
            `decompression stopped at ${describePosition(inner, meter.out)}: the file's streams and entries decompress to more than ${ratio} times its ${this.size} bytes (--max-expansion-ratio); the rest of the file was not scanned`,
          );
        }
        yield piece;
      }
    } finally {
      await iterator.return?.();
    }
  }

  private problemAt(place: Place, position: number, message: string): void {
    this.host.problem({ offset: place.root ?? position, message });
  }

  private async tar(reader: ByteReader, place: Place, depth: number, chain: ContainerFormat[]): Promise<void> {
    try {
      await walkTar(reader, async (entry, data) => {
        const inner = childPlace(place, entry.headerAt, segment('TAR', entry.name));
        await this.content(new ByteReader(data), inner, depth + 1, [...chain, 'tar']);
      });
    } catch (error) {
      const c = cause(error);
      if (c instanceof DecodeError && c.format === 'tar' && !c.owner) this.problemAt(place, c.at ?? 0, c.message);
      else throw c;
    }
  }

  /** One zip entry: decoded by its method, limits applied, its content walked. */
  private async zipEntry(entry: ZipEntry, data: ByteReader, place: Place, dataAt: number, depth: number, chain: ContainerFormat[]): Promise<void> {
    const inner = childPlace(place, entry.localHeaderAt, segment('ZIP', entry.name));
    const where = `zip entry ${JSON.stringify(entry.name)} (local header at ${describePosition(place, entry.localHeaderAt)})`;
    if (entry.flags & 0x01) return this.problemAt(place, entry.localHeaderAt, `${where} is encrypted: not scanned`);
    const method = ZIP_METHODS[entry.method];
    if (!method) return this.problemAt(place, entry.localHeaderAt, `${where} uses compression method ${entry.method}, which is not supported: not scanned`);
    if (entry.method === 95 && chain.includes('xz')) return this.problemAt(place, entry.localHeaderAt, `${where} is xz inside an xz stream: not scanned`);
    try {
      await this.stream(method.name, method.decoder, data, place, dataAt, inner, depth, [...chain, 'zip']);
    } finally {
      await data.close();
    }
  }

  /** A zip that is the whole file: central directory, then each entry by position. */
  async zipFile(): Promise<void> {
    let directory;
    try {
      directory = await findZipDirectory(this.read, this.size);
      if (!directory) this.problemAt(FILE_PLACE, this.size, 'zip archive without a central directory (truncated?): entries walked by their local headers instead');
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.problemAt(FILE_PLACE, error.at ?? 0, `${error.message}; entries walked by their local headers instead`);
    }
    if (!directory) return this.content(new ByteReader(this.readFile(0, this.size)), FILE_PLACE, 0, []);
    const entries = new ByteReader(this.readFile(directory.offset, directory.size));
    try {
      for await (const entry of zipDirectoryEntries(entries, directory)) {
        if (this.host.signal?.aborted) throw new ReadError(entry.localHeaderAt, this.host.signal.reason ?? new Error('aborted'));
        if (entry.name.endsWith('/') && entry.uncompressedSize === 0) continue;
        let dataAt: number;
        try {
          dataAt = await zipDataStart(this.read, entry);
          if (dataAt + entry.compressedSize > this.size) throw new DecodeError('zip', `zip entry ${JSON.stringify(entry.name)} at offset ${entry.localHeaderAt} runs past the end of the file (truncated archive)`, entry.localHeaderAt);
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
          this.problemAt(FILE_PLACE, error.at ?? entry.localHeaderAt, `${error.message}: not scanned`);
          continue;
        }
        await this.zipEntry(entry, new ByteReader(this.readFile(dataAt, entry.compressedSize)), FILE_PLACE, dataAt, 0, []);
      }
    } catch (error) {
      const c = cause(error);
      if (c instanceof DecodeError && c.format === 'zip' && !c.owner) this.problemAt(FILE_PLACE, c.at ?? directory.offset, `${c.message}; the rest of the archive was not walked`);
      else throw c;
    } finally {
      await entries.close();
    }
  }

  /** A zip inside a stream: entries in order by their local headers. */
  private async zipStream(reader: ByteReader, place: Place, depth: number, chain: ContainerFormat[]): Promise<void> {
    try {
      for (;;) {
        const entry = await nextLocalEntry(reader);
        if (!entry) return;
        const dataAt = reader.position;
        const end = dataAt + entry.compressedSize;
        if (!(entry.name.endsWith('/') && entry.compressedSize === 0)) {
          await this.zipEntry(entry, new ByteReader(reader.take(entry.compressedSize)), place, dataAt, depth, chain);
        }
        const left = end - reader.position;
        if (left > 0 && (await reader.skip(left)) < left) throw new DecodeError('zip', `zip archive truncated inside the entry ${JSON.stringify(entry.name)} (archive offset ${entry.localHeaderAt})`, reader.position);
        if (entry.dataDescriptor) await skipDataDescriptor(reader, entry.zip64);
      }
    } catch (error) {
      const c = cause(error);
      if (c instanceof DecodeError && c.format === 'zip' && !c.owner) this.problemAt(place, c.at ?? 0, c.message);
      else throw c;
    }
  }
}
