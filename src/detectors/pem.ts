// PEM armored private keys (RFC 7468; OpenPGP armor RFC 4880 §6.2; OpenSSH PROTOCOL.key) and
// PuTTY .ppk files, in ASCII, escaped (`\n`) and UTF-16LE text. Each armor is decoded and parsed:
// a key that parses and whose parts agree is `high`; encrypted, truncated or unparseable is
// `medium`; certificates, public keys and bare labels without a body are never findings.
import { createPrivateKey } from 'node:crypto';
import type { Detector, Encoding, KeyKind, Match } from '../types.js';
import { readPgpSecretKeyPacket } from '../keys/pgp.js';
import { parsePuttyLines } from '../keys/putty.js';
import { judgeKey, judgeOpenssh, type Verdict } from '../keys/verdict.js';
import { redactedEvidence } from '../report/redact.js';
import { armorBodyAhead, BEGIN_MARKER, readArmor, readTextLines, type Armor } from './pem-armor.js';
import { anchorHits, hitsBelow } from './anchors.js';
import { asBuffer, narrowUtf16le } from './text-views.js';

/** The longest armor read, in characters: a 16384-bit RSA key is about 12.6 K base64 characters. */
export const maximumArmorLengthInChars = 32 * 1024;
/** Below this many body characters an armor is a placeholder (`...`, `<key here>`), not a key. */
const minimumBodyChars = 64;
const maximumPuttyLines = 400;
const PUTTY_MARKER = 'PuTTY-User-Key-File-';


const needles = {
  ascii: Buffer.from(BEGIN_MARKER, 'latin1'),
  utf16: Buffer.from(BEGIN_MARKER, 'utf16le'),
  puttyAscii: Buffer.from(PUTTY_MARKER, 'latin1'),
  puttyUtf16: Buffer.from(PUTTY_MARKER, 'utf16le'),
};

export const pemDetector: Detector = {
  id: 'pem',
  maxMatchLengthInBytes: 2 * maximumArmorLengthInChars,
  anchors: Object.values(needles),
  *scan(bytes, bodyLength, shared) {
    const buffer = asBuffer(bytes);
    const hits = anchorHits(buffer, Object.values(needles), shared);
    for (const start of hitsBelow(hits, needles.ascii, bodyLength)) {
      const limit = Math.min(buffer.length, start + maximumArmorLengthInChars);
      if (!armorBodyAhead(buffer, start, limit, 1, minimumBodyChars)) continue;
      const match = armorMatch(buffer.subarray(start, limit), 'ascii');
      if (match) yield { ...match, start };
    }
    for (const start of hitsBelow(hits, needles.utf16, bodyLength)) {
      if (!armorBodyAhead(buffer, start, Math.min(buffer.length, start + 2 * maximumArmorLengthInChars), 2, minimumBodyChars)) continue;
      const match = armorMatch(narrowUtf16le(buffer, start, 2 * maximumArmorLengthInChars), 'utf16le');
      if (match) yield { ...match, start, length: match.length * 2 };
    }
    for (const start of hitsBelow(hits, needles.puttyAscii, bodyLength)) {
      const limit = Math.min(buffer.length, start + maximumArmorLengthInChars);
      const match = puttyMatch(buffer.subarray(start, limit), 'ascii');
      if (match) yield { ...match, start };
    }
    for (const start of hitsBelow(hits, needles.puttyUtf16, bodyLength)) {
      const match = puttyMatch(narrowUtf16le(buffer, start, 2 * maximumArmorLengthInChars), 'utf16le');
      if (match) yield { ...match, start, length: match.length * 2 };
    }
  },
};

/** A match at 0 of `text` (narrow ASCII), with length in characters. */
function armorMatch(text: Buffer, encoding: Encoding): Omit<Match, 'start'> | undefined {
  const armor = readArmor(text, text.length);
  if (!armor || armor.base64.length < minimumBodyChars || isPlaceholder(armor.base64)) return undefined;
  const verdict = judgeArmor(armor);
  return {
    length: armor.end,
    detector: 'pem',
    encoding: encoding === 'ascii' && armor.escaped ? 'json-escaped' : encoding,
    evidence: redactedEvidence(`-----BEGIN ${armor.label}-----`, armor.base64),
    ...verdict,
  };
}

/**
 * A body of one repeated character (`AAAA…`, `xxxx…`: a scrubbed copy, a template) holds no key;
 * real base64 of 48+ bytes always uses many distinct characters.
 */
function isPlaceholder(base64: string): boolean {
  return new Set(base64.replace(/=+$/, '')).size < 8;
}

const KIND_BY_LABEL: Record<string, KeyKind> = {
  'PRIVATE KEY': 'private-key',
  'RSA PRIVATE KEY': 'rsa-private-key',
  'EC PRIVATE KEY': 'ec-private-key',
  'DSA PRIVATE KEY': 'dsa-private-key',
  'ENCRYPTED PRIVATE KEY': 'encrypted-private-key',
  'OPENSSH PRIVATE KEY': 'openssh-private-key',
  'PGP PRIVATE KEY BLOCK': 'pgp-private-key',
};

function judgeArmor(armor: Armor): Verdict {
  const der = Buffer.from(armor.base64, 'base64');
  const labelKind = armor.label === 'PRIVATE KEY' ? kindFromPkcs8Prefix(der) : KIND_BY_LABEL[armor.label];
  if (armor.label === 'ENCRYPTED PRIVATE KEY' || armor.headers.some((h) => /^Proc-Type:.*ENCRYPTED/i.test(h))) {
    return { kind: 'encrypted-private-key', severity: 'medium', confidence: armor.complete ? 0.9 : 0.6, note: 'passphrase-encrypted' };
  }
  if (!armor.complete) {
    return { kind: labelKind, severity: 'medium', confidence: 0.6, note: 'truncated: no END line' };
  }
  try {
    switch (armor.label) {
      case 'OPENSSH PRIVATE KEY': {
        const { length: _containerLength, ...verdict } = judgeOpenssh(der);
        return verdict;
      }
      case 'PGP PRIVATE KEY BLOCK': {
        // The armor holds binary packets: the first is the secret key, validated as the binary detector does.
        const packet = readPgpSecretKeyPacket(der, 0, der.length);
        if (!packet) throw new Error('not a secret-key packet');
        const validated = packet.severity === 'high';
        return {
          kind: validated ? packet.kind : 'pgp-private-key',
          severity: packet.severity,
          confidence: packet.confidence,
          ...(packet.fingerprint ? { fingerprint: packet.fingerprint } : {}),
          note: packet.note ?? (packet.protected ? 'passphrase-protected OpenPGP secret key' : 'unprotected OpenPGP secret key'),
        };
      }
      default: {
        const key = createPrivateKey({ key: canonicalPem(armor.label, armor.base64), format: 'pem' });
        return judgeKey({ key });
      }
    }
  } catch {
    return { kind: labelKind, severity: 'medium', confidence: 0.5, note: 'armored body does not parse as a key' };
  }
}

function canonicalPem(label: string, base64: string): string {
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The algorithm OID near the start of a (possibly truncated) PKCS#8 body tells the key's kind. */
function kindFromPkcs8Prefix(der: Buffer): KeyKind {
  const head = der.subarray(0, 40);
  const has = (hex: string) => head.includes(Buffer.from(hex, 'hex'));
  if (has('2a864886f70d010101') || has('2a864886f70d01010a')) return 'rsa-private-key';
  if (has('2a8648ce3d0201')) return 'ec-private-key';
  if (has('06032b6570')) return 'ed25519-private-key';
  if (has('06032b6571')) return 'ed448-private-key';
  if (has('06032b656e')) return 'x25519-private-key';
  if (has('06032b656f')) return 'x448-private-key';
  if (has('2a8648ce380401')) return 'dsa-private-key';
  return 'private-key';
}

const KIND_BY_SSH_ALGORITHM: Record<string, KeyKind> = {
  'ssh-rsa': 'rsa-private-key',
  'ssh-ed25519': 'ed25519-private-key',
  'ssh-dss': 'dsa-private-key',
};

function puttyMatch(text: Buffer, encoding: Encoding): Omit<Match, 'start'> | undefined {
  const { lines, starts, ends, escaped } = readTextLines(text, text.length, maximumPuttyLines);
  const header = /^PuTTY-User-Key-File-([23]): *(\S+)$/.exec(lines[0] ?? '');
  if (!header) return undefined;
  const algorithm = header[2];
  const last = lines.findIndex((line) => /^Private-(MAC|Hash):/.test(line));
  const complete = last > 0;
  const used = complete ? lines.slice(0, last + 1) : lines;
  // The MAC is hex: the key ends at its last digit even when no line end follows.
  const mac = complete ? /^Private-(?:MAC|Hash): *[0-9a-fA-F]+/.exec(lines[last]) : null;
  const end = mac ? starts[last] + mac[0].length : ends[used.length - 1];
  const body = used.filter((line) => /^[A-Za-z0-9+/=]+$/.test(line)).join('');
  if (body.length < minimumBodyChars || isPlaceholder(body)) return undefined;
  const algorithmKind = KIND_BY_SSH_ALGORITHM[algorithm] ?? (algorithm.startsWith('ecdsa-') ? 'ec-private-key' : 'putty-private-key');
  let verdict: Verdict;
  if (!complete) {
    verdict = { kind: algorithmKind, severity: 'medium', confidence: 0.6, note: 'truncated PuTTY key file' };
  } else {
    try {
      const contents = parsePuttyLines(used);
      verdict = contents.encrypted
        ? { kind: 'encrypted-private-key', severity: 'medium', confidence: 0.9, note: `PuTTY key encrypted with ${contents.encryption}` }
        : judgeKey(contents.key);
    } catch {
      verdict = { kind: algorithmKind, severity: 'medium', confidence: 0.5, note: 'PuTTY key file does not parse' };
    }
  }
  return {
    length: end,
    detector: 'pem',
    encoding: encoding === 'ascii' && escaped ? 'json-escaped' : encoding,
    evidence: redactedEvidence(`PuTTY-User-Key-File-${header[1]}: ${algorithm}`, body),
    ...verdict,
  };
}
