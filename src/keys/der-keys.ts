// Private-key structures in DER, identified by shape and checked by their mathematics:
// PKCS#1 RSAPrivateKey (RFC 8017 A.1.2, multi-prime too), PKCS#8 PrivateKeyInfo /
// OneAsymmetricKey (RFC 5208, RFC 5958), SEC1 ECPrivateKey (RFC 5915), OpenSSL's traditional
// DSA key, EncryptedPrivateKeyInfo (RFC 5958 §3, PBES1/PBES2 of RFC 8018) and PKCS#12 PFX
// (RFC 7292). Shared by every detector that meets DER (binary, base64, PEM bodies).
import { createPrivateKey } from 'node:crypto';
import type { KeyKind, Severity } from '../types.js';
import { derBitString, derInteger, derOid, derSequence, derTlv } from './der-encode.js';
import { content, maximumDerLengthInBytes, oid, readTree, smallInteger, Tag, unsignedInteger, type Node } from './der-reader.js';
import { checkEcScalar, CURVES, curveByOid, EC_PUBLIC_KEY_OID, type Curve } from './ec.js';
import { describePrivateKey } from './describe.js';
import { fingerprintOfSpki, spkiFingerprint } from './fingerprint.js';
import { okpPublicKey, type OkpCurve } from './okp.js';
import { rsaIsConsistent, rsaSpkiFingerprint } from './rsa.js';

export interface KeyVerdict {
  kind: KeyKind;
  severity: Severity;
  confidence: number;
  fingerprint?: string;
  note?: string;
  /** What the structure is, for redacted evidence: `PKCS#8 PrivateKeyInfo (rsaEncryption)`. */
  description: string;
}

export interface DerKeyMatch extends KeyVerdict {
  length: number;
}

const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaPss: '1.2.840.113549.1.1.10',
  dsa: '1.2.840.10040.4.1',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
  x25519: '1.3.101.110',
  x448: '1.3.101.111',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  scrypt: '1.3.6.1.4.1.11591.4.11',
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
};

/** PBES1 (RFC 8018 A.3) and PKCS#12 PBE (RFC 7292 C) algorithm identifiers. */
const LEGACY_PBE = new Set([
  '1.2.840.113549.1.5.1', '1.2.840.113549.1.5.3', '1.2.840.113549.1.5.4', '1.2.840.113549.1.5.6',
  '1.2.840.113549.1.5.10', '1.2.840.113549.1.5.11',
  '1.2.840.113549.1.12.1.1', '1.2.840.113549.1.12.1.2', '1.2.840.113549.1.12.1.3',
  '1.2.840.113549.1.12.1.4', '1.2.840.113549.1.12.1.5', '1.2.840.113549.1.12.1.6',
]);

const RAW_KEY_TYPES: Record<string, { kind: KeyKind; length: number; name: OkpCurve }> = {
  [OID.ed25519]: { kind: 'ed25519-private-key', length: 32, name: 'Ed25519' },
  [OID.ed448]: { kind: 'ed448-private-key', length: 57, name: 'Ed448' },
  [OID.x25519]: { kind: 'x25519-private-key', length: 32, name: 'X25519' },
  [OID.x448]: { kind: 'x448-private-key', length: 56, name: 'X448' },
};

const minimumRsaBits = 512;
const maximumRsaBits = 16384;

/** The key structure whose first byte is at `at`, reading nothing past `limit`. */
export function identifyDerKey(bytes: Uint8Array, at: number, limit: number): DerKeyMatch | undefined {
  const node = readTree(bytes, at, Math.min(limit, at + maximumDerLengthInBytes + 5));
  if (!node || node.tag !== Tag.Sequence || !node.children?.length) return undefined;
  let verdict: KeyVerdict | undefined;
  try {
    verdict = judgeStructure(bytes, node);
  } catch {
    verdict = undefined; // node:crypto refusing a candidate is a non-match, never an error
  }
  return verdict && { ...verdict, length: node.end - node.start };
}

function judgeStructure(bytes: Uint8Array, node: Node): KeyVerdict | undefined {
  const c = node.children!;
  const version = smallInteger(bytes, c[0]);
  if (version === undefined) return c[0].tag === Tag.Sequence ? encryptedPrivateKeyInfo(bytes, node) : undefined;
  const allIntegers = c.every((n) => n.tag === Tag.Integer);
  if ((version === 0 || version === 1) && c.length >= 3 && c[1].tag === Tag.Sequence && c[2].tag === Tag.OctetString) return pkcs8(bytes, node);
  if (version === 1 && c.length >= 2 && c.length <= 4 && c[1].tag === Tag.OctetString) return sec1(bytes, node, undefined);
  if (version === 0 && c.length === 9 && allIntegers) return pkcs1(bytes, node);
  if (version === 1 && c.length === 10 && c.slice(0, 9).every((n) => n.tag === Tag.Integer) && c[9].tag === Tag.Sequence) return pkcs1(bytes, node);
  if (version === 0 && c.length === 6 && allIntegers) return traditionalDsa(bytes, node);
  if (version === 3 && (c.length === 2 || c.length === 3) && c[1].tag === Tag.Sequence) return pfx(bytes, node);
  return undefined;
}

const high = (kind: KeyKind, fingerprint: string, description: string): KeyVerdict => ({ kind, severity: 'high', confidence: 0.99, fingerprint, description });
const damaged = (kind: KeyKind, description: string, note: string, fingerprint?: string): KeyVerdict => ({
  kind, severity: 'medium', confidence: 0.6, description, note, ...(fingerprint ? { fingerprint } : {}),
});

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

function pkcs1(bytes: Uint8Array, node: Node): KeyVerdict | undefined {
  const c = node.children!;
  const [n, e, d, p, q, dp, dq, qi] = c.slice(1, 9).map((x) => unsignedInteger(bytes, x));
  if ([n, e, d, p, q, dp, dq, qi].some((v) => v === undefined)) return undefined;
  const bits = bitLength(n!);
  if (bits < minimumRsaBits || bits > maximumRsaBits || e! < 3n || e! >= n!) return undefined;
  const primes = [p!, q!];
  if (c.length === 10) {
    // OtherPrimeInfos: SEQUENCE OF SEQUENCE { prime, exponent, coefficient }
    for (const info of c[9].children ?? []) {
      const r = unsignedInteger(bytes, info.children?.[0]);
      if (info.tag !== Tag.Sequence || info.children?.length !== 3 || r === undefined) return undefined;
      primes.push(r);
    }
    if (primes.length < 3) return undefined;
  }
  const description = `PKCS#1 RSAPrivateKey (${bits}-bit${primes.length > 2 ? `, ${primes.length} primes` : ''})`;
  const fingerprint = rsaSpkiFingerprint(n!, e!);
  return rsaIsConsistent({ n: n!, e: e!, d: d!, primes, dp, dq, qi })
    ? high('rsa-private-key', fingerprint, description)
    : damaged('rsa-private-key', description, 'RSA parameters are inconsistent (n, e, d, primes or CRT values disagree)', fingerprint);
}

function pkcs8(bytes: Uint8Array, node: Node): KeyVerdict | undefined {
  const c = node.children!;
  const version = smallInteger(bytes, c[0])!;
  // Optional [0] attributes, then (v2 only) [1] IMPLICIT publicKey.
  let i = 3;
  if (c[i]?.tag === Tag.Context0) i++;
  const publicKeyNode = c[i]?.tag === 0x81 ? c[i++] : undefined;
  if (i !== c.length || (publicKeyNode && version !== 1)) return undefined;
  const algorithm = oid(bytes, c[1].children?.[0]);
  const parameters = c[1].children?.[1];
  const inner = c[2];
  const wrapped = readTree(bytes, inner.contentStart, inner.end);
  const exact = wrapped && wrapped.end === inner.end ? wrapped : undefined;
  const der = bytes.subarray(node.start, node.end);

  if (algorithm === OID.rsaEncryption || algorithm === OID.rsaPss) {
    if (!exact || exact.tag !== Tag.Sequence || !exact.children) return undefined;
    const verdict = pkcs1(bytes, exact);
    if (!verdict) return undefined;
    const description = `PKCS#8 PrivateKeyInfo (${algorithm === OID.rsaPss ? 'RSASSA-PSS' : 'rsaEncryption'}), ${verdict.description}`;
    // PSS keys have their own SPKI; let node:crypto say which, as it does for PEM.
    const fingerprint = algorithm === OID.rsaPss ? nodeFingerprint(der) ?? verdict.fingerprint : verdict.fingerprint;
    return { ...verdict, description, ...(fingerprint ? { fingerprint } : {}) };
  }
  if (algorithm === EC_PUBLIC_KEY_OID) {
    const curve = curveByOid(oid(bytes, parameters));
    if (!curve || !exact || exact.tag !== Tag.Sequence || !exact.children) return undefined;
    const verdict = sec1(bytes, exact, curve);
    return verdict && { ...verdict, description: `PKCS#8 PrivateKeyInfo (id-ecPublicKey, ${curve.name}), ${verdict.description}` };
  }
  const raw = algorithm ? RAW_KEY_TYPES[algorithm] : undefined;
  if (raw) {
    if (parameters || !exact || exact.tag !== Tag.OctetString || exact.end - exact.contentStart !== raw.length) return undefined;
    const description = `PKCS#8 ${version === 1 ? 'OneAsymmetricKey' : 'PrivateKeyInfo'} (${raw.name})`;
    const stored = publicKeyNode ? content(bytes, publicKeyNode).subarray(1) : undefined; // skip the unused-bits octet
    const derived = okpPublicKey(raw.name, content(bytes, exact));
    const fingerprint = fingerprintOfSpki(derSequence(derSequence(derOid(algorithm!)), derBitString(derived)));
    if (stored && !derived.equals(stored)) return damaged(raw.kind, description, 'public key does not match the private key', fingerprint);
    return high(raw.kind, fingerprint, description);
  }
  if (algorithm === OID.dsa) {
    const [p, q, g] = (parameters?.children ?? []).map((x) => unsignedInteger(bytes, x));
    const x = exact ? unsignedInteger(bytes, exact) : undefined;
    if (p === undefined || q === undefined || g === undefined || x === undefined) return undefined;
    const description = `PKCS#8 PrivateKeyInfo (DSA, ${bitLength(p)}-bit)`;
    if (!dsaDomainIsSound(p, q, g) || x <= 0n || x >= q) return damaged('dsa-private-key', description, 'DSA parameters are inconsistent');
    return high('dsa-private-key', dsaPublicSpkiFingerprint(p, q, g, x), description);
  }
  return undefined; // an unknown algorithm: not claimed, rather than guessed
}

/** SEC1 ECPrivateKey; `wrapperCurve` is the curve a PKCS#8 wrapper names. */
function sec1(bytes: Uint8Array, node: Node, wrapperCurve: Curve | undefined): KeyVerdict | undefined {
  const c = node.children!;
  if (smallInteger(bytes, c[0]) !== 1 || c[1]?.tag !== Tag.OctetString) return undefined;
  let i = 2;
  const parametersNode = c[i]?.tag === Tag.Context0 ? c[i++] : undefined;
  const publicKeyNode = c[i]?.tag === Tag.Context1 ? c[i++] : undefined;
  if (i !== c.length) return undefined;
  const namedCurve = parametersNode ? curveByOid(oid(bytes, parametersNode.children?.[0])) : undefined;
  if (parametersNode && (!namedCurve || parametersNode.children?.length !== 1)) return undefined;
  if (namedCurve && wrapperCurve && namedCurve !== wrapperCurve) return undefined;
  const bitString = publicKeyNode?.children?.[0];
  if (publicKeyNode && (publicKeyNode.children?.length !== 1 || bitString?.tag !== Tag.BitString || bytes[bitString.contentStart] !== 0)) return undefined;
  const point = bitString ? bytes.subarray(bitString.contentStart + 1, bitString.end) : undefined;
  const d = content(bytes, c[1]);
  const curve = namedCurve ?? wrapperCurve;
  const candidates = curve ? [curve] : CURVES.filter((k) => k.scalarLengthInBytes === d.length);
  if (candidates.length === 0) return undefined;
  const description = `SEC1 ECPrivateKey (${curve?.name ?? 'curve not stated'})`;
  for (const candidate of candidates) {
    const check = checkEcScalar(candidate, d, point);
    if (!check) continue;
    if (!check.mismatch) {
      if (!curve && !point) return damaged('ec-private-key', description, 'curve not stated and no public key: cannot verify');
      return high('ec-private-key', check.fingerprint, curve ? description : `SEC1 ECPrivateKey (${candidate.name}, from its public key)`);
    }
    if (curve) return damaged('ec-private-key', description, 'public point does not match the private scalar', check.fingerprint);
  }
  return curve || point ? damaged('ec-private-key', description, 'private scalar is not valid for the curve') : undefined;
}

function traditionalDsa(bytes: Uint8Array, node: Node): KeyVerdict | undefined {
  const [p, q, g, y, x] = node.children!.slice(1).map((n) => unsignedInteger(bytes, n));
  if ([p, q, g, y, x].some((v) => v === undefined)) return undefined;
  const pBits = bitLength(p!);
  const qBits = bitLength(q!);
  if (pBits < 512 || pBits > 8192 || qBits < 160 || qBits > 512) return undefined;
  const description = `DSA private key (OpenSSL traditional, ${pBits}-bit)`;
  const stored = dsaSpkiFingerprint(p!, q!, g!, y!);
  if (!dsaDomainIsSound(p!, q!, g!) || x! <= 0n || x! >= q!) return damaged('dsa-private-key', description, 'DSA parameters are inconsistent', stored);
  const derived = dsaPublicSpkiFingerprint(p!, q!, g!, x!);
  return derived === stored ? high('dsa-private-key', stored, description) : damaged('dsa-private-key', description, 'DSA public value does not match the private value (y ≠ g^x mod p)', stored);
}

/** Cheap sanity of the domain; the binding check is y = g^x mod p, which OpenSSL computes. */
function dsaDomainIsSound(p: bigint, q: bigint, g: bigint): boolean {
  return q > 1n && (p - 1n) % q === 0n && g > 1n && g < p;
}

/** The public key OpenSSL derives from x (a native modular exponentiation, far faster than bigint's). */
function dsaPublicSpkiFingerprint(p: bigint, q: bigint, g: bigint, x: bigint): string {
  const pkcs8 = derSequence(derInteger(0n), derSequence(derOid(OID.dsa), derSequence(derInteger(p), derInteger(q), derInteger(g))), derTlv(0x04, derInteger(x)));
  return spkiFingerprint(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
}

function encryptedPrivateKeyInfo(bytes: Uint8Array, node: Node): KeyVerdict | undefined {
  const c = node.children!;
  if (c.length !== 2 || c[1].tag !== Tag.OctetString || c[1].end - c[1].contentStart < 16) return undefined;
  const algorithm = c[0].children?.length === 2 ? oid(bytes, c[0].children[0]) : undefined;
  const parameters = c[0].children?.[1];
  if (!algorithm || parameters?.tag !== Tag.Sequence) return undefined;
  let scheme: string;
  if (algorithm === OID.pbes2) {
    const [kdf, cipher] = parameters.children ?? [];
    const kdfOid = oid(bytes, kdf?.children?.[0]);
    if (parameters.children?.length !== 2 || cipher?.tag !== Tag.Sequence || !oid(bytes, cipher.children?.[0])) return undefined;
    if (kdfOid !== OID.pbkdf2 && kdfOid !== OID.scrypt) return undefined;
    scheme = `PBES2 with ${kdfOid === OID.scrypt ? 'scrypt' : 'PBKDF2'}`;
  } else if (LEGACY_PBE.has(algorithm)) {
    scheme = 'legacy PBE';
  } else {
    return undefined;
  }
  return { kind: 'encrypted-private-key', severity: 'medium', confidence: 0.85, description: 'EncryptedPrivateKeyInfo', note: `passphrase-encrypted (${scheme})` };
}

function pfx(bytes: Uint8Array, node: Node): KeyVerdict | undefined {
  const c = node.children!;
  const contentType = oid(bytes, c[1].children?.[0]);
  if ((contentType !== OID.data && contentType !== OID.signedData) || c[1].children?.[1]?.tag !== Tag.Context0) return undefined;
  if (c[2] && (c[2].tag !== Tag.Sequence || (c[2].children?.length ?? 0) < 2)) return undefined;
  return { kind: 'pkcs12', severity: 'medium', confidence: 0.8, description: 'PKCS#12 PFX', note: 'PKCS#12 container: may hold private keys' };
}

function nodeFingerprint(der: Uint8Array): string | undefined {
  try {
    return describePrivateKey(createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' })).fingerprint;
  } catch {
    return undefined;
  }
}

function dsaSpkiFingerprint(p: bigint, q: bigint, g: bigint, y: bigint): string {
  return fingerprintOfSpki(derSequence(derSequence(derOid(OID.dsa), derSequence(derInteger(p), derInteger(q), derInteger(g))), derBitString(derInteger(y))));
}
