// The OpenPGP secret-key packet detector, against keys GnuPG makes and exports (binary, not
// armored) and against v4/v6 packets built byte by byte here from node:crypto keys following
// RFC 4880 / RFC 9580. Packet boundaries and public keys are parsed by this file on its own,
// so the expected offsets, lengths and fingerprints do not come from src/.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pgpDetector } from '../../src/detectors/pgp.js';
import type { Match } from '../../src/types.js';
import { scanChunked } from '../helpers/chunked.js';
import { fingerprintOf, pseudoRandomBytes } from '../helpers/keys.js';
import { prng as random } from '../helpers/random.js';

function scan(bytes: Uint8Array, bodyLength = bytes.length): Match[] {
  return [...pgpDetector.scan(bytes, bodyLength)];
}

/** `payload` after `offset` pseudo-random bytes, followed by `trailer` more. */
function plant(payload: Buffer, offset: number, seed = 17, trailer = 257): Buffer {
  return Buffer.concat([pseudoRandomBytes(offset, seed), payload, pseudoRandomBytes(trailer, seed + 1)]);
}

// --- An independent OpenPGP reader: packet framing and public key material ---------------------

interface Packet {
  tag: number;
  /** Offset of the header in the exported bytes. */
  start: number;
  headerLength: number;
  body: Buffer;
  /** Header plus body. */
  bytes: Buffer;
}

function splitPackets(bytes: Buffer): Packet[] {
  const out: Packet[] = [];
  for (let at = 0; at < bytes.length; ) {
    const first = bytes[at];
    expect(first & 0x80).toBe(0x80);
    let tag: number, headerLength: number, bodyLength: number;
    if (first & 0x40) {
      tag = first & 0x3f;
      const l0 = bytes[at + 1];
      if (l0 < 192) [headerLength, bodyLength] = [2, l0];
      else if (l0 < 224) [headerLength, bodyLength] = [3, ((l0 - 192) << 8) + bytes[at + 2] + 192];
      else if (l0 === 255) [headerLength, bodyLength] = [6, bytes.readUInt32BE(at + 2)];
      else throw new Error('partial length in an exported key');
    } else {
      tag = (first >> 2) & 0x0f;
      const type = first & 3;
      headerLength = 1 + [1, 2, 4][type];
      bodyLength = type === 0 ? bytes[at + 1] : type === 1 ? bytes.readUInt16BE(at + 1) : bytes.readUInt32BE(at + 1);
    }
    const end = at + headerLength + bodyLength;
    out.push({ tag, start: at, headerLength, body: bytes.subarray(at + headerLength, end), bytes: bytes.subarray(at, end) });
    at = end;
  }
  return out;
}

const secretPackets = (bytes: Buffer) => splitPackets(bytes).filter((p) => p.tag === 5 || p.tag === 7);

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets = length < 0x100 ? [length] : [length >> 8, length & 0xff];
  return Buffer.from([0x80 | octets.length, ...octets]);
}
const tlv = (tag: number, content: Buffer) => Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);

const EC_PUBLIC_KEY_OID = Buffer.from('2a8648ce3d0201', 'hex');
const curveNames: Record<string, string> = {
  '2a8648ce3d030107': 'P-256',
  '2b81040022': 'P-384',
  '2b81040023': 'P-521',
  '2b8104000a': 'secp256k1',
  '2b2403030208010107': 'brainpoolP256r1',
  '2b240303020801010b': 'brainpoolP384r1',
  '2b240303020801010d': 'brainpoolP512r1',
  '2b06010401da470f01': 'Ed25519',
  '2b060104019755010501': 'Curve25519',
};

interface Expected {
  kind: Match['kind'];
  fingerprint: string;
  /** `RSA 2048-bit`, `EdDSA Ed25519`, `ECDH Curve25519`, `ECDSA P-256`. */
  name: string;
  version: number;
  /** The S2K usage octet. */
  usage: number;
}

/** What a secret-key packet body holds, read here independently of src/. */
function expectedFor(body: Buffer): Expected {
  const version = body[0];
  const algorithm = body[5];
  let at = version === 6 ? 10 : 6;
  const mpi = () => {
    const bits = body.readUInt16BE(at);
    const value = body.subarray(at + 2, at + 2 + Math.ceil(bits / 8));
    at += 2 + value.length;
    return { bits, value };
  };
  let key: KeyObject;
  let kind: Match['kind'];
  let name: string;
  if (algorithm >= 1 && algorithm <= 3) {
    const n = mpi(), e = mpi();
    key = createPublicKey({ key: { kty: 'RSA', n: n.value.toString('base64url'), e: e.value.toString('base64url') }, format: 'jwk' });
    kind = 'rsa-private-key';
    name = `RSA ${n.bits}-bit`;
  } else {
    const oid = body.subarray(at + 1, at + 1 + body[at]);
    at += 1 + oid.length;
    const curve = curveNames[oid.toString('hex')];
    const point = mpi().value;
    if (algorithm === 18) at += 4; // KDF parameters
    const label = algorithm === 18 ? 'ECDH' : algorithm === 19 ? 'ECDSA' : 'EdDSA';
    name = `${label} ${curve}`;
    if (curve === 'Ed25519' || curve === 'Curve25519') {
      expect(point[0]).toBe(0x40);
      const crv = curve === 'Ed25519' ? 'Ed25519' : 'X25519';
      key = createPublicKey({ key: { kty: 'OKP', crv, x: point.subarray(1).toString('base64url') }, format: 'jwk' });
      kind = curve === 'Ed25519' ? 'ed25519-private-key' : 'x25519-private-key';
    } else {
      const spki = tlv(0x30, Buffer.concat([tlv(0x30, Buffer.concat([tlv(0x06, EC_PUBLIC_KEY_OID), tlv(0x06, oid)])), tlv(0x03, Buffer.concat([Buffer.from([0]), point]))]));
      key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
      kind = 'ec-private-key';
    }
  }
  return { kind, fingerprint: fingerprintOf(key), name, version, usage: body[at] };
}

/** The one finding a secret packet at `offset` should produce. */
function expectedMatch(packet: Packet, offset: number): Partial<Match> {
  const e = expectedFor(packet.body);
  const what = `OpenPGP secret ${packet.tag === 7 ? 'subkey' : 'key'} packet (v${e.version}, ${e.name}`;
  if (e.usage === 0) {
    return { start: offset, length: packet.bytes.length, detector: 'pgp', kind: e.kind, severity: 'high', encoding: 'binary', fingerprint: e.fingerprint, evidence: `${what}, unprotected) (${packet.bytes.length} bytes)` };
  }
  return {
    start: offset,
    length: packet.bytes.length,
    detector: 'pgp',
    kind: 'pgp-private-key',
    severity: 'medium',
    encoding: 'binary',
    fingerprint: e.fingerprint,
    note: 'passphrase-protected OpenPGP secret key',
    evidence: `${what}, passphrase-protected) (${packet.bytes.length} bytes)`,
  };
}

/** Expected findings for a whole export planted at `offset`, in order. */
function expectedMatches(exported: Buffer, offset: number): Array<Partial<Match>> {
  return secretPackets(exported).map((p) => expectedMatch(p, offset + p.start));
}

function expectExactly(actual: Match[], expected: Array<Partial<Match>>): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((m, i) => {
    expect(m).toMatchObject(expected[i]);
    if (expected[i].severity === 'high') expect(m.note).toBeUndefined();
  });
}

/** The evidence shows no 8-character window of any encoding of the packet. */
function expectRedacted(evidence: string, packet: Buffer): void {
  const encoded = [packet.toString('hex'), packet.toString('hex').toUpperCase(), packet.toString('base64'), packet.toString('base64url')];
  for (let i = 0; i + 8 <= evidence.length; i++) {
    const window = evidence.slice(i, i + 8);
    expect(encoded.some((text) => text.includes(window)), window).toBe(false);
  }
}

// --- Packets built here (RFC 4880 §4.2, §5.5.2, §5.5.3; RFC 9580 §5.5.2, §5.5.3) ----------------

type HeaderForm = 'old-1' | 'old-2' | 'old-4' | 'new-1' | 'new-2' | 'new-5';
const headerForms: HeaderForm[] = ['old-1', 'old-2', 'old-4', 'new-1', 'new-2', 'new-5'];

/** Frames `body` as a packet of `tag`; undefined when the form cannot hold the length. */
function frame(tag: number, body: Buffer, form: HeaderForm): Buffer | undefined {
  const n = body.length;
  let header: number[];
  switch (form) {
    case 'old-1': if (n > 0xff) return undefined; header = [0x80 | (tag << 2), n]; break;
    case 'old-2': header = [0x81 | (tag << 2), n >> 8, n & 0xff]; break;
    case 'old-4': header = [0x82 | (tag << 2), 0, 0, n >> 8, n & 0xff]; break;
    case 'new-1': if (n >= 192) return undefined; header = [0xc0 | tag, n]; break;
    case 'new-2': if (n < 192 || n > 8383) return undefined; header = [0xc0 | tag, ((n - 192) >> 8) + 192, (n - 192) & 0xff]; break;
    case 'new-5': header = [0xc0 | tag, 0xff, 0, 0, n >> 8, n & 0xff]; break;
  }
  return Buffer.concat([Buffer.from(header), body]);
}

const u16 = (v: number) => Buffer.from([v >> 8, v & 0xff]);
const u32 = (v: number) => Buffer.from([v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);

function mpi(value: Buffer): Buffer {
  let i = 0;
  while (i < value.length && value[i] === 0) i++;
  const v = value.subarray(i);
  const bits = v.length === 0 ? 0 : 8 * (v.length - 1) + (32 - Math.clz32(v[0]));
  return Buffer.concat([u16(bits), v]);
}

const toBig = (b: Buffer) => BigInt('0x' + (b.toString('hex') || '0'));
function fromBig(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Buffer.from(hex, 'hex');
}
function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const k = r0 / r1;
    [r0, r1] = [r1, r0 - k * r1];
    [s0, s1] = [s1, s0 - k * s1];
  }
  return ((s0 % m) + m) % m;
}

interface KeyMaterial {
  algorithm: number;
  publicFields: Buffer;
  secretFields: Buffer;
  fingerprint: string;
  kind: Match['kind'];
  name: string;
}

function rsaMaterial(key: KeyObject): KeyMaterial {
  const jwk = key.export({ format: 'jwk' });
  const b = (s: string | undefined) => Buffer.from(s!, 'base64url');
  let [p, q] = [toBig(b(jwk.p)), toBig(b(jwk.q))];
  if (p > q) [p, q] = [q, p]; // OpenPGP: p < q, u = p^-1 mod q
  const n = b(jwk.n);
  return {
    algorithm: 1,
    publicFields: Buffer.concat([mpi(n), mpi(b(jwk.e))]),
    secretFields: Buffer.concat([mpi(b(jwk.d)), mpi(fromBig(p)), mpi(fromBig(q)), mpi(fromBig(inverse(p, q)))]),
    fingerprint: fingerprintOf(key),
    kind: 'rsa-private-key',
    name: `RSA ${mpi(n).readUInt16BE(0)}-bit`,
  };
}

const ecOids: Record<string, string> = { 'P-256': '2a8648ce3d030107', 'P-384': '2b81040022', 'P-521': '2b81040023' };
function ecMaterial(key: KeyObject, curve: 'P-256' | 'P-384' | 'P-521', algorithm: 18 | 19): KeyMaterial {
  const jwk = key.export({ format: 'jwk' });
  const oid = Buffer.from(ecOids[curve], 'hex');
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const kdf = algorithm === 18 ? Buffer.from([3, 1, 9, 9]) : Buffer.alloc(0); // SHA-384, AES-256
  return {
    algorithm,
    publicFields: Buffer.concat([Buffer.from([oid.length]), oid, mpi(point), kdf]),
    secretFields: mpi(Buffer.from(jwk.d!, 'base64url')),
    fingerprint: fingerprintOf(key),
    kind: 'ec-private-key',
    name: `${algorithm === 18 ? 'ECDH' : 'ECDSA'} ${curve}`,
  };
}

const creationTime = u32(0x6b0b1200);

function checksum(bytes: Buffer): Buffer {
  let sum = 0;
  for (const b of bytes) sum += b;
  return u16(sum & 0xffff);
}

/** An unprotected secret-key packet body: v4 with the two-octet checksum, v6 without (RFC 9580 §5.5.3). */
function unprotectedBody(version: 4 | 6, k: KeyMaterial): Buffer {
  const head = Buffer.concat([Buffer.from([version]), creationTime, Buffer.from([k.algorithm]), version === 6 ? u32(k.publicFields.length) : Buffer.alloc(0), k.publicFields]);
  return Buffer.concat([head, Buffer.from([0]), k.secretFields, version === 4 ? checksum(k.secretFields) : Buffer.alloc(0)]);
}

type Protection = 'v4 254 CFB' | 'v4 253 AEAD' | 'v4 legacy cipher' | 'v6 254 CFB' | 'v6 253 AEAD';
/** A protected body: S2K fields and pseudo-random "ciphertext" (nothing decrypts it; nothing has to). */
function protectedBody(protection: Protection, k: KeyMaterial): Buffer {
  const version = protection.startsWith('v6') ? 6 : 4;
  const head = Buffer.concat([Buffer.from([version]), creationTime, Buffer.from([k.algorithm]), version === 6 ? u32(k.publicFields.length) : Buffer.alloc(0), k.publicFields]);
  const s2k = Buffer.concat([Buffer.from([3, 8]), pseudoRandomBytes(8, 5), Buffer.from([0xff])]); // iterated+salted, SHA-256
  let fields: Buffer;
  let ciphertextLength = k.secretFields.length;
  switch (protection) {
    case 'v4 254 CFB': fields = Buffer.concat([Buffer.from([254, 9]), s2k, pseudoRandomBytes(16, 6)]); ciphertextLength += 20; break;
    case 'v4 253 AEAD': fields = Buffer.concat([Buffer.from([253, 9, 2]), s2k, pseudoRandomBytes(15, 6)]); ciphertextLength += 16; break;
    case 'v4 legacy cipher': fields = Buffer.concat([Buffer.from([3]), pseudoRandomBytes(8, 6)]); ciphertextLength += 2; break;
    case 'v6 254 CFB': {
      const conditional = Buffer.concat([Buffer.from([9, s2k.length]), s2k, pseudoRandomBytes(16, 6)]);
      fields = Buffer.concat([Buffer.from([254, conditional.length]), conditional]);
      ciphertextLength += 20;
      break;
    }
    case 'v6 253 AEAD': {
      const conditional = Buffer.concat([Buffer.from([9, 2, s2k.length]), s2k, pseudoRandomBytes(15, 6)]);
      fields = Buffer.concat([Buffer.from([253, conditional.length]), conditional]);
      ciphertextLength += 16;
      break;
    }
  }
  return Buffer.concat([head, fields, pseudoRandomBytes(ciphertextLength, 7)]);
}

// --- GnuPG keys ----------------------------------------------------------------------------------

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dumpguard-pgp-'));
const gnupghome = path.join(tmp, 'gnupg');
const env = { ...process.env, GNUPGHOME: gnupghome };

function gpg(args: string[], passphrase = ''): Buffer {
  return execFileSync('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', passphrase, ...args], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

interface GpgKey {
  name: string;
  fpr: string;
  passphrase: string;
  /** `gpg --export-secret-keys`, binary. */
  secret: Buffer;
  /** `gpg --export`, binary. */
  public: Buffer;
}

const gpgKeys = new Map<string, GpgKey>();

function generate(name: string, algorithm: string, passphrase = '', subkey?: string): void {
  const uid = `${name} <${name}@example.com>`;
  gpg(['--quick-gen-key', uid, algorithm, 'sign', 'never'], passphrase);
  const listing = gpg(['--with-colons', '--list-secret-keys', `<${name}@example.com>`]).toString();
  const fpr = listing.split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9];
  if (subkey) gpg(['--quick-add-key', fpr, subkey, 'encr', 'never'], passphrase);
  gpgKeys.set(name, { name, fpr, passphrase, secret: gpg(['--export-secret-keys', fpr], passphrase), public: gpg(['--export', fpr]) });
}

const key = (name: string) => gpgKeys.get(name)!;
const unprotectedNames = ['ed25519', 'ed25519-cv25519', 'rsa2048', 'rsa2048-subkey', 'nistp256', 'nistp256-ecdh', 'nistp384', 'nistp521', 'brainpoolP256r1', 'secp256k1'];
const protectedNames = ['ed25519-protected', 'rsa2048-protected'];
const allNames = [...unprotectedNames, ...protectedNames];

beforeAll(() => {
  execFileSync('mkdir', ['-m', '700', gnupghome]);
  generate('ed25519', 'ed25519');
  generate('ed25519-cv25519', 'ed25519', '', 'cv25519');
  generate('rsa2048', 'rsa2048');
  generate('rsa2048-subkey', 'rsa2048', '', 'rsa2048');
  generate('nistp256', 'nistp256');
  generate('nistp256-ecdh', 'nistp256', '', 'nistp256');
  generate('nistp384', 'nistp384');
  generate('nistp521', 'nistp521');
  generate('brainpoolP256r1', 'brainpoolP256r1');
  generate('secp256k1', 'secp256k1');
  generate('ed25519-protected', 'ed25519', 'secret');
  generate('rsa2048-protected', 'rsa2048', 'secret');
}, 120_000);

afterAll(() => {
  try {
    execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env, stdio: 'ignore' });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

const offsets = [0, 1, 65, 4095];

describe('keys GnuPG exports', () => {
  test('what GnuPG really exported: the secret packets of each key, by tag and algorithm', () => {
    const shape = (name: string) => secretPackets(key(name).secret).map((p) => `${p.tag}:${expectedFor(p.body).name}:${expectedFor(p.body).usage}`);
    // A sign-only key has no secret subkey; the others have the subkey added to them.
    expect(shape('ed25519')).toEqual(['5:EdDSA Ed25519:0']);
    expect(shape('ed25519-cv25519')).toEqual(['5:EdDSA Ed25519:0', '7:ECDH Curve25519:0']);
    expect(shape('rsa2048')).toEqual(['5:RSA 2048-bit:0']);
    expect(shape('rsa2048-subkey')).toEqual(['5:RSA 2048-bit:0', '7:RSA 2048-bit:0']);
    expect(shape('nistp256')).toEqual(['5:ECDSA P-256:0']);
    expect(shape('nistp256-ecdh')).toEqual(['5:ECDSA P-256:0', '7:ECDH P-256:0']);
    expect(shape('nistp384')).toEqual(['5:ECDSA P-384:0']);
    expect(shape('nistp521')).toEqual(['5:ECDSA P-521:0']);
    expect(shape('brainpoolP256r1')).toEqual(['5:ECDSA brainpoolP256r1:0']);
    expect(shape('secp256k1')).toEqual(['5:ECDSA secp256k1:0']);
    // Passphrase-protected exports use S2K usage 254 (SHA-1 check, CFB).
    expect(shape('ed25519-protected')).toEqual(['5:EdDSA Ed25519:254']);
    expect(shape('rsa2048-protected')).toEqual(['5:RSA 2048-bit:254']);
    // The first packet is the secret-key packet; GnuPG frames it with an old-format header.
    for (const name of allNames) expect(splitPackets(key(name).secret)[0]).toMatchObject({ tag: 5, start: 0 });
  });

  const table = allNames.flatMap((name) => offsets.map((offset) => ({ name, offset })));
  test.each(table)('$name export at offset $offset: each secret packet found exactly', ({ name, offset }) => {
    const exported = key(name).secret;
    const bytes = plant(exported, offset, offset + 3);
    const expected = expectedMatches(exported, offset);
    expect(expected.length).toBeGreaterThan(0);
    const matches = scan(bytes);
    expectExactly(matches, expected);
    for (const m of matches) {
      expect(m.confidence).toBeGreaterThan(0);
      expectRedacted(m.evidence, bytes.subarray(m.start, m.start + m.length));
    }
    // Chunk rule: a match belongs to the chunk whose body holds its first byte.
    const first = matches[0].start;
    expect(scan(bytes, first)).toEqual([]);
    expect(scan(bytes, first + 1)).toEqual([matches[0]]);
  });

  test.each(allNames)('%s: the secret packet alone, ending exactly at the end of the bytes; not when one byte short', (name) => {
    const packet = secretPackets(key(name).secret)[0];
    const bytes = plant(packet.bytes, 33, 5, 0);
    expectExactly(scan(bytes), [expectedMatch(packet, 33)]);
    expect(scan(bytes.subarray(0, bytes.length - 1))).toEqual([]);
  });

  test.each(headerForms.flatMap((form) => ['ed25519', 'ed25519-cv25519', 'rsa2048', 'nistp521', 'ed25519-protected'].map((name) => ({ form, name }))))(
    '$name re-framed with a $form header: found with the new header length',
    ({ form, name }) => {
      for (const packet of secretPackets(key(name).secret)) {
        const framed = frame(packet.tag, packet.body, form);
        if (!framed) continue; // the length does not fit this form
        const reframed: Packet = { ...packet, start: 0, headerLength: framed.length - packet.body.length, bytes: framed };
        expectExactly(scan(plant(framed, 65)), [expectedMatch(reframed, 65)]);
      }
    },
  );

  test('every header form is exercised by at least one key', () => {
    for (const form of headerForms) {
      expect(allNames.some((name) => secretPackets(key(name).secret).some((p) => frame(p.tag, p.body, form) !== undefined)), form).toBe(true);
    }
  });

  test('a whole keyring of secret keys, back to back: every secret packet, in order', () => {
    const ring = Buffer.concat(allNames.map((n) => key(n).secret));
    const bytes = plant(ring, 4095);
    expectExactly(scan(bytes), expectedMatches(ring, 4095));
  });

  test('a plain Uint8Array, and a view at an odd byteOffset of a larger ArrayBuffer, scan the same', () => {
    const bytes = plant(key('rsa2048-subkey').secret, 65);
    const expected = scan(bytes);
    expect(expected).toHaveLength(2);
    expect(scan(new Uint8Array(bytes))).toEqual(expected);
    const backing = new Uint8Array(bytes.length + 10);
    backing.set(bytes, 3);
    expect(scan(backing.subarray(3, 3 + bytes.length))).toEqual(expected);
  });

  test('gpg --export-secret-subkeys: the primary is a gnu-dummy stub (no secret), only the subkey is found', () => {
    const k = key('ed25519-cv25519');
    const exported = gpg(['--export-secret-subkeys', k.fpr]);
    const packets = secretPackets(exported);
    expect(packets.map((p) => p.tag)).toEqual([5, 7]);
    expect(packets[0].body.includes(Buffer.from('GNU'))).toBe(true);
    const subkey = packets[1];
    expectExactly(scan(plant(exported, 65)), [expectedMatch(subkey, 65 + subkey.start)]);
  });
});

// --- Packets built here: v6, other sizes, other protections --------------------------------------

describe('packets built from node:crypto keys', () => {
  const rsa1024 = rsaMaterial(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
  const rsa2048 = rsaMaterial(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  const rsa4096 = rsaMaterial(generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey);
  const p256 = ecMaterial(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'P-256', 19);
  const p384dh = ecMaterial(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, 'P-384', 18);
  const p521 = ecMaterial(generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey, 'P-521', 19);
  const materials = { rsa1024, rsa2048, rsa4096, p256, p384dh, p521 };

  const unprotected = (Object.keys(materials) as Array<keyof typeof materials>).flatMap((name) => ([4, 6] as const).map((version) => ({ name, version })));
  test.each(unprotected)('$name, v$version, unprotected: one high finding with the node:crypto fingerprint', ({ name, version }) => {
    const k = materials[name];
    for (const [tag, form] of [[5, 'new-5'], [7, 'old-2'], [5, 'new-2']] as const) {
      const packet = frame(tag, unprotectedBody(version, k), form);
      if (!packet) continue;
      const matches = scan(plant(packet, 65, version));
      expectExactly(matches, [{
        start: 65,
        length: packet.length,
        kind: k.kind,
        severity: 'high',
        fingerprint: k.fingerprint,
        evidence: `OpenPGP secret ${tag === 7 ? 'subkey' : 'key'} packet (v${version}, ${k.name}, unprotected) (${packet.length} bytes)`,
      }]);
    }
  });

  const protections: Protection[] = ['v4 254 CFB', 'v4 253 AEAD', 'v4 legacy cipher', 'v6 254 CFB', 'v6 253 AEAD'];
  test.each(protections.flatMap((protection) => (['rsa2048', 'p256', 'p384dh'] as const).map((name) => ({ protection, name }))))(
    '$name, $protection: one medium pgp-private-key finding with the public fingerprint',
    ({ protection, name }) => {
      const k = materials[name];
      const packet = frame(5, protectedBody(protection, k), 'old-2')!;
      expectExactly(scan(plant(packet, 1)), [{ start: 1, length: packet.length, kind: 'pgp-private-key', severity: 'medium', fingerprint: k.fingerprint, note: 'passphrase-protected OpenPGP secret key' }]);
    },
  );

  test('v6 packets must use their counts exactly: a public-material count one off, or an S2K field count one off, is no packet', () => {
    const body = unprotectedBody(6, p256);
    body.writeUInt32BE(p256.publicFields.length + 1, 6);
    expect(scan(plant(frame(5, body, 'old-2')!, 65))).toEqual([]);
    const locked = protectedBody('v6 254 CFB', p256);
    const countAt = 10 + p256.publicFields.length + 1;
    locked[countAt] += 1;
    expect(scan(plant(frame(5, locked, 'old-2')!, 65))).toEqual([]);
  });

  test('the 16384-bit RSA fixture: found, and the packet fits in maxMatchLengthInBytes when it starts at the last body byte', () => {
    const fixture = createPrivateKey(readFileSync(new URL('../fixtures/test-key-rsa16384.pem', import.meta.url), 'utf8'));
    const k = rsaMaterial(fixture);
    expect(k.name).toBe('RSA 16384-bit');
    const packet = frame(5, unprotectedBody(4, k), 'old-2')!;
    expect(packet.length).toBeLessThanOrEqual(pgpDetector.maxMatchLengthInBytes);
    expectExactly(scan(plant(packet, 4095)), [{ start: 4095, length: packet.length, kind: 'rsa-private-key', severity: 'high', fingerprint: k.fingerprint }]);
    const body = 8192;
    const bytes = pseudoRandomBytes(body + pgpDetector.maxMatchLengthInBytes, 99);
    bytes.set(packet, body - 1);
    expectExactly(scan(bytes, body), [{ start: body - 1, length: packet.length, severity: 'high', fingerprint: k.fingerprint }]);
  });
});

// --- Negatives and damaged keys --------------------------------------------------------------------

describe('public keys, stubs, damage and noise', () => {
  test.each(allNames)('gpg --export of %s (public key packets only): nothing', (name) => {
    const exported = key(name).public;
    expect(splitPackets(exported).map((p) => p.tag)).toContain(6);
    for (const offset of offsets) expect(scan(plant(exported, offset))).toEqual([]);
  });

  test('every public keyring at once, and secret packets re-tagged as public-key (6) and public-subkey (14) packets: nothing', () => {
    expect(scan(plant(Buffer.concat(allNames.map((n) => key(n).public)), 65))).toEqual([]);
    for (const name of unprotectedNames) {
      for (const packet of secretPackets(key(name).secret)) {
        for (const tag of [6, 14]) {
          for (const form of ['old-2', 'new-1', 'new-2'] as const) {
            const framed = frame(tag, packet.body, form);
            if (framed) expect(scan(plant(framed, 65))).toEqual([]);
          }
        }
      }
    }
  });

  test.each(unprotectedNames)('%s with its checksum broken: one medium pgp-private-key finding, never high', (name) => {
    const packet = secretPackets(key(name).secret)[0];
    const broken = Buffer.from(packet.bytes);
    broken[broken.length - 1] ^= 0x01;
    const expected = expectedMatch(packet, 65);
    const matches = scan(plant(broken, 65));
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({ start: 65, length: packet.bytes.length, kind: 'pgp-private-key', severity: 'medium', fingerprint: expected.fingerprint });
    expect(matches[0].note).toMatch(/checksum/);
    expect(matches[0].confidence).toBeLessThan(0.99);
  });

  test.each(unprotectedNames)('%s with a secret byte changed and the checksum fixed up: medium, the mathematics fail', (name) => {
    const packet = secretPackets(key(name).secret)[0];
    const damaged = Buffer.from(packet.bytes);
    // Two octets of the last secret MPI just before the checksum, moved in opposite directions so
    // their sum, and so the stored checksum, stays the same.
    let at = damaged.length - 4;
    while (!(damaged[at] < 0xff && damaged[at + 1] > 0)) at--;
    damaged[at] += 1;
    damaged[at + 1] -= 1;
    const matches = scan(plant(damaged, 65));
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({ start: 65, length: packet.bytes.length, kind: 'pgp-private-key', severity: 'medium' });
    expect(matches[0].note).toMatch(/unprotected OpenPGP secret key: /);
    expect(matches[0].note).not.toMatch(/checksum/);
  });

  test.each(['ed25519', 'rsa2048', 'nistp256'])('%s with the header length one too long or too short: nothing', (name) => {
    const packet = secretPackets(key(name).secret)[0];
    for (const delta of [1, -1]) {
      const body = delta > 0 ? Buffer.concat([packet.body, Buffer.from([0])]) : packet.body.subarray(0, -1);
      const framed = frame(5, body, 'old-2')!;
      expect(scan(plant(framed, 65)), `delta ${delta}`).toEqual([]);
    }
  });

  test('64 MiB of pseudo-random bytes: no findings', () => {
    const bytes = pseudoRandomBytes(64 * 1024 * 1024, 0x2545f491);
    expect(scan(bytes)).toEqual([]);
  });

  test('the anchors over and over, in text and in binary: no findings, quickly', () => {
    const anchors = ['0011010001', '082a8648ce3d030107', '052b81040022', '092b06010401da470f01', '0a2b060104019755010501', '092b2403030208010107'];
    const packed = Buffer.from(anchors.join('').repeat(20_000), 'hex');
    // Each anchor after a plausible version, creation time and algorithm octet.
    const primed = Buffer.from(anchors.map((a) => '04' + '6b0b1200' + '13' + a).join('').repeat(20_000), 'hex');
    for (const bytes of [packed, primed, Buffer.from(anchors.join(' ').repeat(20_000), 'latin1')]) {
      const started = performance.now();
      expect(scan(bytes)).toEqual([]);
      expect(performance.now() - started).toBeLessThan(5_000);
    }
  });
});

// --- Chunks and robustness ---------------------------------------------------------------------------

describe('chunking', () => {
  test('scanChunked with 4096-byte chunks finds exactly what one whole scan finds, across chunk boundaries', () => {
    const fixture = rsaMaterial(createPrivateKey(readFileSync(new URL('../fixtures/test-key-rsa16384.pem', import.meta.url), 'utf8')));
    const payloads = [
      ...allNames.flatMap((n) => secretPackets(key(n).secret).map((p) => p.bytes)),
      frame(7, unprotectedBody(4, fixture), 'new-5')!,
      frame(5, unprotectedBody(6, ecMaterial(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'P-256', 19)), 'new-1')!,
    ];
    const parts: Buffer[] = [];
    let at = 0;
    const planted: number[] = [];
    payloads.forEach((payload, i) => {
      // Start just before, at, and just after chunk boundaries, and at the last byte of a body.
      const boundary = (i + 1) * 4096 * 3;
      const target = boundary + [-1, 0, 1, -7, -payload.length + 3][i % 5];
      const gap = Math.max(1, target - at);
      parts.push(pseudoRandomBytes(gap, i + 1), payload);
      planted.push(at + gap);
      at += gap + payload.length;
    });
    parts.push(pseudoRandomBytes(5000, 77));
    const bytes = Buffer.concat(parts);
    const whole = scan(bytes).map((m) => ({ ...m, offset: m.start }));
    expect(whole.map((m) => m.offset)).toEqual(planted);
    const strip = (ms: Array<Match & { offset: number }>) => ms.map(({ start: _start, ...rest }) => rest);
    expect(strip(scanChunked(pgpDetector, bytes, 4096))).toEqual(strip(whole));
    expect(strip(scanChunked(pgpDetector, bytes, 1000))).toEqual(strip(whole));
  });
});


describe('robustness', () => {
  test('20,000 mutated packets: never throw, every scan under 50 ms, matches inside the bytes, never a wrong high', () => {
    const packetStart = 64;
    const bases = allNames.flatMap((name) =>
      secretPackets(key(name).secret).map((packet, i) => {
        const total = Math.max(2048, packetStart + packet.bytes.length + 64);
        const bytes = Buffer.concat([pseudoRandomBytes(packetStart, i + 1), packet.bytes, pseudoRandomBytes(total - packetStart - packet.bytes.length, i + 101)]);
        return { name, bytes, length: packet.bytes.length, headerLength: packet.headerLength };
      }),
    );
    // v6 packets built here: their counts are lengths read from the bytes too.
    const v6p256 = ecMaterial(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'P-256', 19);
    const v6rsa = rsaMaterial(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
    for (const [i, body] of [unprotectedBody(6, v6p256), protectedBody('v6 254 CFB', v6p256), unprotectedBody(6, v6rsa), protectedBody('v6 253 AEAD', v6rsa)].entries()) {
      const packet = frame(5, body, 'old-2')!;
      const bytes = Buffer.concat([pseudoRandomBytes(packetStart, i + 51), packet, pseudoRandomBytes(Math.max(64, 2048 - packetStart - packet.length), i + 151)]);
      bases.push({ name: `v6 ${i}`, bytes, length: packet.length, headerLength: 3 });
    }
    const known = new Set([
      ...allNames.flatMap((name) => secretPackets(key(name).secret).map((p) => expectedFor(p.body).fingerprint)),
      v6p256.fingerprint,
      v6rsa.fingerprint,
    ]);
    for (const base of bases) expect(scan(base.bytes).length, base.name).toBe(1); // also warms up the code paths timed below

    const rnd = random(0x5eed9a7);
    const int = (n: number) => Math.floor(rnd() * n);
    let highs = 0;
    let slowest = 0;
    for (let i = 0; i < 20_000; i++) {
      const base = bases[int(bases.length)];
      let bytes = Buffer.from(base.bytes);
      const mutations = 1 + int(3);
      for (let m = 0; m < mutations; m++) {
        const where = packetStart + int(base.length);
        switch (int(7)) {
          case 0: bytes[where] ^= 1 << int(8); break; // a bit flip anywhere in the packet
          case 1: bytes[where] = int(256); break; // a random byte
          case 2: bytes[packetStart + int(base.headerLength + 12)] = int(256); break; // header, version, time, algorithm, first fields
          case 3: bytes[packetStart + int(base.headerLength + 12)] += int(2) ? 1 : -1; break; // lengths off by one
          case 4: bytes = bytes.subarray(0, packetStart + int(base.length + 1)); break; // truncated
          case 5: bytes = Buffer.concat([bytes.subarray(0, where), Buffer.from([int(256)]), bytes.subarray(where)]); break; // inserted byte
          case 6: bytes = Buffer.concat([bytes.subarray(0, where), bytes.subarray(where + 1)]); break; // deleted byte
        }
      }
      const bodyLength = int(4) === 0 ? int(bytes.length + 1) : bytes.length;
      let elapsed = Infinity;
      let matches: Match[] = [];
      for (let attempt = 0; attempt < 4 && elapsed >= 50; attempt++) {
        const started = performance.now();
        matches = scan(bytes, bodyLength);
        elapsed = performance.now() - started;
      }
      slowest = Math.max(slowest, elapsed);
      expect(elapsed, `mutation ${i} of ${base.name}`).toBeLessThan(50);
      for (const m of matches) {
        expect(m.start).toBeLessThan(bodyLength);
        expect(m.start + m.length).toBeLessThanOrEqual(bytes.length);
        expect(m.length).toBeLessThanOrEqual(pgpDetector.maxMatchLengthInBytes);
        if (m.severity === 'high') {
          highs++;
          expect(known.has(m.fingerprint!), `mutation ${i} of ${base.name}: high with an unknown fingerprint`).toBe(true);
        }
      }
    }
    // Mutations that miss the key material (creation time, a protected key's ciphertext) still find it.
    expect(highs).toBeGreaterThan(100);
    expect(slowest).toBeLessThan(50);
  });
});
