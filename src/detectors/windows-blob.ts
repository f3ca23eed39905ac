// Windows key blobs, as CryptoAPI and CNG keep and export keys (Microsoft Learn: "Base Provider
// Key BLOBs", BCRYPT_RSAKEY_BLOB, BCRYPT_ECCKEY_BLOB). Found by their magic, parsed by their
// documented layouts, and checked by their mathematics; the fingerprint is the same SPKI one
// the key has as PEM or DER.
import type { Detector, KeyKind, Match, Severity } from '../types.js';
import { checkEcScalar, curveByName, type Curve } from '../keys/ec.js';
import { bytesToBigInt } from '../keys/integers.js';
import { rsaIsConsistent, rsaSpkiFingerprint } from '../keys/rsa.js';
import { redactedBinaryEvidence } from '../report/redact.js';
import { anchorHits, hitsBelow } from './anchors.js';
import { asBuffer } from './text-views.js';

const minimumRsaBits = 512;
const maximumRsaBits = 16384;
/**
 * The longest blob: a 16384-bit BCRYPT_RSAFULLPRIVATE_BLOB with an 8-byte exponent and primes
 * of half the modulus plus one byte (the bound cngRsaBlob enforces); longer than CryptoAPI's.
 */
const maximumPrimeBytes = maximumRsaBits / 16 + 1;
const maximumBlobLengthInBytes = 24 + 8 + 2 * (maximumRsaBits / 8) + 5 * maximumPrimeBytes;

const PRIVATEKEYBLOB = 0x07;
const CALG_RSA_KEYX = 0xa400;
const CALG_RSA_SIGN = 0x2400;
const ECC_PRIVATE_MAGICS: Record<string, { curve: string; usage: string }> = {
  ECK2: { curve: 'P-256', usage: 'ECDH' }, ECK4: { curve: 'P-384', usage: 'ECDH' }, ECK6: { curve: 'P-521', usage: 'ECDH' },
  ECS2: { curve: 'P-256', usage: 'ECDSA' }, ECS4: { curve: 'P-384', usage: 'ECDSA' }, ECS6: { curve: 'P-521', usage: 'ECDSA' },
};

interface BlobMatch {
  length: number;
  kind: KeyKind;
  severity: Severity;
  fingerprint?: string;
  note?: string;
  description: string;
}

/** Little-endian integers as CryptoAPI stores them. */
function littleEndian(bytes: Uint8Array, start: number, length: number): bigint {
  return bytesToBigInt(Uint8Array.from(bytes.subarray(start, start + length)).reverse());
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

function rsaVerdict(description: string, length: number, n: bigint, e: bigint, primes: [bigint, bigint], d?: bigint, crt?: { dp: bigint; dq: bigint; qi: bigint }): BlobMatch | undefined {
  if (n === 0n || primes[0] < 3n || primes[1] < 3n) return undefined; // zeroed memory, not a key
  const fingerprint = rsaSpkiFingerprint(n, e);
  const lambdaCheck = d ?? inverseExponent(e, primes);
  const consistent = lambdaCheck !== undefined && rsaIsConsistent({ n, e, d: lambdaCheck, primes, ...crt });
  return consistent
    ? { length, kind: 'rsa-private-key', severity: 'high', fingerprint, description }
    : { length, kind: 'rsa-private-key', severity: 'medium', fingerprint, description, note: 'RSA parameters are inconsistent (n, e, d, primes or CRT values disagree)' };
}

/** BCRYPT_RSAPRIVATE_BLOB has no d: derive it (when n = p·q) so the same check applies. */
function inverseExponent(e: bigint, [p, q]: [bigint, bigint]): bigint | undefined {
  const phi = (p - 1n) * (q - 1n);
  let [oldR, r] = [e % phi, phi];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const k = oldR / r;
    [oldR, r] = [r, oldR - k * r];
    [oldS, s] = [s, oldS - k * s];
  }
  if (oldR !== 1n) return undefined;
  return ((oldS % phi) + phi) % phi;
}

function cryptoApiBlob(bytes: Uint8Array, start: number): BlobMatch | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, Math.min(24, bytes.length - start));
  if (view.byteLength < 20 || bytes[start] !== PRIVATEKEYBLOB || bytes[start + 1] !== 2 || view.getUint16(2, true) !== 0) return undefined;
  const algorithm = view.getUint32(4, true);
  if (algorithm !== CALG_RSA_KEYX && algorithm !== CALG_RSA_SIGN) return undefined;
  const bits = view.getUint32(12, true);
  const e = BigInt(view.getUint32(16, true));
  if (bits < minimumRsaBits || bits > maximumRsaBits || bits % 16 !== 0 || e < 3n) return undefined;
  const full = bits / 8;
  const half = bits / 16;
  const length = 20 + 2 * full + 5 * half;
  if (start + length > bytes.length) return undefined;
  let at = start + 20;
  const take = (size: number) => {
    const value = littleEndian(bytes, at, size);
    at += size;
    return value;
  };
  const n = take(full), p = take(half), q = take(half), dp = take(half), dq = take(half), qi = take(half), d = take(full);
  if (bitLength(n) !== bits) return undefined;
  return rsaVerdict(`CryptoAPI PRIVATEKEYBLOB (RSA ${bits}-bit, ${algorithm === CALG_RSA_KEYX ? 'CALG_RSA_KEYX' : 'CALG_RSA_SIGN'})`, length, n, e, [p, q], d, { dp, dq, qi });
}

function cngRsaBlob(bytes: Uint8Array, start: number, fullPrivate: boolean): BlobMatch | undefined {
  if (start + 24 > bytes.length) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, 24);
  const bits = view.getUint32(4, true);
  const [cbExponent, cbModulus, cbPrime1, cbPrime2] = [8, 12, 16, 20].map((o) => view.getUint32(o, true));
  if (bits < minimumRsaBits || bits > maximumRsaBits || cbModulus !== Math.ceil(bits / 8) || cbExponent < 1 || cbExponent > 8) return undefined;
  const primeLimit = Math.min(maximumPrimeBytes, Math.ceil(cbModulus / 2) + 1);
  if (cbPrime1 < 1 || cbPrime2 < 1 || cbPrime1 > primeLimit || cbPrime2 > primeLimit) return undefined;
  const length = 24 + cbExponent + cbModulus + cbPrime1 + cbPrime2 + (fullPrivate ? 2 * cbPrime1 + cbPrime2 + cbModulus : 0);
  if (start + length > bytes.length) return undefined;
  let at = start + 24;
  const take = (size: number) => {
    const value = bytesToBigInt(bytes.subarray(at, at + size));
    at += size;
    return value;
  };
  const e = take(cbExponent), n = take(cbModulus), p = take(cbPrime1), q = take(cbPrime2);
  if (bitLength(n) !== bits || e < 3n) return undefined;
  const name = fullPrivate ? 'BCRYPT_RSAFULLPRIVATE_BLOB' : 'BCRYPT_RSAPRIVATE_BLOB';
  if (!fullPrivate) return rsaVerdict(`CNG ${name} (RSA ${bits}-bit)`, length, n, e, [p, q]);
  const dp = take(cbPrime1), dq = take(cbPrime2), qi = take(cbPrime1), d = take(cbModulus);
  return rsaVerdict(`CNG ${name} (RSA ${bits}-bit)`, length, n, e, [p, q], d, { dp, dq, qi });
}

function cngEccBlob(bytes: Uint8Array, start: number, magic: string): BlobMatch | undefined {
  const info = ECC_PRIVATE_MAGICS[magic];
  const curve = info && curveByName(info.curve);
  if (!curve || start + 8 > bytes.length) return undefined;
  const cbKey = new DataView(bytes.buffer, bytes.byteOffset + start + 4, 4).getUint32(0, true);
  if (cbKey !== curve.scalarLengthInBytes) return undefined;
  const length = 8 + 3 * cbKey;
  if (start + length > bytes.length) return undefined;
  const x = bytes.subarray(start + 8, start + 8 + cbKey);
  const y = bytes.subarray(start + 8 + cbKey, start + 8 + 2 * cbKey);
  const d = bytes.subarray(start + 8 + 2 * cbKey, start + length);
  if (d.every((b) => b === 0)) return undefined;
  return eccVerdict(curve, info.usage, length, x, y, d);
}

function eccVerdict(curve: Curve, usage: string, length: number, x: Uint8Array, y: Uint8Array, d: Uint8Array): BlobMatch | undefined {
  const description = `CNG BCRYPT_ECCPRIVATE_BLOB (${usage} ${curve.name})`;
  const check = checkEcScalar(curve, d, Buffer.concat([Buffer.from([4]), x, y]));
  if (!check) return { length, kind: 'ec-private-key', severity: 'medium', description, note: 'private scalar is not valid for the curve' };
  return check.mismatch
    ? { length, kind: 'ec-private-key', severity: 'medium', description, fingerprint: check.fingerprint, note: 'public point does not match the private scalar' }
    : { length, kind: 'ec-private-key', severity: 'high', description, fingerprint: check.fingerprint };
}

function toMatch(start: number, blob: BlobMatch): Match {
  return {
    start,
    length: blob.length,
    detector: 'windows-blob',
    kind: blob.kind,
    severity: blob.severity,
    confidence: blob.severity === 'high' ? 0.99 : 0.6,
    encoding: 'binary',
    evidence: redactedBinaryEvidence(blob.description, blob.length),
    ...(blob.fingerprint ? { fingerprint: blob.fingerprint } : {}),
    ...(blob.note ? { note: blob.note } : {}),
  };
}

const rsaMagic = Buffer.from('RSA', 'latin1');
/** 'ECK2'…'ECS6': one pass for the common 'EC', the rest checked by cngEccBlob. */
const eccMagic = Buffer.from('EC', 'latin1');

export const windowsBlobDetector: Detector = {
  id: 'windows-blob',
  maxMatchLengthInBytes: maximumBlobLengthInBytes,
  anchors: [rsaMagic, eccMagic],
  *scan(bytes, bodyLength, shared) {
    const buffer = asBuffer(bytes);
    const hits = anchorHits(buffer, [rsaMagic, eccMagic], shared);
    // 'RSA2' opens a CNG blob and sits 8 bytes into a CryptoAPI one (after the BLOBHEADER).
    for (const p of hitsBelow(hits, rsaMagic, bodyLength + 8)) {
      const version = buffer[p + 3];
      if (version !== 0x32 && version !== 0x33) continue;
      if (version === 0x32 && p - 8 >= 0 && p - 8 < bodyLength) {
        const blob = cryptoApiBlob(buffer, p - 8);
        if (blob) {
          yield toMatch(p - 8, blob);
          continue;
        }
      }
      if (p < bodyLength) {
        const blob = cngRsaBlob(buffer, p, version === 0x33);
        if (blob) yield toMatch(p, blob);
      }
    }
    for (const p of hitsBelow(hits, eccMagic, bodyLength)) {
      const third = buffer[p + 2];
      if (third !== 0x4b && third !== 0x53) continue; // 'K' (ECDH) or 'S' (ECDSA)
      const blob = cngEccBlob(buffer, p, buffer.toString('latin1', p, p + 4));
      if (blob) yield toMatch(p, blob);
    }
  },
};
