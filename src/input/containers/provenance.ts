// Where a byte inside decompressed content came from, in the bulk_extractor-style notation of
// the finding's `inner` field (README, "Compressed dumps and archives"):
//
//   inner   = segment *( "/" segment )
//   segment = LABEL [ "[" name "]" ] "-" position
//
// `offset` is where the outermost container starts in the file. Each segment names a container
// that starts at the previous position (for the first segment: at `offset`) and gives a byte
// position in that container's content (the decompressed bytes of a stream, the data of an
// archive entry): the next container's start, or for the last segment the finding's start.
//   core.zst                    offset 0,    inner ZSTD-59736
//   dump.zip holding core       offset 0,    inner ZIP[core]-59736            (0 = the entry's local header)
//   cores.tar.gz                offset 0,    inner GZIP-360448/TAR[b.core]-59736
//   a zip entry that is a .zst  offset 1234, inner ZIP[core.zst]-0/ZSTD-59736

/** The container labels used in `inner` paths. */
export type ContainerLabel = 'GZIP' | 'ZSTD' | 'XZ' | 'LZ4' | 'ZIP' | 'TAR';

/** How positions in one byte space map to a finding's `offset` and `inner`. */
export interface Place {
  /** The file offset of the outermost container; undefined for the file's own bytes. */
  readonly root?: number;
  /** `inner` up to (not including) the position in this space, e.g. 'GZIP-512/TAR[a]-'. */
  readonly prefix: string;
}

export const FILE_PLACE: Place = { prefix: '' };

/**
 * An archive entry name as it appears between brackets: `%`, `[`, `]` and control characters
 * are percent-encoded (UTF-8 bytes), so the brackets always delimit the name.
 */
export function escapeEntryName(name: string): string {
  return name.replace(/[%[\]\u0000-\u001f\u007f-\u009f]/gu, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''),
  );
}

/** The segment that names a container: 'ZSTD', 'ZIP[core.1234]'. */
export function segment(label: ContainerLabel, name?: string): string {
  return name === undefined ? label : `${label}[${escapeEntryName(name)}]`;
}

/** The place of a container's content, for a container that starts at `position` of `place`. */
export function childPlace(place: Place, position: number, seg: string): Place {
  return place.root === undefined ? { root: position, prefix: `${seg}-` } : { root: place.root, prefix: `${place.prefix}${position}/${seg}-` };
}

/**
 * A position of `place` as a finding's `offset` and `inner`; `within` is the path inside a
 * stream embedded at that position (a gzip member in a decompressed core: `ZSTD-4096/GZIP-512`).
 */
export function locatePosition(place: Place, position: number, within?: string): { offset: number; inner?: string } {
  if (place.root === undefined) return within === undefined ? { offset: position } : { offset: position, inner: within };
  return { offset: place.root, inner: `${place.prefix}${position}${within === undefined ? '' : `/${within}`}` };
}

/** For messages: 'ZSTD-182736', or 'offset 182736' for the file's own bytes. */
export function describePosition(place: Place, position: number): string {
  return place.root === undefined ? `offset ${position}` : `${place.prefix}${position} (container at offset ${place.root})`;
}
