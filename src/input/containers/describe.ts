// `dumpguard info` for a compressed file or an archive: the container chain down to each piece
// of content (`zstd → ELF core`, `gzip → tar[core.1] → ELF core`) and that content's own layout
// (an ELF core's region table, a minidump's modules), read from the content's first bytes.
// The walk is the scan's (same decoders, limits and depth), with a host that keeps each
// content's head instead of scanning it; every stream is decoded to its end, to know its size.
import { open, type FileHandle } from 'node:fs/promises';
import { describeLayout, fileReader, readLayout, type DumpLayout } from '../../formats/index.js';
import { DEFAULT_CONTAINER_LIMITS } from './limits.js';
import type { Place } from './provenance.js';
import { headReader, StreamHead } from './stream-head.js';
import { CONTAINER_SNIFF_BYTES, scanContainerFile, sniffContainer, type ContainerHost } from './index.js';


export const FORMAT_NAMES: Record<DumpLayout['format'], string> = {
  'elf-core': 'ELF core',
  minidump: 'minidump',
  'windows-kernel-dump': 'Windows kernel dump',
  hprof: 'HPROF heap dump',
  'v8-heap-snapshot': 'V8 heap snapshot',
  raw: 'raw bytes',
};

export interface ContainedContent {
  /** The containers from the file inwards, as `inner` names them, lower-case: ['gzip', 'tar[core.1]']. */
  containers: string[];
  /** `inner` of the content's first byte, e.g. 'GZIP-0/TAR[core.1]-0'; with `offset`, where a finding in it would point. */
  inner: string;
  offset: number;
  /** Decompressed bytes of the content (as far as it decoded). */
  bytes: number;
  layout: DumpLayout;
}

export interface ContainerDescription {
  contents: ContainedContent[];
  /** Limits hit, corrupt or truncated data, unsupported entries: with the offset in the file. */
  problems: Array<{ offset: number; message: string }>;
}

/** 'gzip → tar[core.1] → ELF core'. */
export function chainText(content: ContainedContent): string {
  return [...content.containers, FORMAT_NAMES[content.layout.format]].join(' → ');
}

/** 'GZIP-0/TAR[core.1]-' → ['gzip', 'tar[core.1]']: the segment labels of the place, without positions. */
function containersOf(place: Place): string[] {
  return place.prefix
    .split('/')
    .map((segment) => segment.replace(/-\d*$/, ''))
    .filter((label) => label.length > 0)
    .map((label) => label.replace(/^[A-Z0-9]+/, (name) => name.toLowerCase()));
}

/** Walks a container file (it must be one: sniffContainer said so) and describes each content in it. */
export async function describeContainerFile(handle: FileHandle, size: number): Promise<ContainerDescription> {
  const contents: ContainedContent[] = [];
  const problems: ContainerDescription['problems'] = [];
  const host: ContainerHost = {
    limits: DEFAULT_CONTAINER_LIMITS,
    problem: (problem) => problems.push(problem),
    scanBytes: async (pieces, place) => {
      const head = new StreamHead();
      let failure: { error: unknown } | undefined;
      try {
        for await (const piece of pieces) head.add(piece);
      } catch (error) {
        failure = { error };
      }
      contents.push({ containers: containersOf(place), inner: `${place.prefix}0`, offset: place.root ?? 0, bytes: head.length, layout: await headLayout(head.bytes(), head.length) });
      if (failure) throw failure.error;
    },
  };
  await scanContainerFile(handle, size, host);
  return { contents, problems };
}

/** The layout from the content's first bytes; a layout that needs bytes past them is named by its format only. */
async function headLayout(head: Uint8Array, length: number): Promise<DumpLayout> {
  try {
    return await readLayout(headReader(head, length), length);
  } catch {
    const format = (await readLayout(async (offset, n) => head.subarray(Math.min(offset, head.length), Math.min(offset + n, head.length)), Math.min(length, head.length))).format;
    return { format, regions: [], facts: {}, warnings: [`the ${FORMAT_NAMES[format]}'s headers reach past its first ${head.length} bytes: its layout is not shown`] };
  }
}

/**
 * What `dumpguard info` shows of one file: its layout, or for a container each content's chain
 * and layout, as text lines and as a JSON document.
 */
export async function infoOfFile(path: string): Promise<{ lines: string[]; document: Record<string, unknown> }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const head = await fileReader(handle)(0, Math.min(CONTAINER_SNIFF_BYTES, size));
    if (sniffContainer(head) === undefined) {
      const layout = await readLayout(fileReader(handle), size);
      return { lines: describeLayout(layout), document: { path, ...layout } };
    }
    const { contents, problems } = await describeContainerFile(handle, size);
    const lines: string[] = [];
    for (const c of contents) {
      lines.push(`container: ${chainText(c)} (${c.bytes} bytes decompressed; findings in it: offset ${c.offset}, inner ${c.inner.replace(/0$/, '<position>')})`);
      lines.push(...describeLayout(c.layout).map((l) => `  ${l}`));
    }
    for (const p of problems) lines.push(`warning: at offset ${p.offset}: ${p.message}`);
    const document = {
      path,
      contents: contents.map((c) => ({ chain: chainText(c), containers: c.containers, offset: c.offset, inner: c.inner, decompressedBytes: c.bytes, ...c.layout })),
      problems,
    };
    return { lines, document };
  } finally {
    await handle.close();
  }
}
