// Formats through the whole scan: findings carry the address and region the dump's own map
// gives, computed here independently of src/ (readelf, the minidump builder's known layout).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { scan } from '../../dist/index.js';
import { fingerprintOf, pkcs8Pem, testKeys } from '../helpers/keys.js';
import { runCli } from '../helpers/cli.js';
import { cutPoints, readelfAddressOf, readelfLoads } from './helpers.js';
import { buildMinidump } from './minidump-builder.js';

const root = new URL('../..', import.meta.url).pathname;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dumpguard-annotations-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});
const keys = testKeys();
const hasGcore = existsSync('/usr/bin/gcore');

describe('ELF cores', () => {
  test('the shipped sample: address and region from the program headers', async () => {
    const core = path.join(root, 'samples/core-holdkey-pem.core');
    const offset = JSON.parse(readFileSync(path.join(root, 'samples/offsets.json'), 'utf8'))['core-holdkey-pem.core']['test-key-rsa2048.pem'][0];
    const expected = readelfAddressOf(readelfLoads(core), offset)!;
    const { findings, summary } = await scan([core], { jobs: 1 });
    expect(findings.map((f) => ({ offset: f.offset, address: f.address }))).toEqual([{ offset, address: '0x' + expected.address.toString(16) }]);
    expect(findings[0].region).toMatch(/^\[0x[0-9a-f]+-0x[0-9a-f]+\) rw-p anon$/);
    expect(summary.perFile[0]).toMatchObject({ format: 'elf-core', facts: { command: 'holdkey' } });
  });

  test.skipIf(!hasGcore)('a live node process holding a PEM key: found at the address readelf gives', async () => {
    const pem = pkcs8Pem(keys.ec.privateKey);
    const keyFile = path.join(tmp, 'node-key.pem');
    writeFileSync(keyFile, pem);
    // The PEM stays in the JS heap as a one-byte string; --jitless keeps the core small.
    const child = spawn(process.execPath, ['--jitless', '-e', `globalThis.keep = require('fs').readFileSync(${JSON.stringify(keyFile)}, 'latin1'); require('crypto').createPrivateKey(globalThis.keep); console.log('ready'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    const prefix = path.join(tmp, 'node');
    execFileSync('gcore', ['-o', prefix, String(child.pid)], { stdio: 'ignore' });
    child.kill('SIGKILL');
    const core = `${prefix}.${child.pid}`;
    const loads = readelfLoads(core);
    const { findings, summary } = await scan([core], { jobs: 2 });
    const ours = findings.filter((f) => f.fingerprint === keys.ec.fingerprint);
    expect(ours.length).toBeGreaterThanOrEqual(1);
    for (const f of findings) {
      const expected = readelfAddressOf(loads, f.offset);
      expect(f.address, `finding at ${f.offset}`).toBe(expected ? '0x' + expected.address.toString(16) : undefined);
    }
    for (const f of ours) expect(f.region).toMatch(/rw-p/);
    // No key other than the one the process loaded is claimed with high confidence.
    expect(findings.filter((f) => f.severity === 'high' && f.fingerprint !== keys.ec.fingerprint)).toEqual([]);
    expect(summary.perFile[0].facts).toMatchObject({ pid: child.pid });
  }, 120_000);
});

describe('ELF cores of openssl s_server', () => {
  test.skipIf(!hasGcore)('a live s_server holding a TLS key: every finding at the address readelf gives, no stranger high', async () => {
    const keyFile = path.join(tmp, 'server.key');
    const certFile = path.join(tmp, 'server.crt');
    writeFileSync(keyFile, pkcs8Pem(keys.ec.privateKey));
    execFileSync('openssl', ['req', '-x509', '-key', keyFile, '-out', certFile, '-subj', '/CN=dumpguard test', '-days', '1'], { stdio: 'ignore' });
    const child = spawn('openssl', ['s_server', '-key', keyFile, '-cert', certFile, '-accept', '127.0.0.1:0', '-www'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(child);
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve())); // "ACCEPT": the key is loaded
    const prefix = path.join(tmp, 's_server');
    execFileSync('gcore', ['-o', prefix, String(child.pid)], { stdio: 'ignore' });
    child.kill('SIGKILL');
    const core = `${prefix}.${child.pid}`;
    const loads = readelfLoads(core);
    const { findings, summary } = await scan([core], { jobs: 2 });
    // What is really there depends on how OpenSSL freed the PEM it read: whatever is found
    // must be placed exactly, and no key but the server's may be claimed with high severity.
    for (const f of findings) {
      const expected = readelfAddressOf(loads, f.offset);
      expect(f.address, `finding at ${f.offset}`).toBe(expected ? '0x' + expected.address.toString(16) : undefined);
    }
    expect(findings.filter((f) => f.severity === 'high' && f.fingerprint !== keys.ec.fingerprint)).toEqual([]);
    // The openssl executable carries `openssl speed`'s RSA test keys in its data segment: they
    // are found, placed in the executable's mapping, and lowered as published test keys.
    for (const f of findings.filter((x) => x.fingerprint !== keys.ec.fingerprint)) {
      expect(f.severity).toBe('low');
      expect(f.note).toMatch(/published test key \(OpenSSL apps\/testrsa\.h test_rsa_\d+\)/);
      expect(f.region).toMatch(/ openssl$/);
    }
    expect(summary.perFile[0]).toMatchObject({ format: 'elf-core', facts: { pid: child.pid } });
    expect(String(summary.perFile[0].facts?.command)).toContain('openssl');
    console.log(`s_server core: ${findings.length} finding(s): ${findings.map((f) => `${f.kind}@${f.address} ${f.region}`).join('; ') || 'none'}`);
  }, 60_000);
});

describe('minidumps', () => {
  test('a key inside a thread stack range: address and region', async () => {
    const pem = Buffer.from(pkcs8Pem(keys.ed25519.privateKey));
    const built = buildMinidump({ payloads: [undefined as never, pem, undefined as never] });
    const file = path.join(tmp, 'built.dmp');
    writeFileSync(file, built.bytes);
    const { findings } = await scan([file], { jobs: 1 });
    const stack = built.markers[1];
    expect(findings.map((f) => ({ offset: f.offset, kind: f.kind, fingerprint: f.fingerprint, address: f.address, region: f.region }))).toEqual([
      { offset: stack.offset, kind: 'ed25519-private-key', fingerprint: keys.ed25519.fingerprint, address: stack.expected.address, region: 'thread 4242 stack' },
    ]);
  });

  test('key-shaped bytes that do not validate, inside a module image, are lowered one level and say so', async () => {
    const pem = pkcs8Pem(keys.rsa.privateKey);
    const cut = Buffer.from(pem.slice(0, 600)); // truncated: medium on its own
    const built = buildMinidump({ payloads: [cut, undefined as never, undefined as never] });
    const file = path.join(tmp, 'module.dmp');
    writeFileSync(file, built.bytes);
    const { findings } = await scan([file], { jobs: 1 });
    expect(findings.map((f) => ({ offset: f.offset, severity: f.severity, region: f.region }))).toEqual([{ offset: built.markers[0].offset, severity: 'low', region: 'module signer.dll' }]);
    expect(findings[0].note).toMatch(/truncated.*read-only mapping of module signer\.dll/);
  });

  const shared = path.join(root, '../shared/samples/minidump');
  test.skipIf(!existsSync(shared))('the shared real minidumps: recognised, zero findings', async () => {
    const { findings, summary } = await scan([shared], { jobs: 1 });
    expect(findings).toEqual([]);
    expect(summary.perFile.map((f) => [path.basename(f.path), f.format])).toEqual([
      ['SOURCES.md', 'raw'],
      ['win-xp-x86-test.dmp', 'minidump'],
      ['win10-x64-invalid-parameter.dmp', 'minidump'],
    ]);
  });
});

describe('heap dumps', () => {
  test('a V8 heap snapshot: the PEM string is found at its offset and named by its strings[] index', async () => {
    const pem = pkcs8Pem(keys.ec.privateKey);
    const keyFile = path.join(tmp, 'v8-key.pem');
    writeFileSync(keyFile, pem);
    const snapshot = path.join(tmp, 'process.heapsnapshot');
    execFileSync(process.execPath, ['-e', `globalThis.keep = require('fs').readFileSync(${JSON.stringify(keyFile)}, 'latin1'); require('v8').writeHeapSnapshot(${JSON.stringify(snapshot)});`]);
    const text = readFileSync(snapshot, 'latin1');
    const escaped = JSON.stringify(pem).slice(1, -1);
    const offset = text.indexOf(escaped);
    expect(offset).toBeGreaterThan(0);
    // The index, independently: which element of the parsed strings table holds the PEM.
    const index = (JSON.parse(text).strings as string[]).indexOf(pem);
    const { findings, summary } = await scan([snapshot], { jobs: 1 });
    const ours = findings.filter((f) => f.fingerprint === keys.ec.fingerprint);
    expect(ours.map((f) => ({ offset: f.offset, encoding: f.encoding, region: f.region }))).toEqual([{ offset, encoding: 'json-escaped', region: `strings[${index}]` }]);
    expect(summary.perFile[0].format).toBe('v8-heap-snapshot');
  }, 60_000);
});

describe('truncated dumps', () => {
  test('cut at 10 points: scanned as far as they go, truncation reported, exit 2 only under --strict', async () => {
    const core = readFileSync(path.join(root, 'samples/core-holdkey-pem.core'));
    const offset = JSON.parse(readFileSync(path.join(root, 'samples/offsets.json'), 'utf8'))['core-holdkey-pem.core']['test-key-rsa2048.pem'][0];
    const pem = readFileSync(path.join(root, 'samples/test-key-rsa2048.pem'), 'utf8');
    for (const cutAt of cutPoints(core.length, 10, 7)) {
      const file = path.join(tmp, `cut-${cutAt}.core`);
      writeFileSync(file, core.subarray(0, cutAt));
      const keyWhole = cutAt >= offset + pem.trimEnd().length;
      const loose = await runCli(['scan', file, '--format', 'json']);
      const doc = JSON.parse(loose.stdoutText);
      expect(loose.code, `cut at ${cutAt}`).toBe(doc.findings.some((f: { severity: string }) => f.severity !== 'low') ? 1 : 0);
      expect(doc.summary.warnings.some((w: { reason: string }) => w.reason.startsWith('truncated')), `cut at ${cutAt}`).toBe(true);
      if (keyWhole) expect(doc.findings.map((f: { offset: number; fingerprint: string }) => [f.offset, f.fingerprint])).toEqual([[offset, fingerprintOf(createPrivateKey(pem))]]);
      const strict = await runCli(['scan', file, '--strict', '--format', 'jsonl']);
      expect(strict.code, `--strict, cut at ${cutAt}`).toBe(2);
      expect(strict.stderrText).toMatch(/truncated: headers declare \d+ bytes, file has \d+/);
    }
  }, 120_000);
});
