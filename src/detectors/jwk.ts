// JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037) with private members, alone or in a JWKS,
// as plain JSON, as JSON held in a JSON string (`\"kty\"`) and in UTF-16LE. Anchored on the
// `"kty"` member name; the finding spans the JSON object around it. Private members are checked
// against the public ones: consistent → high; present but inconsistent or unparseable → medium.
// Public-only JWKs are never findings.
import { createHash } from 'node:crypto';
import type { Detector, Encoding, KeyKind, Match, Severity } from '../types.js';
import { checkEcScalar, curveByName } from '../keys/ec.js';
import { fingerprintOfSpki } from '../keys/fingerprint.js';
import { derBitString, derOid, derSequence } from '../keys/der-encode.js';
import { base64UrlToBigInt, modPow } from '../keys/integers.js';
import { okpPublicKey, type OkpCurve } from '../keys/okp.js';
import { rsaIsConsistent, rsaSpkiFingerprint } from '../keys/rsa.js';
import { readJsonObject, type JsonValue, type QuoteStyle } from './json-object.js';
import { anchorHits, bytesAt } from './anchors.js';
import { asBuffer, indexesOf, narrowUtf16Window } from './text-views.js';

/** The longest JWK read, in characters: a 16384-bit RSA JWK with all CRT members is about 12.5 K. */
const maximumJwkChars = 16 * 1024;
const minimumSymmetricKeyBytes = 16;
const maximumUncheckedRsaBits = 2048;

/**
 * The member name `kty` is searched once per encoding; each quoting of it (`"kty"`, `\\"kty\\"`)
 * is then checked around the hit, so four spellings cost two passes of the shared search.
 */
const ktyNeedles = { ascii: Buffer.from('kty', 'latin1'), utf16le: Buffer.from('kty', 'utf16le') };

const anchors: Array<{ needle: Buffer; style: QuoteStyle; encoding: 'ascii' | 'utf16le'; ktyAt: number }> = [
  { needle: Buffer.from('"kty"', 'latin1'), style: 'plain', encoding: 'ascii', ktyAt: 1 },
  { needle: Buffer.from('\\"kty\\"', 'latin1'), style: 'escaped', encoding: 'ascii', ktyAt: 2 },
  { needle: Buffer.from('"kty"', 'utf16le'), style: 'plain', encoding: 'utf16le', ktyAt: 2 },
  { needle: Buffer.from('\\"kty\\"', 'utf16le'), style: 'escaped', encoding: 'utf16le', ktyAt: 4 },
];

const OKP_OIDS: Record<OkpCurve, { oid: string; kind: KeyKind }> = {
  Ed25519: { oid: '1.3.101.112', kind: 'ed25519-private-key' },
  Ed448: { oid: '1.3.101.113', kind: 'ed448-private-key' },
  X25519: { oid: '1.3.101.110', kind: 'x25519-private-key' },
  X448: { oid: '1.3.101.111', kind: 'x448-private-key' },
};

interface Verdict {
  kind: KeyKind;
  severity: Severity;
  fingerprint?: string;
  note?: string;
}

const anchorNeedles = Object.values(ktyNeedles);

export const jwkDetector: Detector = {
  id: 'jwk',
  maxMatchLengthInBytes: 2 * maximumJwkChars,
  anchors: anchorNeedles,
  *scan(bytes, bodyLength, shared) {
    const buffer = asBuffer(bytes);
    const hits = anchorHits(buffer, anchorNeedles, shared);
    const reported = new Set<number>();
    const objects = new ObjectStarts(buffer);
    for (const anchor of anchors) {
      // Anchors are searched in the margin too: an object starting in the body may name its
      // `kty` after the body ends. Only objects that START in the body are reported.
      const starts = hits.get(ktyNeedles[anchor.encoding]) ?? [];
      // The byte before the name and the anchor's first byte (a quote, or the backslash of the
      // escaped form) settle most hits without a call: a flood of a million "kty" goes by at
      // loop speed, and each hit is compared in full for one spelling, not for both.
      const quoteAt = anchor.ktyAt - 1 - (anchor.encoding === 'utf16le' ? 1 : 0);
      const first = anchor.needle[0];
      for (let k = 0; k < starts.length; k++) {
        const kty = starts[k];
        const at = kty - anchor.ktyAt;
        if (at < 0 || buffer[at + quoteAt] !== 0x22 || buffer[at] !== first || !bytesAt(buffer, anchor.needle, at)) continue;
        const match = objects.objectAround(at, anchor.style, anchor.encoding);
        if (!match || match.start >= bodyLength || reported.has(match.start)) continue;
        reported.add(match.start);
        yield { ...match, encoding: encodingOf(anchor.encoding, anchor.style) };
      }
    }
  },
};

function encodingOf(encoding: 'ascii' | 'utf16le', style: QuoteStyle): Encoding {
  if (encoding === 'utf16le') return 'utf16le';
  return style === 'escaped' ? 'json-escaped' : 'ascii';
}

const maximumCandidates = 8;
const OPEN_BRACE = { ascii: Buffer.from('{', 'latin1'), utf16le: Buffer.from('{', 'utf16le') };

/**
 * The objects of one chunk, found from their `kty` anchors. Brace positions are listed once per
 * chunk with a native search and each candidate start is parsed at most once, so a flood of
 * anchors (a million `"kty"`, with or without braces) costs a lookup each, not a walk back and a
 * parse each.
 */
class ObjectStarts {
  private readonly braces: Partial<Record<'ascii' | 'utf16le', number[]>> = {};
  private readonly parsed = new Map<string, JwkObject | null>();

  constructor(private readonly buffer: Buffer) {}

  objectAround(at: number, style: QuoteStyle, encoding: 'ascii' | 'utf16le'): Omit<Match, 'encoding'> | undefined {
    const unit = encoding === 'utf16le' ? 2 : 1;
    for (const start of this.candidates(at, encoding, unit)) {
      const object = this.parse(start, style, encoding);
      if (object && object.end > at) return object.match ?? undefined;
    }
    return undefined;
  }

  /** The nearest `{` before `at` (same code-unit alignment), nearest first, within reach. */
  private candidates(at: number, encoding: 'ascii' | 'utf16le', unit: number): number[] {
    const list = (this.braces[encoding] ??= [...indexesOf(this.buffer, OPEN_BRACE[encoding], this.buffer.length)]);
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid] < at) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let k = lo - 1; k >= 0 && out.length < maximumCandidates && at - list[k] <= unit * maximumJwkChars; k--) {
      if ((at - list[k]) % unit === 0) out.push(list[k]);
    }
    return out;
  }

  private parse(start: number, style: QuoteStyle, encoding: 'ascii' | 'utf16le'): JwkObject | null {
    const key = `${encoding}:${style}:${start}`;
    let object = this.parsed.get(key);
    if (object === undefined) {
      object = encoding === 'ascii' ? readJwkObject(this.buffer, 0, start, style, 1) : this.parseUtf16(start, style);
      this.parsed.set(key, object);
    }
    return object;
  }

  private parseUtf16(start: number, style: QuoteStyle): JwkObject | null {
    const { text, origin } = narrowUtf16Window(this.buffer, start, 0, maximumJwkChars);
    return readJwkObject(text, origin, 0, style, 2);
  }
}

/** An object read at `start` of `text` (positions map to bytes as origin + scale·i); `match` when it is a private JWK. */
interface JwkObject {
  /** Byte index just past the object. */
  end: number;
  match: Omit<Match, 'encoding'> | null;
}

function readJwkObject(text: Uint8Array, origin: number, start: number, style: QuoteStyle, scale: number): JwkObject | null {
  const object = readJsonObject(text, start, Math.min(text.length, start + maximumJwkChars), style);
  if (!object || !object.members.has('kty')) return null;
  const end = origin + scale * object.end;
  const verdict = judgeJwk(object.members);
  if (!verdict) return { end, match: null };
  const length = object.end - start;
  return {
    end,
    match: {
      start: origin + scale * start,
      length: scale * length,
      detector: 'jwk',
      kind: verdict.kind,
      severity: verdict.severity,
      confidence: verdict.severity === 'high' ? 0.99 : 0.6,
      evidence: evidenceOf(object.members, length),
      ...(verdict.fingerprint ? { fingerprint: verdict.fingerprint } : {}),
      ...(verdict.note ? { note: verdict.note } : {}),
    },
  };
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** Redacted: the public descriptors and which private members there are, with their sizes only. */
/** Descriptor values shown in evidence only when they are well-known names, never arbitrary text. */
const SHOWN_VALUE = /^(RSA|EC|OKP|oct|P-256|P-384|P-521|secp256k1|Ed25519|Ed448|X25519|X448|sig|enc|EdDSA|[RPE]S(256|384|512)|HS(256|384|512)|RSA-OAEP(-256)?|ECDH-ES(\+A(128|192|256)KW)?|A(128|192|256)(GCM)?(KW)?|dir)$/;

function evidenceOf(members: Map<string, JsonValue>, length: number): string {
  const shown = ['kty', 'crv', 'alg', 'use']
    .map((name) => [name, members.get(name)] as const)
    .filter(([, v]) => typeof v === 'string' && SHOWN_VALUE.test(v))
    .map(([name, v]) => `${name}:${JSON.stringify((v as string).slice(0, 24))}`);
  const secret = PRIVATE_MEMBERS.filter((name) => typeof members.get(name) === 'string').map((name) => `${name}(${(members.get(name) as string).length} chars)`);
  return `JWK {${shown.join(', ')}} private ${secret.join(' ')} (${length} chars)`;
}

const text = (members: Map<string, JsonValue>, name: string) => {
  const v = members.get(name);
  return typeof v === 'string' && v.length > 0 && /^[A-Za-z0-9_-]+={0,2}$/.test(v) ? v : undefined;
};

/** Private members that decode to nothing but zero bytes: a scrubbed or zeroed copy, not a key. */
function privateMembersAreZero(members: Map<string, JsonValue>): boolean {
  const values = PRIVATE_MEMBERS.map((name) => members.get(name)).filter((v): v is string => typeof v === 'string');
  return values.length > 0 && values.every((v) => Buffer.from(v, 'base64url').every((b) => b === 0));
}

function judgeJwk(members: Map<string, JsonValue>): Verdict | undefined {
  const kty = members.get('kty');
  if (privateMembersAreZero(members)) return undefined;
  try {
    if (kty === 'oct') return judgeSymmetric(members);
    if (kty === 'EC') return judgeEc(members);
    if (kty === 'OKP') return judgeOkp(members);
    if (kty === 'RSA') return judgeRsa(members);
  } catch {
    // node:crypto refused the values: a private member is there but it is not a usable key
  }
  return members.has('d') && typeof kty === 'string' ? { kind: 'jwk-private-key', severity: 'medium', note: 'private members do not form a valid key' } : undefined;
}

function judgeSymmetric(members: Map<string, JsonValue>): Verdict | undefined {
  const k = text(members, 'k');
  if (!k) return undefined;
  // RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order.
  const thumbprint = createHash('sha256').update(JSON.stringify({ k, kty: 'oct' })).digest('base64url');
  const bytes = Buffer.from(k, 'base64url').length;
  return bytes >= minimumSymmetricKeyBytes
    ? { kind: 'jwk-symmetric-key', severity: 'high', fingerprint: `JWK:${thumbprint}` }
    : { kind: 'jwk-symmetric-key', severity: 'medium', fingerprint: `JWK:${thumbprint}`, note: `short symmetric key (${bytes} bytes)` };
}

function judgeEc(members: Map<string, JsonValue>): Verdict | undefined {
  const d = text(members, 'd');
  if (!d) return undefined;
  const curve = curveByName(String(members.get('crv')));
  const x = text(members, 'x');
  const y = text(members, 'y');
  if (!curve) return { kind: 'ec-private-key', severity: 'medium', note: `unknown curve ${JSON.stringify(String(members.get('crv')).slice(0, 20))}` };
  const point = x && y ? Buffer.concat([Buffer.from([4]), Buffer.from(x, 'base64url'), Buffer.from(y, 'base64url')]) : undefined;
  const check = checkEcScalar(curve, Buffer.from(d, 'base64url'), point);
  if (!check) return { kind: 'ec-private-key', severity: 'medium', note: 'private scalar is not valid for the curve' };
  if (!point) return { kind: 'ec-private-key', severity: 'medium', fingerprint: check.fingerprint, note: 'no public coordinates to check the private scalar against' };
  return check.mismatch
    ? { kind: 'ec-private-key', severity: 'medium', fingerprint: check.fingerprint, note: 'public coordinates do not match the private scalar' }
    : { kind: 'ec-private-key', severity: 'high', fingerprint: check.fingerprint };
}

function judgeOkp(members: Map<string, JsonValue>): Verdict | undefined {
  const d = text(members, 'd');
  if (!d) return undefined;
  const crv = String(members.get('crv')) as OkpCurve;
  const known = OKP_OIDS[crv];
  if (!known) return { kind: 'jwk-private-key', severity: 'medium', note: 'unknown OKP curve' };
  const derived = okpPublicKey(crv, Buffer.from(d, 'base64url'));
  const fingerprint = fingerprintOfSpki(derSequence(derSequence(derOid(known.oid)), derBitString(derived)));
  const x = text(members, 'x');
  if (!x) return { kind: known.kind, severity: 'medium', fingerprint, note: 'no public key to check the private key against' };
  return Buffer.from(x, 'base64url').equals(derived)
    ? { kind: known.kind, severity: 'high', fingerprint }
    : { kind: known.kind, severity: 'medium', fingerprint, note: 'public key does not match the private key' };
}

function judgeRsa(members: Map<string, JsonValue>): Verdict | undefined {
  const [n, e, d] = ['n', 'e', 'd'].map((name) => text(members, name));
  if (!d) return undefined;
  if (!n || !e) return { kind: 'rsa-private-key', severity: 'medium', note: 'RSA private exponent without its modulus' };
  const N = base64UrlToBigInt(n);
  const E = base64UrlToBigInt(e);
  const D = base64UrlToBigInt(d);
  const bits = N.toString(2).length;
  if (bits < 512 || bits > 16384 || E < 3n) return { kind: 'rsa-private-key', severity: 'medium', note: 'RSA values out of range' };
  const fingerprint = rsaSpkiFingerprint(N, E);
  const [p, q] = ['p', 'q'].map((name) => text(members, name));
  let consistent: boolean;
  if (p && q) {
    const others = Array.isArray(members.get('oth')) ? (members.get('oth') as JsonValue[]) : [];
    const otherPrimes = others.map((o) => (o instanceof Map ? text(o, 'r') : undefined));
    if (otherPrimes.some((r) => !r)) return { kind: 'rsa-private-key', severity: 'medium', fingerprint, note: 'malformed "oth" member' };
    const malformed = ['dp', 'dq', 'qi'].filter((name) => members.has(name) && !text(members, name));
    if (malformed.length) return { kind: 'rsa-private-key', severity: 'medium', fingerprint, note: `malformed ${malformed.join(', ')}` };
    const opt = (name: string) => (text(members, name) ? base64UrlToBigInt(text(members, name)!) : undefined);
    consistent = rsaIsConsistent({
      n: N, e: E, d: D,
      primes: [base64UrlToBigInt(p), base64UrlToBigInt(q), ...otherPrimes.map((r) => base64UrlToBigInt(r!))],
      dp: opt('dp'), dq: opt('dq'), qi: opt('qi'),
    });
  } else {
    // Only n, e, d: check that d undoes e on a test value. That costs a full-size modular
    // exponentiation in bigint (about 30 ms at 2048 bits, growing with the cube), so larger
    // keys without their primes are reported unverified rather than stall the scan.
    if (bits > maximumUncheckedRsaBits || E >= 1n << 32n) {
      return { kind: 'rsa-private-key', severity: 'medium', fingerprint, note: 'RSA private exponent without primes: not verified' };
    }
    consistent = D < N && modPow(modPow(2n, E, N), D, N) === 2n;
  }
  return consistent
    ? { kind: 'rsa-private-key', severity: 'high', fingerprint }
    : { kind: 'rsa-private-key', severity: 'medium', fingerprint, note: 'RSA parameters are inconsistent' };
}
