// Raw keys in a Java heap dump (hprof), where every primitive array announces itself:
// PRIMITIVE ARRAY DUMP = 0x23, id, stack serial, u4 count, u1 element type, then the elements,
// big-endian. A BigInteger's magnitude is an int[] (type 0x0a) written most significant int
// first: a prime of w bytes is an int[w/4] holding exactly its big-endian bytes, wherever the
// object sits in the dump (key generation leaves p and q far from n). So in an hprof file every
// int[] of a prime's length is a candidate (n % p === 0n), and every int[] or byte[] (type
// 0x08) of a scalar's length an EC scalar candidate (big-endian, and little-endian for byte[]:
// Java 17's ECPrivateKeyImpl keeps `arrayS` so). Cheap: the count and type bytes are the
// anchor, and a heap holds few arrays of exactly these lengths.
import { createECDH } from 'node:crypto';
import { curveByName } from '../keys/ec.js';
import { hexToBytes, type RawTarget } from './targets.js';
import { distinctAtLeast, type RawMatch } from './verify.js';

const INT_ARRAY = 0x0a;
const BYTE_ARRAY = 0x08;

/** Matches whose array data starts in [bodyStart, bodyEnd); the 8 bytes before bodyStart are readable (the look-behind). */
export function findInHprofArrays(bytes: Uint8Array, bodyStart: number, bodyEnd: number, targets: readonly RawTarget[]): RawMatch[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const found: RawMatch[] = [];
  /** Data starts of arrays of `count` elements of `type` whose data starts in the body and fits. */
  const arrays = (count: number, type: number, elementBytes: number): number[] => {
    const needle = Buffer.from([(count >>> 24) & 0xff, (count >>> 16) & 0xff, (count >>> 8) & 0xff, count & 0xff, type]);
    // Searched by its last two bytes (the count's low byte and the type): a needle that starts
    // with zeros would crawl through zero runs.
    const tail = needle.subarray(3);
    const out: number[] = [];
    for (let at = buf.indexOf(tail, Math.max(0, bodyStart - 2)); at !== -1 && at + 2 < bodyEnd; at = buf.indexOf(tail, at + 1)) {
      const data = at + 2;
      if (data < bodyStart || at < 3 || data + count * elementBytes > bytes.length) continue;
      if (bytes[at - 3] === needle[0] && bytes[at - 2] === needle[1] && bytes[at - 1] === needle[2]) out.push(data);
    }
    return out;
  };
  targets.forEach((target, index) => {
    if (target.type === 'rsa') {
      const n = BigInt('0x' + target.n);
      const width = Math.ceil(Math.ceil(n.toString(2).length / 2) / 8);
      if (width % 4 !== 0) return;
      for (const x of arrays(width / 4, INT_ARRAY, 4)) {
        if (bytes[x] === 0 || !(bytes[x + width - 1] & 1)) continue;
        const p = BigInt('0x' + buf.toString('hex', x, x + width));
        if (p > 1n && p < n && n % p === 0n) found.push({ start: x, length: width, target: index, form: 'raw-be', kind: 'rsa-private-key' });
      }
    } else if (target.type === 'ec') {
      const curve = curveByName(target.curve);
      if (!curve) return;
      const width = curve.scalarLengthInBytes;
      const ecdh = createECDH(curve.ecdhName);
      const point = Buffer.from(hexToBytes(target.point));
      const test = (x: number, littleEndian: boolean) => {
        if (!distinctAtLeast(bytes, x, width, Math.ceil(width * 0.6))) return;
        const scalar = Buffer.from(buf.subarray(x, x + width));
        if (littleEndian) scalar.reverse();
        try {
          ecdh.setPrivateKey(scalar);
        } catch {
          return;
        }
        if (ecdh.getPublicKey().equals(point)) found.push({ start: x, length: width, target: index, form: littleEndian ? 'raw-le' : 'raw-be', kind: 'ec-private-key' });
      };
      if (width % 4 === 0) for (const x of arrays(width / 4, INT_ARRAY, 4)) test(x, false);
      for (const x of arrays(width, BYTE_ARRAY, 1)) {
        test(x, false);
        test(x, true);
      }
    }
  });
  return found.sort((a, b) => a.start - b.start || a.length - b.length);
}
