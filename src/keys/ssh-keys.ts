// SSH key algorithms -> node:crypto KeyObjects, shared by the OpenSSH and PuTTY formats.
// The field layouts are OpenSSH's PROTOCOL.key and RFC 4253/5656/8709; PuTTY stores the same
// public blob and an algorithm-specific private blob.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { derInteger, derSequence } from './der-encode.js';
import { bigIntToBase64Url, modPow } from './integers.js';
import { HardLimitError } from './limits.js';
import { SshReader } from './ssh-wire.js';

export interface SshPrivateKey {
  key: KeyObject;
  /** Set when the parts parse but contradict each other. */
  problem?: string;
}

const EC_CURVES: Record<string, { crv: string; width: number }> = {
  nistp256: { crv: 'P-256', width: 32 },
  nistp384: { crv: 'P-384', width: 48 },
  nistp521: { crv: 'P-521', width: 66 },
};

export function isSupportedSshKeyType(type: string): boolean {
  return type === 'ssh-ed25519' || type === 'ssh-rsa' || type === 'ssh-dss' || type.startsWith('ecdsa-sha2-');
}

/** Reads one key of OpenSSH's private section (after its key-type string). */
export function readOpensshPrivateFields(type: string, r: SshReader): SshPrivateKey {
  switch (type) {
    case 'ssh-ed25519': {
      const pub = r.string(32);
      const priv = r.string(64);
      if (pub.length !== 32 || priv.length !== 64) throw new HardLimitError('ed25519 field size');
      const result = ed25519Key(priv.subarray(0, 32), pub);
      if (!Buffer.from(priv.subarray(32)).equals(Buffer.from(pub))) result.problem ??= 'Ed25519 public halves disagree';
      return result;
    }
    case 'ssh-rsa': {
      const n = r.mpint(), e = r.mpint(), d = r.mpint(), qi = r.mpint(), p = r.mpint(), q = r.mpint();
      return rsaKey(n, e, d, p, q, qi);
    }
    case 'ssh-dss': {
      const p = r.mpint(), q = r.mpint(), g = r.mpint(), y = r.mpint(), x = r.mpint();
      return dsaKey(p, q, g, y, x);
    }
    default: {
      if (!type.startsWith('ecdsa-sha2-')) throw new HardLimitError('unsupported ssh key type');
      const curveName = r.text();
      const point = r.string(133);
      const d = r.mpint();
      return ecKey(curveName, point, d);
    }
  }
}

/** PuTTY: the public blob (SSH wire) plus the algorithm's private blob. */
export function puttyPrivateKey(publicBlob: Uint8Array, privateBlob: Uint8Array): SshPrivateKey {
  const pub = new SshReader(publicBlob);
  const priv = new SshReader(privateBlob);
  const type = pub.text();
  switch (type) {
    case 'ssh-ed25519':
      return ed25519Key(priv.string(32), pub.string(32));
    case 'ssh-rsa': {
      const e = pub.mpint(), n = pub.mpint();
      const d = priv.mpint(), p = priv.mpint(), q = priv.mpint(), qi = priv.mpint();
      return rsaKey(n, e, d, p, q, qi);
    }
    case 'ssh-dss': {
      const p = pub.mpint(), q = pub.mpint(), g = pub.mpint(), y = pub.mpint();
      return dsaKey(p, q, g, y, priv.mpint());
    }
    default: {
      if (!type.startsWith('ecdsa-sha2-')) throw new HardLimitError('unsupported ssh key type');
      const curveName = pub.text();
      return ecKey(curveName, pub.string(133), priv.mpint());
    }
  }
}

function ed25519Key(seed: Uint8Array, pub: Uint8Array): SshPrivateKey {
  if (seed.length !== 32 || pub.length !== 32) throw new HardLimitError('ed25519 field size');
  const x = Buffer.from(pub).toString('base64url');
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(seed).toString('base64url'), x }, format: 'jwk' });
  const derived = createPublicKey(key).export({ format: 'jwk' }).x;
  return derived === x ? { key } : { key, problem: 'Ed25519 public key does not match the private seed' };
}

function rsaKey(n: bigint, e: bigint, d: bigint, p: bigint, q: bigint, qi: bigint): SshPrivateKey {
  if (p < 3n || q < 3n) throw new HardLimitError('rsa prime too small');
  const b = (v: bigint) => bigIntToBase64Url(v);
  const key = createPrivateKey({
    key: { kty: 'RSA', n: b(n), e: b(e), d: b(d), p: b(p), q: b(q), dp: b(d % (p - 1n)), dq: b(d % (q - 1n)), qi: b(qi) },
    format: 'jwk',
  });
  return { key }; // describePrivateKey checks n = p·q, e·d and qi
}

function dsaKey(p: bigint, q: bigint, g: bigint, y: bigint, x: bigint): SshPrivateKey {
  if (p < 3n || q < 3n) throw new HardLimitError('dsa parameter too small');
  const der = derSequence(derInteger(0n), derInteger(p), derInteger(q), derInteger(g), derInteger(y), derInteger(x));
  const pem = `-----BEGIN DSA PRIVATE KEY-----\n${der.toString('base64')}\n-----END DSA PRIVATE KEY-----\n`;
  const key = createPrivateKey(pem);
  return modPow(g, x, p) === y ? { key } : { key, problem: 'DSA public value does not match the private value' };
}

function ecKey(curveName: string, point: Uint8Array, d: bigint): SshPrivateKey {
  const curve = EC_CURVES[curveName];
  if (!curve || point.length !== 1 + 2 * curve.width || point[0] !== 4) throw new HardLimitError('ecdsa point');
  const x = Buffer.from(point.subarray(1, 1 + curve.width)).toString('base64url');
  const y = Buffer.from(point.subarray(1 + curve.width)).toString('base64url');
  const key = createPrivateKey({ key: { kty: 'EC', crv: curve.crv, x, y, d: bigIntToBase64Url(d, curve.width) }, format: 'jwk' });
  return { key }; // describePrivateKey derives d·G and compares
}
