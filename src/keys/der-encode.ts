// A minimal DER writer: enough to hand node:crypto key structures it cannot import otherwise.
import { bigIntToBytes } from './integers.js';

export function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function derTlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

export function derInteger(value: bigint): Buffer {
  let raw = bigIntToBytes(value);
  if (raw.length === 0) raw = Buffer.from([0]);
  if (raw[0] & 0x80) raw = Buffer.concat([Buffer.from([0]), raw]);
  return derTlv(0x02, raw);
}

export function derSequence(...items: Uint8Array[]): Buffer {
  return derTlv(0x30, Buffer.concat(items));
}
