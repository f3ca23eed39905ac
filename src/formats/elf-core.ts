// ELF core files (Linux kernel core dumps and gdb's gcore): PT_LOAD program headers map file
// bytes to virtual addresses; PT_NOTE segments carry NT_PRSTATUS (one per thread),
// NT_PRPSINFO (pid, command) and NT_FILE (which file each mapping came from).
//
// Layouts used here (System V ABI and Linux <linux/elfcore.h>, <linux/elf.h>):
//   Elf64_Ehdr: e_type@16 e_machine@18 e_phoff@32 e_shoff@40 e_phentsize@54 e_phnum@56 e_shentsize@58 e_shnum@60
//   Elf32_Ehdr: e_type@16 e_machine@18 e_phoff@28 e_shoff@32 e_phentsize@42 e_phnum@44 e_shentsize@46 e_shnum@48
//   Elf64_Phdr (56): type@0 flags@4 offset@8 vaddr@16 paddr@24 filesz@32 memsz@40 align@48
//   Elf32_Phdr (32): type@0 offset@4 vaddr@8 paddr@12 filesz@16 memsz@20 flags@24 align@28
//   note: namesz, descsz, type (u32 each), name and desc each padded to 4 bytes
//   NT_FILE desc: count, page_size, count x (start, end, file_ofs) words, then count NUL-terminated paths
//   elf_prpsinfo ends with pr_pid, pr_ppid, pr_pgrp, pr_sid (i32), pr_fname[16], pr_psargs[80]
//   elf_prstatus: pr_pid at 32 (64-bit) or 24 (32-bit); pr_reg at 112 (64-bit)
import { printable, ReadFailure, Source, toSafeNumber, View } from './bytes.js';
import { baseName, capWarnings, nonOverlapping, truncationWarning, type DumpLayout, type MemoryRegion, type ReadAt } from './layout.js';

/** Upper bounds on every count or length read from the file. */
export const ELF_LIMITS = {
  /** Linux caps mappings at vm.max_map_count (65530 by default); leave room for raised limits. */
  maxProgramHeaders: 1 << 20,
  maxSectionHeaders: 1 << 20,
  /** Bytes of one PT_NOTE segment read (a process with 10k threads has ~40 MiB of notes). */
  maxNoteSegmentBytes: 64 * 1024 * 1024,
  maxNoteSegments: 64,
  maxNotesPerSegment: 1 << 20,
  maxFileEntries: 1 << 20,
  maxPathBytes: 4096,
  maxThreads: 1 << 20,
} as const;

const ET_CORE = 4;
const PT_LOAD = 1;
const PT_NOTE = 4;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
const PN_XNUM = 0xffff;
const NT_PRSTATUS = 1;
const NT_PRPSINFO = 3;
const NT_FILE = 0x46494c45;

const MACHINES: Record<number, string> = {
  3: 'x86',
  8: 'mips',
  20: 'ppc',
  21: 'ppc64',
  22: 's390',
  40: 'arm',
  62: 'x86-64',
  183: 'aarch64',
  243: 'riscv',
  258: 'loongarch',
};
const EM_X86_64 = 62;
const EM_AARCH64 = 183;

interface Segment {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
}

interface MappedFile {
  start: bigint;
  end: bigint;
  path: string;
}

function perms(flags: number): string {
  return `${flags & PF_R ? 'r' : '-'}${flags & PF_W ? 'w' : '-'}${flags & PF_X ? 'x' : '-'}p`;
}

function emptyLayout(warnings: string[]): DumpLayout {
  return { format: 'elf-core', regions: [], facts: {}, warnings };
}

/**
 * Parses an ELF core through `read` (headers, program headers and notes only).
 * Never throws on malformed or truncated input: what cannot be parsed becomes a warning.
 * I/O failures of `read` itself are rethrown (a ReadFailure wrapping the cause).
 */
export async function parseElfCore(read: ReadAt, fileSize: number): Promise<DumpLayout> {
  const source = new Source(read, fileSize);
  const warnings: string[] = [];
  try {
    return await parse(source, warnings);
  } catch (error) {
    if (error instanceof ReadFailure) throw error;
    warnings.push(`elf-core: parse error: ${error instanceof Error ? error.message : String(error)}`);
    return emptyLayout(capWarnings(warnings));
  }
}

async function parse(source: Source, warnings: string[]): Promise<DumpLayout> {
  const fileSize = source.size;
  const ident = await source.bytes(0, 64);
  const magic = [0x7f, 0x45, 0x4c, 0x46];
  if (magic.some((b, i) => i < ident.length && ident[i] !== b)) {
    warnings.push('elf-core: not an ELF file');
    return emptyLayout(warnings);
  }
  if (ident.length < 6) {
    warnings.push(`truncated: file has ${fileSize} bytes, too few for an ELF header`);
    return emptyLayout(warnings);
  }
  const is64 = ident[4] === 2;
  if (ident[4] !== 1 && ident[4] !== 2) warnings.push(`elf-core: unknown ELF class ${ident[4]}`);
  if (ident[5] !== 1 && ident[5] !== 2) warnings.push(`elf-core: unknown ELF data encoding ${ident[5]}`);
  if ((ident[4] !== 1 && ident[4] !== 2) || (ident[5] !== 1 && ident[5] !== 2)) return emptyLayout(warnings);
  const le = ident[5] === 1;
  const ehsize = is64 ? 64 : 52;
  const h = new View(ident, le);
  if (!h.has(0, ehsize)) {
    warnings.push(`truncated: file has ${fileSize} bytes, too few for an ELF header (${ehsize})`);
    return { ...emptyLayout(warnings), declaredSize: ehsize };
  }
  const eType = h.u16(16);
  const machine = h.u16(18);
  const wordSize: 4 | 8 = is64 ? 8 : 4;
  const phoff = h.word(is64 ? 32 : 28, wordSize);
  const shoff = h.word(is64 ? 40 : 32, wordSize);
  const phentsize = h.u16(is64 ? 54 : 42);
  let phnum = h.u16(is64 ? 56 : 44);
  const shentsize = h.u16(is64 ? 58 : 46);
  let shnum = h.u16(is64 ? 60 : 48);
  const facts: DumpLayout['facts'] = {};
  facts.class = `ELF${is64 ? 64 : 32} ${le ? 'little' : 'big'}-endian`;
  facts.cpu = MACHINES[machine] ?? `machine ${machine}`;
  if (eType !== ET_CORE) {
    warnings.push(`elf-core: ELF type ${eType} is not a core file (ET_CORE = 4)`);
    return { format: 'elf-core', regions: [], facts, warnings };
  }

  let declared = ehsize;
  let hugeExtents = 0;
  const extend = (offset: bigint, size: bigint) => {
    const end = toSafeNumber(offset + size);
    if (end === undefined) hugeExtents++;
    else if (end > declared) declared = end;
  };

  // Section headers: only to learn the file's declared extent, and the real counts when
  // e_phnum / e_shnum overflow (PN_XNUM: the counts live in section header 0).
  const shdrSize = is64 ? 64 : 40;
  const shoffNum = toSafeNumber(shoff);
  if (shoffNum !== undefined && shoffNum > 0 && shentsize >= shdrSize) {
    const sh0 = await source.view(shoffNum, shdrSize, le);
    if (sh0.has(0, shdrSize)) {
      if (shnum === 0) {
        const n = sh0.word(is64 ? 32 : 20, wordSize);
        shnum = n > BigInt(ELF_LIMITS.maxSectionHeaders) ? ELF_LIMITS.maxSectionHeaders : Number(n);
      }
      if (phnum === PN_XNUM) {
        const n = sh0.u32(is64 ? 44 : 28);
        phnum = Math.min(n, ELF_LIMITS.maxProgramHeaders);
        if (n > ELF_LIMITS.maxProgramHeaders) warnings.push(`elf-core: ${n} program headers, only the first ${phnum} read`);
      }
    }
    if (shnum > 0) {
      shnum = Math.min(shnum, ELF_LIMITS.maxSectionHeaders);
      extend(shoff, BigInt(shnum) * BigInt(shentsize));
      await readSectionExtents(source, shoffNum, shnum, shentsize, is64, le, extend);
    }
  } else if (shnum > 0 && shentsize < shdrSize) {
    warnings.push(`elf-core: section header size ${shentsize} too small, section headers ignored`);
  }

  // Program headers.
  const phdrSize = is64 ? 56 : 32;
  const segments: Segment[] = [];
  const phoffNum = toSafeNumber(phoff);
  if (phnum > 0 && (phentsize < phdrSize || phoffNum === undefined)) {
    warnings.push(`elf-core: unusable program header table (entry size ${phentsize}, offset ${phoff})`);
  } else if (phnum > 0 && phoffNum !== undefined) {
    extend(phoff, BigInt(phnum) * BigInt(phentsize));
    const batch = Math.max(1, Math.floor((4 * 1024 * 1024) / phentsize));
    let cut = false;
    for (let first = 0; first < phnum && !cut; first += batch) {
      const count = Math.min(batch, phnum - first);
      const v = await source.view(phoffNum + first * phentsize, count * phentsize, le);
      for (let i = 0; i < count; i++) {
        const at = i * phentsize;
        if (!v.has(at, phdrSize)) {
          cut = true;
          warnings.push(`truncated: program header table cut after ${first + i} of ${phnum} entries`);
          break;
        }
        segments.push(
          is64
            ? { type: v.u32(at), flags: v.u32(at + 4), offset: v.u64(at + 8), vaddr: v.u64(at + 16), filesz: v.u64(at + 32), memsz: v.u64(at + 40) }
            : { type: v.u32(at), offset: BigInt(v.u32(at + 4)), vaddr: BigInt(v.u32(at + 8)), filesz: BigInt(v.u32(at + 16)), memsz: BigInt(v.u32(at + 20)), flags: v.u32(at + 24) },
        );
      }
    }
  }
  for (const s of segments) if (s.type !== 0 && s.filesz > 0n) extend(s.offset, s.filesz);

  // Notes.
  const notes = new NoteFacts();
  let noteSegments = 0;
  for (const s of segments) {
    if (s.type !== PT_NOTE || s.filesz === 0n) continue;
    if (++noteSegments > ELF_LIMITS.maxNoteSegments) {
      warnings.push(`elf-core: more than ${ELF_LIMITS.maxNoteSegments} note segments, the rest ignored`);
      break;
    }
    const offset = toSafeNumber(s.offset);
    if (offset === undefined) continue;
    let size = s.filesz;
    if (size > BigInt(ELF_LIMITS.maxNoteSegmentBytes)) {
      warnings.push(`elf-core: note segment of ${size} bytes, only the first ${ELF_LIMITS.maxNoteSegmentBytes} read`);
      size = BigInt(ELF_LIMITS.maxNoteSegmentBytes);
    }
    const v = await source.view(offset, Number(size), le);
    if (v.length < Number(size) && offset < fileSize) warnings.push(`truncated: note segment at ${offset} cut after ${v.length} of ${size} bytes`);
    readNotes(v, is64, machine, notes, warnings);
  }

  // Regions: the PT_LOAD segments that have bytes in the file, clipped to what is present.
  const files = [...notes.files].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const loads = segments.filter((s) => s.type === PT_LOAD);
  const regions: MemoryRegion[] = [];
  let unsafe = 0;
  for (const s of loads) {
    if (s.filesz === 0n) continue;
    const offset = toSafeNumber(s.offset);
    const size = toSafeNumber(s.filesz);
    if (offset === undefined || size === undefined) {
      unsafe++;
      continue;
    }
    if (offset >= fileSize) continue;
    const present = Math.min(size, fileSize - offset);
    const file = fileAt(files, s.vaddr);
    const p = perms(s.flags);
    regions.push({
      fileOffset: offset,
      fileSize: present,
      address: s.vaddr,
      memorySize: s.memsz > s.filesz ? s.memsz : s.filesz,
      name: `${file ? baseName(file.path) : 'anon'} ${p}`,
      perms: p,
      ...(file ? { mappedFile: file.path } : {}),
      fileBacked: file !== undefined,
      readOnly: (s.flags & PF_W) === 0,
    });
  }
  if (unsafe > 0) warnings.push(`elf-core: ${unsafe} segments with offsets beyond 2^53 ignored`);
  if (hugeExtents > 0) warnings.push(`elf-core: ${hugeExtents} headers declare extents beyond 2^53 bytes; ignored for the declared size`);
  const sorted = nonOverlapping(regions, warnings);

  if (notes.pid !== undefined) facts.pid = notes.pid;
  else if (notes.threads.length > 0) facts.pid = notes.threads[0].id;
  if (notes.command !== undefined) facts.command = notes.command;
  if (notes.args !== undefined && notes.args !== '') facts.args = notes.args;
  facts.threads = notes.threads.length;
  facts.segments = loads.length;
  facts.segmentsInFile = sorted.length;
  if (notes.files.length > 0) facts.mappedFiles = notes.files.length;

  // A thread's live stack: from its stack pointer to the end of the segment holding it.
  const byAddress = [...loads].sort((a, b) => (a.vaddr < b.vaddr ? -1 : a.vaddr > b.vaddr ? 1 : 0));
  const threads = notes.threads.map((t) => {
    if (t.sp === undefined) return { id: t.id, stackStart: 0n, stackSize: 0n };
    const load = segmentAt(byAddress, t.sp);
    return { id: t.id, stackStart: t.sp, stackSize: load ? load.vaddr + load.memsz - t.sp : 0n };
  });

  if (fileSize < declared) warnings.unshift(truncationWarning(declared, fileSize));
  return { format: 'elf-core', regions: sorted, facts, declaredSize: declared, warnings: capWarnings(warnings), threads };
}

async function readSectionExtents(
  source: Source,
  shoff: number,
  shnum: number,
  shentsize: number,
  is64: boolean,
  le: boolean,
  extend: (offset: bigint, size: bigint) => void,
): Promise<void> {
  const SHT_NOBITS = 8;
  const batch = Math.max(1, Math.floor((4 * 1024 * 1024) / shentsize));
  for (let first = 0; first < shnum; first += batch) {
    const count = Math.min(batch, shnum - first);
    const v = await source.view(shoff + first * shentsize, count * shentsize, le);
    for (let i = 0; i < count; i++) {
      const at = i * shentsize;
      if (!v.has(at, is64 ? 64 : 40)) return;
      const type = v.u32(at + 4);
      if (type === 0 || type === SHT_NOBITS) continue;
      const offset = is64 ? v.u64(at + 24) : BigInt(v.u32(at + 16));
      const size = is64 ? v.u64(at + 32) : BigInt(v.u32(at + 20));
      // Sections of a core mirror its segments; the extents matter only for the tail (.shstrtab).
      if (size > 0n) extend(offset, size);
    }
  }
}

class NoteFacts {
  pid?: number;
  command?: string;
  args?: string;
  threads: Array<{ id: number; sp?: bigint }> = [];
  files: MappedFile[] = [];
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function readNotes(v: View, is64: boolean, machine: number, out: NoteFacts, warnings: string[]): void {
  let at = 0;
  let count = 0;
  while (v.has(at, 12)) {
    if (++count > ELF_LIMITS.maxNotesPerSegment) {
      warnings.push(`elf-core: more than ${ELF_LIMITS.maxNotesPerSegment} notes in one segment, the rest ignored`);
      return;
    }
    const namesz = v.u32(at);
    const descsz = v.u32(at + 4);
    const type = v.u32(at + 8);
    const nameAt = at + 12;
    const descAt = nameAt + align4(namesz);
    const next = descAt + align4(descsz);
    // A note running past the bytes read: the segment is cut (already warned) or malformed.
    if (namesz > v.length || descsz > v.length || !v.has(descAt, descsz)) return;
    const name = v.cString(nameAt, namesz);
    const desc = v.sub(descAt, descsz);
    if (name === 'CORE') {
      if (type === NT_PRSTATUS) readPrstatus(desc, is64, machine, out);
      else if (type === NT_PRPSINFO) readPrpsinfo(desc, out);
      else if (type === NT_FILE) readNtFile(desc, is64 ? 8 : 4, out, warnings);
    }
    at = next;
  }
}

function readPrstatus(d: View, is64: boolean, machine: number, out: NoteFacts): void {
  if (out.threads.length >= ELF_LIMITS.maxThreads) return;
  const pidAt = is64 ? 32 : 24;
  if (!d.has(pidAt, 4)) return;
  const thread: { id: number; sp?: bigint } = { id: d.i32(pidAt) };
  // Stack pointer from pr_reg (user_regs_struct): rsp is register 19 on x86-64, sp is 31 on aarch64.
  const spAt = !is64 ? -1 : machine === EM_X86_64 ? 112 + 19 * 8 : machine === EM_AARCH64 ? 112 + 31 * 8 : -1;
  if (spAt >= 0 && d.has(spAt, 8)) thread.sp = d.u64(spAt);
  out.threads.push(thread);
}

function readPrpsinfo(d: View, out: NoteFacts): void {
  // The tail is the same on every architecture: pid, ppid, pgrp, sid, fname[16], psargs[80].
  const n = d.length;
  if (n < 112) return;
  out.pid = d.i32(n - 112);
  out.command = d.cString(n - 96, 16);
  // The kernel joins argv with spaces; other writers leave NULs between arguments.
  const psargs = d.bytes.subarray(n - 80, n);
  let end = psargs.length;
  while (end > 0 && psargs[end - 1] === 0) end--;
  out.args = printable(new TextDecoder('utf-8').decode(psargs.subarray(0, end)).replace(/\0/g, ' ')).trim();
}

function readNtFile(d: View, word: 4 | 8, out: NoteFacts, warnings: string[]): void {
  if (!d.has(0, 2 * word)) return;
  const declared = d.word(0, word);
  const fits = BigInt(Math.floor((d.length - 2 * word) / (3 * word)));
  let count = declared;
  if (count > fits) count = fits;
  if (count > BigInt(ELF_LIMITS.maxFileEntries)) count = BigInt(ELF_LIMITS.maxFileEntries);
  if (count < declared) warnings.push(`elf-core: NT_FILE declares ${declared} mappings, ${count} read`);
  const n = Number(count);
  let names = 2 * word + n * 3 * word;
  for (let i = 0; i < n; i++) {
    const at = 2 * word + i * 3 * word;
    const start = d.word(at, word);
    const end = d.word(at + word, word);
    let stop = names;
    while (stop < d.length && stop - names < ELF_LIMITS.maxPathBytes && d.bytes[stop] !== 0) stop++;
    const path = printable(new TextDecoder('utf-8').decode(d.bytes.subarray(names, stop)));
    names = stop + 1;
    if (end > start) out.files.push({ start, end, path });
    if (names > d.length) break;
  }
}

/** The segment (sorted by vaddr) whose memory contains `address`. */
function segmentAt(sorted: Segment[], address: bigint): Segment | undefined {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid].vaddr <= address) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && address < sorted[found].vaddr + sorted[found].memsz ? sorted[found] : undefined;
}

/** The NT_FILE mapping containing `address` (the one with the greatest start <= address). */
function fileAt(files: MappedFile[], address: bigint): MappedFile | undefined {
  let lo = 0;
  let hi = files.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (files[mid].start <= address) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && address < files[found].end ? files[found] : undefined;
}
