// The public VALUES of the --known-keys keys (src/keys/inventory.ts keeps only their
// fingerprints): the raw search looks for these in every file, even when the file holds no
// certificate or public key of them. Fingerprint lists carry no value and add nothing here.
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SshReader } from '../keys/ssh-wire.js';
import { toTarget } from './search.js';
import { bytesToHex, minimalBigEndian, type PublicValue, type RawTarget } from './targets.js';

export async function loadKnownTargets(files: readonly string[]): Promise<RawTarget[]> {
  const out = new Map<string, RawTarget>();
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      continue; // loadInventory reports unreadable files
    }
    for (const value of publicValuesOf(bytes)) {
      const target = toTarget(value);
      if (target && !out.has(target.fingerprint)) out.set(target.fingerprint, target);
    }
  }
  return [...out.values()];
}

export function publicValuesOf(bytes: Buffer): PublicValue[] {
  const keys: KeyObject[] = [];
  const text = bytes.toString('utf8');
  const trimmed = text.trimStart();
  const attempt = (make: () => KeyObject) => {
    try {
      keys.push(make());
    } catch {
      // not a key this node:crypto reads
    }
  };
  const values: PublicValue[] = [];
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const document = JSON.parse(trimmed);
      const list = Array.isArray(document) ? document : (document.keys ?? [document]);
      for (const jwk of list) {
        if (!jwk || typeof jwk !== 'object' || jwk.kty === 'oct') continue;
        const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...publicMembers } = jwk;
        attempt(() => createPublicKey({ key: publicMembers, format: 'jwk' }));
      }
    } catch {
      // not JSON
    }
  } else if (text.includes('-----BEGIN ')) {
    for (const block of text.match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g) ?? []) {
      if (block.startsWith('-----BEGIN CERTIFICATE-----')) attempt(() => new X509Certificate(block).publicKey);
      else if (/^-----BEGIN (RSA )?PUBLIC KEY-----/.test(block)) attempt(() => createPublicKey(block));
    }
  } else if (bytes[0] === 0x30) {
    attempt(() => new X509Certificate(bytes).publicKey);
    if (keys.length === 0) attempt(() => createPublicKey({ key: bytes, format: 'der', type: 'spki' }));
  } else {
    for (const line of text.split(/\r?\n/)) {
      const [type, base64] = line.trim().split(/\s+/);
      if (type && base64) values.push(...sshValues(type, base64));
    }
  }
  for (const key of keys) {
    const value = fromKeyObject(key);
    if (value) values.push(value);
  }
  return values;
}

function fromKeyObject(key: KeyObject): PublicValue | undefined {
  const jwk = key.export({ format: 'jwk' });
  const hex = (member: string | undefined) => bytesToHex(minimalBigEndian(Buffer.from(member ?? '', 'base64url')));
  if (jwk.kty === 'RSA') return { type: 'rsa', n: hex(jwk.n), e: hex(jwk.e), caRoot: false };
  if (jwk.kty === 'EC' && jwk.crv && jwk.x && jwk.y) {
    const curve = { 'P-256': 'P-256', 'P-384': 'P-384', 'P-521': 'P-521', secp256k1: 'secp256k1' }[jwk.crv];
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
    return curve ? { type: 'ec', curve, point: point.toString('hex'), caRoot: false } : undefined;
  }
  if (jwk.kty === 'OKP' && (jwk.crv === 'Ed25519' || jwk.crv === 'X25519') && jwk.x) return { type: 'okp', curve: jwk.crv, key: Buffer.from(jwk.x, 'base64url').toString('hex'), caRoot: false };
  return undefined;
}

function sshValues(type: string, base64: string): PublicValue[] {
  try {
    const r = new SshReader(Buffer.from(base64, 'base64'));
    if (r.text() !== type) return [];
    if (type === 'ssh-ed25519') return [{ type: 'okp', curve: 'Ed25519', key: bytesToHex(r.string(32)), caRoot: false }];
    if (type === 'ssh-rsa') {
      const e = r.mpint();
      const n = r.mpint();
      const hexOf = (v: bigint) => (v.toString(16).length % 2 ? '0' : '') + v.toString(16);
      return [{ type: 'rsa', n: hexOf(n), e: hexOf(e), caRoot: false }];
    }
    const curve = { nistp256: 'P-256', nistp384: 'P-384', nistp521: 'P-521' }[r.text()];
    return curve ? [{ type: 'ec', curve, point: bytesToHex(r.string(1 + 2 * curveByNameLength(curve))), caRoot: false }] : [];
  } catch {
    return [];
  }
}

function curveByNameLength(curve: string): number {
  return curve === 'P-256' ? 32 : curve === 'P-384' ? 48 : 66;
}
