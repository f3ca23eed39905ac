// Windows user-mode minidumps (also written by Breakpad/Crashpad on Linux and macOS).
// All integers little-endian. Layouts (minidumpapiset.h):
//   MINIDUMP_HEADER (32): Signature 'MDMP', Version (low 16 bits 0xa793), NumberOfStreams,
//     StreamDirectoryRva, CheckSum, TimeDateStamp, Flags (u64)
//   MINIDUMP_DIRECTORY (12): StreamType, Location { DataSize, Rva }
//   ThreadListStream (3): count, count x MINIDUMP_THREAD (48): ThreadId@0, Teb@16,
//     Stack MINIDUMP_MEMORY_DESCRIPTOR@24 { StartOfMemoryRange u64, Memory { DataSize, Rva } }, Context@40
//   ModuleListStream (4): count, count x MINIDUMP_MODULE (108): BaseOfImage u64@0, SizeOfImage@8, ModuleNameRva@20
//   MemoryListStream (5): count, count x MINIDUMP_MEMORY_DESCRIPTOR (16)
//   Memory64ListStream (9): count u64, BaseRva u64, count x { StartOfMemoryRange u64, DataSize u64 };
//     the ranges' bytes follow each other from BaseRva
//   SystemInfoStream (7): ProcessorArchitecture u16@0, NumberOfProcessors u8@6, Major@8, Minor@12,
//     Build@16, PlatformId@20, CSDVersionRva@24
//   MiscInfoStream (15): SizeOfInfo, Flags1 (bit 0: ProcessId valid), ProcessId
//   MINIDUMP_STRING: Length in bytes (u32), UTF-16LE text
// Some writers put 4 bytes of padding after a list's 32-bit count; the stream size tells.
import { printable, ReadFailure, Source, toSafeNumber, View } from './bytes.js';
import { baseName, capWarnings, nonOverlapping, spanAt, truncationWarning, type DumpLayout, type MemoryRegion, type ReadAt, type Span } from './layout.js';

/** Upper bounds on every count or length read from the file. */
export const MINIDUMP_LIMITS = {
  maxStreams: 4096,
  maxThreads: 1 << 16,
  maxModules: 1 << 16,
  maxMemoryRanges: 1 << 22,
  /** UTF-16 bytes of one MINIDUMP_STRING (Windows paths are at most 32767 characters). */
  maxStringBytes: 65534,
  maxCommandLineBytes: 64 * 1024,
} as const;

const SIGNATURE = 0x504d444d; // 'MDMP'
const STREAM = {
  threadList: 3,
  moduleList: 4,
  memoryList: 5,
  systemInfo: 7,
  memory64List: 9,
  miscInfo: 15,
  linuxCmdLine: 0x47670007,
} as const;

const ARCHITECTURES: Record<number, string> = {
  0: 'x86',
  1: 'mips',
  2: 'alpha',
  3: 'ppc',
  4: 'shx',
  5: 'arm',
  6: 'ia64',
  7: 'alpha64',
  8: 'msil',
  9: 'amd64',
  10: 'x86-on-win64',
  12: 'arm64',
  0x8001: 'sparc',
  0x8002: 'ppc64',
  0x8003: 'arm64',
  0x8004: 'mips64',
  0x8005: 'riscv',
  0x8006: 'riscv64',
};

const PLATFORMS: Record<number, string> = {
  0: 'Windows 3.1 (Win32s)',
  1: 'Windows 9x',
  2: 'Windows NT',
  3: 'Windows CE',
  0x8000: 'Unix',
  0x8101: 'macOS',
  0x8102: 'iOS',
  0x8201: 'Linux',
  0x8202: 'Solaris',
  0x8203: 'Android',
  0x8204: 'PS3',
  0x8205: 'NaCl',
  0x8206: 'Fuchsia',
};

interface Range {
  start: bigint;
  size: bigint;
  offset: bigint;
}

function emptyLayout(warnings: string[]): DumpLayout {
  return { format: 'minidump', regions: [], facts: {}, warnings };
}

/**
 * Parses a minidump through `read` (header, directory and the streams it needs).
 * Never throws on malformed or truncated input: what cannot be parsed becomes a warning.
 * I/O failures of `read` itself are rethrown (a ReadFailure wrapping the cause).
 */
export async function parseMinidump(read: ReadAt, fileSize: number): Promise<DumpLayout> {
  const warnings: string[] = [];
  try {
    return await parse(new Source(read, fileSize), warnings);
  } catch (error) {
    if (error instanceof ReadFailure) throw error;
    warnings.push(`minidump: parse error: ${error instanceof Error ? error.message : String(error)}`);
    return emptyLayout(capWarnings(warnings));
  }
}

async function parse(source: Source, warnings: string[]): Promise<DumpLayout> {
  const fileSize = source.size;
  const header = await source.view(0, 32, true);
  if (!header.has(0, 32)) {
    warnings.push(`truncated: file has ${fileSize} bytes, too few for a minidump header (32)`);
    return { ...emptyLayout(warnings), declaredSize: 32 };
  }
  if (header.u32(0) !== SIGNATURE) {
    warnings.push('minidump: no MDMP signature');
    return emptyLayout(warnings);
  }
  const version = header.u32(4);
  if ((version & 0xffff) !== 0xa793) warnings.push(`minidump: unexpected version 0x${version.toString(16)}`);
  const declaredStreams = header.u32(8);
  const directoryRva = header.u32(12);
  const timeDateStamp = header.u32(20);

  let declared = 32;
  const extend = (offset: bigint | number, size: bigint | number) => {
    const end = toSafeNumber(BigInt(offset) + BigInt(size));
    if (end !== undefined && end > declared) declared = end;
  };

  let streamCount = declaredStreams;
  if (streamCount > MINIDUMP_LIMITS.maxStreams) {
    warnings.push(`minidump: ${declaredStreams} streams declared, only the first ${MINIDUMP_LIMITS.maxStreams} read`);
    streamCount = MINIDUMP_LIMITS.maxStreams;
  }
  extend(directoryRva, streamCount * 12);
  const dir = await source.view(directoryRva, streamCount * 12, true);
  const streams = new Map<number, { size: number; rva: number }>();
  let used = 0;
  let duplicates = 0;
  let readEntries = 0;
  for (let i = 0; i < streamCount && dir.has(i * 12, 12); i++, readEntries++) {
    const type = dir.u32(i * 12);
    const size = dir.u32(i * 12 + 4);
    const rva = dir.u32(i * 12 + 8);
    if (type === 0) continue; // UnusedStream
    used++;
    extend(rva, size);
    if (streams.has(type)) duplicates++;
    else streams.set(type, { size, rva });
  }
  if (duplicates > 0) warnings.push(`minidump: ${duplicates} directory entries repeat an earlier stream type; the first of each is used`);
  if (readEntries < streamCount) warnings.push(`truncated: stream directory cut after ${readEntries} of ${streamCount} entries`);

  const facts: DumpLayout['facts'] = { streams: declaredStreams, streamsUsed: used };
  if (timeDateStamp > 0) facts.dumpTime = new Date(timeDateStamp * 1000).toISOString();

  const streamView = async (type: number): Promise<View | undefined> => {
    const s = streams.get(type);
    if (!s || s.size === 0) return undefined;
    const v = await source.view(s.rva, s.size, true);
    if (v.length < s.size) warnings.push(`truncated: stream ${type} cut after ${v.length} of ${s.size} bytes`);
    return v;
  };

  /** Count and first-entry offset of a list stream with a 32-bit count, allowing 4 bytes of padding. */
  const list = (type: number, v: View, entrySize: number, limit: number, what: string): { count: number; first: number } => {
    const declaredCount = v.u32(0);
    const size = streams.get(type)?.size ?? 0;
    const first = size === 8 + declaredCount * entrySize ? 8 : 4;
    let count = Math.min(declaredCount, Math.max(0, Math.floor((size - first) / entrySize)));
    if (count < declaredCount) warnings.push(`minidump: ${what} list declares ${declaredCount} entries, its stream holds ${count}`);
    if (count > limit) {
      warnings.push(`minidump: ${count} ${what}, only the first ${limit} read`);
      count = limit;
    }
    return { count, first };
  };

  // Threads.
  const threads: NonNullable<DumpLayout['threads']> = [];
  const threadView = await streamView(STREAM.threadList);
  if (threadView?.has(0, 4)) {
    const { count, first } = list(STREAM.threadList, threadView, 48, MINIDUMP_LIMITS.maxThreads, 'threads');
    for (let i = 0; i < count; i++) {
      const at = first + i * 48;
      if (!threadView.has(at, 48)) break;
      const stackSize = threadView.u32(at + 32);
      extend(threadView.u32(at + 36), stackSize);
      extend(threadView.u32(at + 44), threadView.u32(at + 40)); // thread context
      threads.push({ id: threadView.u32(at), stackStart: threadView.u64(at + 24), stackSize: BigInt(stackSize) });
    }
  }

  // Modules.
  const modules: NonNullable<DumpLayout['modules']> = [];
  const moduleView = await streamView(STREAM.moduleList);
  if (moduleView?.has(0, 4)) {
    const { count, first } = list(STREAM.moduleList, moduleView, 108, MINIDUMP_LIMITS.maxModules, 'modules');
    for (let i = 0; i < count; i++) {
      const at = first + i * 108;
      if (!moduleView.has(at, 108)) break;
      const nameRva = moduleView.u32(at + 20);
      extend(moduleView.u32(at + 80), moduleView.u32(at + 76)); // CodeView record
      extend(moduleView.u32(at + 88), moduleView.u32(at + 84)); // misc record
      const name = (await readString(source, nameRva, extend)) ?? `module@0x${moduleView.u64(at).toString(16)}`;
      modules.push({ name, base: moduleView.u64(at), size: BigInt(moduleView.u32(at + 8)) });
    }
  }

  // Memory: MemoryListStream descriptors and/or Memory64ListStream (full dumps).
  const ranges: Range[] = [];
  const memoryView = await streamView(STREAM.memoryList);
  if (memoryView?.has(0, 4)) {
    const { count, first } = list(STREAM.memoryList, memoryView, 16, MINIDUMP_LIMITS.maxMemoryRanges, 'memory ranges');
    for (let i = 0; i < count; i++) {
      const at = first + i * 16;
      if (!memoryView.has(at, 16)) break;
      const range = { start: memoryView.u64(at), size: BigInt(memoryView.u32(at + 8)), offset: BigInt(memoryView.u32(at + 12)) };
      extend(range.offset, range.size);
      ranges.push(range);
    }
  }
  const memory64 = streams.get(STREAM.memory64List);
  if (memory64 && memory64.size >= 16) {
    const head = await source.view(memory64.rva, 16, true);
    if (head.has(0, 16)) {
      const declaredCount = head.u64(0);
      const fits = BigInt(Math.floor((memory64.size - 16) / 16));
      let count = declaredCount < fits ? declaredCount : fits;
      if (count < declaredCount) warnings.push(`minidump: memory64 list declares ${declaredCount} ranges, its stream holds ${count}`);
      if (count > BigInt(MINIDUMP_LIMITS.maxMemoryRanges)) {
        warnings.push(`minidump: ${count} memory64 ranges, only the first ${MINIDUMP_LIMITS.maxMemoryRanges} read`);
        count = BigInt(MINIDUMP_LIMITS.maxMemoryRanges);
      }
      let offset = head.u64(8);
      const n = Number(count);
      const batch = 1 << 16;
      let cut = false;
      for (let firstIndex = 0; firstIndex < n && !cut; firstIndex += batch) {
        const k = Math.min(batch, n - firstIndex);
        const v = await source.view(memory64.rva + 16 + firstIndex * 16, k * 16, true);
        for (let i = 0; i < k; i++) {
          if (!v.has(i * 16, 16)) {
            cut = true;
            warnings.push(`truncated: memory64 list cut after ${firstIndex + i} of ${n} descriptors`);
            break;
          }
          const range = { start: v.u64(i * 16), size: v.u64(i * 16 + 8), offset };
          ranges.push(range);
          offset += range.size;
        }
      }
      // The data of all ranges follows BaseRva; its end is declared even if descriptors are cut.
      extend(offset, 0);
    }
  }

  const regions = memoryRegions(ranges, modules, threads, fileSize, warnings);

  // System info.
  const systemView = await streamView(STREAM.systemInfo);
  if (systemView?.has(0, 28)) {
    const arch = systemView.u16(0);
    const platform = systemView.u32(20);
    const platformName = PLATFORMS[platform] ?? `platform 0x${platform.toString(16)}`;
    facts.os = `${platformName} ${systemView.u32(8)}.${systemView.u32(12)}.${systemView.u32(16)}`;
    facts.cpu = ARCHITECTURES[arch] ?? `architecture 0x${arch.toString(16)}`;
    facts.cpus = systemView.u8(6);
    const csd = await readString(source, systemView.u32(24), extend);
    if (csd) facts.osDetail = csd;
  }

  // Process id (MiscInfo) and, for Breakpad dumps from Linux, the command line.
  const miscView = await streamView(STREAM.miscInfo);
  if (miscView?.has(0, 12) && (miscView.u32(4) & 1) !== 0) facts.pid = miscView.u32(8);
  const cmdline = streams.get(STREAM.linuxCmdLine);
  if (cmdline && cmdline.size > 0) {
    const v = await source.view(cmdline.rva, Math.min(cmdline.size, MINIDUMP_LIMITS.maxCommandLineBytes), true);
    const text = printable(new TextDecoder('utf-8').decode(v.bytes).replace(/\0+$/, '').replace(/\0/g, ' ')).trim();
    if (text) facts.command = text;
  }
  if (facts.command === undefined && modules.length > 0) facts.executable = baseName(modules[0].name);

  facts.threads = threads.length;
  facts.modules = modules.length;
  facts.memoryRanges = ranges.length;

  if (fileSize < declared) warnings.unshift(truncationWarning(declared, fileSize));
  return { format: 'minidump', regions, facts, declaredSize: declared, warnings: capWarnings(warnings), modules, threads };
}

/** A MINIDUMP_STRING at `rva`, or undefined when absent or unreadable. */
async function readString(source: Source, rva: number, extend: (offset: number, size: number) => void): Promise<string | undefined> {
  if (rva === 0) return undefined;
  const head = await source.view(rva, 4, true);
  if (!head.has(0, 4)) {
    extend(rva, 4);
    return undefined;
  }
  const length = Math.min(head.u32(0), MINIDUMP_LIMITS.maxStringBytes) & ~1;
  extend(rva + 4, length);
  const body = await source.bytes(rva + 4, length);
  return printable(new TextDecoder('utf-16le').decode(body.subarray(0, body.length & ~1)));
}

function memoryRegions(
  ranges: Range[],
  modules: NonNullable<DumpLayout['modules']>,
  threads: NonNullable<DumpLayout['threads']>,
  fileSize: number,
  warnings: string[],
): MemoryRegion[] {
  const moduleSpans: Span[] = modules.map((m) => ({ start: m.base, end: m.base + m.size, label: `module ${baseName(m.name)}` }));
  const stackSpans: Span[] = threads.map((t) => ({ start: t.stackStart, end: t.stackStart + t.stackSize, label: `thread ${t.id} stack` }));
  // Sorted once for the binary search.
  const byStart = (a: Span, b: Span) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0);
  moduleSpans.sort(byStart);
  stackSpans.sort(byStart);
  const find = spanAt;

  const regions: MemoryRegion[] = [];
  let unsafe = 0;
  for (const r of ranges) {
    if (r.size === 0n) continue;
    const offset = toSafeNumber(r.offset);
    const size = toSafeNumber(r.size);
    if (offset === undefined || size === undefined) {
      unsafe++;
      continue;
    }
    if (offset >= fileSize) continue;
    const module = find(moduleSpans, r.start);
    const stack = module ? undefined : find(stackSpans, r.start);
    regions.push({
      fileOffset: offset,
      fileSize: Math.min(size, fileSize - offset),
      address: r.start,
      memorySize: r.size,
      name: module?.label ?? stack?.label ?? 'memory',
      fileBacked: module !== undefined,
      readOnly: module !== undefined,
    });
  }
  if (unsafe > 0) warnings.push(`minidump: ${unsafe} memory ranges with offsets beyond 2^53 ignored`);
  return nonOverlapping(regions, warnings);
}
