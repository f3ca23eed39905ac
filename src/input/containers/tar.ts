// Tar archives (ustar, GNU, PAX), walked header by header: each regular entry's data is handed
// to the caller as a sub-stream, then the walk skips to the next 512-byte header.
import type { ByteReader } from './byte-reader.js';
import { DecodeError } from './limits.js';
import { tarChecksumMatches } from './sniff.js';

const BLOCK = 512;
/** GNU long names and PAX headers larger than this are not read (they are metadata, not content). */
const MAX_META_IN_BYTES = 1024 * 1024;
/** Entry types without data: hard link, symlink, character and block device, directory, FIFO. */
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6']);

export interface TarEntry {
  name: string;
  /** Position (in the archive) of the entry's first header block: its PAX or GNU long-name header when it has one. */
  headerAt: number;
  /** Position of its data. */
  dataAt: number;
  size: number;
}

function text(block: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && block[end] !== 0) end++;
  return Buffer.from(block.subarray(start, end)).toString('utf8');
}

function sizeField(block: Uint8Array): number {
  if (block[124] & 0x80) {
    // GNU base-256: big-endian, the first byte's top bit is the marker.
    let value = block[124] & 0x3f;
    for (let i = 125; i < 136; i++) value = value * 256 + block[i];
    return value;
  }
  const digits = text(block, 124, 12).trim();
  const value = digits === '' ? 0 : parseInt(digits, 8);
  return Number.isFinite(value) ? value : -1;
}

function parsePax(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  const body = Buffer.from(data).toString('utf8');
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(' ', at);
    if (space < 0) break;
    const length = parseInt(body.slice(at, space), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = body.slice(space + 1, at + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

/**
 * Walks the archive. `onEntry` gets each entry with data and a sub-stream of exactly its bytes;
 * whatever it leaves unread is skipped. Throws DecodeError on a damaged or truncated archive.
 */
export async function walkTar(reader: ByteReader, onEntry: (entry: TarEntry, data: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void> {
  const archiveStart = reader.position;
  const rel = (position: number) => position - archiveStart;
  let longName: string | undefined;
  let paxPath: string | undefined;
  let paxSize: number | undefined;
  let entryStart: number | undefined;
  for (;;) {
    const headerAt = reader.position;
    const block = await reader.read(BLOCK);
    if (block.length === 0) return; // no end-of-archive blocks: tolerated
    if (block.length < BLOCK) throw new DecodeError('tar', `tar archive truncated inside the header at archive offset ${rel(headerAt)}`, headerAt);
    if (block.every((b) => b === 0)) return; // end of archive
    if (!tarChecksumMatches(block)) throw new DecodeError('tar', `tar header at archive offset ${rel(headerAt)} is damaged (checksum mismatch); the rest of the archive was not walked`, headerAt);
    entryStart ??= headerAt;
    const type = String.fromCharCode(block[156] || 0x30);
    let size = sizeField(block);
    if (size < 0) throw new DecodeError('tar', `tar header at archive offset ${rel(headerAt)} has an invalid size`, headerAt);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L' || type === 'x' || type === 'g' || type === 'K') {
      if (size > MAX_META_IN_BYTES) throw new DecodeError('tar', `tar metadata header at archive offset ${rel(headerAt)} declares ${size} bytes, over the ${MAX_META_IN_BYTES}-byte limit`, headerAt);
      const data = await reader.read(size);
      if (data.length < size || (await reader.skip(padded - size)) < padded - size) {
        throw new DecodeError('tar', `tar archive truncated inside the metadata at archive offset ${rel(headerAt)}`, reader.position);
      }
      if (type === 'L') longName = text(data, 0, data.length);
      if (type === 'x') {
        const pax = parsePax(data);
        paxPath = pax.get('path') ?? paxPath;
        const s = pax.get('size');
        if (s !== undefined && /^\d+$/.test(s)) paxSize = Number(s);
      }
      continue; // the entry itself follows
    }
    const magic = text(block, 257, 6);
    const prefix = magic === 'ustar' ? text(block, 345, 155) : '';
    const name = paxPath ?? longName ?? (prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100));
    if (paxSize !== undefined) size = paxSize;
    const first = entryStart;
    longName = paxPath = paxSize = entryStart = undefined;
    const dataSize = NO_DATA.has(type) ? 0 : size;
    const dataAt = reader.position;
    const dataEnd = dataAt + dataSize;
    if (dataSize > 0) await onEntry({ name, headerAt: first, dataAt, size: dataSize }, reader.take(dataSize));
    const padding = Math.ceil(dataSize / BLOCK) * BLOCK - dataSize;
    const left = dataEnd - reader.position;
    if (left > 0 && (await reader.skip(left)) < left) {
      throw new DecodeError('tar', `tar archive truncated inside the entry ${JSON.stringify(name)} (header at archive offset ${rel(first)})`, reader.position);
    }
    await reader.skip(padding);
  }
}
