// Entry point of the dump-format layer: sniff a file's format, parse its layout, describe it.
import { open } from 'node:fs/promises';
import { parseElfCore } from './elf-core.js';
import { describeHprofOffsets, type OffsetDescription } from './hprof.js';
import { addressRange, hex, type DumpFormat, type DumpLayout, type ReadAt } from './layout.js';
import { parseMinidump } from './minidump.js';
import { SNIFF_BYTES, sniffFormat } from './sniff.js';
import { describeV8SnapshotOffsets } from './v8-snapshot.js';

export { locate, type DumpFormat, type DumpLayout, type Location, type MemoryRegion, type ReadAt } from './layout.js';
export { sniffFormat, SNIFF_BYTES } from './sniff.js';
export { parseElfCore, ELF_LIMITS } from './elf-core.js';
export { parseMinidump, MINIDUMP_LIMITS } from './minidump.js';
export { ReadFailure } from './bytes.js';
export { describeHprofOffsets, type OffsetDescription } from './hprof.js';
export { describeV8SnapshotOffsets } from './v8-snapshot.js';

/**
 * Where each of `offsets` (finding file offsets) lives in a dump whose contents are objects
 * rather than mapped memory: hprof (`primitive array byte[] 0x<id>`, `instance 0x<id> of class
 * 0x<id>`, `object array ...`, `class dump ...`, `UTF-8 string 0x<id>`) and V8 heap snapshots
 * (`strings[<index>]`, else the top-level member: `nodes`, `edges`, ...). `address` stays
 * undefined for both. Other formats: an empty map (use `locate` with the layout for those).
 * Offsets the walk cannot place are absent from the map. Reads the file in bounded blocks,
 * linearly, and reads nothing when `offsets` is empty; call it only for files with findings.
 * Never throws on malformed input; rethrows I/O failures of `read` (ReadFailure).
 */
export async function describeOffsets(format: DumpFormat, read: ReadAt, fileSize: number, offsets: readonly number[]): Promise<Map<number, OffsetDescription>> {
  if (offsets.length === 0) return new Map();
  switch (format) {
    case 'hprof':
      return describeHprofOffsets(read, fileSize, offsets);
    case 'v8-heap-snapshot':
      return describeV8SnapshotOffsets(read, fileSize, offsets);
    default:
      return new Map();
  }
}

/**
 * Sniffs the format from the first bytes and parses what the format declares.
 * ELF cores and minidumps get regions; the other formats are named, with no regions.
 * Never throws on malformed input (warnings instead); rethrows I/O failures of `read`.
 */
export async function readLayout(read: ReadAt, fileSize: number): Promise<DumpLayout> {
  const head = fileSize > 0 ? await read(0, Math.min(SNIFF_BYTES, fileSize)) : new Uint8Array(0);
  const format = sniffFormat(head);
  switch (format) {
    case 'elf-core':
      return parseElfCore(read, fileSize);
    case 'minidump':
      return parseMinidump(read, fileSize);
    default:
      return { format, regions: [], facts: {}, warnings: [] };
  }
}

/** A ReadAt over an open file handle (positioned reads; short at end of file). */
export function fileReader(handle: { read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> }): ReadAt {
  return async (offset, length) => {
    const buffer = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === length ? buffer : buffer.subarray(0, filled);
  };
}

/** Opens `path`, reads its layout and closes it (for `dumpguard info` and the scan's per-file setup). */
export async function layoutOfFile(path: string): Promise<DumpLayout> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return await readLayout(fileReader(handle), size);
  } finally {
    await handle.close();
  }
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** Human-readable lines for `dumpguard info`: format, facts, warnings, regions, modules, threads. */
export function describeLayout(layout: DumpLayout): string[] {
  const lines: string[] = [`format: ${layout.format}`];
  for (const [key, value] of Object.entries(layout.facts)) lines.push(`${key}: ${value}`);
  if (layout.declaredSize !== undefined) lines.push(`declared size: ${layout.declaredSize} bytes`);
  for (const warning of layout.warnings) lines.push(`warning: ${warning}`);
  if (layout.regions.length > 0) {
    const inFile = layout.regions.reduce((sum, r) => sum + r.fileSize, 0);
    lines.push(`region table (${layout.regions.length} regions, ${inFile} bytes of memory in the file):`);
    lines.push(`  ${pad('file offset', 14)} ${pad('bytes', 12)} ${pad('address range', 37)} name`);
    for (const r of layout.regions) {
      lines.push(`  ${pad(hex(r.fileOffset), 14)} ${pad(String(r.fileSize), 12)} ${pad(addressRange(r.address, r.memorySize), 37)} ${r.name}`);
    }
  }
  if (layout.modules && layout.modules.length > 0) {
    lines.push(`module list (${layout.modules.length}):`);
    for (const m of layout.modules) lines.push(`  ${pad(addressRange(m.base, m.size), 37)} ${m.name}`);
  }
  if (layout.threads && layout.threads.length > 0) {
    lines.push(`thread list (${layout.threads.length}):`);
    for (const t of layout.threads) {
      const stack = t.stackSize > 0n ? `stack ${addressRange(t.stackStart, t.stackSize)}` : t.stackStart > 0n ? `sp ${hex(t.stackStart)}` : '';
      lines.push(`  ${pad(String(t.id), 10)} ${stack}`.trimEnd());
    }
  }
  return lines;
}
