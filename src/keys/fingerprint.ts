import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/**
 * Key identity from content: `SHA256:` + unpadded base64 of SHA-256 over the SPKI DER of the
 * public key (the OpenSSH fingerprint style). The same key found as PEM, DER, JWK or a blob
 * has one fingerprint, so baselines and inventories can match on it.
 */
export function fingerprintOfSpki(spki: Uint8Array): string {
  return 'SHA256:' + createHash('sha256').update(spki).digest('base64').replace(/=+$/, '');
}

export function spkiFingerprint(key: KeyObject): string {
  const publicKey = key.type === 'public' ? key : createPublicKey(key);
  return fingerprintOfSpki(publicKey.export({ type: 'spki', format: 'der' }));
}
