// Zip archives. A zip that is the whole file is read through its central directory (ZIP64
// included) and each entry by its position; a zip inside another container (a stream) is walked
// by its local headers in order, which needs each entry's size before its data.
import type { ReadAt } from '../../formats/layout.js';
import type { ByteReader } from './byte-reader.js';
import { DecodeError } from './limits.js';

export interface ZipEntry {
  name: string;
  /** Position of the entry's local file header: its place in `inner` paths. */
  localHeaderAt: number;
  flags: number;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const SIG_DESCRIPTOR = 0x08074b50;
const MAX32 = 0xffffffff;

const u16 = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const u32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
const u64 = (b: Uint8Array, at: number) => u32(b, at) + u32(b, at + 4) * 2 ** 32;

const utf8 = new TextDecoder('utf-8', { fatal: true });
function entryName(bytes: Uint8Array, flags: number): string {
  try {
    return utf8.decode(bytes);
  } catch {
    // Neither flagged nor valid UTF-8: CP437 in the spec; Latin-1 keeps every byte visible.
    void flags;
    return Buffer.from(bytes).toString('latin1');
  }
}

/** ZIP64 extended information (0x0001): the 64-bit values of the fields that are 0xFFFFFFFF, in order. */
function zip64Values(extra: Uint8Array, wanted: boolean[]): Array<number | undefined> {
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = u16(extra, at);
    const size = u16(extra, at + 2);
    if (id === 0x0001) {
      const out: Array<number | undefined> = [];
      let p = at + 4;
      for (const want of wanted) {
        if (want && p + 8 <= at + 4 + size) {
          out.push(u64(extra, p));
          p += 8;
        } else out.push(undefined);
      }
      return out;
    }
    at += 4 + size;
  }
  return wanted.map(() => undefined);
}

export interface ZipDirectory {
  entries: number;
  offset: number;
  size: number;
}

/** Finds the end of central directory record (and its ZIP64 form); undefined when there is none. */
export async function findZipDirectory(read: ReadAt, fileSize: number): Promise<ZipDirectory | undefined> {
  const tailLength = Math.min(fileSize, 22 + 0xffff);
  const tailStart = fileSize - tailLength;
  const tail = await read(tailStart, tailLength);
  let end = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (u32(tail, i) === SIG_END && i + 22 + u16(tail, i + 20) <= tail.length) {
      end = i;
      break;
    }
  }
  if (end < 0) return undefined;
  const endAt = tailStart + end;
  let entries = u16(tail, end + 10);
  let size = u32(tail, end + 12);
  let offset = u32(tail, end + 16);
  if (u16(tail, end + 4) !== 0 || u16(tail, end + 6) !== 0) throw new DecodeError('zip', 'multi-volume zip archives are not supported', endAt);
  if (endAt >= 20) {
    const locator = await read(endAt - 20, 20);
    if (locator.length === 20 && u32(locator, 0) === SIG_LOCATOR64) {
      const at = u64(locator, 8);
      const record = await read(at, 56);
      if (record.length < 56 || u32(record, 0) !== SIG_END64) throw new DecodeError('zip', `ZIP64 end of central directory record missing at offset ${at}`, at);
      entries = u64(record, 32);
      size = u64(record, 40);
      offset = u64(record, 48);
    }
  }
  if (offset + size > fileSize) throw new DecodeError('zip', `central directory (offset ${offset}, ${size} bytes) lies past the end of the file: truncated archive`, endAt);
  return { entries, offset, size };
}

/** The central directory's entries, read from a reader positioned at its start. */
export async function* zipDirectoryEntries(reader: ByteReader, directory: ZipDirectory): AsyncGenerator<ZipEntry> {
  for (let n = 0; n < directory.entries; n++) {
    const at = directory.offset + reader.position;
    const header = await reader.read(46);
    if (header.length < 46 || u32(header, 0) !== SIG_CENTRAL) throw new DecodeError('zip', `central directory entry ${n} at offset ${at} is damaged`, at);
    const flags = u16(header, 8);
    const method = u16(header, 10);
    let compressedSize = u32(header, 20);
    let uncompressedSize = u32(header, 24);
    let localHeaderAt = u32(header, 42);
    const nameLength = u16(header, 28);
    const extraLength = u16(header, 30);
    const commentLength = u16(header, 32);
    const name = await reader.read(nameLength);
    const extra = await reader.read(extraLength);
    if (name.length < nameLength || extra.length < extraLength || (await reader.skip(commentLength)) < commentLength) {
      throw new DecodeError('zip', `central directory entry ${n} at offset ${at} is truncated`, at);
    }
    const [u, c, l] = zip64Values(extra, [uncompressedSize === MAX32, compressedSize === MAX32, localHeaderAt === MAX32]);
    uncompressedSize = u ?? uncompressedSize;
    compressedSize = c ?? compressedSize;
    localHeaderAt = l ?? localHeaderAt;
    yield { name: entryName(name, flags), localHeaderAt, flags, method, compressedSize, uncompressedSize };
  }
}

/** Where an entry's data starts, from its local header (whose name and extra lengths may differ from the directory's). */
export async function zipDataStart(read: ReadAt, entry: ZipEntry): Promise<number> {
  const header = await read(entry.localHeaderAt, 30);
  if (header.length < 30 || u32(header, 0) !== SIG_LOCAL) {
    throw new DecodeError('zip', `local header of ${JSON.stringify(entry.name)} missing at offset ${entry.localHeaderAt}`, entry.localHeaderAt);
  }
  return entry.localHeaderAt + 30 + u16(header, 26) + u16(header, 28);
}

/**
 * The next entry of a zip walked in order (inside a stream): its local header is consumed, the
 * reader is left at its data. Undefined at the central directory or the end. `dataDescriptor`
 * tells the caller to skip a data descriptor after the data.
 */
export async function nextLocalEntry(reader: ByteReader): Promise<(ZipEntry & { dataDescriptor: boolean; zip64: boolean }) | undefined> {
  const at = reader.position;
  if ((await reader.fill(4)) < 4) return undefined;
  const signature = u32(reader.peek(4), 0);
  if (signature !== SIG_LOCAL) {
    if (signature === SIG_CENTRAL || signature === SIG_END || signature === SIG_END64) return undefined;
    throw new DecodeError('zip', `unexpected bytes where a zip entry should start (archive offset ${at})`, at);
  }
  const header = await reader.read(30);
  if (header.length < 30) throw new DecodeError('zip', `zip archive truncated inside a local header (archive offset ${at})`, at);
  const flags = u16(header, 6);
  const method = u16(header, 8);
  let compressedSize = u32(header, 18);
  let uncompressedSize = u32(header, 22);
  const name = await reader.read(u16(header, 26));
  const extra = await reader.read(u16(header, 28));
  if (name.length < u16(header, 26) || extra.length < u16(header, 28)) throw new DecodeError('zip', `zip archive truncated inside a local header (archive offset ${at})`, at);
  const [u, c] = zip64Values(extra, [uncompressedSize === MAX32, compressedSize === MAX32]);
  const zip64 = u !== undefined || c !== undefined;
  uncompressedSize = u ?? uncompressedSize;
  compressedSize = c ?? compressedSize;
  const entryNameText = entryName(name, flags);
  const dataDescriptor = (flags & 0x08) !== 0;
  if (dataDescriptor && compressedSize === 0) {
    throw new DecodeError(
      'zip',
      `zip entry ${JSON.stringify(entryNameText)} (archive offset ${at}) gives its size only after its data (a data descriptor): inside a stream the rest of this archive cannot be walked`,
      at,
    );
  }
  return { name: entryNameText, localHeaderAt: at, flags, method, compressedSize, uncompressedSize, dataDescriptor, zip64 };
}

/** Skips the data descriptor that follows an entry's data (signature optional; 32- or 64-bit sizes). */
export async function skipDataDescriptor(reader: ByteReader, zip64: boolean): Promise<void> {
  await reader.fill(4);
  const signed = u32(reader.peek(4), 0) === SIG_DESCRIPTOR;
  await reader.skip((signed ? 4 : 0) + 4 + (zip64 ? 16 : 8));
}
