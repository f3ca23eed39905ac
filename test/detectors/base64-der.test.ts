// Armorless base64 and base64url of DER private keys: every key structure × form × offset,
// chunk invariance, the PEM body overlap resolved by the merge, look-alikes that are not keys,
// and mutated inputs. Keys come from node:crypto; fingerprints from test/helpers/keys.ts.
import { execFileSync } from 'node:child_process';
import { createPublicKey, createSign, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { base64DerDetector } from '../../src/detectors/base64-der.js';
import { pemDetector } from '../../src/detectors/pem.js';
import { mergeFileFindings } from '../../src/merge.js';
import type { Finding, Match } from '../../src/types.js';
import { outermost, scanChunked } from '../helpers/chunked.js';
import { fingerprintOf, pkcs8Pem, pseudoRandomBytes, testKeys } from '../helpers/keys.js';

const keys = testKeys();
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dumpguard-base64-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function scanAll(bytes: Uint8Array): Match[] {
  return [...base64DerDetector.scan(bytes, bytes.length)];
}

interface KeyCase {
  name: string;
  der: Buffer;
  kind: Match['kind'];
  fingerprint: string;
}

const der = (key: KeyObject, type: 'pkcs8' | 'pkcs1' | 'sec1') => key.export({ type, format: 'der' } as never) as Buffer;
const keyCases: KeyCase[] = [
  { name: 'PKCS#8 RSA 2048', der: der(keys.rsa.privateKey, 'pkcs8'), kind: 'rsa-private-key', fingerprint: keys.rsa.fingerprint },
  { name: 'PKCS#8 EC P-256', der: der(keys.ec.privateKey, 'pkcs8'), kind: 'ec-private-key', fingerprint: keys.ec.fingerprint },
  { name: 'PKCS#8 EC P-384', der: der(p384, 'pkcs8'), kind: 'ec-private-key', fingerprint: fingerprintOf(p384) },
  { name: 'PKCS#8 Ed25519', der: der(keys.ed25519.privateKey, 'pkcs8'), kind: 'ed25519-private-key', fingerprint: keys.ed25519.fingerprint },
  { name: 'PKCS#8 X25519', der: der(keys.x25519.privateKey, 'pkcs8'), kind: 'x25519-private-key', fingerprint: keys.x25519.fingerprint },
  { name: 'PKCS#1 RSA 2048', der: der(keys.rsa.privateKey, 'pkcs1'), kind: 'rsa-private-key', fingerprint: keys.rsa.fingerprint },
  { name: 'SEC1 EC P-256', der: der(keys.ec.privateKey, 'sec1'), kind: 'ec-private-key', fingerprint: keys.ec.fingerprint },
];

test('the key set covers every anchor and every padding', () => {
  const heads = keyCases.map((k) => k.der.toString('base64').slice(0, 3));
  expect(new Set(heads)).toEqual(new Set(['MII', 'MIG', 'MC4', 'MHc']));
  // P-384 PKCS#8 (185 bytes) ends in one '=', SEC1 P-256 (121 bytes) in two.
  expect(keyCases.map((k) => k.der.toString('base64').length - k.der.toString('base64').replace(/=+$/, '').length)).toEqual(
    expect.arrayContaining([0, 1, 2]),
  );
});

function wrap(text: string, width: number, newline: string): string {
  return text.match(new RegExp(`.{1,${width}}`, 'g'))!.join(newline);
}

interface Form {
  name: string;
  encoding: Match['encoding'];
  /** Text around the base64: `prefix` + body + `suffix`; the finding spans `body` exactly. */
  prefix: string;
  body: (base64: string) => string;
  suffix: string;
}

const forms: Form[] = [
  { name: 'one line in KEY="…"', encoding: 'base64', prefix: 'KEY="', body: (t) => t, suffix: '"' },
  { name: 'wrapped at 64 with LF', encoding: 'base64', prefix: 'key:\n', body: (t) => wrap(t, 64, '\n'), suffix: '\n' },
  { name: 'wrapped at 64 with CRLF', encoding: 'base64', prefix: 'key:\r\n', body: (t) => wrap(t, 64, '\r\n'), suffix: '\r\n' },
  { name: 'UTF-16LE one line in KEY="…"', encoding: 'utf16le', prefix: 'KEY="', body: (t) => t, suffix: '"' },
];
/** JSON-escaped line ends: separate, because of the length bug described at its test below. */
const escapedForm: Form = { name: 'wrapped at 64 with escaped \\n (JSON)', encoding: 'base64', prefix: '{"key":"', body: (t) => wrap(t, 64, '\\n'), suffix: '\\n"}' };

const alphabets = ['base64', 'base64url'] as const;

function encode(text: string, encoding: Match['encoding']): Buffer {
  return Buffer.from(text, encoding === 'utf16le' ? 'utf16le' : 'latin1');
}

/** The body's first byte at `at` (the prefix only when it fits), NUL guards at both ends, pseudo-random filler around. */
function planted(form: Form, base64: string, at: number, total?: number): { bytes: Buffer; length: number } {
  const prefix = encode(form.prefix, form.encoding);
  const body = encode(form.body(base64), form.encoding);
  const suffix = encode(form.suffix, form.encoding);
  const size = Math.max(total ?? 0, at + body.length + suffix.length + 2 + 257);
  const bytes = pseudoRandomBytes(size, 0xba5e + at);
  const usePrefix = at >= prefix.length + 1;
  if (usePrefix) {
    bytes[at - prefix.length - 1] = 0;
    prefix.copy(bytes, at - prefix.length);
  } else if (at > 0) bytes[at - 1] = 0;
  body.copy(bytes, at);
  suffix.copy(bytes, at + body.length);
  bytes.fill(0, at + body.length + suffix.length, at + body.length + suffix.length + 2);
  return { bytes, length: body.length };
}

const essentials = (m: Match) => ({ start: m.start, length: m.length, kind: m.kind, severity: m.severity, fingerprint: m.fingerprint, detector: m.detector, encoding: m.encoding });

describe('every key structure in every form', () => {
  for (const form of forms) {
    for (const alphabet of alphabets) {
      for (const at of [0, 65]) {
        test(`${form.name}, ${alphabet}, at offset ${at}`, () => {
          for (const k of keyCases) {
            const base64 = k.der.toString(alphabet);
            const { bytes, length } = planted(form, base64, at);
            const matches = scanAll(bytes);
            expect(matches.map(essentials), k.name).toEqual([{ start: at, length, kind: k.kind, severity: 'high', fingerprint: k.fingerprint, detector: 'base64', encoding: form.encoding }]);
            expect(matches[0].confidence, k.name).toBeGreaterThan(0.9);
            // Redacted: no more than the SEQUENCE header's four characters of the key.
            expect(matches[0].evidence).not.toContain(base64.slice(4, 12));
          }
        });
      }
      test(`${form.name}, ${alphabet}, across a chunk boundary: chunked scan equals whole scan`, () => {
        for (const k of keyCases) {
          const at = 4096 - 30;
          const { bytes, length } = planted(form, k.der.toString(alphabet), at, 128 * 1024);
          const whole = scanAll(bytes).map((m) => ({ ...essentials(m), offset: m.start }));
          expect(whole, k.name).toEqual([{ start: at, offset: at, length, kind: k.kind, severity: 'high', fingerprint: k.fingerprint, detector: 'base64', encoding: form.encoding }]);
          // A key inside the one found (SEC1 in PKCS#8) may be found alone in the chunk after a
          // boundary that cuts its wrapper; the file's merge folds it, as it does here.
          const chunked = outermost(scanChunked(base64DerDetector, bytes, 4096)).map((m) => ({ ...essentials(m), start: m.offset, offset: m.offset }));
          expect(chunked, k.name).toEqual(whole);
        }
      });
    }
  }

  test('UTF-16LE at an even offset, in JSON-escaped and wrapped text', () => {
    for (const k of keyCases) {
      for (const form of [{ ...forms[1], encoding: 'utf16le' as const }, { ...forms[2], encoding: 'utf16le' as const }]) {
        const { bytes, length } = planted(form, k.der.toString('base64'), 66);
        expect(scanAll(bytes).map(essentials), `${k.name} ${form.name}`).toEqual([{ start: 66, length, kind: k.kind, severity: 'high', fingerprint: k.fingerprint, detector: 'base64', encoding: 'utf16le' }]);
      }
    }
  });

  for (const at of [0, 65, 4096 - 30]) {
    test(`${escapedForm.name} at offset ${at}: found with its kind, severity and fingerprint`, () => {
      for (const alphabet of alphabets) {
        for (const k of keyCases) {
          const { bytes } = planted(escapedForm, k.der.toString(alphabet), at, at > 65 ? 128 * 1024 : undefined);
          const matches = scanAll(bytes);
          // Everything but the length (see the known bug below).
          expect(matches.map((m) => ({ ...essentials(m), length: 0 })), `${k.name} ${alphabet}`).toEqual([
            { start: at, length: 0, kind: k.kind, severity: 'high', fingerprint: k.fingerprint, detector: 'base64', encoding: 'base64' },
          ]);
          if (at > 65) expect(outermost(scanChunked(base64DerDetector, bytes, 4096)).map((m) => [m.offset, m.length, m.fingerprint])).toEqual(matches.map((m) => [m.start, m.length, m.fingerprint]));
        }
      }
    });
  }

  // BUG (src/detectors/base64-run.ts, endOfEncodedBytes): it counts every base64 character
  // between start and end, and the 'n' of an escaped `\n` is one, so a run wrapped with escaped
  // line ends is reported one character short for every escape it contains (a 2048-bit RSA
  // PKCS#8 wrapped at 64: 1646 instead of 1674). decodeBase64Run skips `\n`/`\r` escapes; the
  // end computation must skip them the same way.
  // test.fails: passes while the bug is there; remove `.fails` once it is fixed.
  test(`${escapedForm.name}: the length runs through the last base64 character (KNOWN BUG)`, () => {
    const wrappedKeys = keyCases.filter((k) => k.der.toString('base64').length > 64);
    const { bytes, length } = planted(escapedForm, wrappedKeys[0].der.toString('base64'), 65);
    expect(scanAll(bytes).map((m) => m.length)).toEqual([length]);
  });
});

// BUG (src/detectors/base64-der.ts line 29, keyAt; the same in openssh.ts base64Match): a run is
// rejected when the character before it is a base64 character, and the 'n' of an escaped `\n`
// (or the 'r' of `\r`) is one, so a key that starts right after an escaped line end in JSON
// (`"key":"\nMIGHAgEA…"`) is never found. Fix: treat a preceding `\n`/`\r` escape
// (text[start - 2] === 0x5c) as a boundary, as decodeBase64Run already does inside the run.
test('a key right after an escaped \\n is found (KNOWN BUG)', () => {
  const base64 = keyCases[1].der.toString('base64');
  const text = `{"key":"\\n${base64}"}`;
  expect(scanAll(Buffer.from(text, 'latin1')).map((m) => [m.start, m.length])).toEqual([[text.indexOf('MIG'), base64.length]]);
});

describe('a PEM armor: its body is found here too, and the merge keeps only the PEM finding', () => {
  const toFinding = (m: Match): Finding => ({
    path: 'memory.bin', offset: m.start, length: m.length, detector: m.detector, kind: m.kind, severity: m.severity,
    confidence: m.confidence, encoding: m.encoding, evidence: m.evidence,
    ...(m.fingerprint ? { fingerprint: m.fingerprint } : {}), ...(m.note ? { note: m.note } : {}),
  });
  const armors: Array<[string, () => string, Match['kind'], string]> = [
    ['PRIVATE KEY (RSA)', () => pkcs8Pem(keys.rsa.privateKey), 'rsa-private-key', keys.rsa.fingerprint],
    ['PRIVATE KEY (Ed25519)', () => pkcs8Pem(keys.ed25519.privateKey), 'ed25519-private-key', keys.ed25519.fingerprint],
    ['PRIVATE KEY (P-384)', () => pkcs8Pem(p384), 'ec-private-key', fingerprintOf(p384)],
    ['EC PRIVATE KEY', () => keys.ec.privateKey.export({ type: 'sec1', format: 'pem' }) as string, 'ec-private-key', keys.ec.fingerprint],
    ['RSA PRIVATE KEY', () => keys.rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string, 'rsa-private-key', keys.rsa.fingerprint],
  ];
  test.each(armors)('%s', (_name, make, kind, fingerprint) => {
    const pem = make();
    const at = 65;
    const bytes = Buffer.concat([pseudoRandomBytes(at - 1, 3), Buffer.from([0]), Buffer.from(pem), Buffer.from([0]), pseudoRandomBytes(100, 4)]);
    const bodyStart = pem.indexOf('\n') + 1;
    const bodyEnd = pem.indexOf('\n-----END');
    const base64Matches = scanAll(bytes);
    expect(base64Matches.map(essentials)).toEqual([
      { start: at + bodyStart, length: bodyEnd - bodyStart, kind, severity: 'high', fingerprint, detector: 'base64', encoding: 'base64' },
    ]);
    const pemMatches = [...pemDetector.scan(bytes, bytes.length)];
    expect(pemMatches.map((m) => [m.start, m.severity, m.fingerprint])).toEqual([[at, 'high', fingerprint]]);

    const merged = mergeFileFindings([...base64Matches, ...pemMatches].map(toFinding));
    expect(merged).toEqual([toFinding(pemMatches[0])]);
    // The order the findings arrive in does not matter.
    expect(mergeFileFindings([...pemMatches, ...base64Matches].map(toFinding))).toEqual([toFinding(pemMatches[0])]);
  });
});

describe('negatives: never findings', () => {
  const sh = (command: string, args: string[]) => execFileSync(command, args, { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const pemBody = (pem: string) => Buffer.from(pem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');

  /** Each DER look-alike as base64 and base64url, one line, wrapped, escaped and UTF-16LE, at 0 and 65. */
  function expectNothing(name: string, bytes: Buffer): void {
    for (const alphabet of alphabets) {
      const base64 = bytes.toString(alphabet);
      for (const form of [...forms, escapedForm]) {
        for (const at of [0, 65]) expect(scanAll(planted(form, base64, at).bytes), `${name} ${alphabet} ${form.name} @${at}`).toEqual([]);
      }
      expect(scanAll(Buffer.from(base64)), `${name} ${alphabet} bare`).toEqual([]);
    }
  }

  test('X.509 certificates (RSA, EC and Ed25519 keys) and a certificate request', () => {
    const certificates: Array<[string, KeyObject]> = [['rsa', keys.rsa.privateKey], ['ec', keys.ec.privateKey], ['ed25519', keys.ed25519.privateKey]];
    for (const [name, key] of certificates) {
      writeFileSync(path.join(tmp, `${name}.pem`), pkcs8Pem(key));
      const cert = pemBody(sh('openssl', ['req', '-x509', '-key', `${name}.pem`, '-subj', '/CN=dumpguard test', '-days', '1']));
      expect(cert.toString('base64').slice(0, 3)).toBe('MII');
      expectNothing(`certificate (${name})`, cert);
      expectNothing(`CSR (${name})`, pemBody(sh('openssl', ['req', '-new', '-key', `${name}.pem`, '-subj', '/CN=dumpguard test'])));
    }
  });

  test('SPKI public keys and PKCS#1 RSA public keys', () => {
    for (const [name, key] of Object.entries(keys)) {
      const pub = createPublicKey(key.privateKey);
      expectNothing(`SPKI ${name}`, pub.export({ type: 'spki', format: 'der' }));
    }
    expectNothing('SPKI P-384', createPublicKey(p384).export({ type: 'spki', format: 'der' }));
    expectNothing('PKCS#1 RSA public key', createPublicKey(keys.rsa.privateKey).export({ type: 'pkcs1', format: 'der' }));
  });

  test("random base64 of key size behind a key's header ('MII…', 'MIG…', 'MHcCAQEE…')", () => {
    const heads = [
      ['MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 1624], // PKCS#8 RSA 2048
      ['MIIEowIBAAKCAQEA', 1588], // PKCS#1 RSA 2048
      ['MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg', 184], // PKCS#8 P-256
      ['MHcCAQEEI', 164], // SEC1 P-256
      ['MIIJQgIBADANBgkqhkiG9w0BAQEFAASCCSww', 3164], // PKCS#8 RSA 4096
    ] as const;
    for (const [i, [head, length]] of heads.entries()) {
      for (let seed = 1; seed <= 20; seed++) {
        const tail = pseudoRandomBytes(length, 1000 * i + seed).toString('base64').slice(0, length - head.length);
        const text = head + tail;
        for (const bytes of [Buffer.from(`KEY="${text}"`), Buffer.from(text), Buffer.from(`KEY="${wrap(text, 64, '\n')}"`), Buffer.from(`KEY="${text}"`, 'utf16le')]) {
          expect(scanAll(bytes), `${head} seed ${seed}`).toEqual([]);
        }
      }
    }
  });

  test('JWT tokens (HS256, RS256, ES256, EdDSA)', () => {
    const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const payload = { sub: '1234567890', name: 'dumpguard test', iat: 1700000000, scope: 'openid profile' };
    const tokens: string[] = [];
    const signed = (alg: string, signer: (input: string) => Buffer) => {
      const input = `${b64url({ alg, typ: 'JWT' })}.${b64url(payload)}`;
      tokens.push(`${input}.${signer(input).toString('base64url')}`);
    };
    signed('HS256', () => pseudoRandomBytes(32, 8));
    signed('RS256', (input) => createSign('sha256').update(input).sign(keys.rsa.privateKey));
    signed('ES256', (input) => createSign('sha256').update(input).sign({ key: keys.ec.privateKey, dsaEncoding: 'ieee-p1363' }));
    signed('EdDSA', (input) => sign(null, Buffer.from(input), keys.ed25519.privateKey));
    for (const token of tokens) {
      for (const text of [token, `Authorization: Bearer ${token}\r\n`, `{"access_token":"${token}","token_type":"Bearer"}`]) {
        expect(scanAll(Buffer.from(text)), token.slice(0, 20)).toEqual([]);
        expect(scanAll(Buffer.from(text, 'utf16le'))).toEqual([]);
      }
    }
  });

  test('64 MiB of base64 of pseudo-random bytes, wrapped at 76', () => {
    const size = 64 * 1024 * 1024;
    const base64 = pseudoRandomBytes(Math.ceil((size * 3) / 4), 0xfeed).toString('base64');
    const bytes = Buffer.allocUnsafe(size);
    let out = 0;
    for (let i = 0; out < size; i += 76) {
      out += bytes.write(base64.slice(i, i + 76), out, 'latin1');
      if (out < size) bytes[out++] = 0x0a;
    }
    expect(scanAll(bytes)).toEqual([]);
  });
});

describe('robustness: mutated base64 keys', () => {
  test('20,000 mutations never throw, stay inside the input, and scan in under 50 ms each', () => {
    let x = 0x2545f491;
    const random = () => {
      x ^= x << 13; x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5; x >>>= 0;
      return x / 4294967296;
    };
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_\n\r\\n"\0 ';
    const seeds: Buffer[] = [];
    for (const k of keyCases) {
      for (const alphabetName of alphabets) {
        for (const form of [...forms, escapedForm]) seeds.push(planted(form, k.der.toString(alphabetName), 17).bytes.subarray(0, 17 + 2 * k.der.length * 2 + 40));
      }
    }
    const mutate = (seed: Buffer): Buffer => {
      let bytes = Buffer.from(seed);
      const edits = 1 + Math.floor(random() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * bytes.length);
        switch (Math.floor(random() * 6)) {
          case 0: bytes[at] = alphabet.charCodeAt(Math.floor(random() * alphabet.length)); break; // a text character
          case 1: bytes[at] ^= 1 << Math.floor(random() * 8); break; // a bit
          case 2: bytes = bytes.subarray(0, at); break; // truncated
          case 3: bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + Math.floor(random() * 8))]); break; // deleted
          case 4: bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(pick(['M', 'MII', 'MIG', 'CAQ', '\\n', '=', 'A'])), bytes.subarray(at)]); break; // inserted
          default: { const other = pick(seeds); const from = Math.floor(random() * other.length); bytes = Buffer.concat([bytes.subarray(0, at), other.subarray(from, from + 200)]); } // spliced
        }
      }
      return bytes;
    };
    const budgetMs = 50;
    let slowest = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = mutate(seeds[i % seeds.length]);
      const bodyLength = random() < 0.8 ? bytes.length : Math.floor(random() * (bytes.length + 1));
      let elapsed = Infinity;
      let matches: Match[] = [];
      // A slow sample is timed again (up to 3 more times): a GC pause or JIT tier-up is not the detector.
      for (let attempt = 0; attempt < 4 && elapsed >= budgetMs; attempt++) {
        const started = performance.now();
        matches = [...base64DerDetector.scan(bytes, bodyLength)];
        elapsed = performance.now() - started;
      }
      slowest = Math.max(slowest, elapsed);
      expect(elapsed, `mutation ${i}`).toBeLessThan(budgetMs);
      for (const m of matches) {
        if (!(m.start >= 0 && m.start < bodyLength && m.length > 0 && m.start + m.length <= bytes.length)) {
          expect.fail(`mutation ${i}: match [${m.start}, +${m.length}) outside the input of ${bytes.length} bytes (body ${bodyLength})`);
        }
        expect(['high', 'medium', 'low']).toContain(m.severity);
      }
    }
    expect(slowest).toBeLessThan(budgetMs);
  });
});
