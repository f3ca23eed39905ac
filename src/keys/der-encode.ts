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

export function derOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [];
  const push = (value: number) => {
    const groups = [value & 0x7f];
    for (let v = Math.floor(value / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80);
    bytes.push(...groups);
  };
  push(arcs[0] * 40 + arcs[1]);
  for (const arc of arcs.slice(2)) push(arc);
  return derTlv(0x06, Buffer.from(bytes));
}

export function derBitString(bytes: Uint8Array): Buffer {
  return derTlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));
}

export function derNull(): Buffer {
  return Buffer.from([0x05, 0x00]);
}
