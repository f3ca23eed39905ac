// OpenPGP secret-key packets (RFC 4880 §5.5.3, RFC 9580): parsed strictly, protection read
// from the S2K usage octet, unprotected secrets checked against the public key.
import type { KeyKind } from '../types.js';
import type { KeyVerdict } from './der-keys.js';
import { derBitString, derOid, derSequence } from './der-encode.js';
import { checkEcScalar, CURVES, ecSpkiFingerprint, type Curve } from './ec.js';
import { fingerprintOfSpki } from './fingerprint.js';
import { bytesToBigInt } from './integers.js';
import { okpPublicKey } from './okp.js';
import { rsaIsConsistent, rsaSpkiFingerprint } from './rsa.js';

export const maximumPgpPacketLengthInBytes = 16 * 1024;
export const minimumPgpRsaBits = 512;
export const maximumPgpRsaBits = 16384;
/** The longest curve OID of the known curves (brainpool, 9 octets; Curve25519 legacy, 10). */
const maximumCurveOidLength = 10;
/** The longest secret EC scalar MPI: a P-521 scalar (66 octets) and one spare octet. */
const maximumEcSecretBits = 8 * 67;
/** A GnuPG divert-to-card S2K carries the card serial number, at most 16 octets. */
const maximumCardSerialLength = 16;

export interface PgpCurve {
  name: string;
  /** The OID without its DER tag and length, as the key packet stores it. */
  oid: Buffer;
  /** Weierstrass curves: node:crypto's view of the curve. */
  ec?: Curve;
  /** The legacy Edwards/Montgomery curves, whose points are 0x40 || 32 octets. */
  okp?: 'Ed25519' | 'X25519';
}

const oidBody = (dotted: string) => derOid(dotted).subarray(2);

export const PGP_CURVES: readonly PgpCurve[] = [
  ...CURVES.map((ec) => ({ name: ec.name, oid: oidBody(ec.oid), ec })),
  { name: 'Ed25519', oid: oidBody('1.3.6.1.4.1.11591.15.1'), okp: 'Ed25519' },
  { name: 'Curve25519', oid: oidBody('1.3.6.1.4.1.3029.1.5.1'), okp: 'X25519' },
];

const RSA_ALGORITHMS = new Set([1, 2, 3]);
const ECDH = 18;
const ECDSA = 19;
const EDDSA_LEGACY = 22;

/** Cipher block sizes (RFC 9580 §9.3): the IV length of CFB-protected secrets. */
const BLOCK_SIZES: Record<number, number> = { 1: 8, 2: 8, 3: 8, 4: 8, 7: 16, 8: 16, 9: 16, 10: 16, 11: 16, 12: 16, 13: 16 };
/** AEAD nonce sizes (RFC 9580 §9.6): EAX, OCB, GCM. */
const AEAD_NONCE_SIZES: Record<number, number> = { 1: 16, 2: 15, 3: 12 };
const AEAD_TAG_LENGTH = 16;
const HASH_ALGORITHMS = new Set([1, 2, 3, 8, 9, 10, 11, 12, 14]);
const KDF_HASHES = new Set([2, 8, 9, 10, 11, 12, 14]);
const KDF_CIPHERS = new Set([7, 8, 9, 10, 11, 12, 13]);
const SHA1_LENGTH = 20;
const GNU_S2K = 101;

export interface PgpSecretKeyPacket extends KeyVerdict {
  tag: 5 | 7;
  version: 4 | 6;
  /** Header plus body. */
  length: number;
  algorithm: number;
  /** `RSA 2048-bit`, `EdDSA Ed25519`, `ECDSA P-256`, `ECDH Curve25519`. */
  algorithmName: string;
  protected: boolean;
}

/** A structural mismatch: the bytes are not a secret-key packet. */
class NotAPacket extends Error {}

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public at: number,
    readonly end: number,
  ) {}
  need(n: number): void {
    if (this.at + n > this.end) throw new NotAPacket();
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.at++];
  }
  u16(): number {
    this.need(2);
    const value = (this.bytes[this.at] << 8) | this.bytes[this.at + 1];
    this.at += 2;
    return value;
  }
  u32(): number {
    this.need(4);
    const value = ((this.bytes[this.at] << 24) >>> 0) + (this.bytes[this.at + 1] << 16) + (this.bytes[this.at + 2] << 8) + this.bytes[this.at + 3];
    this.at += 4;
    return value;
  }
  take(n: number): Uint8Array {
    this.need(n);
    const value = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return value;
  }
  /** An MPI of at most `maximumBits` bits; `strict` also requires its top octet to match the bit count. */
  mpi(maximumBits: number, strict: boolean): { bits: number; value: Uint8Array } {
    const bits = this.u16();
    if (bits > maximumBits) throw new NotAPacket();
    const value = this.take((bits + 7) >> 3);
    if (strict && !mpiIsNormal(bits, value)) throw new NotAPacket();
    return { bits, value };
  }
}

function mpiIsNormal(bits: number, value: Uint8Array): boolean {
  return bits === 0 || 32 - Math.clz32(value[0]) === ((bits - 1) & 7) + 1;
}

/**
 * The packet header at `start`: old format (RFC 4880 §4.2.1; 1-, 2- or 4-octet length, not the
 * indeterminate one) or new format (§4.2.2; 1-, 2- or 5-octet length, not partial), tags 5 and 7.
 */
export function pgpSecretKeyHeader(bytes: Uint8Array, start: number): { tag: 5 | 7; bodyStart: number; bodyLength: number } | undefined {
  if (start < 0 || start + 2 > bytes.length) return undefined;
  const first = bytes[start];
  let tag: number;
  let bodyStart: number;
  let bodyLength: number;
  if ((first & 0xc0) === 0x80) {
    tag = (first >> 2) & 0x0f;
    const lengthType = first & 3;
    if (lengthType === 3) return undefined;
    const size = [1, 2, 4][lengthType];
    if (start + 1 + size > bytes.length) return undefined;
    bodyLength = 0;
    for (let i = 0; i < size; i++) bodyLength = bodyLength * 256 + bytes[start + 1 + i];
    bodyStart = start + 1 + size;
  } else if ((first & 0xc0) === 0xc0) {
    tag = first & 0x3f;
    const l0 = bytes[start + 1];
    if (l0 < 192) {
      bodyLength = l0;
      bodyStart = start + 2;
    } else if (l0 < 224) {
      if (start + 3 > bytes.length) return undefined;
      bodyLength = ((l0 - 192) << 8) + bytes[start + 2] + 192;
      bodyStart = start + 3;
    } else if (l0 === 255) {
      if (start + 6 > bytes.length) return undefined;
      bodyLength = bytes[start + 2] * 2 ** 24 + (bytes[start + 3] << 16) + (bytes[start + 4] << 8) + bytes[start + 5];
      bodyStart = start + 6;
    } else {
      return undefined; // partial body lengths are not allowed for key packets
    }
  } else {
    return undefined;
  }
  if (tag !== 5 && tag !== 7) return undefined;
  return { tag, bodyStart, bodyLength };
}

/**
 * A whole secret-key or secret-subkey packet at `start`, reading nothing at or past `end` (nor
 * past maximumPgpPacketLengthInBytes): undefined unless the header, the public fields, the S2K
 * fields and the secret part cover the body exactly. GnuPG stubs (S2K 101: the secret is
 * elsewhere or on a card) hold no secret and are not packets for this purpose.
 */
export function readPgpSecretKeyPacket(bytes: Uint8Array, start: number, end: number): PgpSecretKeyPacket | undefined {
  const limit = Math.min(end, bytes.length, start + maximumPgpPacketLengthInBytes);
  const header = pgpSecretKeyHeader(bytes, start);
  if (!header || header.bodyStart + header.bodyLength > limit) return undefined;
  try {
    return parseBody(bytes, header.tag, start, header.bodyStart, header.bodyStart + header.bodyLength);
  } catch (error) {
    if (error instanceof NotAPacket) return undefined;
    throw error;
  }
}

type PublicKey =
  | { type: 'rsa'; n: Uint8Array; e: Uint8Array; bits: number }
  | { type: 'ec'; curve: PgpCurve; point: Uint8Array };

function parseBody(bytes: Uint8Array, tag: 5 | 7, start: number, bodyStart: number, bodyEnd: number): PgpSecretKeyPacket | undefined {
  const r = new Reader(bytes, bodyStart, bodyEnd);
  const version = r.u8();
  if (version !== 4 && version !== 6) return undefined;
  r.take(4); // creation time
  const algorithm = r.u8();
  let publicEnd: number | undefined;
  if (version === 6) {
    const count = r.u32();
    if (count > bodyEnd - r.at) return undefined;
    publicEnd = r.at + count;
  }
  let key: PublicKey;
  let algorithmName: string;
  if (RSA_ALGORITHMS.has(algorithm)) {
    const n = r.mpi(maximumPgpRsaBits, true);
    if (n.bits < minimumPgpRsaBits) return undefined;
    const e = r.mpi(n.bits, true);
    if (e.bits < 2) return undefined;
    key = { type: 'rsa', n: n.value, e: e.value, bits: n.bits };
    algorithmName = `RSA ${n.bits}-bit`;
  } else if (algorithm === ECDH || algorithm === ECDSA || algorithm === EDDSA_LEGACY) {
    const oidLength = r.u8();
    if (oidLength === 0 || oidLength > maximumCurveOidLength) return undefined;
    const oid = r.take(oidLength);
    const curve = PGP_CURVES.find((c) => c.oid.equals(oid));
    if (!curve) return undefined;
    // EdDSA legacy is Ed25519 only; ECDSA has no Montgomery or Edwards curve; RFC 9580 forbids
    // the legacy 25519 forms in v6 keys.
    if (algorithm === EDDSA_LEGACY && curve.okp !== 'Ed25519') return undefined;
    if (algorithm !== EDDSA_LEGACY && curve.okp === 'Ed25519') return undefined;
    if (algorithm === ECDSA && curve.okp) return undefined;
    if (version === 6 && curve.okp) return undefined;
    const pointLength = curve.ec ? 1 + 2 * curve.ec.scalarLengthInBytes : 33;
    const point = r.mpi(8 * pointLength, true).value;
    if (point.length !== pointLength || point[0] !== (curve.ec ? 0x04 : 0x40)) return undefined;
    if (algorithm === ECDH) {
      // KDF parameters: size 3, reserved 1, hash, key-wrap cipher.
      if (r.u8() !== 3 || r.u8() !== 1 || !KDF_HASHES.has(r.u8()) || !KDF_CIPHERS.has(r.u8())) return undefined;
    }
    key = { type: 'ec', curve, point };
    algorithmName = `${algorithm === ECDH ? 'ECDH' : algorithm === ECDSA ? 'ECDSA' : 'EdDSA'} ${curve.name}`;
  } else {
    return undefined;
  }
  if (publicEnd !== undefined && r.at !== publicEnd) return undefined;

  const usage = r.u8();
  const base = { tag, version: version as 4 | 6, length: bodyEnd - start, algorithm, algorithmName };
  const describe = (state: string) => `OpenPGP secret ${tag === 7 ? 'subkey' : 'key'} packet (v${version}, ${algorithmName}, ${state})`;
  const fingerprint = publicFingerprint(key);

  if (usage === 0) {
    const secretStart = r.at;
    const secrets: Uint8Array[] = [];
    let normal = true;
    for (let i = 0; i < (key.type === 'rsa' ? 4 : 1); i++) {
      const { bits, value } = r.mpi(key.type === 'rsa' ? maximumPgpRsaBits : maximumEcSecretBits, false);
      normal &&= mpiIsNormal(bits, value);
      secrets.push(value);
    }
    const secretEnd = r.at;
    let checksumProblem = false;
    if (version === 4) {
      const stored = r.u16();
      let sum = 0;
      for (let i = secretStart; i < secretEnd; i++) sum += bytes[i];
      checksumProblem = (sum & 0xffff) !== stored;
    }
    if (r.at !== bodyEnd) return undefined;
    const problem = checksumProblem
      ? 'the secret-key checksum does not match'
      : !normal
        ? 'a secret MPI is not in canonical form'
        : secretProblem(key, secrets);
    if (problem) {
      return { ...base, protected: false, kind: 'pgp-private-key', severity: 'medium', confidence: 0.6, fingerprint, note: `unprotected OpenPGP secret key: ${problem}`, description: describe('unprotected') };
    }
    return { ...base, protected: false, kind: validatedKind(key), severity: 'high', confidence: 0.99, fingerprint, description: describe('unprotected') };
  }

  // Protected: the S2K fields, then ciphertext (RFC 9580 §5.5.3, table 2 of §3.7.2.1).
  let fieldsEnd: number | undefined;
  if (version === 6) {
    if (usage !== 253 && usage !== 254) return undefined;
    const count = r.u8();
    fieldsEnd = r.at + count;
  }
  let minimumCiphertext: number;
  if (usage === 253 || usage === 254 || usage === 255) {
    const cipher = r.u8();
    const aead = usage === 253 ? r.u8() : undefined;
    let s2kLength: number | undefined;
    if (version === 6) s2kLength = r.u8();
    const s2kStart = r.at;
    if (!readS2k(r)) return undefined; // a GnuPG stub (gnu-dummy, divert-to-card): no secret here
    if (s2kLength !== undefined && r.at - s2kStart !== s2kLength) return undefined;
    const ivLength = aead === undefined ? BLOCK_SIZES[cipher] : BLOCK_SIZES[cipher] && AEAD_NONCE_SIZES[aead];
    if (!ivLength) return undefined;
    r.take(ivLength);
    minimumCiphertext = usage === 254 ? SHA1_LENGTH + 3 : usage === 253 ? AEAD_TAG_LENGTH + 3 : 5;
  } else {
    // A bare cipher identifier: legacy MD5-of-passphrase protection (v4 only), then the IV.
    const blockSize = BLOCK_SIZES[usage];
    if (!blockSize) return undefined;
    r.take(blockSize);
    minimumCiphertext = 5;
  }
  if (fieldsEnd !== undefined && r.at !== fieldsEnd) return undefined;
  if (bodyEnd - r.at < minimumCiphertext) return undefined;
  return {
    ...base,
    protected: true,
    kind: 'pgp-private-key',
    severity: 'medium',
    confidence: 0.85,
    fingerprint,
    note: 'passphrase-protected OpenPGP secret key',
    description: describe('passphrase-protected'),
  };
}

/** Reads a string-to-key specifier (RFC 9580 §3.7.1); false for GnuPG's stubs (type 101). */
function readS2k(r: Reader): boolean {
  const type = r.u8();
  if (type === GNU_S2K) {
    r.u8(); // hash
    const magic = r.take(3);
    if (magic[0] !== 0x47 || magic[1] !== 0x4e || magic[2] !== 0x55) throw new NotAPacket(); // "GNU"
    const mode = r.u8();
    if (mode === 2) {
      // divert-to-card: the serial number follows
      const serialLength = r.u8();
      if (serialLength > maximumCardSerialLength) throw new NotAPacket();
      r.take(serialLength);
    } else if (mode !== 1) {
      throw new NotAPacket();
    }
    return false;
  }
  if (type === 4) {
    r.take(16 + 3); // Argon2: salt, passes, parallelism, memory
    return true;
  }
  if (type !== 0 && type !== 1 && type !== 3) throw new NotAPacket();
  if (!HASH_ALGORITHMS.has(r.u8())) throw new NotAPacket();
  if (type !== 0) r.take(8); // salt
  if (type === 3) r.u8(); // coded iteration count
  return true;
}

function okpSpkiFingerprint(curve: 'Ed25519' | 'X25519', publicKey: Uint8Array): string {
  return fingerprintOfSpki(derSequence(derSequence(derOid(curve === 'Ed25519' ? '1.3.101.112' : '1.3.101.110')), derBitString(publicKey)));
}

function publicFingerprint(key: PublicKey): string {
  if (key.type === 'rsa') return rsaSpkiFingerprint(bytesToBigInt(key.n), bytesToBigInt(key.e));
  const { curve, point } = key;
  return curve.ec ? ecSpkiFingerprint(curve.ec, point) : okpSpkiFingerprint(curve.okp!, point.subarray(1));
}

function validatedKind(key: PublicKey): KeyKind {
  if (key.type === 'rsa') return 'rsa-private-key';
  if (key.curve.okp === 'Ed25519') return 'ed25519-private-key';
  if (key.curve.okp === 'X25519') return 'x25519-private-key';
  return 'ec-private-key';
}

function leftPadded(value: Uint8Array, width: number): Buffer | undefined {
  if (value.length > width) return undefined;
  const out = Buffer.alloc(width);
  out.set(value, width - value.length);
  return out;
}

/** Why the secret part does not belong to the public key, or undefined when it does. */
function secretProblem(key: PublicKey, secrets: Uint8Array[]): string | undefined {
  if (key.type === 'rsa') {
    const [d, p, q, u] = secrets.map(bytesToBigInt);
    // OpenPGP stores u = p^-1 mod q; rsaIsConsistent checks qi·q ≡ 1 (mod p) for primes [p, q],
    // so the primes go in swapped.
    const consistent = rsaIsConsistent({ n: bytesToBigInt(key.n), e: bytesToBigInt(key.e), d, primes: [q, p], qi: u });
    return consistent ? undefined : 'RSA parameters are inconsistent (n, e, d, p, q or u disagree)';
  }
  const { curve, point } = key;
  if (curve.ec) {
    const d = leftPadded(secrets[0], curve.ec.scalarLengthInBytes);
    const check = d && checkEcScalar(curve.ec, d, point);
    if (!check) return 'the private scalar is not valid for the curve';
    return check.mismatch ? 'the public point does not match the private scalar' : undefined;
  }
  const raw = leftPadded(secrets[0], 32);
  if (!raw) return 'the secret is longer than 32 octets';
  // EdDSA legacy stores the Ed25519 seed as is; Curve25519 ECDH stores the native (little-endian)
  // X25519 scalar reversed.
  const native = curve.okp === 'X25519' ? Buffer.from(raw).reverse() : raw;
  let derived: Buffer;
  try {
    derived = okpPublicKey(curve.okp!, native);
  } catch {
    return 'the secret is not a valid key';
  }
  return derived.equals(point.subarray(1)) ? undefined : 'the public key does not match the secret';
}
