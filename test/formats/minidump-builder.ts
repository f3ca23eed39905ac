// A minidump built byte by byte (MINIDUMP_HEADER, stream directory, thread, module, memory,
// system and misc streams) with known memory ranges, for format and scan tests.
import { prng } from './helpers.js';
// ---------------------------------------------------------------------------------------------
// Minidumps built byte by byte.

export class Writer {
  bytes = new Uint8Array(1 << 16);
  dv = new DataView(this.bytes.buffer);
  length = 0;
  private ensure(n: number) {
    if (this.length + n > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
      bigger.set(this.bytes);
      this.bytes = bigger;
      this.dv = new DataView(bigger.buffer);
    }
  }
  u8(v: number) {
    this.ensure(1);
    this.dv.setUint8(this.length, v);
    this.length += 1;
  }
  u16(v: number) {
    this.ensure(2);
    this.dv.setUint16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number) {
    this.ensure(4);
    this.dv.setUint32(this.length, v, true);
    this.length += 4;
  }
  u64(v: bigint) {
    this.ensure(8);
    this.dv.setBigUint64(this.length, v, true);
    this.length += 8;
  }
  raw(b: Uint8Array) {
    this.ensure(b.length);
    this.bytes.set(b, this.length);
    this.length += b.length;
  }
  zeros(n: number) {
    this.raw(new Uint8Array(n));
  }
  patch32(at: number, v: number) {
    this.dv.setUint32(at, v, true);
  }
  done(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

export interface Built {
  bytes: Uint8Array;
  markers: Array<{ offset: number; marker: Uint8Array; expected: { address: string; region: string; readOnly: boolean; fileBacked: boolean } }>;
}

export const MODULE_BASE = 0x7ff61bc80000n;
export const MODULE_SIZE = 0x30000n;
export const STACK_START = 0xfc218ff000n;
export const PLAIN_START = 0x2a012340000n;

/** A minidump with ThreadList, ModuleList, MemoryList (or Memory64List), SystemInfo, MiscInfo and one unused entry. */
export function buildMinidump(options: { memory64?: boolean; padLists?: boolean; payloads?: Uint8Array[] } = {}): Built {
  const random = prng(options.memory64 ? 64 : options.padLists ? 8 : 1);
  const marker = () => Uint8Array.from({ length: 64 }, () => Math.floor(random() * 256));
  const ranges = [
    { start: MODULE_BASE + 0x1000n, data: new Uint8Array(0x400), markerAt: 0x123, expected: { region: 'module signer.dll', readOnly: true, fileBacked: true } },
    { start: STACK_START, data: new Uint8Array(0x1000), markerAt: 0x800, expected: { region: 'thread 4242 stack', readOnly: false, fileBacked: false } },
    { start: PLAIN_START, data: new Uint8Array(0x800), markerAt: 0x10, expected: { region: 'memory [0x2a012340000-0x2a012340800)', readOnly: false, fileBacked: false } },
  ];
  const markers = ranges.map((r, i) => {
    // A caller's payload (a key, say) in place of the random marker.
    const m = options.payloads?.[i] ?? marker();
    r.data.set(m, r.markerAt);
    return m;
  });

  const w = new Writer();
  const streamTypes = [3, 4, options.memory64 ? 9 : 5, 7, 15, 0];
  w.u32(0x504d444d); // 'MDMP'
  w.u32(0xa793);
  w.u32(streamTypes.length);
  w.u32(32); // directory right after the header
  w.u32(0);
  w.u32(0x5f000000);
  w.u64(0n);
  const dirAt = w.length;
  for (const type of streamTypes) {
    w.u32(type);
    w.u32(0);
    w.u32(0);
  }
  const setLocation = (index: number, rva: number, size: number) => {
    w.patch32(dirAt + index * 12 + 4, size);
    w.patch32(dirAt + index * 12 + 8, rva);
  };
  const countHeader = (n: number) => {
    w.u32(n);
    if (options.padLists) w.u32(0);
  };

  // ThreadList: one thread; its stack descriptor's RVA is patched once the data is placed.
  let at = w.length;
  countHeader(1);
  const threadAt = w.length;
  w.u32(4242); // ThreadId
  w.u32(0); // SuspendCount
  w.u32(0); // PriorityClass
  w.u32(0); // Priority
  w.u64(0x7ffde000n); // Teb
  w.u64(STACK_START);
  w.u32(ranges[1].data.length);
  w.u32(0); // stack RVA, patched below
  w.u32(0); // context size
  w.u32(0); // context RVA
  setLocation(0, at, w.length - at);

  // ModuleList: one module, then its name as a MINIDUMP_STRING.
  at = w.length;
  countHeader(1);
  w.u64(MODULE_BASE);
  w.u32(Number(MODULE_SIZE));
  w.u32(0); // CheckSum
  w.u32(0); // TimeDateStamp
  const nameRvaAt = w.length;
  w.u32(0); // ModuleNameRva, patched below
  w.zeros(52 + 8 + 8 + 8 + 8); // VersionInfo, CvRecord, MiscRecord, Reserved0, Reserved1
  setLocation(1, at, w.length - at);
  const name = 'C:\\Program Files\\Signer\\signer.dll';
  w.patch32(nameRvaAt, w.length);
  w.u32(name.length * 2);
  for (const ch of name) w.u16(ch.charCodeAt(0));
  w.u16(0);

  // Memory descriptors, then the memory.
  at = w.length;
  const descriptors: number[] = [];
  if (options.memory64) {
    w.u64(BigInt(ranges.length));
    const baseRvaAt = w.length;
    w.u64(0n); // BaseRva, patched below
    for (const r of ranges) {
      w.u64(r.start);
      w.u64(BigInt(r.data.length));
    }
    setLocation(2, at, w.length - at);
    w.zeros(13); // misalign on purpose: Memory64 data need not be aligned
    w.dv.setBigUint64(baseRvaAt, BigInt(w.length), true);
  } else {
    countHeader(ranges.length);
    for (const r of ranges) {
      w.u64(r.start);
      w.u32(r.data.length);
      descriptors.push(w.length);
      w.u32(0); // RVA, patched below
    }
    setLocation(2, at, w.length - at);
  }
  const dataAt: number[] = [];
  for (const [i, r] of ranges.entries()) {
    dataAt.push(w.length);
    if (!options.memory64) w.patch32(descriptors[i], w.length);
    w.raw(r.data);
  }
  w.patch32(threadAt + 36, dataAt[1]);

  // SystemInfo: amd64, 8 CPUs, Windows NT 10.0.19045, no CSD string.
  at = w.length;
  w.u16(9);
  w.u16(6);
  w.u16(0);
  w.u8(8);
  w.u8(1);
  w.u32(10);
  w.u32(0);
  w.u32(19045);
  w.u32(2);
  w.u32(0); // CSDVersionRva
  w.u16(0);
  w.u16(0);
  w.zeros(24);
  setLocation(3, at, w.length - at);

  // MiscInfo: process id valid.
  at = w.length;
  w.u32(24);
  w.u32(1);
  w.u32(777);
  w.zeros(12);
  setLocation(4, at, w.length - at);

  return {
    bytes: w.done(),
    markers: ranges.map((r, i) => ({
      offset: dataAt[i] + r.markerAt,
      marker: markers[i],
      expected: { address: '0x' + (r.start + BigInt(r.markerAt)).toString(16), ...r.expected },
    })),
  };
}
