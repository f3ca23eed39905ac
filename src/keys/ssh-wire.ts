// The SSH wire encoding (RFC 4251 §5): uint32 lengths, strings and mpints, read with bounds.
import { boundedLength, HardLimitError } from './limits.js';
import { bytesToBigInt } from './integers.js';

/** Larger than any key field (a 16384-bit modulus is 2 KiB). */
export const maximumSshFieldLengthInBytes = 16 * 1024;

export class SshReader {
  private position = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.position;
  }

  skip(count: number): void {
    if (count > this.remaining) throw new HardLimitError('ssh skip past end');
    this.position += count;
  }

  uint32(): number {
    if (this.remaining < 4) throw new HardLimitError('ssh uint32 past end');
    const b = this.bytes;
    const p = this.position;
    this.position += 4;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  string(maximum = maximumSshFieldLengthInBytes): Uint8Array {
    const length = boundedLength(this.uint32(), Math.min(maximum, this.remaining), 'ssh string length');
    const value = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return value;
  }

  text(maximum = 256): string {
    return Buffer.from(this.string(maximum)).toString('latin1');
  }

  mpint(): bigint {
    const raw = this.string();
    if (raw.length > 0 && raw[0] & 0x80) throw new HardLimitError('negative ssh mpint');
    return bytesToBigInt(raw);
  }
}
