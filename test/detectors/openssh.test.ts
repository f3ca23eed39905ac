// The OpenSSH container outside its armor: binary `openssh-key-v1\0` bytes, their base64 (one line,
// wrapped, escaped, UTF-16LE), damaged containers, look-alikes that are not keys, and a real gcore
// dump of ssh-agent scanned through the whole pipeline. Keys come from ssh-keygen; fingerprints
// are computed from the .pub files independently of src/.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { scan } from '../../dist/index.js';
import { opensshDetector } from '../../src/detectors/openssh.js';
import { pemDetector } from '../../src/detectors/pem.js';
import { mergeFileFindings } from '../../src/merge.js';
import type { Finding, Match } from '../../src/types.js';
import { scanChunked } from '../helpers/chunked.js';
import { jsonEscaped, pseudoRandomBytes, utf16le } from '../helpers/keys.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dumpguard-openssh-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function scanAll(bytes: Uint8Array): Match[] {
  return [...opensshDetector.scan(bytes, bytes.length)];
}

function sh(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(command, args, { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 }).toString();
}

function hasCommand(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(path.join(dir, name)));
}

/** SPKI fingerprint of an SSH public blob, computed independently of src/ (RFC 8410 SPKI for Ed25519). */
function sshPublicFingerprint(blob: Buffer, pubFile: string): string {
  const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();
  let key: KeyObject;
  if (type === 'ssh-ed25519') {
    const pub = blob.subarray(blob.length - 32);
    key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]), format: 'der', type: 'spki' });
  } else {
    key = createPublicKey(execFileSync('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', pubFile]).toString());
  }
  const spki = key.export({ type: 'spki', format: 'der' });
  return 'SHA256:' + createHash('sha256').update(spki).digest('base64').replace(/=+$/, '');
}

interface SshKey {
  name: string;
  file: string;
  /** The armor's base64 body on one line, '=' padding included. */
  base64: string;
  /** base64-decode of the armor body: the `openssh-key-v1\0` container. */
  container: Buffer;
  publicLine: string;
  kind: Match['kind'];
  severity: Match['severity'];
  fingerprint?: string;
}

function sshKeygen(name: string, type: string, bits: string[], passphrase: string, kind: Match['kind'], severity: Match['severity']): SshKey {
  const file = path.join(tmp, name);
  sh('ssh-keygen', ['-q', '-t', type, ...bits, '-N', passphrase, '-C', 'test', '-f', file]);
  const pem = readFileSync(file, 'utf8');
  const base64 = pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
  const publicLine = readFileSync(`${file}.pub`, 'utf8').trim();
  const fingerprint = severity === 'high' ? sshPublicFingerprint(Buffer.from(publicLine.split(' ')[1], 'base64'), `${file}.pub`) : undefined;
  return { name, file, base64, container: Buffer.from(base64, 'base64'), publicLine, kind, severity, fingerprint };
}

const keys: SshKey[] = [
  sshKeygen('ed25519', 'ed25519', [], '', 'ed25519-private-key', 'high'),
  sshKeygen('rsa-2048', 'rsa', ['-b', '2048'], '', 'rsa-private-key', 'high'),
  sshKeygen('ecdsa-256', 'ecdsa', ['-b', '256'], '', 'ec-private-key', 'high'),
  sshKeygen('ecdsa-384', 'ecdsa', ['-b', '384'], '', 'ec-private-key', 'high'),
  sshKeygen('ed25519-encrypted', 'ed25519', [], 'passphrase', 'encrypted-private-key', 'medium'),
];
const [ed25519Key, rsaKey, ecdsa256Key] = keys;

test('the generated keys cover every padding case of the base64 form', () => {
  // 0, 1 and 2 '=' characters: the finding's length must include the padding.
  const paddings = new Set(keys.map((k) => k.base64.length - k.base64.replace(/=+$/, '').length));
  expect(paddings).toEqual(new Set([0, 1, 2]));
  for (const k of keys) expect(k.container.subarray(0, 15).toString('latin1')).toBe('openssh-key-v1\0');
});

function wrap(text: string, width: number, newline: string): string {
  return text.match(new RegExp(`.{1,${width}}`, 'g'))!.join(newline);
}

interface Form {
  name: string;
  encoding: Match['encoding'];
  /** The bytes as memory holds them: `prefix` + the key's representation. */
  prefix: (k: SshKey) => Buffer;
  body: (k: SshKey) => Buffer;
}

const forms: Form[] = [
  { name: 'binary container', encoding: 'binary', prefix: () => Buffer.alloc(0), body: (k) => k.container },
  { name: 'base64, one line after KEY=', encoding: 'base64', prefix: () => Buffer.from('KEY='), body: (k) => Buffer.from(k.base64, 'latin1') },
  { name: 'base64 wrapped at 70 with LF', encoding: 'base64', prefix: () => Buffer.from('KEY='), body: (k) => Buffer.from(wrap(k.base64, 70, '\n'), 'latin1') },
  { name: 'UTF-16LE base64, one line after KEY=', encoding: 'utf16le', prefix: () => utf16le('KEY='), body: (k) => utf16le(k.base64) },
];
/** Escaped line ends: separate, because of the length bug described at its test below. */
const escapedForm: Form = { name: 'base64 wrapped at 70 with escaped \\n', encoding: 'base64', prefix: () => Buffer.from('KEY='), body: (k) => Buffer.from(jsonEscaped(wrap(k.base64, 70, '\n')), 'latin1') };

/**
 * `body` placed so its first byte is at `at`, behind `prefix`, in pseudo-random filler; NUL bytes
 * guard both ends so filler never continues the base64 run.
 */
function planted(prefix: Buffer, body: Buffer, at: number, total = at + prefix.length + body.length + 301): Buffer {
  const head = Math.max(0, at - prefix.length);
  const bytes = pseudoRandomBytes(Math.max(total, at + body.length + 1), 0x51ed + at);
  if (head > 0) bytes[head - 1] = 0;
  const start = at - (at >= prefix.length ? prefix.length : 0);
  (at >= prefix.length ? prefix : Buffer.alloc(0)).copy(bytes, start);
  body.copy(bytes, at);
  bytes.fill(0, at + body.length, Math.min(bytes.length, at + body.length + 2));
  return bytes;
}

const essentials = (m: Match) => ({ start: m.start, length: m.length, kind: m.kind, severity: m.severity, fingerprint: m.fingerprint, detector: m.detector, encoding: m.encoding });
const expected = (k: SshKey, form: Form, at: number) => ({
  start: at, length: form.body(k).length, kind: k.kind, severity: k.severity, fingerprint: k.fingerprint, detector: 'openssh', encoding: form.encoding,
});

describe('every key in every form', () => {
  for (const form of forms) {
    for (const at of [0, 65]) {
      test(`${form.name} at offset ${at}`, () => {
        for (const k of keys) {
          const bytes = planted(form.prefix(k), form.body(k), at);
          const matches = scanAll(bytes);
          expect(matches.map(essentials), k.name).toEqual([expected(k, form, at)]);
          // An encrypted container carries no verifiable private key, so no fingerprint is claimed for it.
          if (k.severity === 'medium') expect(matches[0].note).toMatch(/encrypted/);
          else expect(matches[0].confidence).toBeGreaterThan(0.9);
        }
      });
    }
    test(`${form.name} across a chunk boundary: chunked scan equals whole scan`, () => {
      for (const k of keys) {
        const at = 4096 - 30;
        const bytes = planted(form.prefix(k), form.body(k), at, 128 * 1024);
        const whole = scanAll(bytes).map((m) => ({ ...essentials(m), offset: m.start }));
        const chunked = scanChunked(opensshDetector, bytes, 4096).map((m) => ({ ...essentials(m), offset: m.offset }));
        expect(whole, k.name).toEqual([{ ...expected(k, form, at), offset: at }]);
        expect(chunked.map((m) => ({ ...m, start: m.offset })), k.name).toEqual(whole);
      }
    });
  }

  test('the UTF-16LE form is also found at an even offset', () => {
    const form = forms[3];
    for (const k of keys) expect(scanAll(planted(form.prefix(k), form.body(k), 66)).map(essentials), k.name).toEqual([expected(k, form, 66)]);
  });

  for (const at of [0, 65, 4096 - 30]) {
    test(`${escapedForm.name} at offset ${at}: found with its kind, severity and fingerprint`, () => {
      for (const k of keys) {
        const bytes = planted(escapedForm.prefix(k), escapedForm.body(k), at, at === 65 || at === 0 ? undefined : 128 * 1024);
        const matches = scanAll(bytes);
        // Everything but the length (see the known bug below).
        expect(matches.map((m) => ({ ...essentials(m), length: 0 })), k.name).toEqual([{ ...expected(k, escapedForm, at), length: 0 }]);
        if (at > 65) expect(scanChunked(opensshDetector, bytes, 4096).map((m) => [m.offset, m.length, m.fingerprint])).toEqual(matches.map((m) => [m.start, m.length, m.fingerprint]));
      }
    });
  }

  // BUG (src/detectors/base64-run.ts, endOfEncodedBytes): it counts every base64 character
  // between start and end, and the 'n' of an escaped `\n` is one, so a run wrapped with escaped
  // line ends is reported one character short for every escape it contains. decodeBase64Run
  // skips `\n`/`\r` escapes correctly; endOfEncodedBytes must skip them the same way.
  // test.fails: passes while the bug is there; remove `.fails` once it is fixed.
  test(`${escapedForm.name}: the length runs through the last base64 character (KNOWN BUG)`, () => {
    for (const k of keys) {
      const matches = scanAll(planted(escapedForm.prefix(k), escapedForm.body(k), 65));
      expect(matches.map((m) => m.length), k.name).toEqual([escapedForm.body(k).length]);
    }
  });
});

describe('inside its PEM armor', () => {
  test('the armor body is found as base64, and the merge keeps the one PEM finding', () => {
    const toFinding = (m: Match): Finding => ({
      path: 'memory.bin', offset: m.start, length: m.length, detector: m.detector, kind: m.kind, severity: m.severity,
      confidence: m.confidence, encoding: m.encoding, evidence: m.evidence, ...(m.fingerprint ? { fingerprint: m.fingerprint } : {}),
    });
    for (const k of keys) {
      const pem = readFileSync(k.file, 'latin1');
      const bytes = Buffer.concat([pseudoRandomBytes(64, 1), Buffer.from([0]), Buffer.from(pem, 'latin1'), Buffer.from([0])]);
      const bodyStart = pem.indexOf('\n') + 1;
      const inner = scanAll(bytes);
      expect(inner.map(essentials), k.name).toEqual([{ ...expected(k, forms[1], 65 + bodyStart), length: pem.indexOf('\n-----END') - bodyStart }]);
      const outer = [...pemDetector.scan(bytes, bytes.length)];
      expect(outer.map((m) => [m.start, m.kind, m.severity, m.fingerprint]), k.name).toEqual([[65, k.kind, k.severity, k.fingerprint]]);
      expect(mergeFileFindings([...inner, ...outer].map(toFinding)), k.name).toEqual([toFinding(outer[0])]);
    }
  });
});

// BUG (src/detectors/openssh.ts line 37, base64Match; the same in base64-der.ts keyAt): a run is
// rejected when the character before it is a base64 character, and the 'n' of an escaped `\n`
// (or the 'r' of `\r`) is one, so base64 that starts right after an escaped line end in JSON
// (`"key":"\nb3BlbnNzaC1rZXktdjE…"`) is never found. Fix: treat a preceding `\n`/`\r` escape
// (text[start - 2] === 0x5c) as a boundary, as decodeBase64Run already does inside the run.
test('base64 right after an escaped \\n is found (KNOWN BUG)', () => {
  const text = `{"key":"\\n${ed25519Key.base64}"}`;
  expect(scanAll(Buffer.from(text, 'latin1')).map((m) => m.start)).toEqual([text.indexOf('b3Bl')]);
});

/** Offsets in a container (PROTOCOL.key): the public blob and the private section. */
function containerLayout(c: Buffer): { publicBlobs: Array<[number, number]>; privateSection: number } {
  let p = 15;
  const string = (): [number, number] => {
    const length = c.readUInt32BE(p);
    const start = p + 4;
    p = start + length;
    return [start, length];
  };
  string(); // cipher
  string(); // kdf
  string(); // kdf options
  const count = c.readUInt32BE(p);
  p += 4;
  const publicBlobs = Array.from({ length: count }, string);
  const [privateSection] = string();
  return { publicBlobs, privateSection };
}

describe('damaged containers', () => {
  test.each([0, 1, 2, 3])('a flipped byte %i of the first check-int: medium, never high', (byte) => {
    for (const k of keys.filter((x) => x.severity === 'high')) {
      const damaged = Buffer.from(k.container);
      damaged[containerLayout(damaged).privateSection + byte] ^= 0x10;
      for (const form of [forms[0], forms[1]]) {
        const matches = scanAll(planted(form.prefix(k), form === forms[0] ? damaged : Buffer.from(damaged.toString('base64')), 65));
        expect(matches.map((m) => [m.start, m.kind, m.severity]), `${k.name} ${form.name}`).toEqual([[65, k.kind, 'medium']]);
        expect(matches[0].note).toMatch(/check/);
      }
    }
  });

  test('a flipped byte of the second check-int: medium', () => {
    const damaged = Buffer.from(rsaKey.container);
    damaged[containerLayout(damaged).privateSection + 6] ^= 0x01;
    expect(scanAll(planted(Buffer.alloc(0), damaged, 65)).map((m) => m.severity)).toEqual(['medium']);
  });

  test('a flipped byte of the Ed25519 private half (the seed): not high', () => {
    const { privateSection } = containerLayout(ed25519Key.container);
    // check-ints (8), string "ssh-ed25519" (4 + 11), string pub (4 + 32), then string priv: seed ‖ pub.
    const seed = privateSection + 8 + 4 + 11 + 4 + 32 + 4;
    expect(ed25519Key.container.subarray(seed + 32, seed + 64)).toEqual(ed25519Key.container.subarray(seed - 36, seed - 4));
    for (const at of [0, 5, 31]) {
      const damaged = Buffer.from(ed25519Key.container);
      damaged[seed + at] ^= 0x04;
      const matches = scanAll(planted(Buffer.alloc(0), damaged, 65));
      expect(matches.map((m) => m.severity), `seed byte ${at}`).not.toContain('high');
      // The seed no longer gives the stored public key: whatever is reported is not the real key's fingerprint at high.
      for (const m of matches) expect(m.severity).toBe('medium');
    }
  });

  test('a flipped byte of the public copy inside the Ed25519 private half: not high', () => {
    const { privateSection } = containerLayout(ed25519Key.container);
    const damaged = Buffer.from(ed25519Key.container);
    damaged[privateSection + 8 + 4 + 11 + 4 + 32 + 4 + 40] ^= 0x01;
    expect(scanAll(planted(Buffer.alloc(0), damaged, 65)).map((m) => m.severity)).toEqual(['medium']);
  });

  test('a flipped byte of the ECDSA private scalar: medium', () => {
    const c = ecdsa256Key.container;
    const { privateSection } = containerLayout(c);
    const damaged = Buffer.from(c);
    // check-ints, type string, curve string, point string (4 + 65), then the mpint scalar.
    let p = privateSection + 8;
    for (let i = 0; i < 3; i++) p += 4 + c.readUInt32BE(p);
    damaged[p + 4 + 10] ^= 0x01;
    expect(scanAll(planted(Buffer.alloc(0), damaged, 65)).map((m) => m.severity)).toEqual(['medium']);
  });

  test('a flipped byte of the RSA private exponent: medium', () => {
    const c = rsaKey.container;
    const { privateSection } = containerLayout(c);
    const damaged = Buffer.from(c);
    let p = privateSection + 8;
    for (let i = 0; i < 3; i++) p += 4 + c.readUInt32BE(p); // type, n, e
    damaged[p + 4 + 100] ^= 0x01; // inside d
    expect(scanAll(planted(Buffer.alloc(0), damaged, 65)).map((m) => m.severity)).toEqual(['medium']);
  });

  test('a truncated container is not reported as high', () => {
    for (const k of keys) {
      const cut = k.container.subarray(0, k.container.length - 40);
      expect(scanAll(planted(Buffer.alloc(0), cut, 65)).map((m) => m.severity), k.name).not.toContain('high');
    }
  });
});

describe('negatives: never findings', () => {
  const publicTexts = (): Array<[string, string]> => {
    const pub = keys.map((k) => k.publicLine);
    const blobs = keys.map((k) => k.publicLine.split(' ').slice(0, 2).join(' '));
    return [
      ['authorized_keys lines', pub.join('\n') + '\n'],
      ['authorized_keys lines with options', blobs.map((b) => `from="10.0.0.0/8",no-pty,command="/bin/true" ${b} test@example`).join('\n') + '\n'],
      ['known_hosts lines', blobs.map((b, i) => `host${i}.example.com,10.0.0.${i} ${b}`).join('\n') + '\n'],
      ['hashed known_hosts lines', blobs.map((b, i) => `|1|${pseudoRandomBytes(20, i + 1).toString('base64')}|${pseudoRandomBytes(20, i + 9).toString('base64')} ${b}`).join('\n') + '\n'],
      ['ssh-keygen -y public keys', keys.filter((k) => k.severity === 'high').map((k) => sh('ssh-keygen', ['-y', '-f', k.file])).join('')],
    ];
  };

  test('public keys in ASCII, UTF-16LE, escaped, and as decoded wire blobs', () => {
    for (const [name, text] of publicTexts()) {
      for (const bytes of [Buffer.from(text, 'latin1'), utf16le(text), Buffer.from(jsonEscaped(text), 'latin1'), planted(Buffer.alloc(0), Buffer.from(text), 65)]) {
        expect(scanAll(bytes), name).toEqual([]);
      }
      const wire = Buffer.concat(text.trim().split('\n').map((l) => Buffer.from(l.split(' ').find((w) => w.startsWith('AAAA'))!, 'base64')));
      expect(scanAll(wire), `${name} as wire blobs`).toEqual([]);
    }
  });

  test("'openssh-key-v1' followed by garbage", () => {
    const magic = Buffer.from('openssh-key-v1\0', 'latin1');
    const cases: Buffer[] = [
      Buffer.from('openssh-key-v1'), // the string as a library's rodata holds it
      Buffer.concat([magic, pseudoRandomBytes(4096, 3)]),
      Buffer.concat([magic, Buffer.alloc(64, 0xff)]),
      Buffer.concat([magic, Buffer.alloc(64, 0)]),
      // A plausible header, then garbage where the keys should be.
      Buffer.concat([magic, Buffer.from('000000046e6f6e65000000046e6f6e6500000000000000010000', 'hex'), pseudoRandomBytes(600, 4)]),
      // A real header and public blob, then a private section cut off.
      ed25519Key.container.subarray(0, containerLayout(ed25519Key.container).privateSection + 20),
      // A real key's container with its private section replaced by random bytes.
      Buffer.concat([rsaKey.container.subarray(0, containerLayout(rsaKey.container).privateSection), pseudoRandomBytes(rsaKey.container.length - containerLayout(rsaKey.container).privateSection, 5)]),
    ];
    for (const [i, c] of cases.entries()) {
      const base64 = c.toString('base64');
      for (const bytes of [c, planted(Buffer.alloc(0), c, 65), Buffer.from(`KEY=${base64}\0`), utf16le(`KEY=${base64}`), Buffer.from(`KEY=${wrap(base64, 70, '\n')}\0`)]) {
        expect(scanAll(bytes), `case ${i}`).toEqual([]);
      }
    }
    // The base64 magic followed by random base64.
    const text = `KEY=b3BlbnNzaC1rZXktdjE${pseudoRandomBytes(900, 6).toString('base64')}`;
    expect(scanAll(Buffer.from(text))).toEqual([]);
    expect(scanAll(utf16le(text))).toEqual([]);
  });

  test('64 MiB of pseudo-random bytes', () => {
    const bytes = pseudoRandomBytes(64 * 1024 * 1024, 0xc0ffee);
    expect(scanAll(bytes)).toEqual([]);
  });
});

// ── A real core dump of ssh-agent ────────────────────────────────────────────────────────────
const agentTools = ['ssh-agent', 'ssh-add', 'gcore'].filter((t) => !hasCommand(t));
if (agentTools.length > 0) console.warn(`skipping the ssh-agent core dump test: ${agentTools.join(', ')} not found on PATH`);

describe.skipIf(agentTools.length > 0)('a real gcore dump of ssh-agent holding an Ed25519 and an RSA key', () => {
  const dir = path.join(tmp, 'agent');
  const socket = path.join(dir, 'agent.sock');
  let agent: ChildProcess | undefined;
  let core = '';

  beforeAll(async () => {
    sh('mkdir', ['-m', '700', dir]);
    agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    const deadline = Date.now() + 5000;
    while (!existsSync(socket)) {
      if (Date.now() > deadline || agent.exitCode !== null) throw new Error('ssh-agent did not create its socket');
      await new Promise((r) => setTimeout(r, 20));
    }
    sh('ssh-add', [ed25519Key.file, rsaKey.file], { ...process.env, SSH_AUTH_SOCK: socket });
    sh('gcore', ['-o', path.join(dir, 'agent'), String(agent.pid)]);
    const name = readdirSync(dir).find((f) => f.startsWith('agent.') && f !== 'agent.sock');
    if (!name) throw new Error('gcore wrote no core file');
    core = path.join(dir, name);
    killAgent();
  });
  const killAgent = () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) agent.kill('SIGTERM');
  };
  afterAll(killAgent);

  /** Field `index` (0 = type, 1 = n, 2 = e, 3 = d) of the RSA key's private section, without leading zeros. */
  const rsaField = (index: number): Buffer => {
    const c = rsaKey.container;
    let p = containerLayout(c).privateSection + 8;
    for (let i = 0; i < index; i++) p += 4 + c.readUInt32BE(p);
    const value = c.subarray(p + 4, p + 4 + c.readUInt32BE(p));
    return value[0] === 0 ? value.subarray(1) : value;
  };

  test('no false high: every high finding is one of the two added keys', async () => {
    const added = [ed25519Key.fingerprint!, rsaKey.fingerprint!];
    const bytes = readFileSync(core);
    // What is really in the agent's memory, independently of dumpguard: the public keys, and
    // (unless OpenSSH shields keys in memory) the private parts.
    const { privateSection } = containerLayout(ed25519Key.container);
    const seed = ed25519Key.container.subarray(privateSection + 8 + 4 + 11 + 4 + 32 + 4, privateSection + 8 + 4 + 11 + 4 + 32 + 4 + 32);
    const edPublic = ed25519Key.container.subarray(privateSection + 8 + 4 + 11 + 4, privateSection + 8 + 4 + 11 + 4 + 32);
    const presence = {
      coreBytes: bytes.length,
      ed25519PublicKey: bytes.indexOf(edPublic) !== -1,
      ed25519Seed: bytes.indexOf(seed) !== -1,
      // OpenSSL keeps BIGNUMs as little-endian words: look for both byte orders.
      rsaModulus: [rsaField(1), Buffer.from(rsaField(1)).reverse()].some((v) => bytes.indexOf(v) !== -1),
      rsaPrivateExponent: [rsaField(3), Buffer.from(rsaField(3)).reverse()].some((v) => bytes.indexOf(v) !== -1),
      opensshMagic: bytes.indexOf('openssh-key-v1') !== -1,
    };

    const { findings, summary } = await scan([core], { jobs: 2 });
    const summaryOf = (f: Finding) => ({ offset: f.offset, length: f.length, detector: f.detector, kind: f.kind, severity: f.severity, encoding: f.encoding, fingerprint: f.fingerprint, addedKey: f.fingerprint ? added.includes(f.fingerprint) : false });
    console.log(`ssh-agent core (${path.basename(core)}):`, JSON.stringify(presence), `\nfindings (${findings.length}):`, JSON.stringify(findings.map(summaryOf), null, 1));
    expect(summary.errors).toEqual([]);
    expect(summary.bytes).toBe(bytes.length);
    for (const f of findings.filter((x) => x.severity === 'high' || x.severity === 'critical')) {
      expect(added, `high finding at ${f.offset} (${f.detector}, ${f.kind})`).toContain(f.fingerprint);
    }
  });
});
