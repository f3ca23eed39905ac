// Big-endian unsigned byte strings <-> bigint, and the modular arithmetic the validators need.

export function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  return BigInt('0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex'));
}

/** Big-endian, left-padded to `width` bytes when given. */
export function bigIntToBytes(value: bigint, width?: number): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const raw = Buffer.from(hex, 'hex');
  if (width === undefined || raw.length >= width) return raw;
  return Buffer.concat([Buffer.alloc(width - raw.length), raw]);
}

export function base64UrlToBigInt(value: string): bigint {
  return bytesToBigInt(Buffer.from(value, 'base64url'));
}

export function bigIntToBase64Url(value: bigint, width?: number): string {
  return bigIntToBytes(value, width).toString('base64url');
}

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus === 1n) return 0n;
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    e >>= 1n;
    b = (b * b) % modulus;
  }
  return result;
}

export function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}
