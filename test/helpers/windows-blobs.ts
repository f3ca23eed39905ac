// Windows key blobs built byte by byte from node:crypto keys, following Microsoft Learn:
// "Base Provider Key BLOBs" (BLOBHEADER + RSAPUBKEY, little-endian integers), BCRYPT_RSAKEY_BLOB
// and BCRYPT_ECCKEY_BLOB (header fields little-endian, integers big-endian). Independent of src/.
import type { KeyObject } from 'node:crypto';

export const PUBLICKEYBLOB = 0x06;
export const PRIVATEKEYBLOB = 0x07;
export const CUR_BLOB_VERSION = 0x02;
export const CALG_RSA_KEYX = 0x0000a400;
export const CALG_RSA_SIGN = 0x00002400;

/** 'RSA1', 'RSA2', 'RSA3' as u32 little-endian (BCRYPT_RSA*_MAGIC and the RSAPUBKEY magics). */
export const RSA1 = 0x31415352;
export const RSA2 = 0x32415352;
export const RSA3 = 0x33415352;

export const ECC_MAGICS = {
  ECDH: { 'P-256': 0x324b4345, 'P-384': 0x344b4345, 'P-521': 0x364b4345 }, // ECK2, ECK4, ECK6
  ECDSA: { 'P-256': 0x32534345, 'P-384': 0x34534345, 'P-521': 0x36534345 }, // ECS2, ECS4, ECS6
} as const;
export const ECC_PUBLIC_MAGICS = {
  ECDH: { 'P-256': 0x314b4345, 'P-384': 0x334b4345, 'P-521': 0x354b4345 }, // ECK1, ECK3, ECK5
  ECDSA: { 'P-256': 0x31534345, 'P-384': 0x33534345, 'P-521': 0x35534345 }, // ECS1, ECS3, ECS5
} as const;
export type EcCurveName = keyof (typeof ECC_MAGICS)['ECDH'];
export type EcUsage = keyof typeof ECC_MAGICS;
export const EC_KEY_BYTES: Record<EcCurveName, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

export interface RsaIntegers {
  bits: number;
  n: bigint;
  e: bigint;
  d: bigint;
  p: bigint;
  q: bigint;
  dp: bigint;
  dq: bigint;
  qi: bigint;
}

function toBigInt(base64url: string): bigint {
  const hex = Buffer.from(base64url, 'base64url').toString('hex');
  return hex ? BigInt('0x' + hex) : 0n;
}

export function rsaIntegers(key: KeyObject): RsaIntegers {
  const jwk = key.export({ format: 'jwk' });
  const n = toBigInt(jwk.n!);
  return {
    bits: n.toString(2).length,
    n,
    e: toBigInt(jwk.e!),
    d: toBigInt(jwk.d!),
    p: toBigInt(jwk.p!),
    q: toBigInt(jwk.q!),
    dp: toBigInt(jwk.dp!),
    dq: toBigInt(jwk.dq!),
    qi: toBigInt(jwk.qi!),
  };
}

/** Big-endian, left-padded with zeros to `width` bytes (or minimal when width is omitted). */
export function bigEndian(value: bigint, width?: number): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const raw = value === 0n ? Buffer.alloc(0) : Buffer.from(hex, 'hex');
  if (width === undefined) return raw.length ? raw : Buffer.alloc(1);
  if (raw.length > width) throw new Error(`value of ${raw.length} bytes does not fit in ${width}`);
  return Buffer.concat([Buffer.alloc(width - raw.length), raw]);
}

/** Little-endian: the big-endian value reversed, zero-padded at the high end to `width`. */
export function littleEndian(value: bigint, width: number): Buffer {
  return Buffer.from(bigEndian(value, width)).reverse();
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

/** BLOBHEADER (8 bytes) + RSAPUBKEY (12 bytes). */
function cryptoApiHeader(bType: number, aiKeyAlg: number, magic: number, bits: number, e: bigint): Buffer {
  const header = Buffer.alloc(8);
  header[0] = bType;
  header[1] = CUR_BLOB_VERSION;
  header.writeUInt16LE(0, 2); // reserved
  header.writeUInt32LE(aiKeyAlg, 4);
  return Buffer.concat([header, u32(magic), u32(bits), u32(Number(e))]);
}

/** CryptoAPI PRIVATEKEYBLOB: 20 + 9·bitlen/16 bytes. */
export function cryptoApiPrivateKeyBlob(k: RsaIntegers, aiKeyAlg: number = CALG_RSA_KEYX): Buffer {
  const full = k.bits / 8;
  const half = k.bits / 16;
  return Buffer.concat([
    cryptoApiHeader(PRIVATEKEYBLOB, aiKeyAlg, RSA2, k.bits, k.e),
    littleEndian(k.n, full),
    littleEndian(k.p, half),
    littleEndian(k.q, half),
    littleEndian(k.dp, half),
    littleEndian(k.dq, half),
    littleEndian(k.qi, half),
    littleEndian(k.d, full),
  ]);
}

/** CryptoAPI PUBLICKEYBLOB: BLOBHEADER{0x06} + RSAPUBKEY{'RSA1'} + modulus. */
export function cryptoApiPublicKeyBlob(k: RsaIntegers, aiKeyAlg: number = CALG_RSA_KEYX): Buffer {
  return Buffer.concat([cryptoApiHeader(PUBLICKEYBLOB, aiKeyAlg, RSA1, k.bits, k.e), littleEndian(k.n, k.bits / 8)]);
}

export function cryptoApiPrivateKeyBlobLength(bits: number): number {
  return 20 + (9 * bits) / 16;
}

/** Offsets inside a CryptoAPI PRIVATEKEYBLOB. */
export function cryptoApiLayout(bits: number) {
  const full = bits / 8;
  const half = bits / 16;
  return { bitlen: 12, pubexp: 16, modulus: 20, prime1: 20 + full, prime2: 20 + full + half, privateExponent: 20 + full + 5 * half };
}

function cngRsaHeader(magic: number, bits: number, cbPublicExp: number, cbModulus: number, cbPrime1: number, cbPrime2: number): Buffer {
  return Buffer.concat([u32(magic), u32(bits), u32(cbPublicExp), u32(cbModulus), u32(cbPrime1), u32(cbPrime2)]);
}

/**
 * BCRYPT_RSAPRIVATE_BLOB ('RSA2') or, with `full`, BCRYPT_RSAFULLPRIVATE_BLOB ('RSA3'). The exponent
 * is minimal (3 bytes for 65537), the modulus ceil(bits/8) bytes, the primes bits/16 bytes each.
 */
export function cngRsaPrivateBlob(k: RsaIntegers, full: boolean): Buffer {
  const exponent = bigEndian(k.e);
  const cbModulus = Math.ceil(k.bits / 8);
  const cbPrime = Math.ceil(k.bits / 16);
  const parts = [
    cngRsaHeader(full ? RSA3 : RSA2, k.bits, exponent.length, cbModulus, cbPrime, cbPrime),
    exponent,
    bigEndian(k.n, cbModulus),
    bigEndian(k.p, cbPrime),
    bigEndian(k.q, cbPrime),
  ];
  if (full) parts.push(bigEndian(k.dp, cbPrime), bigEndian(k.dq, cbPrime), bigEndian(k.qi, cbPrime), bigEndian(k.d, cbModulus));
  return Buffer.concat(parts);
}

/** BCRYPT_RSAPUBLIC_BLOB ('RSA1'): header + exponent + modulus. */
export function cngRsaPublicBlob(k: RsaIntegers): Buffer {
  const exponent = bigEndian(k.e);
  const cbModulus = Math.ceil(k.bits / 8);
  return Buffer.concat([cngRsaHeader(RSA1, k.bits, exponent.length, cbModulus, 0, 0), exponent, bigEndian(k.n, cbModulus)]);
}

export function cngRsaLayout(k: RsaIntegers) {
  const cbExp = bigEndian(k.e).length;
  const cbModulus = Math.ceil(k.bits / 8);
  return { bitLength: 4, cbPublicExp: 8, cbModulus: 12, cbPrime1: 16, cbPrime2: 20, exponent: 24, modulus: 24 + cbExp, prime1: 24 + cbExp + cbModulus };
}

export interface EcIntegers {
  curve: EcCurveName;
  x: Buffer;
  y: Buffer;
  d: Buffer;
}

export function ecIntegers(key: KeyObject): EcIntegers {
  const jwk = key.export({ format: 'jwk' });
  const curve = jwk.crv as EcCurveName;
  const width = EC_KEY_BYTES[curve];
  // JWK coordinates are already fixed width (RFC 7518 §6.2.1.2); re-pad defensively.
  const fixed = (v: string) => bigEndian(toBigInt(v), width);
  return { curve, x: fixed(jwk.x!), y: fixed(jwk.y!), d: fixed(jwk.d!) };
}

/** BCRYPT_ECCPRIVATE_BLOB: {dwMagic, cbKey} + X + Y + d, each cbKey bytes big-endian. */
export function cngEccPrivateBlob(k: EcIntegers, usage: EcUsage): Buffer {
  const cbKey = EC_KEY_BYTES[k.curve];
  return Buffer.concat([u32(ECC_MAGICS[usage][k.curve]), u32(cbKey), k.x, k.y, k.d]);
}

/** BCRYPT_ECCPUBLIC_BLOB: {dwMagic, cbKey} + X + Y. */
export function cngEccPublicBlob(k: EcIntegers, usage: EcUsage): Buffer {
  const cbKey = EC_KEY_BYTES[k.curve];
  return Buffer.concat([u32(ECC_PUBLIC_MAGICS[usage][k.curve]), u32(cbKey), k.x, k.y]);
}
