import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readArmor } from '../../src/detectors/pem-armor.js';
import { pemDetector } from '../../src/detectors/pem.js';
import type { Match } from '../../src/types.js';
import { asCrlf, fingerprintOf, indented, jsonEscaped, pkcs8Pem, pseudoRandomBytes, testKeys, utf16le, withoutFinalNewline } from '../helpers/keys.js';

const keys = testKeys();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dumpguard-pem-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function scanAll(bytes: Uint8Array): Match[] {
  return [...pemDetector.scan(bytes, bytes.length)];
}

/** Plants `text` after `prefixLength` pseudo-random bytes and returns the buffer and where it starts. */
function planted(payload: Buffer, prefixLength = 333): { bytes: Buffer; offset: number } {
  const bytes = Buffer.concat([pseudoRandomBytes(prefixLength, 7), payload, pseudoRandomBytes(211, 11)]);
  return { bytes, offset: prefixLength };
}

/** A finding spans from `-----BEGIN` to the last dash of the END line. */
function armorLength(text: string): number {
  const end = text.lastIndexOf('-----') + 5;
  return end;
}

function sh(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(command, args, { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

function sshKeygen(type: string, bits: string[], passphrase: string, name: string): { pem: string; fingerprint: string } {
  const file = path.join(tmp, name);
  sh('ssh-keygen', ['-q', '-t', type, ...bits, '-N', passphrase, '-C', 'dumpguard test key', '-f', file]);
  const pub = readFileSync(`${file}.pub`, 'utf8').split(' ')[1];
  return { pem: readFileSync(file, 'utf8'), fingerprint: sshPublicFingerprint(Buffer.from(pub, 'base64'), `${file}.pub`) };
}

/** SPKI fingerprint of an SSH public blob, computed independently of src/ (RFC 8410 SPKI for Ed25519). */
function sshPublicFingerprint(blob: Buffer, pubFile: string): string {
  const readString = (at: number) => blob.subarray(at + 4, at + 4 + blob.readUInt32BE(at));
  const type = readString(0).toString();
  let key: KeyObject;
  if (type === 'ssh-ed25519') {
    const pub = blob.subarray(blob.length - 32);
    key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]), format: 'der', type: 'spki' });
  } else {
    const pem = execFileSync('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', pubFile]).toString();
    key = createPublicKey(pem);
  }
  const spki = key.export({ type: 'spki', format: 'der' });
  return 'SHA256:' + createHash('sha256').update(spki).digest('base64').replace(/=+$/, '');
}

interface Case {
  name: string;
  text: string;
  kind: Match['kind'];
  severity: Match['severity'];
  fingerprint?: string;
}

const cases: Case[] = [];
const pkcs8Kinds = { rsa: 'rsa-private-key', ec: 'ec-private-key', ed25519: 'ed25519-private-key', x25519: 'x25519-private-key', ed448: 'ed448-private-key', x448: 'x448-private-key', dsa: 'dsa-private-key' } as const;
for (const [name, kind] of Object.entries(pkcs8Kinds) as Array<[keyof typeof pkcs8Kinds, Match['kind']]>) {
  cases.push({ name: `PRIVATE KEY (${name})`, text: pkcs8Pem(keys[name].privateKey), kind, severity: 'high', fingerprint: keys[name].fingerprint });
}
cases.push(
  { name: 'RSA PRIVATE KEY', text: keys.rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string, kind: 'rsa-private-key', severity: 'high', fingerprint: keys.rsa.fingerprint },
  { name: 'EC PRIVATE KEY', text: keys.ec.privateKey.export({ type: 'sec1', format: 'pem' }) as string, kind: 'ec-private-key', severity: 'high', fingerprint: keys.ec.fingerprint },
  { name: 'ENCRYPTED PRIVATE KEY', text: keys.rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'test' }) as string, kind: 'encrypted-private-key', severity: 'medium' },
  { name: 'RSA PRIVATE KEY with Proc-Type ENCRYPTED', text: keys.rsa.privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'test' }) as string, kind: 'encrypted-private-key', severity: 'medium' },
);

beforeAll(() => {
  writeFileSync(path.join(tmp, 'dsa.pem'), pkcs8Pem(keys.dsa.privateKey));
  cases.push({ name: 'DSA PRIVATE KEY', text: sh('openssl', ['pkey', '-in', 'dsa.pem', '-traditional']), kind: 'dsa-private-key', severity: 'high', fingerprint: keys.dsa.fingerprint });
  for (const [type, bits, kind] of [['ed25519', [], 'ed25519-private-key'], ['rsa', ['-b', '2048'], 'rsa-private-key'], ['ecdsa', ['-b', '384'], 'ec-private-key']] as const) {
    const key = sshKeygen(type, [...bits], '', `ssh-${type}`);
    cases.push({ name: `OPENSSH PRIVATE KEY (${type})`, text: key.pem, kind, severity: 'high', fingerprint: key.fingerprint });
  }
  const encrypted = sshKeygen('ed25519', [], 'passphrase', 'ssh-encrypted');
  cases.push({ name: 'OPENSSH PRIVATE KEY (encrypted)', text: encrypted.pem, kind: 'encrypted-private-key', severity: 'medium' });
  const gnupghome = path.join(tmp, 'gnupg');
  sh('mkdir', ['-m', '700', gnupghome]);
  const env = { ...process.env, GNUPGHOME: gnupghome };
  sh('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'Open <open@example.com>', 'ed25519', 'sign', 'never'], env);
  sh('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', 'secret', '--quick-gen-key', 'Locked <locked@example.com>', 'ed25519', 'sign', 'never'], env);
  // The public half, independently of src/: gpg's OpenSSH export of the Ed25519 key.
  const gpgFingerprint = (uid: string) => {
    const primary = sh('gpg', ['--batch', '--with-colons', '--list-keys', uid], env).split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9];
    return sshPublicFingerprint(Buffer.from(sh('gpg', ['--batch', '--export-ssh-key', `${primary}!`], env).split(' ')[1], 'base64'), '');
  };
  cases.push(
    { name: 'PGP PRIVATE KEY BLOCK (unprotected)', text: sh('gpg', ['--batch', '--armor', '--export-secret-keys', 'open@example.com'], env), kind: 'ed25519-private-key', severity: 'high', fingerprint: gpgFingerprint('open@example.com') },
    { name: 'PGP PRIVATE KEY BLOCK (protected)', text: sh('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', 'secret', '--armor', '--export-secret-keys', 'locked@example.com'], env), kind: 'pgp-private-key', severity: 'medium', fingerprint: gpgFingerprint('locked@example.com') },
  );
  cases.push(puttyCase('3', keys.ed25519.privateKey), puttyCase('2', keys.rsa.privateKey), puttyEncryptedCase());
});

/** PuTTY .ppk built by hand following the PuTTY manual, appendix C (no puttygen on this machine). */
function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}
function sshMpint(base64url: string): Buffer {
  let bytes = Buffer.from(base64url, 'base64url');
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return sshString(bytes);
}
function wrap64(data: Buffer): string[] {
  return data.toString('base64').match(/.{1,64}/g)!;
}
function ppk(version: string, algorithm: string, encryption: string, publicBlob: Buffer, privateBlob: Buffer): string {
  const pub = wrap64(publicBlob);
  const priv = wrap64(privateBlob);
  const kdf = version === '3' && encryption !== 'none' ? ['Key-Derivation: Argon2id', 'Argon2-Memory: 8192', 'Argon2-Passes: 13', 'Argon2-Parallelism: 1', 'Argon2-Salt: 0123456789abcdef0123456789abcdef'] : [];
  return [`PuTTY-User-Key-File-${version}: ${algorithm}`, `Encryption: ${encryption}`, 'Comment: dumpguard test key', `Public-Lines: ${pub.length}`, ...pub, ...kdf, `Private-Lines: ${priv.length}`, ...priv, `Private-MAC: ${'ab'.repeat(version === '3' ? 32 : 20)}`, ''].join('\n');
}
function puttyCase(version: string, key: KeyObject): Case {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'OKP') {
    const text = ppk(version, 'ssh-ed25519', 'none', Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.from(jwk.x!, 'base64url'))]), sshString(Buffer.from(jwk.d!, 'base64url')));
    return { name: `PuTTY v${version} ssh-ed25519`, text, kind: 'ed25519-private-key', severity: 'high', fingerprint: fingerprintOf(key) };
  }
  const text = ppk(version, 'ssh-rsa', 'none', Buffer.concat([sshString('ssh-rsa'), sshMpint(jwk.e!), sshMpint(jwk.n!)]), Buffer.concat([sshMpint(jwk.d!), sshMpint(jwk.p!), sshMpint(jwk.q!), sshMpint(jwk.qi!)]));
  return { name: `PuTTY v${version} ssh-rsa`, text, kind: 'rsa-private-key', severity: 'high', fingerprint: fingerprintOf(key) };
}
function puttyEncryptedCase(): Case {
  const jwk = keys.ed25519.privateKey.export({ format: 'jwk' });
  const text = ppk('3', 'ssh-ed25519', 'aes256-cbc', Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.from(jwk.x!, 'base64url'))]), pseudoRandomBytes(48, 5));
  return { name: 'PuTTY v3 encrypted', text, kind: 'encrypted-private-key', severity: 'medium' };
}

/** PuTTY findings end at the end of the Private-MAC line, armors at the END line's last dash. */
function expectedLength(c: Case, text: string): number {
  if (c.name.startsWith('PuTTY')) {
    const mac = text.indexOf('Private-MAC: ');
    const lineEnd = text.slice(mac).search(/\\r|\\n|\r|\n|$/);
    return mac + lineEnd;
  }
  return armorLength(text);
}

const encodings = [
  { name: 'ASCII LF', encode: (t: string) => t, encoding: 'ascii' },
  { name: 'ASCII CRLF', encode: asCrlf, encoding: 'ascii' },
  { name: 'no final newline', encode: withoutFinalNewline, encoding: 'ascii' },
  { name: 'indented', encode: (t: string) => indented(t), encoding: 'ascii' },
  { name: 'escaped \\n', encode: (t: string) => jsonEscaped(t), encoding: 'json-escaped' },
  { name: 'escaped \\r\\n', encode: (t: string) => jsonEscaped(t, '\\r\\n'), encoding: 'json-escaped' },
  { name: 'UTF-16LE', encode: (t: string) => t, encoding: 'utf16le' },
] as const;

describe('every armor in every encoding', () => {
  test('all cases are present', () => {
    expect(cases.length).toBe(21);
  });
  for (const encoding of encodings) {
    test(`${encoding.name}`, () => {
      for (const c of cases) {
        const text = encoding.encode(c.text);
        const payload = encoding.encoding === 'utf16le' ? utf16le(text) : Buffer.from(text, 'latin1');
        const { bytes, offset } = planted(payload);
        const matches = scanAll(bytes);
        const scale = encoding.encoding === 'utf16le' ? 2 : 1;
        expect(matches, c.name).toHaveLength(1);
        const [m] = matches;
        expect({ name: c.name, start: m.start, length: m.length, kind: m.kind, severity: m.severity, encoding: m.encoding, fingerprint: m.fingerprint }).toEqual({
          name: c.name,
          start: offset,
          length: expectedLength(c, text) * scale,
          kind: c.kind,
          severity: c.severity,
          encoding: encoding.encoding,
          fingerprint: c.fingerprint,
        });
        expect(m.detector).toBe('pem');
        expect(m.confidence).toBeGreaterThan(c.severity === 'high' ? 0.9 : 0.4);
      }
    });
  }
});

describe('redacted evidence', () => {
  test('shows the armor line, four body characters and a count', () => {
    const pem = pkcs8Pem(keys.rsa.privateKey);
    const body = pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const [m] = scanAll(Buffer.from(pem));
    expect(m.evidence).toBe(`-----BEGIN PRIVATE KEY----- ${body.slice(0, 4)}…(${body.length} chars)`);
  });
});

describe('damaged keys are medium, never high', () => {
  test('truncated: no END line', () => {
    const pem = pkcs8Pem(keys.rsa.privateKey);
    const cut = pem.slice(0, 1000);
    const bytes = Buffer.concat([Buffer.from(cut), Buffer.alloc(100)]);
    const [m, ...rest] = scanAll(bytes);
    expect(rest).toHaveLength(0);
    expect({ start: m.start, length: m.length, kind: m.kind, severity: m.severity }).toEqual({ start: 0, length: cut.trimEnd().length, kind: 'rsa-private-key', severity: 'medium' });
    expect(m.fingerprint).toBeUndefined();
  });

  test('a flipped body character', () => {
    const pem = pkcs8Pem(keys.ec.privateKey);
    const at = pem.indexOf('\n') + 40;
    const flipped = pem.slice(0, at) + (pem[at] === 'A' ? 'B' : 'A') + pem.slice(at + 1);
    const [m] = scanAll(Buffer.from(flipped));
    expect(m.severity).toBe('medium');
    expect(m.start).toBe(0);
  });

  test('RSA with an inconsistent modulus', () => {
    const jwk = keys.rsa.privateKey.export({ format: 'jwk' });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    // Parses (OpenSSL does not check), but p·q ≠ n.
    const franken = { ...jwk, p: other.p, dp: other.dp, qi: other.qi };
    let pem: string;
    try {
      pem = createPrivateKey({ key: franken, format: 'jwk' }).export({ type: 'pkcs1', format: 'pem' }) as string;
    } catch {
      return; // this OpenSSL checks on import: nothing to test here
    }
    const [m] = scanAll(Buffer.from(pem));
    expect(m.severity).toBe('medium');
  });
});

describe('negatives: never findings', () => {
  const certificate = () => {
    writeFileSync(path.join(tmp, 'cert-key.pem'), pkcs8Pem(keys.rsa.privateKey));
    return sh('openssl', ['req', '-x509', '-key', 'cert-key.pem', '-subj', '/CN=dumpguard test', '-days', '1']);
  };
  const csr = () => sh('openssl', ['req', '-new', '-key', 'cert-key.pem', '-subj', '/CN=dumpguard test']);
  const crl = () => {
    const certPem = certificate();
    writeFileSync(path.join(tmp, 'cert.pem'), certPem);
    writeFileSync(path.join(tmp, 'index.txt'), '');
    writeFileSync(path.join(tmp, 'ca.cnf'), `[ca]\ndefault_ca=d\n[d]\ndatabase=${tmp}/index.txt\ndefault_md=sha256\ndefault_crl_days=1\n`);
    return sh('openssl', ['ca', '-gencrl', '-config', 'ca.cnf', '-keyfile', 'cert-key.pem', '-cert', 'cert.pem']);
  };
  const texts: Array<[string, () => string]> = [
    ['certificate', certificate],
    ['certificate request', csr],
    ['X509 CRL', crl],
    ['PUBLIC KEY', () => createPublicKey(keys.ec.privateKey).export({ type: 'spki', format: 'pem' }) as string],
    ['RSA PUBLIC KEY', () => createPublicKey(keys.rsa.privateKey).export({ type: 'pkcs1', format: 'pem' }) as string],
    ['bare labels as in a library rodata', () => '-----BEGIN PRIVATE KEY-----\0-----END PRIVATE KEY-----\0-----BEGIN RSA PRIVATE KEY-----\0%s-----BEGIN %s-----\n'],
    ['placeholder body ...', () => '-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n'],
    ['placeholder <key here>', () => '"-----BEGIN RSA PRIVATE KEY-----\\n<your key here>\\n-----END RSA PRIVATE KEY-----"'],
    ['short body', () => '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oe\n-----END EC PRIVATE KEY-----\n'],
    ['PGP PUBLIC KEY BLOCK', () => `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${pseudoRandomBytes(300).toString('base64')}\n-----END PGP PUBLIC KEY BLOCK-----\n`],
    ['PuTTY header without a body', () => 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n'],
  ];
  test.each(texts)('%s, in ASCII and UTF-16LE', (_name, make) => {
    const text = make();
    expect(scanAll(Buffer.from(text, 'latin1'))).toEqual([]);
    expect(scanAll(utf16le(text))).toEqual([]);
    expect(scanAll(Buffer.from(jsonEscaped(text)))).toEqual([]);
  });

  test('64 MiB of random bytes', () => {
    expect(scanAll(pseudoRandomBytes(64 * 1024 * 1024, 1234567))).toEqual([]);
  });

  test('64 MiB of gzip-compressed text', () => {
    // Text of key-like characters (base64 lines and armor labels) so the compressed stream is dense.
    const base64 = pseudoRandomBytes(64 * 1024 * 1024, 99).toString('base64');
    const lines: string[] = [];
    for (let i = 0; i < base64.length; i += 64 * 1024) lines.push(`-----BEGIN PRIVATE KEY-----\n${base64.slice(i, i + 64 * 1024).replace(/.{64}/g, '$&\n')}`);
    const compressed = gzipSync(Buffer.from(lines.join('\n')), { level: 1 });
    expect(compressed.length).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    expect(scanAll(compressed.subarray(0, 64 * 1024 * 1024))).toEqual([]);
  });
});

describe('a bare label followed by prose is not read as an armor', () => {
  const log = Array.from({ length: 400 }, (_, i) => `2024-05-${String(1 + (i % 28)).padStart(2, '0')}T01:18:34.427Z INFO [auth] POST /login 401 user=u${i} reason=bad_password`).join('\n');
  test('a log after the label: its timestamped lines are not armor headers, and the armor ends at the label', () => {
    const text = Buffer.from(`-----BEGIN RSA PRIVATE KEY-----\n${log}\n`, 'latin1');
    const armor = readArmor(text, text.length);
    // "2024" is base64; the dash after it ends the armor (no END line there).
    expect(armor).toMatchObject({ label: 'RSA PRIVATE KEY', headers: [], base64: '2024', complete: false });
    expect(armor!.end).toBe('-----BEGIN RSA PRIVATE KEY-----\n2024'.length);
    expect(scanAll(text)).toEqual([]);
  });
  test('words after the label (a sentence, not base64 lines): the body stops at the first blank between two of them', () => {
    const text = Buffer.from(`-----BEGIN PRIVATE KEY----- not found in the configured keystore so the server falls back to the default key of the vendor\n`, 'latin1');
    const armor = readArmor(text, text.length);
    expect(armor!.base64).toBe('not');
    expect(scanAll(text)).toEqual([]);
  });
  test('real headers still are headers (RFC 1421 Proc-Type and DEK-Info, indented base64 lines)', () => {
    const pem = keys.rsa.privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'test' }) as string;
    const armor = readArmor(Buffer.from(pem, 'latin1'), pem.length);
    expect(armor!.headers.map((h) => h.split(':')[0])).toEqual(['Proc-Type', 'DEK-Info']);
    expect(armor!.complete).toBe(true);
    const pkcs8 = pkcs8Pem(keys.ec.privateKey);
    const text = indented(pkcs8);
    const indentedArmor = readArmor(Buffer.from(text, 'latin1'), text.length);
    expect(indentedArmor).toMatchObject({ complete: true, base64: pkcs8.split('\n').filter((l) => l && !l.startsWith('-----')).join('') });
  });
});

describe('the chunk rule', () => {
  test('only matches starting in the body are reported', () => {
    const pem = Buffer.from(pkcs8Pem(keys.ed25519.privateKey));
    const bytes = Buffer.concat([Buffer.alloc(100), pem, Buffer.alloc(100)]);
    expect([...pemDetector.scan(bytes, 100)]).toEqual([]);
    expect([...pemDetector.scan(bytes, 101)].map((m) => m.start)).toEqual([100]);
  });

  test('the margin covers the longest armor, a 16384-bit RSA key in UTF-16LE', () => {
    // A committed TEST key (test/fixtures/README.md): generating 16384-bit RSA takes minutes.
    const text = readFileSync(new URL('../fixtures/test-key-rsa16384.pem', import.meta.url), 'utf8');
    const big = createPrivateKey(text);
    expect(2 * text.length).toBeLessThanOrEqual(pemDetector.maxMatchLengthInBytes);
    const [m] = scanAll(utf16le(text));
    expect({ length: m.length, severity: m.severity, fingerprint: m.fingerprint }).toEqual({ length: 2 * armorLength(text), severity: 'high', fingerprint: fingerprintOf(big) });
  });
});
