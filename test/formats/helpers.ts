// Test helpers for the format layer: in-memory readers, a seeded PRNG, and an independent
// view of ELF program headers taken from `readelf -lW` (binutils), not from our parser.
import { execFileSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import type { ReadAt } from '../../src/formats/layout.js';
import { prng } from '../helpers/random.js';

export { prng };

/** A ReadAt over bytes in memory, optionally pretending the file ends at `size`. */
export function memoryReader(bytes: Uint8Array, size = bytes.length): ReadAt {
  const visible = bytes.subarray(0, Math.min(size, bytes.length));
  return async (offset, length) => visible.slice(offset, offset + length);
}


/** `n` distinct cut points in [1, size - 1], sorted. */
export function cutPoints(size: number, n: number, seed: number): number[] {
  const next = prng(seed);
  const cuts = new Set<number>();
  while (cuts.size < n) cuts.add(1 + Math.floor(next() * (size - 1)));
  return [...cuts].sort((a, b) => a - b);
}

export interface ReadelfLoad {
  offset: number;
  vaddr: bigint;
  filesz: number;
  memsz: bigint;
  /** readelf's flag column: 'R', 'RW', 'R E', ... */
  flags: string;
}

/** The PT_LOAD rows of `readelf -lW <file>`. */
export function readelfLoads(path: string): ReadelfLoad[] {
  const out = execFileSync('readelf', ['-lW', path], { encoding: 'utf8' });
  const loads: ReadelfLoad[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(.+?)\s+0x[0-9a-f]+\s*$/.exec(line);
    if (!m) continue;
    loads.push({ offset: Number(m[1]), vaddr: BigInt(m[2]), filesz: Number(m[4]), memsz: BigInt(m[5]), flags: m[6].trim() });
  }
  return loads;
}

/** The virtual address of file offset `offset` according to readelf, or undefined. */
export function readelfAddressOf(loads: ReadelfLoad[], offset: number): { address: bigint; load: ReadelfLoad } | undefined {
  const load = loads.find((l) => l.filesz > 0 && l.offset <= offset && offset < l.offset + l.filesz);
  return load ? { address: load.vaddr + BigInt(offset - load.offset), load } : undefined;
}

/** Every file offset where `needle` occurs, reading the file in slices (cores can be large). */
export async function findAll(path: string, needle: Uint8Array): Promise<number[]> {
  const handle = await open(path, 'r');
  const hits: number[] = [];
  try {
    const { size } = await handle.stat();
    const step = 16 * 1024 * 1024;
    const buffer = Buffer.alloc(step + needle.length);
    for (let base = 0; base < size; base += step) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - base), base);
      const view = buffer.subarray(0, bytesRead);
      for (let at = view.indexOf(needle); at >= 0 && at < step; at = view.indexOf(needle, at + 1)) hits.push(base + at);
    }
  } finally {
    await handle.close();
  }
  return hits;
}

/** One line of /proc/<pid>/maps. */
export interface MapsLine {
  start: bigint;
  end: bigint;
  perms: string;
  path: string;
}

export function parseMaps(text: string): MapsLine[] {
  const out: MapsLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S{4})\s+\S+\s+\S+\s+\S+\s*(.*)$/.exec(line);
    if (m) out.push({ start: BigInt('0x' + m[1]), end: BigInt('0x' + m[2]), perms: m[3], path: m[4].trim() });
  }
  return out;
}
