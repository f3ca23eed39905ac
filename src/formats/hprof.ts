// Java hprof heap dumps ('JAVA PROFILE 1.0.x', big-endian): says which record or heap object
// holds a given file offset. The walk is streaming (bounded block reads, never the whole
// file), linear in the file size, and only runs when the caller has offsets to describe.
// Records that hold none of the offsets are skipped by their declared length; heap dump
// segments that do are walked sub-record by sub-record. Garbage never throws: the walk stops
// (for the segment, or for the file) and leaves the remaining offsets undescribed.
// I/O failures of `read` are rethrown (as ReadFailure), as the layout parsers do.
import { Source } from './bytes.js';
import { hex, type ReadAt } from './layout.js';

export interface OffsetDescription {
  region: string;
  address?: string;
}

/** Read block size of the walk; no single read is larger. */
export const HPROF_BLOCK_BYTES = 1024 * 1024;

const HEADER_PREFIX = 'JAVA PROFILE 1.0.';
/** The header string is short; a NUL must come within this many bytes. */
const MAX_HEADER_STRING = 64;

const TAG_UTF8 = 0x01;
const TAG_HEAP_DUMP = 0x0c;
const TAG_HEAP_DUMP_SEGMENT = 0x1c;

const GC_ROOT_UNKNOWN = 0xff;
const GC_ROOT_JNI_GLOBAL = 0x01;
const GC_ROOT_JNI_LOCAL = 0x02;
const GC_ROOT_JAVA_FRAME = 0x03;
const GC_ROOT_NATIVE_STACK = 0x04;
const GC_ROOT_STICKY_CLASS = 0x05;
const GC_ROOT_THREAD_BLOCK = 0x06;
const GC_ROOT_MONITOR_USED = 0x07;
const GC_ROOT_THREAD_OBJ = 0x08;
const GC_CLASS_DUMP = 0x20;
const GC_INSTANCE_DUMP = 0x21;
const GC_OBJ_ARRAY_DUMP = 0x22;
const GC_PRIM_ARRAY_DUMP = 0x23;

/** hprof basic types: name and size in bytes (2 = object reference, 1 = array object: id-sized). */
const PRIMITIVES: Record<number, { name: string; size: number }> = {
  4: { name: 'boolean', size: 1 },
  5: { name: 'char', size: 2 },
  6: { name: 'float', size: 4 },
  7: { name: 'double', size: 8 },
  8: { name: 'byte', size: 1 },
  9: { name: 'short', size: 2 },
  10: { name: 'int', size: 4 },
  11: { name: 'long', size: 8 },
};

/** Size of a value of hprof type `type`, or undefined for an unknown type. */
function valueSize(type: number, idSize: number): number | undefined {
  if (type === 1 || type === 2) return idSize;
  return PRIMITIVES[type]?.size;
}

/**
 * A forward cursor over the file with a one-block buffer: `need(n)` makes the next n bytes
 * readable (false when the file ends first); `skip` and `seek` move without reading.
 */
class Cursor {
  private buffer: Uint8Array = new Uint8Array(0);
  private bufferStart = 0;
  pos = 0;

  constructor(private readonly source: Source) {}

  /** Whether the next n bytes are already buffered (no await needed). */
  has(n: number): boolean {
    return this.pos >= this.bufferStart && this.pos + n <= this.bufferStart + this.buffer.length;
  }

  async need(n: number): Promise<boolean> {
    if (this.has(n)) return true;
    if (this.pos + n > this.source.size) return false;
    this.buffer = await this.source.bytes(this.pos, Math.max(n, HPROF_BLOCK_BYTES));
    this.bufferStart = this.pos;
    return this.buffer.length >= n;
  }

  private at(k: number): number {
    return this.buffer[this.pos - this.bufferStart + k];
  }

  /** Big-endian unsigned integer of `size` (1..8) bytes at pos + k; call need() first. */
  uint(k: number, size: number): bigint {
    let value = 0n;
    for (let i = 0; i < size; i++) value = (value << 8n) | BigInt(this.at(k + i));
    return value;
  }

  u1(k: number): number {
    return this.at(k);
  }

  u2(k: number): number {
    return (this.at(k) << 8) | this.at(k + 1);
  }

  u4(k: number): number {
    return ((this.at(k) << 24) >>> 0) + ((this.at(k + 1) << 16) | (this.at(k + 2) << 8) | this.at(k + 3));
  }
}

/** Sorted, distinct, in-file offsets, consumed in order as the walk passes them. */
class Pending {
  private k = 0;
  constructor(private readonly offsets: number[], private readonly out: Map<number, OffsetDescription>) {}

  get done(): boolean {
    return this.k >= this.offsets.length;
  }

  /** The smallest offset not yet passed. */
  get next(): number {
    return this.offsets[this.k];
  }

  /** Offsets in [start, end) get `region`; offsets before `start` are passed undescribed. */
  describe(start: number, end: number, region: () => string): void {
    let text: string | undefined;
    while (this.k < this.offsets.length && this.offsets[this.k] < end) {
      const offset = this.offsets[this.k++];
      if (offset >= start) this.out.set(offset, { region: (text ??= region()) });
    }
  }

  /** Passes (undescribed) every offset before `end`. */
  pass(end: number): void {
    while (this.k < this.offsets.length && this.offsets[this.k] < end) this.k++;
  }
}

/** Sorted distinct offsets that are integers inside the file. */
export function usableOffsets(offsets: readonly number[], fileSize: number): number[] {
  const kept = offsets.filter((o) => Number.isSafeInteger(o) && o >= 0 && o < fileSize);
  kept.sort((a, b) => a - b);
  return kept.filter((o, i) => i === 0 || kept[i - 1] !== o);
}

/**
 * For each offset, the hprof record or heap object holding it: `primitive array byte[] 0x<id>`,
 * `instance 0x<id> of class 0x<class id>`, `object array 0x<id> of class 0x<array class id>`,
 * `class dump 0x<class id>`, `UTF-8 string 0x<id>`. No `address`: hprof has object ids, not
 * addresses. Offsets in other records (roots, stack traces, headers) stay undescribed.
 */
export async function describeHprofOffsets(read: ReadAt, fileSize: number, offsets: readonly number[]): Promise<Map<number, OffsetDescription>> {
  const out = new Map<number, OffsetDescription>();
  const sorted = usableOffsets(offsets, fileSize);
  if (sorted.length === 0) return out;
  const source = new Source(read, fileSize);
  const cursor = new Cursor(source);
  const pending = new Pending(sorted, out);

  // Header: 'JAVA PROFILE 1.0.x\0', u4 identifier size, u8 timestamp.
  const head = await source.bytes(0, MAX_HEADER_STRING + 12);
  const nul = head.indexOf(0);
  if (nul < HEADER_PREFIX.length || nul > MAX_HEADER_STRING) return out;
  for (let i = 0; i < HEADER_PREFIX.length; i++) if (head[i] !== HEADER_PREFIX.charCodeAt(i)) return out;
  if (head.length < nul + 13) return out;
  const idSize = new DataView(head.buffer, head.byteOffset + nul + 1, 4).getUint32(0, false);
  if (idSize !== 4 && idSize !== 8) return out;
  cursor.pos = nul + 13;

  while (!pending.done && cursor.pos < fileSize) {
    const start = cursor.pos;
    if (!cursor.has(9) && !(await cursor.need(9))) break;
    const tag = cursor.u1(0);
    const length = cursor.u4(5);
    const bodyStart = start + 9;
    const end = bodyStart + length;
    pending.pass(start);
    if (pending.done) break;
    if (pending.next < end) {
      if (tag === TAG_UTF8) {
        if (length >= idSize) {
          if (!(await cursor.need(9 + idSize))) break;
          const id = cursor.uint(9, idSize);
          pending.describe(start, end, () => `UTF-8 string ${hex(id)}`);
        }
      } else if (tag === TAG_HEAP_DUMP || tag === TAG_HEAP_DUMP_SEGMENT) {
        cursor.pos = bodyStart;
        await walkHeapDump(cursor, pending, idSize, end);
      }
    }
    cursor.pos = end;
  }
  return out;
}

/**
 * Walks the heap dump sub-records in [cursor.pos, end), describing the pending offsets that
 * fall in objects. Stops at the segment's end, the file's end, an unknown sub-record tag or a
 * sub-record that claims to overrun its segment.
 */
async function walkHeapDump(cursor: Cursor, pending: Pending, idSize: number, end: number): Promise<void> {
  const id = idSize;
  // Sub-records are small and many: the buffered case (has) takes no await.
  while (!pending.done && cursor.pos < end) {
    const start = cursor.pos;
    pending.pass(start);
    if (pending.done || pending.next >= end) return;
    if (!cursor.has(1) && !(await cursor.need(1))) return;
    const tag = cursor.u1(0);
    let size: number;
    let region: (() => string) | undefined;
    switch (tag) {
      case GC_ROOT_UNKNOWN:
      case GC_ROOT_STICKY_CLASS:
      case GC_ROOT_MONITOR_USED:
        size = 1 + id;
        break;
      case GC_ROOT_JNI_GLOBAL:
        size = 1 + 2 * id;
        break;
      case GC_ROOT_JNI_LOCAL:
      case GC_ROOT_JAVA_FRAME:
      case GC_ROOT_THREAD_OBJ:
        size = 1 + id + 8;
        break;
      case GC_ROOT_NATIVE_STACK:
      case GC_ROOT_THREAD_BLOCK:
        size = 1 + id + 4;
        break;
      case GC_INSTANCE_DUMP:
        // id object, u4 stack trace, id class, u4 byte count, [bytes]
        if (!cursor.has(1 + 2 * id + 8) && !(await cursor.need(1 + 2 * id + 8))) return;
        size = 1 + 2 * id + 8 + cursor.u4(1 + 2 * id + 4);
        region = () => `instance ${hex(cursor.uint(1, id))} of class ${hex(cursor.uint(1 + id + 4, id))}`;
        break;
      case GC_OBJ_ARRAY_DUMP:
        // id array, u4 stack trace, u4 count, id array class, [id elements]
        if (!cursor.has(1 + 2 * id + 8) && !(await cursor.need(1 + 2 * id + 8))) return;
        size = 1 + 2 * id + 8 + cursor.u4(1 + id + 4) * id;
        region = () => `object array ${hex(cursor.uint(1, id))} of class ${hex(cursor.uint(1 + id + 8, id))}`;
        break;
      case GC_PRIM_ARRAY_DUMP: {
        // id array, u4 stack trace, u4 count, u1 element type, [elements]
        if (!cursor.has(1 + id + 9) && !(await cursor.need(1 + id + 9))) return;
        const type = PRIMITIVES[cursor.u1(1 + id + 8)];
        if (!type) return;
        size = 1 + id + 9 + cursor.u4(1 + id + 4) * type.size;
        region = () => `primitive array ${type.name}[] ${hex(cursor.uint(1, id))}`;
        break;
      }
      case GC_CLASS_DUMP: {
        const measured = await classDumpSize(cursor, id, end);
        if (measured === undefined) return;
        const classId = measured.classId; // read before the class dump's tables moved the buffer
        size = measured.size;
        region = () => `class dump ${hex(classId)}`;
        break;
      }
      default:
        return; // unknown (Android, J9 extras, garbage): the rest of this segment cannot be walked
    }
    const subEnd = start + size;
    if (subEnd > end) return;
    // `region` reads the sub-record header from the buffer: cursor.pos is still `start` here.
    if (region && pending.next < subEnd) pending.describe(start, subEnd, region);
    cursor.pos = subEnd;
  }
}

/**
 * The byte size of the CLASS DUMP sub-record at cursor.pos, reading its constant pool, static
 * and instance field tables (bounded by their u2 counts and by `end`); undefined on garbage.
 * Leaves cursor.pos unchanged.
 */
async function classDumpSize(cursor: Cursor, id: number, end: number): Promise<{ classId: bigint; size: number } | undefined> {
  const start = cursor.pos;
  try {
    // id class, u4 stack trace, id super, id loader, id signers, id domain, id reserved x2, u4 instance size
    const fixed = 1 + 7 * id + 8;
    if (!(await cursor.need(fixed + 2))) return undefined;
    const classId = cursor.uint(1, id);
    cursor.pos += fixed;
    // Constant pool: u2 count, [u2 index, u1 type, value]; statics: u2 count, [id name, u1 type,
    // value]; instance fields: u2 count, [id name, u1 type].
    for (const entry of ['constant', 'static', 'instance'] as const) {
      if (cursor.pos + 2 > end || !(await cursor.need(2))) return undefined;
      const count = cursor.u2(0);
      cursor.pos += 2;
      const lead = entry === 'constant' ? 2 : id; // constant pool index, or field name id
      for (let i = 0; i < count; i++) {
        if (cursor.pos + lead + 1 > end || !(await cursor.need(lead + 1))) return undefined;
        const type = cursor.u1(lead);
        cursor.pos += lead + 1;
        if (entry === 'instance') continue; // instance fields: name and type, no value
        const value = valueSize(type, id);
        if (value === undefined) return undefined;
        cursor.pos += value;
      }
    }
    if (cursor.pos > end) return undefined;
    return { classId, size: cursor.pos - start };
  } finally {
    cursor.pos = start;
  }
}
