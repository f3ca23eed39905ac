// Bounded, endian-aware reading helpers shared by the format parsers. Parsers never load a
// whole file: they read headers and tables through a positioned reader, clipped to the file.
import type { ReadAt } from './layout.js';

/** No single read is larger than this, whatever a header claims. */
export const MAX_SINGLE_READ_BYTES = 64 * 1024 * 1024;

/** A read that failed for I/O reasons: parsers let it through instead of turning it into a warning. */
export class ReadFailure extends Error {
  constructor(readonly offset: number, readonly length: number, cause: unknown) {
    super(`read of ${length} bytes at ${offset} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ReadFailure';
  }
}

export class Source {
  constructor(private readonly readAt: ReadAt, readonly size: number) {}

  /** The bytes of [offset, offset + length) that exist in the file (possibly fewer, possibly none). */
  async bytes(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= this.size || length <= 0) return new Uint8Array(0);
    const wanted = Math.min(length, this.size - offset, MAX_SINGLE_READ_BYTES);
    let got: Uint8Array;
    try {
      got = await this.readAt(offset, wanted);
    } catch (error) {
      throw new ReadFailure(offset, wanted, error);
    }
    return got.length > wanted ? got.subarray(0, wanted) : got;
  }

  async view(offset: number, length: number, littleEndian: boolean): Promise<View> {
    return new View(await this.bytes(offset, length), littleEndian);
  }
}

/** Little- or big-endian reads over a byte array; every getter checks bounds first via `has`. */
export class View {
  private readonly dv: DataView;
  constructor(readonly bytes: Uint8Array, readonly littleEndian: boolean) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get length(): number {
    return this.bytes.length;
  }
  has(offset: number, length: number): boolean {
    return offset >= 0 && length >= 0 && offset + length <= this.bytes.length;
  }
  u8(offset: number): number {
    return this.dv.getUint8(offset);
  }
  u16(offset: number): number {
    return this.dv.getUint16(offset, this.littleEndian);
  }
  u32(offset: number): number {
    return this.dv.getUint32(offset, this.littleEndian);
  }
  i32(offset: number): number {
    return this.dv.getInt32(offset, this.littleEndian);
  }
  u64(offset: number): bigint {
    return this.dv.getBigUint64(offset, this.littleEndian);
  }
  /** A 4- or 8-byte unsigned word. */
  word(offset: number, size: 4 | 8): bigint {
    return size === 8 ? this.u64(offset) : BigInt(this.u32(offset));
  }
  sub(offset: number, length: number): View {
    const start = Math.max(0, Math.min(offset, this.bytes.length));
    const end = Math.max(start, Math.min(offset + length, this.bytes.length));
    return new View(this.bytes.subarray(start, end), this.littleEndian);
  }
  /** Bytes up to the first NUL (or the end), as latin1-safe UTF-8 text with control characters replaced. */
  cString(offset: number, maxLength: number): string {
    const end = Math.min(this.bytes.length, offset + maxLength);
    let stop = offset;
    while (stop < end && this.bytes[stop] !== 0) stop++;
    return printable(new TextDecoder('utf-8').decode(this.bytes.subarray(offset, stop)));
  }
}

/** Replaces control characters so names from a file cannot break a text report. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

export function toSafeNumber(value: bigint): number | undefined {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}
