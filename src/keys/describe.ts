import { createECDH, createPublicKey, type KeyObject } from 'node:crypto';
import type { KeyKind } from '../types.js';
import { spkiFingerprint } from './fingerprint.js';
import { base64UrlToBigInt } from './integers.js';
import { rsaIsConsistent } from './rsa.js';

export interface KeyDescription {
  kind: KeyKind;
  fingerprint: string;
  /** False when the key parses but its parts contradict each other (e.g. n ≠ p·q). */
  consistent: boolean;
  /** Why it is not consistent; never contains key bytes. */
  problem?: string;
}

const KIND_BY_TYPE: Record<string, KeyKind> = {
  rsa: 'rsa-private-key',
  'rsa-pss': 'rsa-private-key',
  ec: 'ec-private-key',
  ed25519: 'ed25519-private-key',
  ed448: 'ed448-private-key',
  x25519: 'x25519-private-key',
  x448: 'x448-private-key',
  dsa: 'dsa-private-key',
};

/** node:crypto curve names for createECDH, by JWK `crv`. */
const ECDH_CURVE: Record<string, string> = {
  'P-256': 'prime256v1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
  secp256k1: 'secp256k1',
};

export function kindOfKey(key: KeyObject): KeyKind {
  return KIND_BY_TYPE[key.asymmetricKeyType ?? ''] ?? 'private-key';
}

/** Classifies a parsed private key, checks its mathematics where node:crypto lets us, and fingerprints it. */
export function describePrivateKey(key: KeyObject): KeyDescription {
  const kind = kindOfKey(key);
  const fingerprint = spkiFingerprint(createPublicKey(key));
  const problem = findInconsistency(key);
  return problem ? { kind, fingerprint, consistent: false, problem } : { kind, fingerprint, consistent: true };
}

function findInconsistency(key: KeyObject): string | undefined {
  const type = key.asymmetricKeyType;
  if (type === 'rsa' || type === 'rsa-pss') {
    let jwk;
    try {
      jwk = key.export({ format: 'jwk' });
    } catch {
      return undefined; // multi-prime and PSS keys do not export as JWK; #3's DER check covers them
    }
    if (!jwk.n || !jwk.e || !jwk.d || !jwk.p || !jwk.q) return 'RSA key lacks its primes';
    const ok = rsaIsConsistent({
      n: base64UrlToBigInt(jwk.n),
      e: base64UrlToBigInt(jwk.e),
      d: base64UrlToBigInt(jwk.d),
      primes: [base64UrlToBigInt(jwk.p), base64UrlToBigInt(jwk.q)],
      dp: jwk.dp ? base64UrlToBigInt(jwk.dp) : undefined,
      dq: jwk.dq ? base64UrlToBigInt(jwk.dq) : undefined,
      qi: jwk.qi ? base64UrlToBigInt(jwk.qi) : undefined,
    });
    return ok ? undefined : 'RSA parameters are inconsistent (n, e, d, primes or CRT values disagree)';
  }
  if (type === 'ec') {
    const jwk = key.export({ format: 'jwk' });
    const curve = ECDH_CURVE[jwk.crv ?? ''];
    if (!curve || !jwk.d || !jwk.x || !jwk.y) return undefined;
    const ecdh = createECDH(curve);
    ecdh.setPrivateKey(Buffer.from(jwk.d, 'base64url'));
    const derived = ecdh.getPublicKey();
    const width = (derived.length - 1) / 2;
    const x = Buffer.from(jwk.x, 'base64url');
    const y = Buffer.from(jwk.y, 'base64url');
    const stored = Buffer.concat([Buffer.from([4]), pad(x, width), pad(y, width)]);
    return derived.equals(stored) ? undefined : 'EC public point does not match the private scalar';
  }
  return undefined;
}

function pad(bytes: Buffer, width: number): Buffer {
  return bytes.length >= width ? bytes : Buffer.concat([Buffer.alloc(width - bytes.length), bytes]);
}
