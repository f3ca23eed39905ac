// The shared shape of a parsed dump: which bytes of the file hold which memory, plus facts
// for the summary. Parsers build a DumpLayout once per file; `locate` maps a finding's
// file offset to its virtual address and region, and is called once per finding.

export type DumpFormat = 'elf-core' | 'minidump' | 'windows-kernel-dump' | 'hprof' | 'v8-heap-snapshot' | 'raw';

/** A positioned reader. May return fewer bytes than asked at the end of the file; never more. */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

export interface MemoryRegion {
  /** Bytes of the file holding this region (fileSize may be < memorySize). */
  fileOffset: number;
  fileSize: number;
  /** Virtual address of the byte at fileOffset. */
  address: bigint;
  memorySize: bigint;
  /** e.g. 'libcrypto.so.3 r--p', 'anon rw-p', 'module foo.dll', 'thread 1234 stack', 'memory'. */
  name: string;
  /** 'r-xp' style, when known. */
  perms?: string;
  /** The mapped file's path (ELF NT_FILE), when the region is file-backed and the dump names it. */
  mappedFile?: string;
  fileBacked: boolean;
  /** No write permission (when known; minidump memory: false unless inside a module image). */
  readOnly: boolean;
}

export interface DumpLayout {
  format: DumpFormat;
  /** Sorted by fileOffset, non-overlapping in the file. */
  regions: MemoryRegion[];
  /** pid, command, os, cpu, threads, modules... for the summary. */
  facts: Record<string, string | number>;
  /** Bytes the headers say the file should have. */
  declaredSize?: number;
  /** e.g. 'truncated: headers declare 123456 bytes, file has 100000'. */
  warnings: string[];
  modules?: Array<{ name: string; base: bigint; size: bigint }>;
  threads?: Array<{ id: number; stackStart: bigint; stackSize: bigint }>;
}

export interface Location {
  /** '0x7f3a1c2e4010': lowercase hex, no padding. */
  address: string;
  region: string;
  readOnly: boolean;
  fileBacked: boolean;
}

export function hex(value: bigint | number): string {
  return '0x' + value.toString(16);
}

/** '[0x7f00-0x7f80)' */
export function addressRange(start: bigint, size: bigint): string {
  return `[${hex(start)}-${hex(start + size)})`;
}

/** The last path component, for either separator ('C:\\x\\foo.dll' -> 'foo.dll'). */
export function baseName(path: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return cut >= 0 && cut < path.length - 1 ? path.slice(cut + 1) : path;
}

export function truncationWarning(declared: number, actual: number): string {
  return `truncated: headers declare ${declared} bytes, file has ${actual}`;
}

/** At most this many warnings per layout; the rest are counted in a final line. */
export const MAX_WARNINGS = 50;

export function capWarnings(warnings: string[]): string[] {
  if (warnings.length <= MAX_WARNINGS) return warnings;
  const more = warnings.length - (MAX_WARNINGS - 1);
  return [...warnings.slice(0, MAX_WARNINGS - 1), `... and ${more} more warnings`];
}

/** Sorts by file offset and trims regions that overlap an earlier one in the file. */
export function nonOverlapping(regions: MemoryRegion[], warnings: string[]): MemoryRegion[] {
  regions.sort((a, b) => a.fileOffset - b.fileOffset || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const out: MemoryRegion[] = [];
  let end = 0;
  let trimmed = 0;
  for (const r of regions) {
    if (r.fileOffset >= end) {
      out.push(r);
      end = r.fileOffset + r.fileSize;
      continue;
    }
    trimmed++;
    const skip = end - r.fileOffset;
    if (skip >= r.fileSize) continue;
    const memorySize = r.memorySize > BigInt(skip) ? r.memorySize - BigInt(skip) : 0n;
    out.push({ ...r, fileOffset: end, fileSize: r.fileSize - skip, address: r.address + BigInt(skip), memorySize });
    end = r.fileOffset + r.fileSize;
  }
  if (trimmed > 0) warnings.push(`${trimmed} memory regions overlap others in the file; trimmed to the first`);
  return out;
}

/** An address interval with a label, searched by start address. */
export interface Span {
  start: bigint;
  end: bigint;
  label: string;
}

interface LayoutIndex {
  starts: Float64Array;
  regions: MemoryRegion[];
  modules: Span[];
  stacks: Span[];
}

// Built once per layout on first use; layouts are treated as immutable after parsing.
const indexes = new WeakMap<DumpLayout, LayoutIndex>();

function spansOf<T>(items: readonly T[] | undefined, span: (item: T) => Span | undefined): Span[] {
  const out: Span[] = [];
  for (const item of items ?? []) {
    const s = span(item);
    if (s && s.end > s.start) out.push(s);
  }
  out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return out;
}

function indexOf(layout: DumpLayout): LayoutIndex {
  let index = indexes.get(layout);
  if (index) return index;
  const regions = layout.regions.filter((r) => r.fileSize > 0).sort((a, b) => a.fileOffset - b.fileOffset);
  const starts = new Float64Array(regions.length);
  regions.forEach((r, i) => (starts[i] = r.fileOffset));
  const modules = spansOf(layout.modules, (m) => ({ start: m.base, end: m.base + m.size, label: `module ${baseName(m.name)}` }));
  const stacks = spansOf(layout.threads, (t) => ({ start: t.stackStart, end: t.stackStart + t.stackSize, label: `thread ${t.id} stack` }));
  index = { starts, regions, modules, stacks };
  indexes.set(layout, index);
  return index;
}

/** The span containing `address`: the one with the greatest start <= address, if it reaches it. */
export function spanAt(spans: readonly Span[], address: bigint): Span | undefined {
  let lo = 0;
  let hi = spans.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (spans[mid].start <= address) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // Spans may nest (rare); walk back over earlier starts while they could still contain it.
  for (let i = found; i >= 0 && i > found - 8; i--) {
    if (address < spans[i].end) return spans[i];
  }
  return undefined;
}

/**
 * The virtual address and region of the byte at `fileOffset`, or undefined when that byte
 * holds no process memory (headers, notes, stream data, or outside every region).
 * O(log n) per call after a one-time index build.
 */
export function locate(layout: DumpLayout, fileOffset: number): Location | undefined {
  if (!Number.isFinite(fileOffset) || fileOffset < 0) return undefined;
  const { starts, regions, modules, stacks } = indexOf(layout);
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid] <= fileOffset) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return undefined;
  const region = regions[found];
  const delta = fileOffset - region.fileOffset;
  if (delta >= region.fileSize) return undefined;
  const address = region.address + BigInt(Math.floor(delta));
  if (layout.format === 'minidump') {
    const module = spanAt(modules, address);
    if (module) return { address: hex(address), region: module.label, readOnly: true, fileBacked: true };
    const stack = spanAt(stacks, address);
    if (stack) return { address: hex(address), region: stack.label, readOnly: false, fileBacked: false };
    return { address: hex(address), region: `memory ${addressRange(region.address, region.memorySize)}`, readOnly: false, fileBacked: false };
  }
  const what = region.mappedFile !== undefined ? baseName(region.mappedFile) : region.fileBacked ? region.name : 'anon';
  const perms = region.perms ? ` ${region.perms}` : '';
  return {
    address: hex(address),
    region: `${addressRange(region.address, region.memorySize)}${perms} ${what}`,
    readOnly: region.readOnly,
    fileBacked: region.fileBacked,
  };
}
