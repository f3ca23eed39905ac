import { derBitString, derInteger, derNull, derOid, derSequence } from './der-encode.js';
import { fingerprintOfSpki } from './fingerprint.js';
import { mod } from './integers.js';

export const RSA_ENCRYPTION_OID = '1.2.840.113549.1.1.1';

export interface RsaIntegers {
  n: bigint;
  e: bigint;
  d: bigint;
  primes: bigint[];
  /** CRT values as stored; checked when present. */
  dp?: bigint;
  dq?: bigint;
  qi?: bigint;
}

/**
 * The mathematics of an RSA private key: n is the product of its primes and e·d ≡ 1 (mod λ(n)).
 * A partly overwritten key in a dump fails one of these and is reported lower.
 */
export function rsaIsConsistent(key: RsaIntegers): boolean {
  const { n, e, d, primes } = key;
  if (primes.length < 2 || e < 3n || d < 1n || d >= n) return false;
  let product = 1n;
  for (const p of primes) {
    if (p < 3n) return false;
    product *= p;
  }
  if (product !== n) return false;
  // e·d ≡ 1 (mod λ(n)) with λ(n) = lcm(r − 1) holds exactly when it holds modulo each r − 1:
  // a few remainders instead of the gcds an lcm would cost.
  const ed = e * d;
  if (primes.some((p) => ed % (p - 1n) !== 1n)) return false;
  const [p, q] = primes;
  if (key.dp !== undefined && key.dp !== d % (p - 1n)) return false;
  if (key.dq !== undefined && key.dq !== d % (q - 1n)) return false;
  if (key.qi !== undefined && mod(key.qi * q, p) !== 1n) return false;
  return true;
}

/** SPKI with rsaEncryption, as node:crypto exports an RSA public key. */
export function rsaSpkiFingerprint(n: bigint, e: bigint): string {
  const rsaPublicKey = derSequence(derInteger(n), derInteger(e));
  return fingerprintOfSpki(derSequence(derSequence(derOid(RSA_ENCRYPTION_OID), derNull()), derBitString(rsaPublicKey)));
}
