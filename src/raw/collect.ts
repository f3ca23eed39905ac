// Public keys in a chunk, collected cheaply beside the detectors (in the worker): the raw
// search finds private integers through them. The structures recognised:
//   SPKI rsaEncryption      30 0d 06 09 2a864886f70d010101 05 00 03 ...  BIT STRING { RSAPublicKey }
//   SPKI id-ecPublicKey     06 07 2a8648ce3d0201 06 <curve OID> 03 ... 00 04 X Y
//   SPKI Ed25519 / X25519   30 2a 30 05 06 03 2b 65 70|6e 03 21 00 <32 bytes>
//   TBSCertificate v3       a0 03 02 01 02 02 ...: a self-signed CA certificate marks its key a CA root
//   RSAPrivateKey           02 01 00 02 82|81 <n> 02 <e>: the public half of a DER private key
//   SEC1 ECPrivateKey       02 01 01 04 <d> [0] curve [1] point: the public half (d·G when absent)
//   OpenSSH wire public     00 00 00 07 "ssh-rsa" <e> <n>, "ecdsa-sha2-nistp*", "ssh-ed25519"
//   JWK (RFC 7517/7518)     {"kty":"RSA","n","e"}, {"kty":"EC","crv","x","y"}, {"kty":"OKP","crv","x"},
//                           public or private, in plain JSON or JSON held in a string, in ASCII
//                           or UTF-16LE (Java and .NET strings)
// found through anchors most of which other detectors search anyway (see RAW_ANCHORS). Only
// public values are returned. A structure belongs to the chunk whose body it starts in.
import { createECDH, ECDH } from 'node:crypto';
import { bytesAt, type AnchorHits } from '../detectors/anchors.js';
import { oid, readHeader, readTree, Tag, type Node } from '../keys/der-reader.js';
import { curveByName, curveByOid, CURVES } from '../keys/ec.js';
import { readJsonObject, type JsonValue, type QuoteStyle } from '../detectors/json-object.js';
import { bytesToHex, minimalBigEndian, type PublicValue } from './targets.js';

const RSA_SPKI = Buffer.from('300d06092a864886f70d0101010500', 'hex');
const EC_SPKI = Buffer.from('06072a8648ce3d020106', 'hex');
const OKP_SPKI = Buffer.from('302a300506032b65', 'hex');
const TBS_V3 = Buffer.from('a003020102', 'hex');
const BASIC_CONSTRAINTS_CA = [Buffer.from('0603551d1301', 'hex'), Buffer.from('0603551d1304', 'hex')];

// The anchors, chosen to be the same byte strings other detectors search (der: INTEGER 1 and
// the PKCS#1 OID arc; pgp: the EC curve arcs), so that they cost nothing more when those
// detectors run: equal needles are searched once per chunk. Each names how far before it the
// structure starts (`lead`).
const INTEGER_ONE = Buffer.from('0201', 'hex'); // RSAPrivateKey `02 01 00 02 82`, TBSCertificate `a0 03 02 01 02`
const PKCS1_ARC = Buffer.from('2a864886f70d01', 'hex'); // inside the rsaEncryption AlgorithmIdentifier, 4 bytes in
const PRIME_CURVES = Buffer.from('2a8648ce3d03', 'hex'); // P-256's OID, 11 bytes into an EC SPKI's AlgorithmIdentifier
const SECG_CURVES = Buffer.from('2b810400', 'hex'); // P-384, P-521, secp256k1
const SSH = Buffer.from('ssh-', 'latin1'); // OpenSSH wire names, after their 4-byte length
const SSH_ECDSA = Buffer.from('ecdsa-', 'latin1');
const KTY = Buffer.from('kty', 'latin1'); // the jwk detector's needle: a JWK's "kty" member name
const KTY_UTF16 = Buffer.from('kty', 'utf16le'); // and its UTF-16LE needle

/** The fixed byte strings public keys are found by: searched with every detector's in one pass (src/detectors/anchors.ts). */
export const RAW_ANCHORS: readonly Buffer[] = [INTEGER_ONE, PKCS1_ARC, PRIME_CURVES, SECG_CURVES, OKP_SPKI, SSH, SSH_ECDSA, KTY, KTY_UTF16];

/** A chunk full of public keys (a trust store) is collected up to this many. */
export const maximumPublicsPerChunk = 4096;
/** How far past its anchor a public structure may reach: certificates and SPKIs stay under this. */
export const publicStructureMarginInBytes = 16 * 1024;
/** The longest lead: anchors up to this many bytes into the margin can start a structure in the body. */
const maximumLead = 11;

/** Hits of each anchor (the worker's shared anchor search), or searched here when not given. */
export function collectPublics(bytes: Uint8Array, bodyLength: number, anchors?: AnchorHits): PublicValue[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: PublicValue[] = [];
  /** Visits the structure starting at `at - lead` when that start is in the body (it belongs to this chunk). */
  const each = (needle: Buffer, visit: (at: number) => void) => {
    const hits = anchors?.get(needle) ?? searchAll(buf, needle, bodyLength + maximumLead);
    for (const at of hits) {
      if (at >= bodyLength + maximumLead || out.length >= maximumPublicsPerChunk) break;
      try {
        visit(at);
      } catch {
        // a structure that does not parse is not a public key
      }
    }
  };
  const starts = (start: number, prefix: Buffer) => start >= 0 && start < bodyLength && bytesAt(bytes, prefix, start);
  each(INTEGER_ONE, (at) => {
    if (at < bodyLength && bytes[at + 2] === 0x00 && bytes[at + 3] === 0x02 && (bytes[at + 4] === 0x82 || bytes[at + 4] === 0x81)) rsaFromPrivateKey(bytes, at + 3, out);
    if (starts(at - 2, TBS_V3)) fromCertificate(bytes, at - 2, out);
    if (at < bodyLength && bytes[at + 2] === 0x01 && bytes[at + 3] === 0x04) ecFromPrivateKey(bytes, at + 3, out);
  });
  each(PKCS1_ARC, (at) => {
    if (starts(at - 4, RSA_SPKI)) rsaFromBitString(bytes, at - 4 + RSA_SPKI.length, false, out);
  });
  for (const arc of [PRIME_CURVES, SECG_CURVES]) {
    each(arc, (at) => {
      if (starts(at - 11, EC_SPKI)) ecFromSpki(bytes, at - 11, false, out);
    });
  }
  each(OKP_SPKI, (at) => {
    if (at < bodyLength) okpFromSpki(bytes, at, false, out);
  });
  each(SSH, (at) => {
    if (at - 4 < 0 || at - 4 >= bodyLength) return;
    if (lengthBefore(bytes, at, 7) && bytesAt(bytes, Buffer.from('ssh-rsa', 'latin1'), at)) sshRsa(bytes, at + 7, out);
    if (lengthBefore(bytes, at, 11) && bytesAt(bytes, Buffer.from('ssh-ed25519', 'latin1'), at) && lengthBefore(bytes, at + 15, 32)) {
      const key = bytes.subarray(at + 15, at + 47);
      if (key.length === 32) out.push({ type: 'okp', curve: 'Ed25519', key: bytesToHex(key), caRoot: false });
    }
  });
  each(SSH_ECDSA, (at) => {
    if (at - 4 >= 0 && at - 4 < bodyLength && lengthBefore(bytes, at, 19)) sshEcdsa(bytes, at - 4, out);
  });
  // A JWK's "kty" can come after a long "n" (2.7 KB for RSA-16384): its hits are followed into
  // the margin, and the object is this chunk's when its opening brace is in the body.
  for (const unit of [1, 2] as const) {
    const needle = unit === 1 ? KTY : KTY_UTF16;
    jwksAround(bytes, anchors?.get(needle) ?? searchAll(buf, needle, bodyLength + unit * jwkReach), unit, bodyLength, out);
  }
  return out;
}

/** How far before its "kty" a JWK's opening brace may be, and how long an object may be. */
const jwkReach = 8 * 1024;
const bracesTried = 4;

/**
 * The JWKs around `hits` of "kty" in text of `unit`-byte code units (1: ASCII, 2: UTF-16LE):
 * a "kty" inside the object just read (a nested member) is that object's; one not quoted is no
 * member name.
 */
function jwksAround(bytes: Uint8Array, hits: ArrayLike<number>, unit: 1 | 2, bodyLength: number, out: PublicValue[]): void {
  let lastObjectEnd = -1;
  let previous = -1;
  const window: { current?: WideText } = {};
  for (let k = 0; k < hits.length; k++) {
    const at = hits[k];
    if (at >= bodyLength + unit * jwkReach || out.length >= maximumPublicsPerChunk) break;
    if (at >= lastObjectEnd && bytes[at - unit] === 0x22 && (unit === 1 || bytes[at - 1] === 0)) {
      try {
        lastObjectEnd = (unit === 1 ? jwkAround(bytes, at, previous, bodyLength, out) : wideJwkAround(bytes, at, previous, bodyLength, out, window)) ?? lastObjectEnd;
      } catch {
        // not a JWK
      }
    }
    previous = at;
  }
}

/**
 * The JWK object around the "kty" at `at` whose brace is in the body: its public value into
 * out; returns the object's end. Its brace is after the previous "kty" (an object has one), so
 * the look back stops there: a flood of "kty" costs its length, not its square.
 */
function jwkAround(bytes: Uint8Array, at: number, previous: number, bodyLength: number, out: PublicValue[]): number | undefined {
  // `"kty"` or `\"kty\"` (JSON held in a JSON string); the caller saw the quote.
  const style: QuoteStyle = bytes[at - 2] === 0x5c ? 'escaped' : 'plain';
  let tried = 0;
  for (let brace = at - 1; brace > previous && at - brace <= jwkReach && tried < bracesTried; brace--) {
    if (bytes[brace] !== 0x7b) continue;
    tried++;
    const object = readJsonObject(bytes, brace, Math.min(bytes.length, brace + 2 * jwkReach), style);
    if (!object || object.end <= at || !object.members.has('kty')) continue;
    if (brace < bodyLength) pushJwk(object.members, out);
    return object.end;
  }
  return undefined;
}

/** UTF-16LE text narrowed to one byte a character (Latin-1 code units), shared by the "kty" hits that fall in it. */
interface WideText {
  /** Byte offsets of the text's first character and just past its last. */
  from: number;
  to: number;
  /** The run of Latin-1 code units ended at `to` (else the window was cut at its size). */
  endsRun: boolean;
  text: Uint8Array;
}

/** Characters narrowed at a time: four of the longest objects, so the hits of a long text reuse one window. */
const wideWindowChars = 8 * jwkReach;

/**
 * The same in UTF-16LE. A JWK's structure is 7-bit ASCII: its brace is looked for in the bytes
 * (back to the previous "kty", only through code units below 0x100), and the text from there is
 * narrowed to one byte a character in windows that later hits reuse, so a text full of "kty"
 * costs its length.
 */
function wideJwkAround(bytes: Uint8Array, at: number, previous: number, bodyLength: number, out: PublicValue[], window: { current?: WideText }): number | undefined {
  // Latin-1 code units (a kid may hold a few non-ASCII letters: narrowed to 0x80, text but nothing JSON reads as structure).
  const latin1 = (i: number) => i >= 0 && i + 1 < bytes.length && bytes[i + 1] === 0;
  const style: QuoteStyle = bytes[at - 4] === 0x5c && bytes[at - 3] === 0 ? 'escaped' : 'plain';
  let tried = 0;
  for (let brace = at - 2; brace > previous && at - brace <= 2 * jwkReach && tried < bracesTried && latin1(brace); brace -= 2) {
    if (bytes[brace] !== 0x7b) continue;
    tried++;
    let w = window.current;
    if (!w || brace < w.from || (!w.endsRun && brace + 4 * jwkReach > w.to)) {
      let to = brace;
      while (latin1(to) && (to - brace) / 2 < wideWindowChars) to += 2;
      const text = new Uint8Array((to - brace) / 2);
      for (let i = 0; i < text.length; i++) text[i] = Math.min(bytes[brace + 2 * i], 0x80);
      w = window.current = { from: brace, to, endsRun: !latin1(to), text };
    }
    const start = (brace - w.from) / 2;
    const object = readJsonObject(w.text, start, Math.min(w.text.length, start + 2 * jwkReach), style);
    if (!object || w.from + 2 * object.end <= at || !object.members.has('kty')) continue;
    if (brace < bodyLength) pushJwk(object.members, out);
    return w.from + 2 * object.end;
  }
  return undefined;
}

function pushJwk(members: ReadonlyMap<string, JsonValue>, out: PublicValue[]): void {
  const text = (name: string) => {
    const value = members.get(name);
    return typeof value === 'string' && /^[A-Za-z0-9_-]+={0,2}$/.test(value) ? new Uint8Array(Buffer.from(value, 'base64url')) : undefined;
  };
  const kty = members.get('kty');
  const crv = members.get('crv');
  if (kty === 'RSA') {
    const n = text('n'), e = text('e');
    if (!n || !e) return;
    pushRsaValues(minimalBigEndian(n), minimalBigEndian(e), false, out);
  } else if (kty === 'EC' && typeof crv === 'string') {
    const curve = curveByName(crv);
    const x = text('x'), y = text('y');
    if (!curve || !x || !y || x.length !== curve.scalarLengthInBytes || y.length !== curve.scalarLengthInBytes) return;
    out.push({ type: 'ec', curve: curve.name, point: '04' + bytesToHex(x) + bytesToHex(y), caRoot: false });
  } else if (kty === 'OKP' && (crv === 'Ed25519' || crv === 'X25519')) {
    const x = text('x');
    if (x?.length === 32) out.push({ type: 'okp', curve: crv, key: bytesToHex(x), caRoot: false });
  }
}

function searchAll(buf: Buffer, needle: Buffer, end: number): number[] {
  const hits: number[] = [];
  for (let at = buf.indexOf(needle, 0); at !== -1 && at < end; at = buf.indexOf(needle, at + 1)) hits.push(at);
  return hits;
}

/** The big-endian 32-bit length just before `at` is `length`. */
function lengthBefore(bytes: Uint8Array, at: number, length: number): boolean {
  return at >= 4 && bytes[at - 4] === 0 && bytes[at - 3] === 0 && bytes[at - 2] === (length >> 8) && bytes[at - 1] === (length & 0xff);
}

function limitOf(bytes: Uint8Array, at: number): number {
  return Math.min(bytes.length, at + publicStructureMarginInBytes);
}

/** BIT STRING { 00, RSAPublicKey SEQUENCE { n, e } } at `at`. */
function rsaFromBitString(bytes: Uint8Array, at: number, caRoot: boolean, out: PublicValue[]): boolean {
  const bits = readHeader(bytes, at, limitOf(bytes, at));
  if (!bits || bits.tag !== Tag.BitString || bytes[bits.contentStart] !== 0) return false;
  const key = readTree(bytes, bits.contentStart + 1, bits.end);
  if (!key || key.tag !== Tag.Sequence || key.end !== bits.end || key.children?.length !== 2) return false;
  return pushRsa(bytes, key.children[0], key.children[1], caRoot, out);
}

function pushRsa(bytes: Uint8Array, nNode: Node, eNode: Node, caRoot: boolean, out: PublicValue[]): boolean {
  if (nNode.tag !== Tag.Integer || eNode.tag !== Tag.Integer) return false;
  // A negative INTEGER is no modulus.
  if (bytes[nNode.contentStart] & 0x80) return false;
  return pushRsaValues(minimalBigEndian(bytes.subarray(nNode.contentStart, nNode.end)), minimalBigEndian(bytes.subarray(eNode.contentStart, eNode.end)), caRoot, out);
}

/** n and e (big-endian, no leading zeros) when they can be an RSA key: 512 to 16384 bits, odd; e small and odd. */
function pushRsaValues(n: Uint8Array, e: Uint8Array, caRoot: boolean, out: PublicValue[]): boolean {
  if (n.length < 64 || n.length > 2048 || !(n[n.length - 1] & 1)) return false;
  if (e.length > 8 || !(e[e.length - 1] & 1)) return false;
  out.push({ type: 'rsa', n: bytesToHex(n), e: bytesToHex(e), caRoot });
  return true;
}

/** AlgorithmIdentifier's OIDs at `at` (id-ecPublicKey, curve), then the BIT STRING of the point. */
function ecFromSpki(bytes: Uint8Array, at: number, caRoot: boolean, out: PublicValue[]): boolean {
  const curveAt = at + EC_SPKI.length - 1;
  const curveNode = readHeader(bytes, curveAt, limitOf(bytes, at));
  if (!curveNode || curveNode.tag !== Tag.Oid) return false;
  const curve = curveByOid(oid(bytes, { ...curveNode, start: curveAt }));
  if (!curve) return false;
  const bits = readHeader(bytes, curveNode.end, limitOf(bytes, at));
  if (!bits || bits.tag !== Tag.BitString || bytes[bits.contentStart] !== 0) return false;
  const point = bytes.subarray(bits.contentStart + 1, bits.end);
  if (point[0] !== 4 || point.length !== 1 + 2 * curve.scalarLengthInBytes) return false;
  out.push({ type: 'ec', curve: curve.name, point: bytesToHex(point), caRoot });
  return true;
}

function okpFromSpki(bytes: Uint8Array, at: number, caRoot: boolean, out: PublicValue[]): boolean {
  const kind = bytes[at + OKP_SPKI.length];
  const curve = kind === 0x70 ? 'Ed25519' : kind === 0x6e ? 'X25519' : undefined;
  if (!curve || bytes[at + 9] !== 0x03 || bytes[at + 10] !== 0x21 || bytes[at + 11] !== 0x00) return false;
  const key = bytes.subarray(at + 12, at + 44);
  if (key.length !== 32) return false;
  out.push({ type: 'okp', curve, key: bytesToHex(key), caRoot });
  return true;
}

/**
 * A v3 TBSCertificate from its version field on: serial, signature, issuer, validity, subject,
 * subjectPublicKeyInfo, extensions. Reported only when it is a self-signed CA certificate
 * (issuer = subject, basicConstraints cA TRUE): its key is marked a CA root. The same key is
 * collected as a plain SPKI anyway.
 */
function fromCertificate(bytes: Uint8Array, at: number, out: PublicValue[]): void {
  const limit = limitOf(bytes, at);
  const nodes: Array<{ tag: number; contentStart: number; end: number; start: number }> = [];
  let p = at + 5; // past [0] { INTEGER 2 }
  for (let i = 0; i < 6; i++) {
    const h = readHeader(bytes, p, limit);
    if (!h) return;
    nodes.push({ ...h, start: p });
    p = h.end;
  }
  const [serial, signature, issuer, validity, subject, spki] = nodes;
  if (serial.tag !== Tag.Integer || signature.tag !== Tag.Sequence || issuer.tag !== Tag.Sequence || validity.tag !== Tag.Sequence || subject.tag !== Tag.Sequence || spki.tag !== Tag.Sequence) return;
  const issuerBytes = Buffer.from(bytes.buffer, bytes.byteOffset + issuer.start, issuer.end - issuer.start);
  const subjectBytes = Buffer.from(bytes.buffer, bytes.byteOffset + subject.start, subject.end - subject.start);
  if (!issuerBytes.equals(subjectBytes)) return;
  const extensions = readHeader(bytes, spki.end, limit);
  if (!extensions || extensions.tag !== 0xa3) return;
  const region = Buffer.from(bytes.buffer, bytes.byteOffset + extensions.contentStart, extensions.end - extensions.contentStart);
  const isCa = BASIC_CONSTRAINTS_CA.some((needle) => {
    const k = region.indexOf(needle);
    // OID basicConstraints, optional critical BOOLEAN, OCTET STRING { SEQUENCE { BOOLEAN TRUE ... } }
    return k !== -1 && region.subarray(k, k + 16).includes(Buffer.from('0101ff', 'hex'));
  });
  if (!isCa) return;
  const algorithm = readHeader(bytes, spki.contentStart, spki.end);
  if (!algorithm) return;
  const algorithmId = Buffer.from(bytes.buffer, bytes.byteOffset + spki.contentStart, algorithm.end - spki.contentStart);
  if (algorithmId.equals(RSA_SPKI.subarray(0, algorithmId.length)) && algorithmId.length === RSA_SPKI.length) {
    rsaFromBitString(bytes, algorithm.end, true, out);
  } else if (bytes[algorithm.contentStart] === 0x06 && Buffer.from(bytes.buffer, bytes.byteOffset + algorithm.contentStart, EC_SPKI.length).equals(EC_SPKI)) {
    ecFromSpki(bytes, algorithm.contentStart, true, out);
  }
}

/**
 * SEC1 ECPrivateKey (version 1, then the OCTET STRING d at `at`): the public half of a DER
 * private key. The point is taken from [1] when present, else computed as d·G on the curve [0]
 * names, else (inside PKCS#8, the curve is outside) on every curve of d's size: a wrong curve's
 * point occurs nowhere and costs nothing more.
 */
function ecFromPrivateKey(bytes: Uint8Array, at: number, out: PublicValue[]): void {
  const limit = limitOf(bytes, at);
  const d = readHeader(bytes, at, limit);
  if (!d || d.tag !== Tag.OctetString) return;
  const scalar = bytes.subarray(d.contentStart, d.end);
  let curves = RAW_EC_CURVES.filter((c) => c.scalarLengthInBytes === scalar.length);
  if (curves.length === 0) return;
  let p = d.end;
  const params = readHeader(bytes, p, limit);
  if (params?.tag === 0xa0) {
    const named = readHeader(bytes, params.contentStart, params.end);
    const curve = named?.tag === Tag.Oid ? curveByOid(oid(bytes, { ...named, start: params.contentStart })) : undefined;
    curves = curve ? curves.filter((c) => c === curve) : [];
    p = params.end;
  }
  const publicKey = readHeader(bytes, p, limit);
  if (publicKey?.tag === 0xa1) {
    const bits = readHeader(bytes, publicKey.contentStart, publicKey.end);
    const point = bits?.tag === Tag.BitString && bytes[bits.contentStart] === 0 ? bytes.subarray(bits.contentStart + 1, bits.end) : undefined;
    for (const curve of curves) {
      if (point && point[0] === 4 && point.length === 1 + 2 * curve.scalarLengthInBytes) out.push({ type: 'ec', curve: curve.name, point: bytesToHex(point), caRoot: false });
    }
    return;
  }
  for (const curve of curves) {
    const ecdh = createECDH(curve.ecdhName);
    try {
      ecdh.setPrivateKey(Buffer.from(scalar));
    } catch {
      continue;
    }
    out.push({ type: 'ec', curve: curve.name, point: ecdh.getPublicKey().toString('hex'), caRoot: false, ...(curves.length > 1 ? { derived: true } : {}) });
  }
}

/** The curves the raw search looks for scalars of. */
const RAW_EC_CURVES = CURVES.filter((c) => ['P-256', 'P-384', 'P-521', 'secp256k1'].includes(c.name));

/** RSAPrivateKey: version 0, then INTEGER n at `at`, INTEGER e. */
function rsaFromPrivateKey(bytes: Uint8Array, at: number, out: PublicValue[]): void {
  const limit = limitOf(bytes, at);
  const nHeader = readHeader(bytes, at, limit);
  if (!nHeader || nHeader.tag !== Tag.Integer) return;
  const eHeader = readHeader(bytes, nHeader.end, limit);
  if (!eHeader || eHeader.tag !== Tag.Integer) return;
  pushRsa(bytes, { ...nHeader, start: at }, { ...eHeader, start: nHeader.end }, false, out);
}

function sshString(bytes: Uint8Array, at: number, maximum: number): Uint8Array | undefined {
  if (at + 4 > bytes.length) return undefined;
  const length = ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
  if (length === 0 || length > maximum || at + 4 + length > bytes.length) return undefined;
  return bytes.subarray(at + 4, at + 4 + length);
}

function sshRsa(bytes: Uint8Array, at: number, out: PublicValue[]): void {
  const e = sshString(bytes, at, 8);
  if (!e) return;
  const n = sshString(bytes, at + 4 + e.length, 2049);
  if (!n || n[0] & 0x80) return;
  const nn = minimalBigEndian(n);
  const ee = minimalBigEndian(e);
  if (nn.length < 64 || !(nn[nn.length - 1] & 1) || !(ee[ee.length - 1] & 1)) return;
  out.push({ type: 'rsa', n: bytesToHex(nn), e: bytesToHex(ee), caRoot: false });
}

function sshEcdsa(bytes: Uint8Array, at: number, out: PublicValue[]): void {
  const type = sshString(bytes, at, 32);
  if (!type) return;
  const curveName = sshString(bytes, at + 4 + type.length, 16);
  if (!curveName) return;
  const curve = { nistp256: 'P-256', nistp384: 'P-384', nistp521: 'P-521' }[Buffer.from(curveName).toString('latin1')];
  const known = CURVES.find((c) => c.name === curve);
  if (!known) return;
  const point = sshString(bytes, at + 8 + type.length + curveName.length, 1 + 2 * known.scalarLengthInBytes);
  if (!point || point[0] !== 4 || point.length !== 1 + 2 * known.scalarLengthInBytes) return;
  try {
    ECDH.convertKey(Buffer.from(point), known.ecdhName); // on the curve
  } catch {
    return;
  }
  out.push({ type: 'ec', curve: known.name, point: bytesToHex(point), caRoot: false });
}
