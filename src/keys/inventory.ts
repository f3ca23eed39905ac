// The organisation's inventory of its own PUBLIC keys (--known-keys): a JWKS or JWK, PEM public
// keys and certificates, DER certificates or SPKI, OpenSSH public key lines, or a list of
// fingerprints. A private key found whose public half is listed is the worst case: `critical`.
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError, describeError } from '../errors.js';
import type { Finding } from '../types.js';
import { derBitString, derOid, derSequence } from './der-encode.js';
import { curveByName, ecSpkiFingerprint } from './ec.js';
import { fingerprintOfSpki, spkiFingerprint } from './fingerprint.js';
import { rsaSpkiFingerprint } from './rsa.js';
import { SshReader } from './ssh-wire.js';

export interface KnownKey {
  id: string;
  source: string;
}

/** Fingerprint (`SHA256:…` or `JWK:…`) → the inventory entry that names it. */
export type Inventory = Map<string, KnownKey>;

const maximumInventoryBytes = 64 * 1024 * 1024;

export async function loadInventory(files: readonly string[]): Promise<Inventory> {
  const inventory: Inventory = new Map();
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (error) {
      throw new UsageError(`cannot read --known-keys ${file}: ${describeError(error)}`);
    }
    if (bytes.length > maximumInventoryBytes) throw new UsageError(`--known-keys ${file} is larger than 64 MiB`);
    const entries = parseInventory(bytes, path.basename(file));
    if (entries.length === 0) throw new UsageError(`--known-keys ${file}: no public keys, certificates or fingerprints found`);
    for (const [fingerprint, known] of entries) if (!inventory.has(fingerprint)) inventory.set(fingerprint, known);
  }
  return inventory;
}

export function parseInventory(bytes: Buffer, source: string): Array<[string, KnownKey]> {
  const text = bytes.toString('utf8');
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return fromJson(trimmed, source);
  if (text.includes('-----BEGIN ')) return fromPem(text, source);
  if (bytes[0] === 0x30) return fromDer(bytes, source);
  return fromLines(text, source);
}

function fromJson(text: string, source: string): Array<[string, KnownKey]> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--known-keys ${source}: not valid JSON: ${describeError(error)}`);
  }
  const keys = Array.isArray(document) ? document : (document as { keys?: unknown[] }).keys ?? [document];
  const out: Array<[string, KnownKey]> = [];
  keys.forEach((jwk, index) => {
    if (!jwk || typeof jwk !== 'object' || (jwk as { kty?: string }).kty === 'oct') return;
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...publicMembers } = jwk as Record<string, unknown>;
    try {
      const key = createPublicKey({ key: publicMembers as never, format: 'jwk' });
      const kid = typeof (jwk as { kid?: unknown }).kid === 'string' ? (jwk as { kid: string }).kid : `key ${index}`;
      out.push([spkiFingerprint(key), { id: kid, source }]);
    } catch {
      // a member this node:crypto cannot import (an unknown curve): not in the inventory
    }
  });
  return out;
}

function fromPem(text: string, source: string): Array<[string, KnownKey]> {
  const out: Array<[string, KnownKey]> = [];
  const blocks = text.match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g) ?? [];
  blocks.forEach((block, index) => {
    const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(block)![1];
    try {
      if (label === 'CERTIFICATE') {
        const certificate = new X509Certificate(block);
        out.push([spkiFingerprint(certificate.publicKey), { id: subjectName(certificate), source }]);
      } else if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY') {
        out.push([spkiFingerprint(createPublicKey(block)), { id: `${label.toLowerCase()} ${index + 1}`, source }]);
      }
    } catch {
      // a block that does not parse is not in the inventory
    }
  });
  return out;
}

function fromDer(bytes: Buffer, source: string): Array<[string, KnownKey]> {
  try {
    const certificate = new X509Certificate(bytes);
    return [[spkiFingerprint(certificate.publicKey), { id: subjectName(certificate), source }]];
  } catch {
    try {
      const key: KeyObject = createPublicKey({ key: bytes, format: 'der', type: 'spki' });
      return [[spkiFingerprint(key), { id: 'public key', source }]];
    } catch {
      return [];
    }
  }
}

function subjectName(certificate: X509Certificate): string {
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(certificate.subject);
  return cn ? cn[1] : certificate.subject.replace(/\n/g, ', ');
}

/** OpenSSH public key lines (`ssh-ed25519 AAAA… comment`) and fingerprint lines (`SHA256:… id`). */
function fromLines(text: string, source: string): Array<[string, KnownKey]> {
  const out: Array<[string, KnownKey]> = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const [first, second, ...rest] = line.split(/\s+/);
    if (/^(SHA256|JWK):[A-Za-z0-9+/_=-]{20,}$/.test(first)) {
      out.push([first.replace(/=+$/, ''), { id: [second, ...rest].filter(Boolean).join(' ') || `line ${index + 1}`, source }]);
      return;
    }
    const fingerprint = second ? sshPublicKeyFingerprint(first, second) : undefined;
    if (fingerprint) out.push([fingerprint, { id: rest.join(' ') || `${first} line ${index + 1}`, source }]);
  });
  return out;
}

export function sshPublicKeyFingerprint(type: string, base64: string): string | undefined {
  try {
    const r = new SshReader(Buffer.from(base64, 'base64'));
    if (r.text() !== type) return undefined;
    if (type === 'ssh-ed25519') return fingerprintOfSpki(derSequence(derSequence(derOid('1.3.101.112')), derBitString(r.string(32))));
    if (type === 'ssh-rsa') {
      const e = r.mpint();
      return rsaSpkiFingerprint(r.mpint(), e);
    }
    const curve = { nistp256: 'P-256', nistp384: 'P-384', nistp521: 'P-521' }[r.text()];
    const known = curve ? curveByName(curve) : undefined;
    return known ? ecSpkiFingerprint(known, r.string(133)) : undefined;
  } catch {
    return undefined;
  }
}

/** A finding whose key is in the inventory becomes critical and names the inventory entry. */
export function applyInventory(findings: Finding[], inventory: Inventory): Finding[] {
  if (inventory.size === 0) return findings;
  return findings.map((finding) => {
    const known = finding.fingerprint ? inventory.get(finding.fingerprint) : undefined;
    return known ? { ...finding, severity: 'critical', knownKey: known, confidence: Math.max(finding.confidence, 0.99) } : finding;
  });
}
