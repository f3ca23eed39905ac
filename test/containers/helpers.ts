// Shared by the container tests: temp files, the system compressors (skipped with a message
// when missing), and hand-built bombs that are generated as streams, never materialised.
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { afterAll } from 'vitest';

export const repoRoot = new URL('../..', import.meta.url).pathname;
export const samples = path.join(repoRoot, 'samples');
export const pemCore = path.join(samples, 'core-holdkey-pem.core');
export const derCore = path.join(samples, 'core-holdkey-der.core');
export const offsets: Record<string, Record<string, number[]>> = JSON.parse(readFileSync(path.join(samples, 'offsets.json'), 'utf8'));
/** The PEM key's offset in the sample core. */
export const pemKeyOffset = offsets['core-holdkey-pem.core']['test-key-rsa2048.pem'][0];
export const CORE_SIZE = readFileSync(pemCore).length;

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const toolCache = new Map<string, boolean>();
/** Whether a system tool runs; a missing one is reported once so skipped tests are explained. */
export function hasTool(name: string): boolean {
  if (!toolCache.has(name)) {
    const ok = spawnSync(name, ['--help'], { stdio: 'ignore' }).error === undefined;
    if (!ok) console.warn(`container tests: '${name}' is not installed; its tests are skipped`);
    toolCache.set(name, ok);
  }
  return toolCache.get(name)!;
}

/** Runs a tool (stdout to `out` when given); throws on failure. */
export function run(command: string, args: string[], options: { cwd?: string; out?: string; input?: Buffer } = {}): Buffer {
  const result = spawnSync(command, args, { cwd: options.cwd, input: options.input, maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

const ZERO_MIB = Buffer.alloc(1024 * 1024);
/** Raw deflate of 1 MiB of zeros, full-flushed: byte-aligned and independent, so copies of it concatenate. */
const ZEROS_MIB_DEFLATED = deflateRawSync(ZERO_MIB, { level: 9, finishFlush: constants.Z_FULL_FLUSH });
const DEFLATE_END = Buffer.from([0x03, 0x00]); // an empty final fixed-Huffman block

/** Raw deflate of `prefix` then `mib` MiB of zeros, as pieces; with the CRC-32 and length of the whole. */
export function deflatedZeros(mib: number, prefix: Buffer = Buffer.alloc(0)): { pieces: () => Generator<Buffer>; crc: number; size: number; compressedSize: number } {
  const head = prefix.length > 0 ? deflateRawSync(prefix, { finishFlush: constants.Z_FULL_FLUSH }) : Buffer.alloc(0);
  let crc = crc32(prefix);
  const zerosCrc = (previous: number) => crc32(ZERO_MIB, previous);
  for (let i = 0; i < mib; i++) crc = zerosCrc(crc);
  return {
    *pieces() {
      if (head.length) yield head;
      for (let i = 0; i < mib; i++) yield ZEROS_MIB_DEFLATED;
      yield DEFLATE_END;
    },
    crc,
    size: prefix.length + mib * 1024 * 1024,
    compressedSize: head.length + mib * ZEROS_MIB_DEFLATED.length + DEFLATE_END.length,
  };
}

async function writePieces(file: string, pieces: Iterable<Buffer>): Promise<void> {
  const out = createWriteStream(file);
  for (const piece of pieces) if (!out.write(piece)) await new Promise((resolve) => out.once('drain', resolve));
  out.end();
  await finished(out);
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

/** A gzip file of `prefix` + `mib` MiB of zeros (about 1030:1 for the zeros), written piece by piece. */
export async function writeZerosGzip(file: string, mib: number, prefix?: Buffer): Promise<void> {
  const d = deflatedZeros(mib, prefix);
  const header = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0x02, 0xff]);
  await writePieces(file, (function* () {
    yield header;
    yield* d.pieces();
    yield Buffer.concat([u32(d.crc), u32(d.size)]);
  })());
}

/**
 * A zip with one deflated entry of `mib` MiB of zeros, and `copies` central-directory entries
 * that all point at it (overlapping entries, as in Fifield's zip bombs) when copies > 1.
 */
export async function writeZerosZip(file: string, name: string, mib: number, copies = 1): Promise<void> {
  const d = deflatedZeros(mib);
  const nameBytes = Buffer.from(name);
  const common = (b: Buffer, at: number) => {
    b.writeUInt16LE(20, at); // version needed
    b.writeUInt16LE(0, at + 2); // flags
    b.writeUInt16LE(8, at + 4); // deflate
    b.writeUInt32LE(0, at + 6); // time, date
    b.writeUInt32LE(d.crc >>> 0, at + 10);
    b.writeUInt32LE(d.compressedSize, at + 14);
    b.writeUInt32LE(d.size >>> 0, at + 18);
    b.writeUInt16LE(nameBytes.length, at + 22);
    b.writeUInt16LE(0, at + 24);
  };
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  common(local, 4);
  const directory: Buffer[] = [];
  for (let i = 0; i < copies; i++) {
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    common(central, 6);
    central.writeUInt32LE(0, 42); // local header offset: all at 0
    directory.push(central, nameBytes);
  }
  const cd = Buffer.concat(directory);
  const cdOffset = 30 + nameBytes.length + d.compressedSize;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(copies, 8);
  end.writeUInt16LE(copies, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  await writePieces(file, (function* () {
    yield local;
    yield nameBytes;
    yield* d.pieces();
    yield cd;
    yield end;
  })());
}

/** A zstd frame of `mib` MiB of zeros made of RLE blocks (4 bytes per 128 KiB: ~32000:1), built by hand. */
export function zstdZeros(mib: number): Buffer {
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]); // no checksum, no size; window 2 MiB
  const blocks = mib * 8;
  const body = Buffer.alloc(blocks * 4);
  for (let i = 0; i < blocks; i++) {
    const last = i === blocks - 1 ? 1 : 0;
    const value = last | (1 << 1) | ((128 * 1024) << 3); // RLE block of 128 KiB
    body.writeUIntLE(value, i * 4, 3);
    body[i * 4 + 3] = 0;
  }
  return Buffer.concat([header, body]);
}

/** /usr/bin/time -f %M around a command: peak RSS in KiB, or undefined when the tool is missing. */
export function peakRssKiB(stderr: string): number | undefined {
  const m = /^(\d+)\s*$/m.exec(stderr.trim().split('\n').pop() ?? '');
  return m ? Number(m[1]) : undefined;
}

/** A seeded PRNG (mulberry32) for reproducible random cut points. */
export { prng } from '../helpers/random.js';
