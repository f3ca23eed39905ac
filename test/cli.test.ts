// End-to-end tests of the BUILT binary (node dist/cli.js): formats, exit codes, stdin and
// FIFOs, folder walks, special files, read errors, worker faults, redaction. Build first:
// npx tsc -p tsconfig.json. Keys are generated at test time (test/helpers/keys.ts).
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliPath, jsonlFindings, runCli, spawnCli, type CliResult } from './helpers/cli.js';
import { fingerprintOf, jsonEscaped, pkcs8Pem, pseudoRandomBytes, testKeys, utf16le } from './helpers/keys.js';
import { tempTree } from './helpers/temp-tree.js';

const packageVersion: string = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const isRoot = process.getuid?.() === 0;
const FINDING_KEYS = ['path', 'offset', 'length', 'detector', 'kind', 'severity', 'confidence', 'encoding', 'fingerprint', 'evidence'];
const MiB = 1024 * 1024;

const { root, put } = tempTree('dumpguard-cli-');

// ---- keys and the findings they must produce ----------------------------------------------

const keys = testKeys();
const ed25519b = generateKeyPairSync('ed25519').privateKey; // a second Ed25519 key, for the UTF-16LE copy
const pems = {
  rsa: pkcs8Pem(keys.rsa.privateKey),
  ec: pkcs8Pem(keys.ec.privateKey),
  ed25519: pkcs8Pem(keys.ed25519.privateKey),
  rsaPkcs1: keys.rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
  ed25519b: pkcs8Pem(ed25519b),
};

/** The base64 body of a PEM, lines joined. */
function pemBody(pem: string): string {
  return pem.split('\n').filter((line) => line && !line.startsWith('-----')).join('');
}
function pemLabel(pem: string): string {
  return /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)![1];
}
/** A finding spans from `-----BEGIN` to the last dash of the END line: the PEM minus its final "\n". */
function armorLength(pem: string): number {
  expect(pem.endsWith('\n')).toBe(true);
  return Buffer.byteLength(pem) - 1;
}
function evidenceOf(pem: string): string {
  const body = pemBody(pem);
  return `-----BEGIN ${pemLabel(pem)}----- ${body.slice(0, 4)}…(${body.length} chars)`;
}

interface Expected {
  path: string;
  offset: number;
  length: number;
  kind: string;
  encoding?: string;
  key: KeyObject;
  pem: string;
}

/** The whole finding, in contract field order. */
function finding(e: Expected): Record<string, unknown> {
  return {
    path: e.path,
    offset: e.offset,
    length: e.length,
    detector: 'pem',
    kind: e.kind,
    severity: 'high',
    confidence: expect.any(Number),
    encoding: e.encoding ?? 'ascii',
    fingerprint: fingerprintOf(e.key),
    evidence: evidenceOf(e.pem),
  };
}

function expectFinding(actual: Record<string, unknown>, e: Expected): void {
  expect(Object.keys(actual)).toEqual(FINDING_KEYS);
  expect(actual).toEqual(finding(e));
  expect(actual.confidence as number).toBeGreaterThanOrEqual(0.9);
  expect(actual.confidence as number).toBeLessThanOrEqual(1);
}

/** A FIFO writer blocks in open() until a reader comes; if dumpguard never opened it, release it. */
function releaseFifoWriter(fifo: string, writer: fs.WriteStream): void {
  if (writer.pending) {
    try {
      fs.closeSync(fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
    } catch {
      // nothing to release
    }
  }
  writer.destroy();
}

function parseJson(result: CliResult): any {
  return JSON.parse(result.stdoutText);
}

// ---- fixtures -------------------------------------------------------------------------------

const plantedBytes = Buffer.concat([pseudoRandomBytes(1000, 1), Buffer.from(pems.rsa), pseudoRandomBytes(1000, 2)]);
const planted = put('planted.bin', plantedBytes);
const plantedExpected = (p = planted): Expected => ({ path: p, offset: 1000, length: armorLength(pems.rsa), kind: 'rsa-private-key', key: keys.rsa.privateKey, pem: pems.rsa });
const clean = put('clean.bin', pseudoRandomBytes(5000, 3));
const missing = path.join(root, 'does-not-exist.core');

// =============================================================================================

describe.concurrent('report formats on a planted RSA PKCS#8 key', () => {
  test('--format jsonl: exactly one line, the contract fields in order, summary on stderr', async ({ expect }) => {
    const r = await runCli(['scan', planted, '--format', 'jsonl']);
    expect(r.code).toBe(1);
    const lines = r.stdoutText.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    const f = JSON.parse(lines[0]);
    expectFinding(f, plantedExpected());
    expect(r.stdoutText).toBe(lines[0] + '\n');
    expect(r.stderrText).toContain('scanned 1 file');
    expect(r.stderrText).toContain(`${plantedBytes.length} bytes`);
    expect(r.stderrText).toContain('findings: 1 (critical 0, high 1, medium 0, low 0)');
  });

  test('--format json: one document {version, tool, findings, summary, errors}', async ({ expect }) => {
    const r = await runCli(['scan', planted, '--format', 'json']);
    expect(r.code).toBe(1);
    const doc = parseJson(r);
    expect(Object.keys(doc)).toEqual(['version', 'tool', 'complete', 'findings', 'summary', 'errors']);
    expect(doc.complete).toBe(true);
    expect(doc.version).toBe(1);
    expect(doc.tool).toEqual({ name: 'dumpguard', version: packageVersion });
    expect(doc.findings).toHaveLength(1);
    expectFinding(doc.findings[0], plantedExpected());
    expect(doc.summary.files).toBe(1);
    expect(doc.summary.bytes).toBe(fs.statSync(planted).size);
    expect(doc.summary.findingsBySeverity).toEqual({ critical: 0, high: 1, medium: 0, low: 0 });
    expect(doc.summary.skipped).toEqual([]);
    expect(doc.summary.warnings).toEqual([]);
    expect(doc.summary.perFile).toEqual([{ path: planted, format: 'raw', bytes: plantedBytes.length, scannedBytes: plantedBytes.length, skippedRanges: [], findings: 1 }]);
    expect(doc.summary.interrupted).toBe(false);
    expect(doc.summary).not.toHaveProperty('errors');
    expect(doc.errors).toEqual([]);
    expect(r.stderrText).toContain('scanned 1 file');
  });

  test('--format text (the default): one line per finding, then the summary', async ({ expect }) => {
    for (const args of [['scan', planted, '--format', 'text'], ['scan', planted]]) {
      const r = await runCli(args);
      expect(r.code).toBe(1);
      const lines = r.stdoutText.split('\n');
      const first = lines[0];
      expect(first.startsWith(`${planted}:0x3e8 (1000)`)).toBe(true);
      expect(first).toContain(`len ${armorLength(pems.rsa)}`);
      expect(first).toContain('HIGH');
      expect(first).toContain('rsa-private-key');
      expect(first).toContain('[pem/ascii]');
      expect(first).toContain(keys.rsa.fingerprint);
      expect(first).toContain(`-----BEGIN PRIVATE KEY----- MIIE…(${pemBody(pems.rsa).length} chars)`);
      expect(lines[1]).toMatch(new RegExp(`^scanned 1 file\\(s\\), ${plantedBytes.length} bytes in `));
      expect(lines[2]).toBe('findings: 1 (critical 0, high 1, medium 0, low 0)');
      expect(lines[3]).toBe('skipped: 0');
      expect(lines[4]).toBe('errors: 0');
      expect(lines.slice(5)).toEqual(['']);
      expect(r.stderrText).toBe('');
    }
  });

  test.each(['jsonl', 'json', 'text'])('--output FILE with --format %s: the report goes to the file, stdout stays empty', async (format) => {
    const out = path.join(root, `report-${format}.out`);
    const r = await runCli(['scan', planted, '--format', format, '--output', out]);
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBe(0);
    const written = fs.readFileSync(out, 'utf8');
    if (format === 'jsonl') {
      const lines = written.split('\n');
      expect(lines).toHaveLength(2);
      expectFinding(JSON.parse(lines[0]), plantedExpected());
      expect(r.stderrText).toContain('scanned 1 file');
    } else if (format === 'json') {
      const doc = JSON.parse(written);
      expect(doc.findings).toHaveLength(1);
      expectFinding(doc.findings[0], plantedExpected());
      expect(doc.summary.files).toBe(1);
      expect(r.stderrText).toContain('scanned 1 file');
    } else {
      expect(written.startsWith(`${planted}:0x3e8 (1000)`)).toBe(true);
      expect(written).toContain(keys.rsa.fingerprint);
      expect(written).toContain('scanned 1 file');
      expect(r.stderrText).toBe('');
    }
  });

  test('--output to a path that cannot be created fails closed: exit 2, stderr names it (clean input too)', async ({ expect }) => {
    const bad = path.join(root, 'no-such-dir', 'report.json');
    for (const input of [clean, planted]) {
      const r = await runCli(['scan', input, '--format', 'json', '--output', bad]);
      expect(r.code).toBe(2);
      expect(r.stderrText).toContain(bad);
    }
  });
});

// =============================================================================================

describe.concurrent('exit codes', () => {
  test.each([
    { name: 'a clean file', args: () => [clean], code: 0, found: 0 },
    { name: 'a key file', args: () => [planted], code: 1, found: 1 },
    { name: 'a key file, --fail-on none', args: () => [planted, '--fail-on', 'none'], code: 0, found: 1 },
    { name: 'a high finding, --fail-on critical', args: () => [planted, '--fail-on', 'critical'], code: 0, found: 1 },
    { name: 'a high finding, --fail-on high', args: () => [planted, '--fail-on', 'high'], code: 1, found: 1 },
    { name: 'a high finding, --fail-on low', args: () => [planted, '--fail-on', 'low'], code: 1, found: 1 },
    { name: 'a clean and a key file', args: () => [clean, planted], code: 1, found: 1 },
  ])('$name → exit $code', async ({ args, code, found }) => {
    const r = await runCli(['scan', ...args(), '--format', 'jsonl']);
    expect(r.code).toBe(code);
    const findings = jsonlFindings(r);
    expect(findings).toHaveLength(found);
    if (found) expectFinding(findings[0], plantedExpected());
    expect(r.stderrText).not.toContain('dumpguard: error');
    expect(r.stderrText).toContain('errors: 0');
  });

  test('a nonexistent path → exit 2, stderr names the path', async ({ expect }) => {
    const r = await runCli(['scan', missing, '--format', 'jsonl']);
    expect(r.code).toBe(2);
    expect(r.stdoutText).toBe('');
    expect(r.stderrText).toContain(`dumpguard: error: ${missing}`);
    expect(r.stderrText).toContain('ENOENT');
  });

  test('a nonexistent path beside a key file → exit 2 (errors win), and the key is still reported', async ({ expect }) => {
    for (const args of [[missing, planted], [planted, missing]]) {
      const r = await runCli(['scan', ...args, '--format', 'jsonl']);
      expect(r.code).toBe(2);
      const findings = jsonlFindings(r);
      expect(findings).toHaveLength(1);
      expectFinding(findings[0], plantedExpected());
      expect(r.stderrText).toContain(missing);
    }
  });

  test('errors win over findings in json too: errors[] names the path, findings kept', async ({ expect }) => {
    const r = await runCli(['scan', missing, planted, '--format', 'json']);
    expect(r.code).toBe(2);
    const doc = parseJson(r);
    expect(doc.findings).toHaveLength(1);
    expectFinding(doc.findings[0], plantedExpected());
    expect(doc.errors).toHaveLength(1);
    expect(doc.errors[0].path).toBe(missing);
    expect(doc.errors[0].message).toContain('ENOENT');
  });

  test.each([
    { name: '--format xml', args: () => ['scan', planted, '--format', 'xml'] },
    { name: '--jobs 0', args: () => ['scan', planted, '--jobs', '0'] },
    { name: '--jobs 1.5', args: () => ['scan', planted, '--jobs', '1.5'] },
    { name: '--chunk-size 12q', args: () => ['scan', planted, '--chunk-size', '12q'] },
    { name: '--chunk-size below 4k', args: () => ['scan', planted, '--chunk-size', '1k'] },
    { name: '--fail-on bogus', args: () => ['scan', planted, '--fail-on', 'bogus'] },
    { name: 'an unknown option', args: () => ['scan', planted, '--no-such-option'] },
    { name: 'scan without paths', args: () => ['scan'] },
    { name: 'an unknown command', args: () => ['frobnicate', planted] },
  ])('invalid usage ($name) → exit 2, nothing on stdout, a message on stderr', async ({ args }) => {
    const r = await runCli(args());
    expect(r.code).toBe(2);
    expect(r.stdoutText).toBe('');
    expect(r.stderrText.length).toBeGreaterThan(0);
  });

  test.each([{ args: ['--help'] }, { args: ['scan', '--help'] }])('$args → exit 0, usage and Examples on stdout', async ({ args }) => {
    const r = await runCli(args);
    expect(r.code).toBe(0);
    expect(r.stdoutText).toContain('Usage: dumpguard');
    expect(r.stdoutText).toContain('Examples');
    expect(r.stdoutText).toContain('Exit codes');
  });

  test('--version → exit 0, prints the package version', async ({ expect }) => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdoutText.trim()).toBe('0.1.0');
    expect(r.stdoutText.trim()).toBe(packageVersion);
  });
});

// =============================================================================================

describe.concurrent('standard input (-)', () => {
  test('a piped key is found at its stream offset', async ({ expect }) => {
    const r = await runCli(['scan', '-', '--format', 'jsonl'], { stdin: plantedBytes });
    expect(r.code).toBe(1);
    const findings = jsonlFindings(r);
    expect(findings).toHaveLength(1);
    expectFinding(findings[0], plantedExpected('-'));
    expect(r.stderrText).toContain(`scanned 1 file(s), ${plantedBytes.length} bytes`);
  });

  test.each([
    { name: 'straddling the first chunk boundary', at: 4000 },
    { name: 'with its BEGIN marker split by the boundary', at: 4096 - 5 },
    { name: 'starting exactly on the boundary', at: 4096 },
    { name: 'starting one byte before the second boundary', at: 8191 },
  ])('--chunk-size 4k, a key $name (offset $at) → same offset, found once', async ({ at }) => {
    const bytes = Buffer.concat([pseudoRandomBytes(at, 21), Buffer.from(pems.rsa), pseudoRandomBytes(3000, 22)]);
    const r = await runCli(['scan', '-', '--chunk-size', '4k', '--jobs', '2', '--format', 'jsonl'], { stdin: bytes });
    expect(r.code).toBe(1);
    const findings = jsonlFindings(r);
    expect(findings).toHaveLength(1);
    expectFinding(findings[0], { ...plantedExpected('-'), offset: at });
  });

  // 3 MiB with an RSA key at 1 MiB + 123 and an EC key ending 50 bytes before the end.
  const big = pseudoRandomBytes(3 * MiB, 31);
  const rsaAt = MiB + 123;
  const ecAt = big.length - armorLength(pems.ec) - 1 - 50;
  Buffer.from(pems.rsa).copy(big, rsaAt);
  Buffer.from(pems.ec).copy(big, ecAt);
  const bigFile = put('big.bin', big);
  const bigExpected = (p: string): Expected[] => [
    { path: p, offset: rsaAt, length: armorLength(pems.rsa), kind: 'rsa-private-key', key: keys.rsa.privateKey, pem: pems.rsa },
    { path: p, offset: ecAt, length: armorLength(pems.ec), kind: 'ec-private-key', key: keys.ec.privateKey, pem: pems.ec },
  ];

  test('3 MiB of stdin with --chunk-size 64k → both keys at exact offsets', async ({ expect }) => {
    const r = await runCli(['scan', '-', '--chunk-size', '64k', '--format', 'jsonl'], { stdin: big, timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    const findings = jsonlFindings(r);
    expect(findings).toHaveLength(2);
    bigExpected('-').forEach((e, i) => expectFinding(findings[i], e));
    expect(r.stderrText).toContain(`scanned 1 file(s), ${big.length} bytes`);
  }, 30_000);

  test('the same bytes as a regular file, --chunk-size 64k → the same findings', async ({ expect }) => {
    const r = await runCli(['scan', bigFile, '--chunk-size', '64k', '--format', 'jsonl'], { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    const findings = jsonlFindings(r);
    expect(findings).toHaveLength(2);
    bigExpected(bigFile).forEach((e, i) => expectFinding(findings[i], e));
  }, 30_000);

  test('empty stdin → exit 0 with an empty-input warning', async ({ expect }) => {
    const r = await runCli(['scan', '-', '--format', 'json'], { stdin: Buffer.alloc(0) });
    expect(r.code).toBe(0);
    const doc = parseJson(r);
    expect(doc.findings).toEqual([]);
    expect(doc.summary.warnings).toEqual([{ path: '-', reason: expect.stringMatching(/empty/) }]);
  });
});

// =============================================================================================

describe.concurrent('folders', () => {
  const tree = path.join(root, 'tree');
  const key2Offset = 300;
  put('tree/a/key1.pem', pems.rsa);
  put('tree/a/b/key2.core', Buffer.concat([pseudoRandomBytes(key2Offset, 41), Buffer.from(pems.ec), pseudoRandomBytes(700, 42)]));
  put('tree/c/clean.bin', pseudoRandomBytes(2048, 43));
  put('tree/.hidden/key3.pem', pems.ed25519);
  const expected = (base: string) => ({
    hidden: { path: path.join(base, '.hidden', 'key3.pem'), offset: 0, length: armorLength(pems.ed25519), kind: 'ed25519-private-key', key: keys.ed25519.privateKey, pem: pems.ed25519 },
    key2: { path: path.join(base, 'a', 'b', 'key2.core'), offset: key2Offset, length: armorLength(pems.ec), kind: 'ec-private-key', key: keys.ec.privateKey, pem: pems.ec },
    key1: { path: path.join(base, 'a', 'key1.pem'), offset: 0, length: armorLength(pems.rsa), kind: 'rsa-private-key', key: keys.rsa.privateKey, pem: pems.rsa },
  });

  test.each([
    { name: 'no filters (dotfiles included, sorted depth-first, byte order)', filters: [], want: ['hidden', 'key2', 'key1'] as const },
    { name: "--include '*.pem'", filters: ['--include', '*.pem'], want: ['hidden', 'key1'] as const },
    { name: "--exclude 'a/**'", filters: ['--exclude', 'a/**'], want: ['hidden'] as const },
    { name: "--include 'a/*.pem' (relative to the named folder)", filters: ['--include', 'a/*.pem'], want: ['key1'] as const },
    { name: "--include '**/*.core'", filters: ['--include', '**/*.core'], want: ['key2'] as const },
    { name: "--include '*.pem' --exclude '.hidden/**'", filters: ['--include', '*.pem', '--exclude', '.hidden/**'], want: ['key1'] as const },
  ])('$name', async ({ filters, want }) => {
    const r = await runCli(['scan', tree, ...filters, '--format', 'jsonl']);
    expect(r.code).toBe(1);
    const findings = jsonlFindings(r);
    const e = expected(tree);
    expect(findings.map((f) => f.path)).toEqual(want.map((k) => e[k].path));
    want.forEach((k, i) => expectFinding(findings[i], e[k]));
  });

  test('json summary: every file counted in walk order, including the clean one', async ({ expect }) => {
    const r = await runCli(['scan', tree, '--format', 'json']);
    expect(r.code).toBe(1);
    const doc = parseJson(r);
    const e = expected(tree);
    expect(doc.summary.files).toBe(4);
    expect(doc.summary.perFile.map((f: { path: string }) => f.path)).toEqual([e.hidden.path, e.key2.path, e.key1.path, path.join(tree, 'c', 'clean.bin')]);
    expect(doc.summary.perFile.map((f: { findings: number }) => f.findings)).toEqual([1, 1, 1, 0]);
    expect(doc.summary.findingsBySeverity).toEqual({ critical: 0, high: 3, medium: 0, low: 0 });
    expect(doc.summary.skipped).toEqual([]);
    expect(doc.errors).toEqual([]);
  });

  test('a relative folder name (cwd) gives relative paths, globs still relative to the folder', async ({ expect }) => {
    const r = await runCli(['scan', 'tree', '--include', 'a/**', '--format', 'jsonl'], { cwd: root });
    expect(r.code).toBe(1);
    const findings = jsonlFindings(r);
    const e = expected('tree');
    expect(findings.map((f) => f.path)).toEqual([e.key2.path, e.key1.path]);
    expectFinding(findings[0], e.key2);
    expectFinding(findings[1], e.key1);
  });

  // enumerate.ts promises "nothing is walked or scanned twice" (dev:ino identity).
  test.each([
    { name: 'a folder, then a file inside it', args: () => [tree, path.join(tree, 'a', 'key1.pem')], skippedPath: () => path.join(tree, 'a', 'key1.pem') },
    { name: 'a file inside a folder, then the folder', args: () => [path.join(tree, 'a', 'key1.pem'), tree], skippedPath: () => path.join(tree, 'a', 'key1.pem') },
  ])('$name: every key reported once, the repeat listed as skipped', async ({ args, skippedPath }) => {
    const r = await runCli(['scan', ...args(), '--format', 'json']);
    expect(r.code).toBe(1);
    const doc = parseJson(r);
    const e = expected(tree);
    expect(doc.findings.map((f: { path: string }) => f.path).sort()).toEqual([e.hidden.path, e.key2.path, e.key1.path].sort());
    expect(doc.summary.skipped).toEqual([{ path: skippedPath(), reason: expect.stringMatching(/same file/) }]);
  });

  test('the same file named twice is scanned once', async ({ expect }) => {
    const r = await runCli(['scan', planted, planted, '--format', 'jsonl']);
    expect(r.code).toBe(1);
    const findings = jsonlFindings(r);
    expect(findings).toHaveLength(1);
    expectFinding(findings[0], plantedExpected());
  });

  test('a filter that matches nothing → exit 0, no findings', async ({ expect }) => {
    const r = await runCli(['scan', tree, '--include', '*.nothing', '--format', 'json']);
    expect(r.code).toBe(0);
    const doc = parseJson(r);
    expect(doc.findings).toEqual([]);
    expect(doc.summary.files).toBe(0);
  });
});

// =============================================================================================

describe.concurrent('FIFOs and symbolic links', () => {
  const special = path.join(root, 'special');
  put('special/key.pem', plantedBytes);
  execFileSync('mkfifo', [path.join(special, 'fifo')]);
  fs.mkdirSync(path.join(special, 'sub'));
  fs.symlinkSync('..', path.join(special, 'sub', 'loop')); // sub/loop → special: a loop
  fs.mkdirSync(path.join(special, 'x'));
  fs.mkdirSync(path.join(special, 'y'));
  fs.symlinkSync('../y', path.join(special, 'x', 'toy')); // x/toy → y, y/tox → x: a → b → a
  fs.symlinkSync('../x', path.join(special, 'y', 'tox'));
  fs.symlinkSync('key.pem', path.join(special, 'linked.pem')); // the same file through a link
  const keyPath = path.join(special, 'key.pem');

  test('without --follow-symlinks: the FIFO and every link are skipped, the key found, no hang', async ({ expect }) => {
    const r = await runCli(['scan', special, '--format', 'json'], { timeoutMs: 15_000 });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(1);
    const doc = parseJson(r);
    expect(doc.findings).toHaveLength(1);
    expectFinding(doc.findings[0], plantedExpected(keyPath));
    const skipped: Array<{ path: string; reason: string }> = doc.summary.skipped;
    expect(skipped.map((s) => s.path)).toEqual(
      ['fifo', 'linked.pem', 'sub/loop', 'x/toy', 'y/tox'].map((p) => path.join(special, p)),
    );
    expect(skipped[0].reason).toMatch(/FIFO/);
    for (const s of skipped.slice(1)) expect(s.reason).toMatch(/symbolic link/);
    expect(doc.errors).toEqual([]);
    expect(doc.summary.files).toBe(1);
  }, 20_000);

  test('with --follow-symlinks: loops detected, the key found exactly once, no hang', async ({ expect }) => {
    const r = await runCli(['scan', special, '--follow-symlinks', '--format', 'json'], { timeoutMs: 15_000 });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(1);
    const doc = parseJson(r);
    expect(doc.findings).toHaveLength(1);
    expectFinding(doc.findings[0], plantedExpected(keyPath));
    const skipped: Array<{ path: string; reason: string }> = doc.summary.skipped;
    const reasonOf = (p: string) => skipped.find((s) => s.path === path.join(special, p))?.reason;
    expect(reasonOf('fifo')).toMatch(/FIFO/);
    expect(reasonOf('linked.pem')).toMatch(/same file/);
    expect(reasonOf('sub/loop')).toMatch(/loop/);
    // x/toy leads into y, whose link back to x closes the loop there.
    expect(reasonOf('x/toy/tox')).toMatch(/loop/);
    expect(skipped.filter((s) => /loop/.test(s.reason)).length).toBeGreaterThanOrEqual(2);
    expect(doc.errors).toEqual([]);
    expect(doc.summary.files).toBe(1);
  }, 20_000);

  test('a FIFO named on the command line is read like stdin: the key is at its stream offset', async ({ expect }) => {
    const fifo = path.join(root, 'named.fifo');
    execFileSync('mkfifo', [fifo]);
    const { done } = spawnCli(['scan', fifo, '--format', 'jsonl'], { timeoutMs: 15_000 });
    const bytes = Buffer.concat([pseudoRandomBytes(77, 51), Buffer.from(pems.rsa), pseudoRandomBytes(500, 52)]);
    const writer = fs.createWriteStream(fifo);
    writer.on('error', () => {});
    writer.end(bytes);
    const r = await done;
    releaseFifoWriter(fifo, writer);
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(1);
    const findings = jsonlFindings(r);
    expect(findings).toHaveLength(1);
    expectFinding(findings[0], { ...plantedExpected(fifo), offset: 77 });
    expect(r.stderrText).toContain(`scanned 1 file(s), ${bytes.length} bytes`);
  }, 20_000);

  /** Starts a scan that waits on an idle FIFO (after `before`), then sends it `signal`. */
  async function interruptWhileWaitingOnFifo(name: string, before: string[], format: string, signal: NodeJS.Signals) {
    const fifo = path.join(root, name);
    execFileSync('mkfifo', [fifo]);
    const { child, done } = spawnCli(['scan', ...before, fifo, '--format', format, '--jobs', '1'], { timeoutMs: 8_000 });
    const writer = fs.createWriteStream(fifo);
    writer.on('error', () => {});
    try {
      // The FIFO opens for writing only once dumpguard has opened it for reading, which is
      // after its signal handlers are installed.
      await new Promise<void>((resolve, reject) => {
        writer.once('open', () => resolve());
        writer.once('error', reject);
      });
      writer.write(pseudoRandomBytes(100, 53));
      child.kill(signal);
      return await done;
    } finally {
      child.kill('SIGKILL');
      releaseFifoWriter(fifo, writer);
    }
  }

  test('SIGTERM while a named FIFO is idle stops the scan: exit 143 (interrupted), no hang', async ({ expect }) => {
    const r = await interruptWhileWaitingOnFifo('idle.fifo', [], 'jsonl', 'SIGTERM');
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(143);
    expect(r.stderrText).toContain('interrupted (SIGTERM)');
  }, 20_000);

  test('SIGINT: the report so far is written with "complete": false, exit 130', async ({ expect }) => {
    const r = await interruptWhileWaitingOnFifo('idle-int.fifo', [planted], 'json', 'SIGINT');
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(130);
    const doc = JSON.parse(r.stdoutText);
    expect(doc.complete).toBe(false);
    expect(doc.summary.interrupted).toBe(true);
    // Only files that finished before the interrupt are in it (the planted one, if it did).
    expect(doc.findings.every((f: { path: string }) => f.path === planted)).toBe(true);
    expect(r.stderrText).toContain('interrupted (SIGINT)');
  }, 20_000);
});

// =============================================================================================

describe.concurrent('unreadable inputs fail closed (exit 2, the path named)', () => {
  const notADir = path.join(put('regular.bin', pseudoRandomBytes(64, 61)), 'child');
  const dangling = path.join(root, 'dangling.link');
  fs.symlinkSync(path.join(root, 'nowhere'), dangling);

  test.each([
    { name: 'a path through a regular file (ENOTDIR)', target: () => notADir, message: /ENOTDIR/ },
    { name: 'a dangling symbolic link named directly', target: () => dangling, message: /ENOENT/ },
    { name: 'a character device named directly', target: () => '/dev/null', message: /character device/ },
  ])('$name', async ({ target, message }) => {
    for (const format of ['jsonl', 'text']) {
      const r = await runCli(['scan', target(), planted, '--format', format]);
      expect(r.code).toBe(2);
      expect(r.stderrText).toContain(`dumpguard: error: ${target()}`);
      expect(r.stderrText).toMatch(message);
      if (format === 'jsonl') expectFinding(jsonlFindings(r)[0], plantedExpected()); // the scan went on
    }
  });

  test.skipIf(!fs.existsSync('/proc/self/mem'))('a read that fails part-way (EIO from /proc/self/mem) → exit 2 with the offset', async ({ expect }) => {
    const r = await runCli(['scan', '/proc/self/mem', '--format', 'json']);
    expect(r.code).toBe(2);
    const doc = parseJson(r);
    expect(doc.errors).toEqual([{ path: '/proc/self/mem', offset: 0, message: expect.stringMatching(/read failed at offset 0: .*EIO/) }]);
    expect(r.stderrText).toContain('dumpguard: error: /proc/self/mem @0');
  });

  test.skipIf(isRoot)('a mode-000 file → exit 2', async ({ expect }) => {
    const locked = put('locked.bin', plantedBytes);
    fs.chmodSync(locked, 0o000);
    try {
      const r = await runCli(['scan', locked, '--format', 'jsonl']);
      expect(r.code).toBe(2);
      expect(r.stderrText).toContain(locked);
      expect(r.stderrText).toMatch(/EACCES/);
    } finally {
      fs.chmodSync(locked, 0o600);
    }
  });
});

// =============================================================================================

describe.concurrent('worker faults fail closed', () => {
  test('DUMPGUARD_TEST_FAULT=detector-throw → exit 2, the detector, path and offset named', async ({ expect }) => {
    const r = await runCli(['scan', planted, '--format', 'jsonl'], { env: { DUMPGUARD_TEST_FAULT: 'detector-throw' } });
    expect(r.code).toBe(2);
    expect(r.stdoutText).toBe('');
    expect(r.stderrText).toContain('detector pem failed');
    expect(r.stderrText).toContain(planted);
    expect(r.stderrText).toContain('offset 0');
    expect(r.stderrText).toContain(`dumpguard: error: ${planted} @0:`);
  });

  test('DUMPGUARD_TEST_FAULT=detector-throw with --fail-on none still exits 2', async ({ expect }) => {
    const r = await runCli(['scan', clean, '--fail-on', 'none'], { env: { DUMPGUARD_TEST_FAULT: 'detector-throw' } });
    expect(r.code).toBe(2);
    expect(r.stdoutText).toMatch(/^errors: [1-9]/m);
    expect(r.stdoutText).toContain(`error ${clean} @0: detector pem failed`);
  });

  test('DUMPGUARD_TEST_FAULT=worker-crash → exit 2, "worker failed", no hang', async ({ expect }) => {
    const r = await runCli(['scan', planted, '--format', 'jsonl'], { env: { DUMPGUARD_TEST_FAULT: 'worker-crash' }, timeoutMs: 15_000 });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(2);
    expect(r.stdoutText).toBe('');
    expect(r.stderrText).toContain('worker failed');
    expect(r.stderrText).toContain(planted);
  }, 20_000);

  test('worker-crash on every chunk of a many-chunk stdin → exit 2, no hang (lost buffers replaced)', async ({ expect }) => {
    const r = await runCli(['scan', '-', '--chunk-size', '64k', '--jobs', '2', '--format', 'jsonl'], {
      stdin: pseudoRandomBytes(MiB, 71),
      env: { DUMPGUARD_TEST_FAULT: 'worker-crash' },
      timeoutMs: 20_000,
    });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(2);
    expect(r.stderrText).toContain('worker failed');
  }, 25_000);
});

// =============================================================================================

describe.concurrent('no key material leaks into any output', () => {
  // RSA PKCS#8, EC PKCS#8, Ed25519 PKCS#8, RSA PKCS#1 JSON-escaped, Ed25519 PKCS#8 in UTF-16LE.
  const parts: Buffer[] = [];
  let at = 0;
  const add = (b: Buffer) => {
    const start = at;
    parts.push(b);
    at += b.length;
    return start;
  };
  add(pseudoRandomBytes(512, 81));
  const o1 = add(Buffer.from(pems.rsa));
  add(pseudoRandomBytes(333, 82));
  const o2 = add(Buffer.from(pems.ec));
  add(pseudoRandomBytes(777, 83));
  const o3 = add(Buffer.from(pems.ed25519));
  add(pseudoRandomBytes(100, 84));
  add(Buffer.from('{"key":"'));
  const escaped = jsonEscaped(pems.rsaPkcs1);
  const o4 = add(Buffer.from(escaped));
  add(Buffer.from('"}'));
  add(pseudoRandomBytes(200, 85));
  const o5 = add(utf16le(pems.ed25519b));
  add(pseudoRandomBytes(300, 86));
  const mixed = put('mixed.core', Buffer.concat(parts));

  const expectations: Expected[] = [
    { path: mixed, offset: o1, length: armorLength(pems.rsa), kind: 'rsa-private-key', key: keys.rsa.privateKey, pem: pems.rsa },
    { path: mixed, offset: o2, length: armorLength(pems.ec), kind: 'ec-private-key', key: keys.ec.privateKey, pem: pems.ec },
    { path: mixed, offset: o3, length: armorLength(pems.ed25519), kind: 'ed25519-private-key', key: keys.ed25519.privateKey, pem: pems.ed25519 },
    // the escaped text ends with the two characters "\n", which are not part of the armor
    { path: mixed, offset: o4, length: escaped.length - 2, kind: 'rsa-private-key', encoding: 'json-escaped', key: keys.rsa.privateKey, pem: pems.rsaPkcs1 },
    { path: mixed, offset: o5, length: 2 * (pems.ed25519b.length - 1), kind: 'ed25519-private-key', encoding: 'utf16le', key: ed25519b, pem: pems.ed25519b },
  ];

  const secrets = [
    { name: 'rsa', body: pemBody(pems.rsa), ders: [keys.rsa.privateKey.export({ type: 'pkcs8', format: 'der' }), keys.rsa.privateKey.export({ type: 'pkcs1', format: 'der' })] },
    { name: 'ec', body: pemBody(pems.ec), ders: [keys.ec.privateKey.export({ type: 'pkcs8', format: 'der' }), keys.ec.privateKey.export({ type: 'sec1', format: 'der' })] },
    { name: 'ed25519', body: pemBody(pems.ed25519), ders: [keys.ed25519.privateKey.export({ type: 'pkcs8', format: 'der' })] },
    { name: 'rsa pkcs1', body: pemBody(pems.rsaPkcs1), ders: [] },
    { name: 'ed25519 utf16', body: pemBody(pems.ed25519b), ders: [ed25519b.export({ type: 'pkcs8', format: 'der' })] },
  ];

  function windows(text: string, size: number): Set<string> {
    const out = new Set<string>();
    for (let i = 0; i + size <= text.length; i++) out.add(text.slice(i, i + size));
    return out;
  }

  /** Every 16-char base64 window, 16-byte DER window and 32-hex-char DER window found in `output`. */
  function leaks(output: Buffer): string[] {
    // Text views of the output: as UTF-8 and latin1, as UTF-16LE at both alignments.
    const views = [output.toString('utf8'), output.toString('latin1'), output.toString('utf16le'), output.subarray(1).toString('utf16le')];
    const text16 = new Set<string>();
    const hex32 = new Set<string>();
    for (const v of views) {
      for (const w of windows(v, 16)) text16.add(w);
      for (const w of windows(v.toLowerCase(), 32)) hex32.add(w);
    }
    const bytes16 = windows(output.toString('hex'), 32); // hex of raw 16-byte windows (odd alignments harmless)
    const found: string[] = [];
    for (const s of secrets) {
      for (let i = 0; i + 16 <= s.body.length; i++) if (text16.has(s.body.slice(i, i + 16))) found.push(`${s.name}: base64 window @${i}`);
      for (const der of s.ders) {
        const hex = der.toString('hex');
        for (let i = 0; i + 32 <= hex.length; i += 2) {
          if (bytes16.has(hex.slice(i, i + 32))) found.push(`${s.name}: DER bytes window @${i / 2}`);
          if (hex32.has(hex.slice(i, i + 32))) found.push(`${s.name}: DER hex window @${i / 2}`);
        }
      }
    }
    return found;
  }

  test('sanity: the leak check catches a leak', () => {
    expect(leaks(Buffer.from(`x ${pemBody(pems.ec).slice(100, 116)} y`))).toEqual(['ec: base64 window @100']);
    const der = secrets[2].ders[0];
    expect(leaks(Buffer.concat([Buffer.from('a'), der.subarray(10, 26)]))).toContain('ed25519: DER bytes window @10');
    expect(leaks(Buffer.from(der.subarray(5, 21).toString('hex').toUpperCase()))).toContain('ed25519: DER hex window @5');
    expect(leaks(utf16le(`z${pemBody(pems.rsa).slice(40, 56)}`))).toContain('rsa: base64 window @40');
  });

  test.each([
    { format: 'jsonl', output: false },
    { format: 'json', output: false },
    { format: 'text', output: false },
    { format: 'jsonl', output: true },
    { format: 'json', output: true },
    { format: 'text', output: true },
  ])('--format $format (--output: $output): all 5 keys found exactly, nothing of them printed', async ({ format, output }) => {
    const reportFile = path.join(root, `mixed-report-${format}.out`);
    const r = await runCli(['scan', mixed, '--format', format, ...(output ? ['--output', reportFile] : [])]);
    expect(r.code).toBe(1);
    const report = output ? fs.readFileSync(reportFile) : r.stdout;
    if (output) expect(r.stdout.length).toBe(0);

    const text = report.toString('utf8');
    if (format === 'text') {
      const lines = text.split('\n').filter((l) => l.startsWith(`${mixed}:`));
      expect(lines).toHaveLength(5);
      expectations.forEach((e, i) => {
        expect(lines[i].startsWith(`${mixed}:0x${e.offset.toString(16)} (${e.offset})  len ${e.length}  HIGH  ${e.kind}  [pem/${e.encoding ?? 'ascii'}]  ${fingerprintOf(e.key)}  ${evidenceOf(e.pem)}`)).toBe(true);
      });
      expect(text).toContain('findings: 5 (critical 0, high 5, medium 0, low 0)');
    } else {
      const findings = format === 'json' ? JSON.parse(text).findings : text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      expect(findings).toHaveLength(5);
      expectations.forEach((e, i) => expectFinding(findings[i], e));
    }

    expect(leaks(Buffer.concat([report, r.stdout, r.stderr]))).toEqual([]);
  });
});

// =============================================================================================

describe.concurrent('tiny inputs', () => {
  test('an empty file → exit 0, a warning that mentions empty', async ({ expect }) => {
    const empty = put('empty.bin', Buffer.alloc(0));
    const r = await runCli(['scan', empty, '--format', 'json']);
    expect(r.code).toBe(0);
    const doc = parseJson(r);
    expect(doc.findings).toEqual([]);
    expect(doc.errors).toEqual([]);
    expect(doc.summary.files).toBe(1);
    expect(doc.summary.bytes).toBe(0);
    expect(doc.summary.warnings).toHaveLength(1);
    expect(doc.summary.warnings[0].path).toBe(empty);
    expect(doc.summary.warnings[0].reason).toMatch(/empty/);
  });

  test('a 1-byte file → exit 0, no warning', async ({ expect }) => {
    const one = put('one.bin', Buffer.from([0x2d]));
    const r = await runCli(['scan', one, '--format', 'json']);
    expect(r.code).toBe(0);
    const doc = parseJson(r);
    expect(doc.findings).toEqual([]);
    expect(doc.summary.bytes).toBe(1);
    expect(doc.summary.warnings).toEqual([]);
  });
});

test('the binary under test is the built one', () => {
  expect(fs.existsSync(cliPath)).toBe(true);
  expect(cliPath.endsWith(path.join('dist', 'cli.js'))).toBe(true);
});
