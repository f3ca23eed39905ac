// jwkDetector: private JWKs (EC, OKP, RSA, oct), alone and in a JWKS, as plain JSON, as JSON held
// in a JSON string (`\"kty\"`) and in UTF-16LE; exact spans, kinds, severities and fingerprints
// (node:crypto's SPKI fingerprint, or the RFC 7638 thumbprint for oct, both computed here and not
// by src/); damaged keys; public JWKs, OpenID JWKS and JWTs that are not keys; redacted evidence;
// mutation robustness; and a real V8 heap snapshot.
import { execFileSync } from 'node:child_process';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPair,
  sign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { afterAll, describe, expect, test } from 'vitest';
import { jwkDetector } from '../../src/detectors/jwk.js';
import { pemDetector } from '../../src/detectors/pem.js';
import type { Encoding, KeyKind, Match, Severity } from '../../src/types.js';
import { scanChunked } from '../helpers/chunked.js';
import { fingerprintOf, pseudoRandomBytes } from '../helpers/keys.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dumpguard-jwk-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Keys: generated in parallel on the libuv pool, once per file.

const generate = promisify(generateKeyPair);
const ec = (namedCurve: string) => generate('ec', { namedCurve });
const rsaKey = (modulusLength: number) => generate('rsa', { modulusLength });

const [p256, p256b, p384, p521, k256, ed25519, ed25519b, ed448, x25519, x448, rsa, rsaB, oidc1, oidc2] = (
  await Promise.all([
    ec('P-256'), ec('P-256'), ec('P-384'), ec('P-521'), ec('secp256k1'),
    generate('ed25519'), generate('ed25519'), generate('ed448'), generate('x25519'), generate('x448'),
    rsaKey(2048), rsaKey(2048), rsaKey(2048), rsaKey(2048),
  ])
).map((pair) => pair.privateKey);

const privateJwk = (key: KeyObject): JsonWebKey => key.export({ format: 'jwk' });
const publicJwk = (key: KeyObject): JsonWebKey => createPublicKey(key).export({ format: 'jwk' });

const oct32 = createSecretKey(Buffer.from(pseudoRandomBytes(32, 0x1234567))).export({ format: 'jwk' });
const oct8 = createSecretKey(Buffer.from(pseudoRandomBytes(8, 0x7654321))).export({ format: 'jwk' });

/** RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace. */
function octThumbprint(jwk: JsonWebKey): string {
  const canonical = `{"k":"${jwk.k as string}","kty":"oct"}`;
  return 'JWK:' + createHash('sha256').update(canonical).digest('base64url');
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

// ---------------------------------------------------------------------------------------------
// Documents and the four forms memory holds them in.

interface Target {
  /** The object's text exactly as it appears in the plain document. */
  json: string;
  jwk: JsonWebKey;
  kind: KeyKind;
  severity: Severity;
  fingerprint: string;
}

interface Doc {
  name: string;
  /** Plain JSON text holding the targets. */
  text: string;
  /** The private objects the detector must report, in document order. */
  targets: Target[];
}

type Form = 'ascii' | 'json-escaped' | 'utf16le' | 'utf16le json-escaped';
const FORMS: readonly Form[] = ['ascii', 'json-escaped', 'utf16le', 'utf16le json-escaped'];

interface Span {
  start: number;
  length: number;
  /** Characters of the object in its own text form (what the evidence counts). */
  chars: number;
}

interface Rendered {
  payload: Buffer;
  spans: Span[];
  encoding: Encoding;
}

/** (a) plain, (b) held as a string in other JSON, (c) UTF-16LE of (a), (d) UTF-16LE of (b). */
function render(text: string, objects: readonly string[], form: Form): Rendered {
  const escaped = form === 'json-escaped' || form === 'utf16le json-escaped';
  const wide = form === 'utf16le' || form === 'utf16le json-escaped';
  const outer = escaped ? JSON.stringify({ cfg: text }) : text;
  let from = 0;
  const charSpans = objects.map((object) => {
    const inOuter = escaped ? JSON.stringify(object).slice(1, -1) : object;
    const at = outer.indexOf(inOuter, from);
    if (at < 0) throw new Error('test bug: object not in its document');
    from = at + inOuter.length;
    return { at, chars: inOuter.length };
  });
  const scale = wide ? 2 : 1;
  return {
    payload: Buffer.from(outer, wide ? 'utf16le' : 'latin1'),
    spans: charSpans.map(({ at, chars }) => ({ start: scale * at, length: scale * chars, chars })),
    encoding: wide ? 'utf16le' : escaped ? 'json-escaped' : 'ascii',
  };
}

/** At 0: payload, NUL, filler. Elsewhere: filler, NUL, payload, NUL, filler. Returns where the payload starts. */
function plant(payload: Buffer, at: number, seed = 0x51): { bytes: Buffer; offset: number } {
  if (at === 0) return { bytes: Buffer.concat([payload, Buffer.from([0]), pseudoRandomBytes(200, seed)]), offset: 0 };
  return { bytes: Buffer.concat([pseudoRandomBytes(at - 1, seed + 1), Buffer.from([0]), payload, Buffer.from([0]), pseudoRandomBytes(200, seed + 2)]), offset: at };
}

function scanAll(bytes: Uint8Array, bodyLength = bytes.length): Match[] {
  return [...jwkDetector.scan(bytes, bodyLength)].sort((a, b) => a.start - b.start);
}

const summary = (m: Match) => ({
  start: m.start,
  length: m.length,
  detector: m.detector,
  kind: m.kind,
  severity: m.severity,
  encoding: m.encoding,
  fingerprint: m.fingerprint,
});

function expectedEvidence(jwk: JsonWebKey, chars: number): string {
  const shown = ['kty', 'crv', 'alg', 'use'].filter((n) => typeof jwk[n] === 'string').map((n) => `${n}:${JSON.stringify(jwk[n])}`);
  const secret = PRIVATE_MEMBERS.filter((n) => typeof jwk[n] === 'string').map((n) => `${n}(${(jwk[n] as string).length} chars)`);
  return `JWK {${shown.join(', ')}} private ${secret.join(' ')} (${chars} chars)`;
}

/** No private value, nor any 16-character window of one, may appear in the evidence. */
function expectRedacted(evidence: string, jwks: readonly JsonWebKey[]): void {
  for (const jwk of jwks) {
    for (const name of PRIVATE_MEMBERS) {
      const value = jwk[name];
      if (typeof value !== 'string') continue;
      for (let i = 0; i + 16 <= value.length; i++) {
        if (evidence.includes(value.slice(i, i + 16))) throw new Error(`evidence leaks a window of "${name}": ${evidence}`);
      }
      if (value.length < 16) expect(evidence).not.toContain(value);
    }
  }
}

/** Asserts the findings of one rendered document at payload offset `offset`. */
function expectFindings(found: Match[], doc: Doc, rendered: Rendered, offset: number): void {
  const expected = doc.targets.map((t, i) => ({
    start: offset + rendered.spans[i].start,
    length: rendered.spans[i].length,
    detector: 'jwk',
    kind: t.kind,
    severity: t.severity,
    encoding: rendered.encoding,
    fingerprint: t.fingerprint,
  }));
  expect(found.map(summary)).toEqual(expected);
  found.forEach((m, i) => {
    expect(m.evidence).toBe(expectedEvidence(doc.targets[i].jwk, rendered.spans[i].chars));
    expectRedacted(m.evidence, doc.targets.map((t) => t.jwk));
    expect(m.confidence).toBeGreaterThan(0);
    expect(m.confidence).toBeLessThanOrEqual(1);
  });
}

// ---------------------------------------------------------------------------------------------
// The private keys that must be found.

const target = (jwk: JsonWebKey, kind: KeyKind, severity: Severity, fingerprint: string, json = JSON.stringify(jwk)): Target => ({ json, jwk, kind, severity, fingerprint });
const single = (name: string, t: Target): Doc => ({ name, text: t.json, targets: [t] });

const rsaFull = privateJwk(rsa);
const rsaNed: JsonWebKey = { kty: 'RSA', n: rsaFull.n, e: rsaFull.e, d: rsaFull.d };

const base: Array<{ name: string; t: Target; alg: string }> = [
  { name: 'EC P-256', t: target(privateJwk(p256), 'ec-private-key', 'high', fingerprintOf(p256)), alg: 'ES256' },
  { name: 'EC P-384', t: target(privateJwk(p384), 'ec-private-key', 'high', fingerprintOf(p384)), alg: 'ES384' },
  { name: 'EC P-521', t: target(privateJwk(p521), 'ec-private-key', 'high', fingerprintOf(p521)), alg: 'ES512' },
  { name: 'EC secp256k1', t: target(privateJwk(k256), 'ec-private-key', 'high', fingerprintOf(k256)), alg: 'ES256K' },
  { name: 'OKP Ed25519', t: target(privateJwk(ed25519), 'ed25519-private-key', 'high', fingerprintOf(ed25519)), alg: 'EdDSA' },
  { name: 'OKP Ed448', t: target(privateJwk(ed448), 'ed448-private-key', 'high', fingerprintOf(ed448)), alg: 'EdDSA' },
  { name: 'OKP X25519', t: target(privateJwk(x25519), 'x25519-private-key', 'high', fingerprintOf(x25519)), alg: 'ECDH-ES' },
  { name: 'OKP X448', t: target(privateJwk(x448), 'x448-private-key', 'high', fingerprintOf(x448)), alg: 'ECDH-ES' },
  { name: 'RSA 2048 with CRT members', t: target(rsaFull, 'rsa-private-key', 'high', fingerprintOf(rsa)), alg: 'RS256' },
  { name: 'RSA 2048 with only n, e, d', t: target(rsaNed, 'rsa-private-key', 'high', fingerprintOf(rsa)), alg: 'RS256' },
  { name: 'oct 32-byte k', t: target(oct32, 'jwk-symmetric-key', 'high', octThumbprint(oct32)), alg: 'HS256' },
  { name: 'oct 8-byte k', t: target(oct8, 'jwk-symmetric-key', 'medium', octThumbprint(oct8)), alg: 'HS256' },
];

/** d (or k) first, kty last. */
function reordered(jwk: JsonWebKey): JsonWebKey {
  const secret = jwk.kty === 'oct' ? 'k' : 'd';
  const { kty, [secret]: value, ...rest } = jwk;
  return { [secret]: value, ...rest, kty };
}

function withExtras(jwk: JsonWebKey, alg: string): JsonWebKey {
  const x5c = [pseudoRandomBytes(700, 0xc0ffee).toString('base64'), pseudoRandomBytes(650, 0xbeef).toString('base64')];
  return { kid: '2024-05-rotation-1', ...jwk, use: 'sig', alg, key_ops: ['sign', 'verify'], ext: true, x5c };
}

const variantBases = base.filter((b) => ['EC P-256', 'OKP Ed25519', 'RSA 2048 with CRT members', 'oct 32-byte k'].includes(b.name));
const variants: Doc[] = variantBases.flatMap(({ name, t, alg }) => {
  const pretty = JSON.stringify(t.jwk, null, 2);
  return [
    single(`${name}, d first and kty last`, { ...t, jwk: reordered(t.jwk), json: JSON.stringify(reordered(t.jwk)) }),
    single(`${name}, extra members`, { ...t, jwk: withExtras(t.jwk, alg), json: JSON.stringify(withExtras(t.jwk, alg)) }),
    single(`${name}, pretty-printed`, { ...t, json: pretty }),
  ];
});

const jwksPriv1 = target(privateJwk(p256b), 'ec-private-key', 'high', fingerprintOf(p256b));
const jwksPub2 = JSON.stringify(publicJwk(rsaB));
const jwksPriv3 = target(privateJwk(ed25519b), 'ed25519-private-key', 'high', fingerprintOf(ed25519b));
const jwks: Doc = {
  name: 'JWKS {"keys":[priv1, pub2, priv3]}',
  text: `{"keys":[${jwksPriv1.json},${jwksPub2},${jwksPriv3.json}]}`,
  targets: [jwksPriv1, jwksPriv3],
};

const foundDocs: Doc[] = [...base.map(({ name, t }) => single(name, t)), ...variants, jwks];

const foundRows = foundDocs.flatMap((doc) => FORMS.flatMap((form) => [0, 65].map((at) => ({ name: `${doc.name} (${form}) at ${at}`, doc, form, at }))));
const boundaryRows = foundDocs.flatMap((doc) => FORMS.map((form) => ({ name: `${doc.name} (${form})`, doc, form })));

describe('private JWKs are found with exact spans, kinds, severities and fingerprints', () => {
  test.each(foundRows)('$name', ({ doc, form, at }) => {
    const rendered = render(doc.text, doc.targets.map((t) => t.json), form);
    const { bytes, offset } = plant(rendered.payload, at);
    expectFindings(scanAll(bytes), doc, rendered, offset);
  });

  test.each(boundaryRows)('across a 4096-byte chunk boundary: $name', ({ doc, form }) => {
    const rendered = render(doc.text, doc.targets.map((t) => t.json), form);
    const at = 4096 - 50;
    const bytes = Buffer.concat([pseudoRandomBytes(at - 1, 0x99), Buffer.from([0]), rendered.payload, Buffer.from([0]), pseudoRandomBytes(9000, 0x98)]);
    const whole = scanAll(bytes);
    expectFindings(whole, doc, rendered, at);
    const chunked = scanChunked(jwkDetector, bytes, 4096);
    expect(chunked.map(({ offset, ...m }) => ({ ...m, start: offset }))).toEqual(whole);
  });

  test('evidence reads like `JWK {kty:"EC", crv:"P-256"} private d(43 chars) (N chars)`', () => {
    const json = JSON.stringify(privateJwk(p256));
    const [m] = scanAll(Buffer.from(json));
    expect(m.evidence).toBe(`JWK {kty:"EC", crv:"P-256"} private d(43 chars) (${json.length} chars)`);
    const [r] = scanAll(Buffer.from(JSON.stringify(rsaFull)));
    // Member sizes from the key itself: a CRT value with a leading zero byte is one character shorter.
    const sizes = (['d', 'p', 'q', 'dp', 'dq', 'qi'] as const).map((name) => `${name}(${(rsaFull as Record<string, string>)[name].length} chars)`).join(' ');
    expect(r.evidence).toBe(`JWK {kty:"RSA"} private ${sizes} (${JSON.stringify(rsaFull).length} chars)`);
  });

  test('only objects that start in the body are reported; the margin is read', () => {
    const json = JSON.stringify(privateJwk(p256));
    const bytes = Buffer.concat([pseudoRandomBytes(99, 3), Buffer.from([0]), Buffer.from(json), Buffer.from([0])]);
    expect(scanAll(bytes, 100)).toHaveLength(0);
    expect(scanAll(bytes, 101).map((m) => [m.start, m.length])).toEqual([[100, json.length]]);
  });
});

// ---------------------------------------------------------------------------------------------
// Damaged keys: private members present but not consistent with the public ones.

function replaceChar(value: string, at: number): string {
  const c = value[at] === 'A' ? 'B' : 'A';
  return value.slice(0, at) + c + value.slice(at + 1);
}

const ecJwk = privateJwk(p256);
const okpJwk = privateJwk(ed25519);
const damaged: Array<{ name: string; jwk: JsonWebKey; kind: KeyKind }> = [
  { name: 'EC with x from another key', jwk: { ...ecJwk, x: privateJwk(p256b).x }, kind: 'ec-private-key' },
  { name: 'OKP with x from another key', jwk: { ...okpJwk, x: privateJwk(ed25519b).x }, kind: 'ed25519-private-key' },
  { name: 'RSA with p from another key', jwk: { ...rsaFull, p: privateJwk(rsaB).p }, kind: 'rsa-private-key' },
  { name: 'RSA with d altered', jwk: { ...rsaFull, d: replaceChar(rsaFull.d as string, 100) }, kind: 'rsa-private-key' },
  { name: 'RSA (n, e, d only) with d altered', jwk: { ...rsaNed, d: replaceChar(rsaNed.d as string, 100) }, kind: 'rsa-private-key' },
];
const damagedRows = damaged.flatMap((d) => FORMS.map((form) => ({ ...d, name: `${d.name} (${form})`, form })));

describe('damaged keys are medium, never high', () => {
  test.each(damagedRows)('$name', ({ jwk, kind, form }) => {
    const json = JSON.stringify(jwk);
    const rendered = render(json, [json], form);
    const { bytes, offset } = plant(rendered.payload, 65);
    const found = scanAll(bytes);
    expect(found.map((m) => ({ start: m.start, length: m.length, kind: m.kind, severity: m.severity, encoding: m.encoding }))).toEqual([
      { start: offset + rendered.spans[0].start, length: rendered.spans[0].length, kind, severity: 'medium', encoding: rendered.encoding },
    ]);
    expectRedacted(found[0].evidence, [jwk, rsaFull, ecJwk, okpJwk]);
  });
});

// ---------------------------------------------------------------------------------------------
// Negatives: public keys, the JWKS OpenID providers publish, JWTs, garbage.

/** A self-signed certificate for `key`, DER, as an OpenID provider's x5c carries it. */
function selfSignedCertificate(key: KeyObject, cn: string): Buffer {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = '0' + createHash('sha1').update(cn).digest('hex').slice(0, 15);
  cert.validity.notBefore = new Date('2024-01-01T00:00:00Z');
  cert.validity.notAfter = new Date('2029-01-01T00:00:00Z');
  const name = [{ name: 'commonName', value: cn }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.sign(forge.pki.privateKeyFromPem(key.export({ type: 'pkcs1', format: 'pem' }) as string), forge.md.sha256.create());
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

function openIdJwks(): string {
  const keys = [rsaB, oidc1, oidc2].map((key, i) => {
    const der = selfSignedCertificate(key, 'login.example.com');
    const { n, e } = publicJwk(key);
    return {
      kty: 'RSA',
      use: 'sig',
      kid: createHash('sha1').update(der).digest('base64url'),
      x5t: createHash('sha1').update(der).digest('base64url'),
      'x5t#S256': createHash('sha256').update(der).digest('base64url'),
      alg: 'RS256',
      n,
      e,
      x5c: [der.toString('base64')],
      issuer: `https://login.example.com/tenant-${i}/v2.0`,
    };
  });
  return JSON.stringify({ keys });
}

const b64url = (text: string) => Buffer.from(text).toString('base64url');

function rs256Jwt(): string {
  const header = { alg: 'RS256', typ: 'JWT', kid: 'abc' };
  const now = 1_716_000_000;
  const payload = { iss: 'https://login.example.com', sub: '248289761001', aud: 's6BhdRkqt3', nonce: 'n-0S6_WzA2Mj', exp: now + 3600, iat: now, email: 'jane@example.com', email_verified: true };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${sign('sha256', Buffer.from(input), oidc1).toString('base64url')}`;
}

/** RFC 7515 §4.1.3: a JWS header carrying the signer's public key. */
const jwsHeaderWithJwk = JSON.stringify({ alg: 'ES256', typ: 'JWT', jwk: publicJwk(p256) });
function es256JwtWithJwk(): string {
  const input = `${b64url(jwsHeaderWithJwk)}.${b64url(JSON.stringify({ sub: 'device-7', iat: 1_716_000_000 }))}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: p256, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

const publicKeys = { 'EC P-256': p256, 'EC P-384': p384, 'EC P-521': p521, 'EC secp256k1': k256, Ed25519: ed25519, Ed448: ed448, X25519: x25519, X448: x448, 'RSA 2048': rsa };
const garbage = pseudoRandomBytes(300, 0xabc).toString('base64');
const jwt = rs256Jwt();
const negatives: Array<{ name: string; text: string }> = [
  ...Object.entries(publicKeys).map(([name, key]) => ({ name: `public ${name} JWK`, text: JSON.stringify(publicJwk(key)) })),
  ...Object.entries(publicKeys).map(([name, key]) => ({ name: `public ${name} JWK, pretty-printed with extras`, text: JSON.stringify({ kid: 'k1', use: 'sig', ...publicJwk(key), key_ops: ['verify'], ext: true }, null, 2) })),
  { name: 'a JWKS of every public key type', text: JSON.stringify({ keys: Object.values(publicKeys).map(publicJwk) }) },
  { name: 'an OpenID provider JWKS (3 RSA keys with kid, use, alg, n, e, x5c, x5t)', text: openIdJwks() },
  { name: 'an RS256 JWT', text: jwt },
  { name: 'an RS256 JWT in a token response', text: JSON.stringify({ access_token: jwt, id_token: jwt, token_type: 'Bearer', expires_in: 3600 }) },
  { name: 'a JWS header with a public "jwk" member (RFC 7515 §4.1.3)', text: jwsHeaderWithJwk },
  { name: 'a JWT whose header carries a public "jwk"', text: es256JwtWithJwk() },
  { name: '"kty" followed by garbage', text: `"kty"${garbage}` },
  { name: '{"kty" followed by garbage', text: `{"kty":${garbage}` },
  { name: 'an unterminated private-looking object', text: `{"kty":"EC","crv":"P-256","d":"${garbage}` },
  { name: '{"kty":"EC","d":""}', text: '{"kty":"EC","d":""}' },
  { name: '{"kty":"oct"} without k', text: '{"kty":"oct","alg":"HS256"}' },
  { name: '{"kty":"oct","k":""}', text: '{"kty":"oct","k":""}' },
];
const negativeRows = negatives.flatMap((n) => FORMS.map((form) => ({ ...n, name: `${n.name} (${form})`, form })));

describe('not keys: zero findings', () => {
  test('the OpenID JWKS is realistic: x5c certificates parse and carry the key', async () => {
    const { X509Certificate } = await import('node:crypto');
    const { keys } = JSON.parse(negatives.find((n) => n.name.startsWith('an OpenID'))!.text) as { keys: Array<{ n: string; x5c: string[] }> };
    expect(keys).toHaveLength(3);
    for (const k of keys) {
      const cert = new X509Certificate(Buffer.from(k.x5c[0], 'base64'));
      expect(cert.publicKey.export({ format: 'jwk' }).n).toBe(k.n);
    }
  });

  test.each(negativeRows)('$name', ({ text, form }) => {
    const rendered = render(text, [], form);
    for (const at of [0, 65]) expect(scanAll(plant(rendered.payload, at).bytes)).toEqual([]);
  });

  test('64 MiB of base64 of pseudo-random bytes with "kty":"oct" sprinkled in every MiB', () => {
    const MiB = 1 << 20;
    const text = Buffer.from(pseudoRandomBytes(48 * MiB, 0xdeadbeef).toString('base64'), 'latin1');
    expect(text.length).toBe(64 * MiB);
    const sprinkles = ['"kty":"oct"', '{"kty":"oct"}', '{"kty":"oct","use":"sig",', '\\"kty\\":\\"oct\\"', '{\\"kty\\":\\"oct\\"}'];
    for (let i = 0; i < 64; i++) text.write(sprinkles[i % sprinkles.length], i * MiB + 1000 + i, 'latin1');
    const started = performance.now();
    expect(scanAll(text)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

// ---------------------------------------------------------------------------------------------
// Robustness: mutated JWK JSON never throws, matches stay inside the input, scans stay fast.

function xorshift(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

/**
 * One scan, timed by the wall clock and by this process's CPU time: the machine running the tests
 * is shared, and a scan that waited for a CPU was not slow. A sample is slow only when both are.
 */
function timedScan(input: Uint8Array, bodyLength = input.length): { found: Match[]; wall: number; cpu: number } {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const found = [...jwkDetector.scan(input, bodyLength)];
  const wall = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { found, wall, cpu: (cpu.user + cpu.system) / 1000 };
}

describe('robustness', () => {
  const needles = ['"kty"', '\\"kty\\"'].flatMap((t) => [Buffer.from(t, 'latin1'), Buffer.from(t, 'utf16le')]);
  const cutAnchors = needles.flatMap((needle) =>
    Array.from({ length: needle.length }, (_, k) => ({ name: `${JSON.stringify(needle.toString('latin1'))} cut to ${k + 1} bytes`, needle: needle.subarray(0, k + 1) })),
  );
  test.each(cutAnchors)('an anchor cut by the end of the input does not throw: $name', ({ needle }) => {
    const bytes = Buffer.concat([pseudoRandomBytes(40, 5), Buffer.from('{'), needle]);
    expect(scanAll(bytes)).toEqual([]);
    expect(scanAll(bytes, 10)).toEqual([]);
  });

  test('20,000 mutations of valid JWK JSON: no throw, matches inside the input, each scan < 50 ms', () => {
    const bases = [
      render(JSON.stringify(privateJwk(p256)), [], 'ascii').payload,
      render(JSON.stringify(privateJwk(p521)), [], 'json-escaped').payload,
      render(JSON.stringify(privateJwk(ed25519)), [], 'utf16le').payload,
      render(JSON.stringify(privateJwk(x448)), [], 'ascii').payload,
      render(JSON.stringify(rsaFull), [], 'ascii').payload,
      render(JSON.stringify(rsaFull), [], 'utf16le json-escaped').payload,
      render(JSON.stringify(oct32), [], 'ascii').payload,
      render(jwks.text, [], 'ascii').payload,
      render(jwks.text, [], 'utf16le').payload,
      render(JSON.stringify(withExtras(privateJwk(k256), 'ES256K'), null, 2), [], 'json-escaped').payload,
    ];
    const tokens = ['"', '\\"', '{', '}', '[', ']', ',', ':', '\\', '"kty"', '{"kty":"EC","d":"', '}]}', '\\n'];
    const punctuation = Buffer.from('"{}[],:\\ \n');
    const r = xorshift(0x5eed);
    const slow: string[] = [];
    let findings = 0;
    for (let sample = 0; sample < 20_000; sample++) {
      const original = bases[sample % bases.length];
      const wide = original[1] === 0;
      let b = Buffer.from(original);
      for (let ops = 1 + r(3); ops > 0; ops--) {
        const at = r(b.length + 1);
        switch (r(4)) {
          case 0:
            if (b.length) b[Math.min(at, b.length - 1)] = r(256);
            break;
          case 1:
            if (b.length) b[Math.min(at, b.length - 1)] = punctuation[r(punctuation.length)];
            break;
          case 2:
            b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + r(64))]);
            break;
          default: {
            const token = tokens[r(tokens.length)];
            const insert = Buffer.from(token, wide && r(4) !== 0 ? 'utf16le' : 'latin1');
            b = Buffer.concat([b.subarray(0, at), insert, b.subarray(at)]);
          }
        }
      }
      // Sometimes a view with a non-zero byteOffset, sometimes a plain Uint8Array, sometimes a short body.
      const host = Buffer.concat([pseudoRandomBytes(r(9), sample), b]);
      const view = host.subarray(host.length - b.length);
      const input: Uint8Array = r(2) ? view : new Uint8Array(view.buffer, view.byteOffset, view.length);
      const bodyLength = r(4) === 0 ? r(input.length + 1) : input.length;
      let found: Match[] = [];
      let cost = { wall: Infinity, cpu: Infinity };
      for (let attempt = 0; attempt < 4 && Math.min(cost.wall, cost.cpu) >= 50; attempt++) {
        const timed = timedScan(input, bodyLength);
        found = timed.found;
        cost = { wall: Math.min(cost.wall, timed.wall), cpu: Math.min(cost.cpu, timed.cpu) };
      }
      if (Math.min(cost.wall, cost.cpu) >= 50) slow.push(`sample ${sample}: ${cost.wall.toFixed(1)} ms wall, ${cost.cpu.toFixed(1)} ms CPU`);
      for (const m of found) {
        findings++;
        const ok = Number.isInteger(m.start) && Number.isInteger(m.length) && m.start >= 0 && m.length > 0 && m.start + m.length <= input.length && m.start < bodyLength && m.detector === 'jwk';
        if (!ok) throw new Error(`sample ${sample}: match outside the input: ${JSON.stringify(summary(m))} in ${input.length} bytes, body ${bodyLength}`);
      }
    }
    expect(slow).toEqual([]);
    expect(findings).toBeGreaterThan(1000); // the mutations leave many keys intact: the scan ran on real keys
  });
});

// ---------------------------------------------------------------------------------------------
// A real V8 heap snapshot of a process holding a private JWK (as JSON text) and a PEM string.

describe('V8 heap snapshot', () => {
  test('a private JWK and a PEM held as strings are found at their JSON-escaped offsets in the .heapsnapshot', () => {
    const file = path.join(tmp, 'child.heapsnapshot');
    const child = [
      "const { generateKeyPairSync } = require('node:crypto');",
      "const make = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;",
      'const a = make();',
      'const b = make();',
      // A JWK as services hold it after reading it from a file, an environment variable or a socket: a flat string.
      "globalThis.jwkText = Buffer.from(JSON.stringify(a.export({ format: 'jwk' }))).toString();",
      "globalThis.pem = a.export({ type: 'pkcs8', format: 'pem' });",
      // Straight from JSON.stringify, V8 holds the text as a rope (ConsString of 32, 64, 128… character
      // parts) and the snapshot writes each part as its own string: no JWK text is there to find.
      "globalThis.rope = JSON.stringify(b.export({ format: 'jwk' }));",
      // The JWK object itself: its members are separate strings, no JWK text either.
      "globalThis.jwkObject = b.export({ format: 'jwk' });",
      "require('v8').writeHeapSnapshot(process.argv[1]);",
      "process.stdout.write(JSON.stringify({ jwk: globalThis.jwkText, pem: globalThis.pem, rope: globalThis.rope }) + '\\n');",
    ].join('\n');
    const out = JSON.parse(execFileSync(process.execPath, ['-e', child, file]).toString()) as { jwk: string; pem: string; rope: string };
    const fingerprintOfJwk = (text: string) => fingerprintOf(createPrivateKey({ key: JSON.parse(text) as JsonWebKey, format: 'jwk' }));
    const fingerprint = fingerprintOfJwk(out.jwk);
    const snapshot = readFileSync(file);

    // Heap snapshots keep strings JSON-escaped in their "strings" array.
    const escapedJwk = JSON.stringify(out.jwk).slice(1, -1);
    const jwkAt = snapshot.indexOf(escapedJwk);
    expect(jwkAt).toBeGreaterThan(0);
    const expected = [{ start: jwkAt, length: escapedJwk.length, detector: 'jwk', kind: 'ec-private-key', severity: 'high', encoding: 'json-escaped', fingerprint }];
    // Should a V8 ever write the rope flat, it must be found too.
    const escapedRope = JSON.stringify(out.rope).slice(1, -1);
    const ropeAt = snapshot.indexOf(escapedRope);
    if (ropeAt >= 0) expected.push({ ...expected[0], start: ropeAt, length: escapedRope.length, fingerprint: fingerprintOfJwk(out.rope) });
    expected.sort((x, y) => x.start - y.start);
    expect(scanAll(snapshot).map(summary)).toEqual(expected);

    const escapedPem = JSON.stringify(out.pem).slice(1, -1);
    const pemAt = snapshot.indexOf(escapedPem);
    expect(pemAt).toBeGreaterThan(0);
    const pems = [...pemDetector.scan(snapshot, snapshot.length)];
    expect(pems.map((m) => ({ start: m.start, length: m.length, kind: m.kind, severity: m.severity, encoding: m.encoding, fingerprint: m.fingerprint }))).toEqual([
      { start: pemAt, length: escapedPem.lastIndexOf('-----') + 5, kind: 'ec-private-key', severity: 'high', encoding: 'json-escaped', fingerprint },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Known detector bugs, reported with the tests: each `test.fails` turns red once the bug is fixed,
// so flip it to `test` then.

describe('known detector bugs', () => {
  // src/detectors/json-object.ts findObjectStart counts braces inside string values.
  test('a "}" inside a string member before "kty" hides the key', () => {
    const json = JSON.stringify({ kid: 'key-}', ...privateJwk(p256) });
    expect(scanAll(Buffer.from(json)).map((m) => [m.start, m.length, m.severity])).toEqual([[0, json.length, 'high']]);
  });

  // src/detectors/json-object.ts Reader.string rejects bytes >= 0x7f; text-views.ts narrows
  // non-ASCII UTF-16 code units to NUL: one non-ASCII string member hides the whole key.
  test('a non-ASCII kid (UTF-8) hides the key', () => {
    const json = JSON.stringify({ ...privateJwk(p256), kid: 'clé-1' });
    expect(scanAll(Buffer.from(json, 'utf8')).map((m) => m.severity)).toEqual(['high']);
  });
  test('a non-ASCII kid (UTF-16LE) hides the key', () => {
    const json = JSON.stringify({ ...privateJwk(p256), kid: 'clé-1' });
    expect(scanAll(Buffer.from(json, 'utf16le')).map((m) => m.severity)).toEqual(['high']);
  });

  // src/detectors/json-object.ts Reader.string (escaped style) ends the string at the `\"` of `\\\"`.
  test('an escaped quote inside a member of JSON-in-a-string hides the key', () => {
    const json = JSON.stringify({ kid: 'say "hi"', ...privateJwk(p256) });
    const rendered = render(json, [json], 'json-escaped');
    expect(scanAll(rendered.payload).map((m) => [m.start, m.length, m.severity])).toEqual([[rendered.spans[0].start, rendered.spans[0].length, 'high']]);
  });

  // src/detectors/jwk.ts judgeRsa: without usable p and q, the check runs two modPow in JS BigInt:
  // ~30 ms at 2048 bits, ~200 ms at 4096, ~2 s at 8192, and twice that with an e as long as n.
  // Garbage costs the same as a key: here a random 4096-bit "n" and "d" (no key generation needed).
  test('an RSA JWK of 4096-bit garbage with only n, e, d is judged in < 50 ms', () => {
    const n = Buffer.from(pseudoRandomBytes(512, 0x4096));
    n[0] |= 0x80;
    n[511] |= 1;
    const d = Buffer.from(pseudoRandomBytes(511, 0x6904));
    const bytes = Buffer.from(JSON.stringify({ kty: 'RSA', n: n.toString('base64url'), e: 'AQAB', d: d.toString('base64url') }));
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const { found, wall, cpu } = timedScan(bytes);
      expect(found.map((m) => m.severity)).toEqual(['medium']);
      best = Math.min(best, wall, cpu);
    }
    expect(best).toBeLessThan(50);
  });
});
