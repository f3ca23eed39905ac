// Whole-content containers, recognised by their first bytes only (never by file name).

export type ContainerFormat = 'gzip' | 'zstd' | 'xz' | 'lz4' | 'zip' | 'tar';

/** How many leading bytes sniffContainer needs to decide (a tar header is 512). */
export const CONTAINER_SNIFF_BYTES = 512;

function at(head: Uint8Array, offset: number, bytes: readonly number[]): boolean {
  if (head.length < offset + bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (head[offset + i] !== bytes[i]) return false;
  return true;
}

/** A ustar/GNU tar header: 'ustar' magic at 257 and a header checksum that adds up. */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < 512 || !at(block, 257, [0x75, 0x73, 0x74, 0x61, 0x72])) return false;
  return tarChecksumMatches(block);
}

export function tarChecksumMatches(block: Uint8Array): boolean {
  let text = '';
  for (let i = 148; i < 156; i++) text += String.fromCharCode(block[i]);
  const stored = parseInt(text.replace(/\0.*$/s, '').trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return sum === stored;
}

export function sniffContainer(head: Uint8Array): ContainerFormat | undefined {
  // gzip: ID1 ID2, CM = 8 (deflate), reserved flag bits clear.
  if (at(head, 0, [0x1f, 0x8b, 0x08]) && head.length >= 10 && (head[3] & 0xe0) === 0) return 'gzip';
  // zstd frame: magic 0xFD2FB528, frame header descriptor's reserved bit clear.
  if (at(head, 0, [0x28, 0xb5, 0x2f, 0xfd]) && head.length >= 5 && (head[4] & 0x08) === 0) return 'zstd';
  // xz stream header: FD '7zXZ' 00.
  if (at(head, 0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz';
  // LZ4 frame: magic 0x184D2204, FLG version 01.
  if (at(head, 0, [0x04, 0x22, 0x4d, 0x18]) && head.length >= 5 && head[4] >> 6 === 1) return 'lz4';
  // zip: a local file header first (an archive of entries), or the end record of an empty one.
  if (at(head, 0, [0x50, 0x4b, 0x03, 0x04]) || at(head, 0, [0x50, 0x4b, 0x05, 0x06])) return 'zip';
  if (isTarHeader(head)) return 'tar';
  return undefined;
}

/** The label of a container in `inner` paths. */
export const LABELS = { gzip: 'GZIP', zstd: 'ZSTD', xz: 'XZ', lz4: 'LZ4', zip: 'ZIP', tar: 'TAR' } as const;
