// Elliptic-curve private scalars: derive the public point with node:crypto (which also
// rejects d = 0 and d >= order), compare it with a stored point, and fingerprint the SPKI.
import { createECDH } from 'node:crypto';
import { derBitString, derOid, derSequence } from './der-encode.js';
import { fingerprintOfSpki } from './fingerprint.js';

export const EC_PUBLIC_KEY_OID = '1.2.840.10045.2.1';

export interface Curve {
  name: string;
  oid: string;
  /** node:crypto's name for createECDH. */
  ecdhName: string;
  scalarLengthInBytes: number;
}

export const CURVES: readonly Curve[] = [
  { name: 'P-256', oid: '1.2.840.10045.3.1.7', ecdhName: 'prime256v1', scalarLengthInBytes: 32 },
  { name: 'P-384', oid: '1.3.132.0.34', ecdhName: 'secp384r1', scalarLengthInBytes: 48 },
  { name: 'P-521', oid: '1.3.132.0.35', ecdhName: 'secp521r1', scalarLengthInBytes: 66 },
  { name: 'secp256k1', oid: '1.3.132.0.10', ecdhName: 'secp256k1', scalarLengthInBytes: 32 },
  { name: 'brainpoolP256r1', oid: '1.3.36.3.3.2.8.1.1.7', ecdhName: 'brainpoolP256r1', scalarLengthInBytes: 32 },
  { name: 'brainpoolP384r1', oid: '1.3.36.3.3.2.8.1.1.11', ecdhName: 'brainpoolP384r1', scalarLengthInBytes: 48 },
  { name: 'brainpoolP512r1', oid: '1.3.36.3.3.2.8.1.1.13', ecdhName: 'brainpoolP512r1', scalarLengthInBytes: 64 },
];

export const curveByOid = (oid: string | undefined) => CURVES.find((c) => c.oid === oid);
export const curveByName = (name: string) => CURVES.find((c) => c.name === name);

export interface EcCheck {
  /** Uncompressed public point d·G. */
  point: Buffer;
  fingerprint: string;
  /** A stored point was given and it is not d·G. */
  mismatch: boolean;
}

/** undefined when d is not a valid scalar for the curve (zero, too large, wrong size). */
export function checkEcScalar(curve: Curve, d: Uint8Array, storedPoint?: Uint8Array): EcCheck | undefined {
  if (d.length === 0 || d.length > curve.scalarLengthInBytes + 1) return undefined;
  const ecdh = createECDH(curve.ecdhName);
  try {
    ecdh.setPrivateKey(Buffer.from(d));
  } catch {
    return undefined;
  }
  const point = ecdh.getPublicKey();
  let mismatch = false;
  if (storedPoint) {
    const stored = Buffer.from(storedPoint);
    mismatch = stored[0] === 4 ? !stored.equals(point) : !stored.equals(ecdh.getPublicKey(null, 'compressed'));
  }
  return { point, fingerprint: ecSpkiFingerprint(curve, point), mismatch };
}

/** The SPKI node:crypto exports for a named-curve key, hashed: the same fingerprint as every other form. */
export function ecSpkiFingerprint(curve: Curve, point: Uint8Array): string {
  return fingerprintOfSpki(derSequence(derSequence(derOid(EC_PUBLIC_KEY_OID), derOid(curve.oid)), derBitString(point)));
}
