// The gate in production, end to end through the BUILT binary (dist/cli.js): --known-keys,
// baselines by key identity, dumpguard.config.json precedence, .dumpguardignore, progress on a
// pseudo-terminal, and SARIF. Build first: npx tsc -p tsconfig.json.
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import AjvDraft04 from 'ajv-draft-04';
import { beforeAll, describe, expect, test } from 'vitest';
import { cliPath, jsonlFindings, repoRoot, runCli, type CliOptions, type CliResult } from './helpers/cli.js';
import { fingerprintOf, pkcs8Pem, pseudoRandomBytes, testKeys } from './helpers/keys.js';
import { tempTree } from './helpers/temp-tree.js';

const execFileAsync = promisify(execFile);

/** The CLI with a timeout that survives a loaded machine (each run starts node and a worker pool). */
const cli = (args: readonly string[], options: CliOptions = {}) => runCli(args, { timeoutMs: 40_000, ...options });
function expectExit(r: CliResult, code: number): void {
  expect(r.code, `exit ${r.code}, stderr:\n${r.stderrText}`).toBe(code);
}
const MiB = 1024 * 1024;

const { root, put } = tempTree('dumpguard-gate-');
function folder(relative: string): string {
  const full = path.join(root, relative);
  fs.mkdirSync(full, { recursive: true });
  return full;
}

/** Pieces laid out one after the other; returns the bytes and where each named piece starts. */
function layout(pieces: Array<Buffer | string | [name: string, data: Buffer | string]>): { bytes: Buffer; at: Record<string, number> } {
  const at: Record<string, number> = {};
  const buffers: Buffer[] = [];
  let offset = 0;
  for (const piece of pieces) {
    const [name, data] = Array.isArray(piece) ? piece : [undefined, piece];
    const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
    if (name) at[name] = offset;
    buffers.push(buffer);
    offset += buffer.length;
  }
  return { bytes: Buffer.concat(buffers), at };
}

const gap = (seed: number, length = 3000) => pseudoRandomBytes(length, seed);
/** A PKCS#8 PEM as memory holds it; the finding spans to the last dash of the END line. */
const pem = (key: KeyObject) => pkcs8Pem(key);
const pemLength = (key: KeyObject) => Buffer.byteLength(pem(key)) - 1;
const der = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'der' }) as Buffer;

function json(result: CliResult): any {
  try {
    return JSON.parse(result.stdoutText);
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}): ${result.stdoutText.slice(0, 500)}\nstderr: ${result.stderrText}`);
  }
}

const keys = testKeys();

// =============================================================================================

describe.concurrent('--known-keys: a JWKS inventory as an OpenID provider publishes it', () => {
  const kid = 'prod-signing-2024-06';
  const decoy = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey; // listed, never planted
  const jwks = {
    keys: [
      { ...createPublicKey(keys.rsa.privateKey).export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' },
      { ...createPublicKey(decoy).export({ format: 'jwk' }), kid: 'prod-es256-2024', use: 'sig', alg: 'ES256' },
    ],
  };
  const jwksFile = put('inventory/jwks.json', JSON.stringify(jwks, null, 2));

  const both = layout([gap(1), ['known', pem(keys.rsa.privateKey)], gap(2), ['other', pem(keys.ec.privateKey)], gap(3)]);
  const bothFile = put('known/both.core', both.bytes);
  const onlyOther = layout([gap(4), ['other', pem(keys.ec.privateKey)], gap(5)]);
  const onlyOtherFile = put('known/other.core', onlyOther.bytes);

  test('the planted private half of the inventory key is critical with knownKey {kid, jwks.json}; the other key stays high; --fail-on critical → 1', async ({ expect }) => {
    // The JWKS holds no private member: it is what a provider publishes.
    for (const k of jwks.keys) expect(Object.keys(k).filter((m) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(m))).toEqual([]);
    const r = await cli(['scan', bothFile, '--known-keys', jwksFile, '--format', 'jsonl', '--fail-on', 'critical']);
    expectExit(r, 1);
    const findings = jsonlFindings(r);
    expect(findings).toEqual([
      {
        path: bothFile, offset: both.at.known, length: pemLength(keys.rsa.privateKey), detector: 'pem', kind: 'rsa-private-key',
        severity: 'critical', confidence: expect.any(Number), encoding: 'ascii', fingerprint: keys.rsa.fingerprint,
        evidence: expect.stringMatching(/^-----BEGIN PRIVATE KEY----- MIIE…\(\d+ chars\)$/), knownKey: { id: kid, source: 'jwks.json' },
      },
      {
        path: bothFile, offset: both.at.other, length: pemLength(keys.ec.privateKey), detector: 'pem', kind: 'ec-private-key',
        severity: 'high', confidence: expect.any(Number), encoding: 'ascii', fingerprint: keys.ec.fingerprint,
        evidence: expect.stringMatching(/^-----BEGIN PRIVATE KEY----- MIGH…\(\d+ chars\)$/),
      },
    ]);
    expect(findings[0].confidence as number).toBeGreaterThanOrEqual(0.99);
    expect(r.stderrText).toContain('findings: 2 (critical 1, high 1, medium 0, low 0)');
  });

  test('only the unrelated key planted → high, no knownKey, exit 0 under --fail-on critical', async ({ expect }) => {
    const r = await cli(['scan', onlyOtherFile, '--known-keys', jwksFile, '--format', 'jsonl', '--fail-on', 'critical']);
    expectExit(r, 0);
    const findings = jsonlFindings(r);
    expect(findings.map((f) => [f.offset, f.kind, f.severity, f.fingerprint, f.knownKey])).toEqual([
      [onlyOther.at.other, 'ec-private-key', 'high', keys.ec.fingerprint, undefined],
    ]);
  });

  test('the same key found as binary DER is critical too (one key, one fingerprint, any form)', async ({ expect }) => {
    const asDer = layout([gap(6), ['known', der(keys.rsa.privateKey)], gap(7)]);
    const file = put('known/der.core', asDer.bytes);
    const r = await cli(['scan', file, '--known-keys', jwksFile, '--format', 'jsonl', '--fail-on', 'critical']);
    expectExit(r, 1);
    expect(jsonlFindings(r).map((f) => [f.offset, f.detector, f.severity, f.knownKey])).toEqual([
      [asDer.at.known, 'der', 'critical', { id: kid, source: 'jwks.json' }],
    ]);
  });
});

// =============================================================================================

describe.concurrent('baselines: suppression by key identity, never by position', () => {
  const a = keys.rsa.privateKey;
  const b = keys.ed25519.privateKey;
  const c = keys.ec.privateKey;

  test('write, rescan → nothing; a new key → only it; a removed key → listed as stale; a moved key → still suppressed', async ({ expect }) => {
    const dir = folder('baseline');
    const first = layout([gap(10), ['a', pem(a)], gap(11), ['b', pem(b)], gap(12)]);
    const dump = put('baseline/core.1', first.bytes);
    const baseline = path.join(dir, 'b.json');

    const write = await cli(['scan', dump, '--write-baseline', baseline, '--format', 'json']);
    expectExit(write, 1); // writing a baseline does not accept the findings of this run
    expect(json(write).findings).toHaveLength(2);
    expect(write.stderrText).toContain(`wrote 2 baseline entries to ${baseline}`);
    const document = JSON.parse(fs.readFileSync(baseline, 'utf8'));
    expect(document.version).toBe(1);
    expect(document.entries).toHaveLength(2);
    expect(document.entries.map((e: { identity: string }) => e.identity).sort()).toEqual([keys.rsa.fingerprint, keys.ed25519.fingerprint].sort());
    expect(document.entries).toContainEqual({ identity: keys.rsa.fingerprint, kind: 'rsa-private-key', detector: 'pem', seenAt: `${dump}@${first.at.a}` });
    expect(document.entries).toContainEqual({ identity: keys.ed25519.fingerprint, kind: 'ed25519-private-key', detector: 'pem', seenAt: `${dump}@${first.at.b}` });

    // Rescan with the baseline: nothing unsuppressed, both counted, nothing stale.
    const again = await cli(['scan', dump, '--baseline', baseline, '--format', 'json']);
    expectExit(again, 0);
    const againDoc = json(again);
    expect(againDoc.findings).toEqual([]);
    expect(againDoc.summary.suppressed).toEqual({ baseline: 2, allowlist: 0 });
    expect(againDoc.summary.staleBaselineEntries).toEqual([]);
    expect(againDoc.summary.findingsBySeverity).toEqual({ critical: 0, high: 0, medium: 0, low: 0 });

    // A new key beside the old ones: only it is reported, and it fails the gate.
    const grown = layout([gap(10), ['a', pem(a)], gap(11), ['b', pem(b)], gap(12), ['c', pem(c)], gap(13)]);
    const grownFile = put('baseline/core.2', grown.bytes);
    const grownRun = await cli(['scan', grownFile, '--baseline', baseline, '--format', 'json']);
    expectExit(grownRun, 1);
    const grownDoc = json(grownRun);
    expect(grownDoc.findings.map((f: any) => [f.path, f.offset, f.kind, f.fingerprint])).toEqual([[grownFile, grown.at.c, 'ec-private-key', keys.ec.fingerprint]]);
    expect(grownDoc.summary.suppressed).toEqual({ baseline: 2, allowlist: 0 });
    expect(grownDoc.summary.staleBaselineEntries).toEqual([]);

    // An old key gone (and A moved elsewhere, in other bytes): A still suppressed, B listed as stale.
    const shrunk = layout([gap(20, 77_777), ['a', pem(a)], gap(21)]);
    expect(shrunk.at.a).not.toBe(first.at.a);
    const shrunkFile = put('baseline/core.3', shrunk.bytes);
    const shrunkRun = await cli(['scan', shrunkFile, '--baseline', baseline, '--format', 'json']);
    expectExit(shrunkRun, 0);
    const shrunkDoc = json(shrunkRun);
    expect(shrunkDoc.findings).toEqual([]);
    expect(shrunkDoc.summary.suppressed).toEqual({ baseline: 1, allowlist: 0 });
    expect(shrunkDoc.summary.staleBaselineEntries).toEqual([`${keys.ed25519.fingerprint} (ed25519-private-key, ${dump}@${first.at.b})`]);
  });

  test('a baselined key moved to another offset, or found in another form (DER), stays suppressed', async ({ expect }) => {
    const dir = folder('baseline-move');
    const original = layout([gap(30), ['a', pem(a)], gap(31)]);
    const dump = put('baseline-move/core.1', original.bytes);
    const baseline = path.join(dir, 'b.json');
    expectExit(await cli(['scan', dump, '--write-baseline', baseline]), 1);

    const moved = layout([gap(32, 1_000_003), ['a', pem(a)], gap(33)]);
    const asDer = layout([gap(34), ['a', der(a)], gap(35)]);
    const movedFile = put('baseline-move/core.moved', moved.bytes);
    const derFile = put('baseline-move/core.der', asDer.bytes);
    // Sanity: without the baseline both are findings at their new places.
    const plain = await cli(['scan', movedFile, derFile, '--format', 'jsonl']);
    expect(jsonlFindings(plain).map((f) => [f.path, f.offset, f.fingerprint])).toEqual([
      [movedFile, moved.at.a, keys.rsa.fingerprint],
      [derFile, asDer.at.a, keys.rsa.fingerprint],
    ]);
    const r = await cli(['scan', movedFile, derFile, '--baseline', baseline, '--format', 'json']);
    expectExit(r, 0);
    const doc = json(r);
    expect(doc.findings).toEqual([]);
    expect(doc.summary.suppressed).toEqual({ baseline: 2, allowlist: 0 });
    expect(doc.summary.staleBaselineEntries).toEqual([]);
  });

  test('an encrypted key (no fingerprint) round-trips by content identity, wherever it sits', async ({ expect }) => {
    const dir = folder('baseline-enc');
    const encrypted = a.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'not-a-real-passphrase' }) as string;
    const one = layout([gap(40), ['k', encrypted], gap(41)]);
    const dump = put('baseline-enc/core.1', one.bytes);
    const baseline = path.join(dir, 'b.json');

    const write = await cli(['scan', dump, '--write-baseline', baseline, '--format', 'jsonl']);
    expectExit(write, 1);
    const [finding] = jsonlFindings(write);
    expect(finding).toMatchObject({ offset: one.at.k, kind: 'encrypted-private-key', severity: 'medium' });
    expect(finding.fingerprint).toBeUndefined();
    const entries = JSON.parse(fs.readFileSync(baseline, 'utf8')).entries;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: 'encrypted-private-key', detector: 'pem', seenAt: `${dump}@${one.at.k}` });
    expect(entries[0].identity).toMatch(/^content:[A-Za-z0-9_-]{16,}$/);
    // The identity is a digest, not the key: no run of the body appears in the baseline.
    const body = encrypted.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const text = fs.readFileSync(baseline, 'utf8');
    for (let i = 0; i + 12 <= body.length; i += 12) expect(text).not.toContain(body.slice(i, i + 12));

    const elsewhere = layout([gap(42, 200_000), ['k', encrypted], gap(43)]);
    const file = put('baseline-enc/core.2', elsewhere.bytes);
    const r = await cli(['scan', file, '--baseline', baseline, '--format', 'json']);
    expectExit(r, 0);
    const doc = json(r);
    expect(doc.findings).toEqual([]);
    expect(doc.summary.suppressed).toEqual({ baseline: 1, allowlist: 0 });
    expect(doc.summary.staleBaselineEntries).toEqual([]);

    // A different encrypted key is not covered by that entry.
    const otherEncrypted = c.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }) as string;
    const otherFile = put('baseline-enc/core.3', layout([gap(44), ['k', otherEncrypted], gap(45)]).bytes);
    const other = await cli(['scan', otherFile, '--baseline', baseline, '--format', 'json']);
    expectExit(other, 1);
    expect(json(other).findings.map((f: any) => f.kind)).toEqual(['encrypted-private-key']);
    expect(json(other).summary.staleBaselineEntries).toHaveLength(1);
  });

  // KNOWN BUG (src/run.ts, runScan, line 224: `writeBaseline(opts.writeBaseline, findings)`): the
  // baseline is written from the findings LEFT AFTER the gate, so refreshing a baseline in place —
  // `--baseline b.json --write-baseline b.json`, or --write-baseline with a config "baseline" — drops
  // every accepted key that is still present: the file is rewritten with "0 baseline entries" and
  // the next gated run fails on the very keys that were accepted. Repro: write b.json for a dump
  // with keys A, B; `scan dump --baseline b.json --write-baseline b.json` → "wrote 0 baseline
  // entries"; `scan dump --baseline b.json` → exit 1 with A and B. Fix: have the Gate keep the
  // findings it suppressed by the baseline (e.g. `gate.baselineMatches`) and surface them from
  // scan(), and write the baseline from current findings ∪ baseline-suppressed findings (all keys
  // present now), not only the unsuppressed ones.
  test('refreshing a baseline in place keeps the accepted keys that are still present', async () => {
    const dir = folder('baseline-refresh');
    const first = layout([gap(80), ['a', pem(a)], gap(81), ['b', pem(b)], gap(82)]);
    const dump = put('baseline-refresh/core.1', first.bytes);
    const baseline = path.join(dir, 'b.json');
    expectExit(await cli(['scan', dump, '--write-baseline', baseline]), 1);
    const grown = layout([gap(80), ['a', pem(a)], gap(81), ['b', pem(b)], gap(82), ['c', pem(c)], gap(83)]);
    const grownFile = put('baseline-refresh/core.2', grown.bytes);
    const refresh = await cli(['scan', grownFile, '--baseline', baseline, '--write-baseline', baseline]);
    expectExit(refresh, 1); // C is new in this run
    const identities = JSON.parse(fs.readFileSync(baseline, 'utf8')).entries.map((e: { identity: string }) => e.identity).sort();
    expect(identities).toEqual([keys.rsa.fingerprint, keys.ed25519.fingerprint, keys.ec.fingerprint].sort());
    const after = await cli(['scan', grownFile, '--baseline', baseline, '--format', 'json']);
    expect(json(after).findings).toEqual([]);
    expectExit(after, 0);
  });

  test('a missing or malformed --baseline file → exit 2', async ({ expect }) => {
    const dump = put('baseline-bad/core', layout([gap(50), pem(a), gap(51)]).bytes);
    const missing = await cli(['scan', dump, '--baseline', path.join(root, 'baseline-bad', 'nope.json')]);
    expectExit(missing, 2);
    expect(missing.stderrText).toContain('nope.json');
    const wrong = put('baseline-bad/wrong.json', JSON.stringify({ entries: 'x' }));
    const malformed = await cli(['scan', dump, '--baseline', wrong]);
    expectExit(malformed, 2);
    expect(malformed.stderrText).toContain('not a dumpguard baseline');
  });
});

// =============================================================================================

describe.concurrent('dumpguard.config.json: found in the cwd or named by --config; typed flags win', () => {
  const high = layout([gap(60), ['k', pem(keys.ec.privateKey)], gap(61)]);
  const highFile = put('config/high.core', high.bytes);
  const writeConfig = (relative: string, config: unknown) => put(relative, JSON.stringify(config, null, 2));

  test('failOn "critical" in the cwd config → a high finding exits 0; typed --fail-on high (or medium, the default value) → 1', async ({ expect }) => {
    const cwd = folder('config/critical');
    writeConfig('config/critical/dumpguard.config.json', { failOn: 'critical' });
    const byConfig = await cli(['scan', highFile, '--format', 'jsonl'], { cwd });
    expectExit(byConfig, 0);
    expect(jsonlFindings(byConfig).map((f) => [f.offset, f.severity])).toEqual([[high.at.k, 'high']]);
    expectExit(await cli(['scan', highFile, '--fail-on', 'high'], { cwd }), 1);
    expectExit(await cli(['scan', highFile, '--fail-on', 'medium'], { cwd }), 1);
    // Without the config (another cwd) the default medium applies.
    expectExit(await cli(['scan', highFile], { cwd: folder('config/empty-cwd') }), 1);
  });

  test('"detectors": {"pem": false} → the PEM armor is not reported, the DER key is', async ({ expect }) => {
    const cwd = folder('config/nopem');
    writeConfig('config/nopem/dumpguard.config.json', { detectors: { pem: false } });
    const mixed = layout([gap(62), ['der', der(keys.ed25519.privateKey)], gap(63), ['pem', pem(keys.rsa.privateKey)], gap(64)]);
    const file = put('config/nopem/mixed.core', mixed.bytes);
    const all = await cli(['scan', file, '--format', 'jsonl'], { cwd: folder('config/empty-cwd') });
    expect(jsonlFindings(all).map((f) => [f.offset, f.detector, f.fingerprint])).toEqual([
      [mixed.at.der, 'der', keys.ed25519.fingerprint],
      [mixed.at.pem, 'pem', keys.rsa.fingerprint],
    ]);
    const r = await cli(['scan', file, '--format', 'jsonl'], { cwd });
    expectExit(r, 1);
    const findings = jsonlFindings(r);
    expect(findings.filter((f) => f.detector === 'pem')).toEqual([]);
    expect(findings.some((f) => f.offset === mixed.at.pem)).toBe(false);
    expect(findings[0]).toMatchObject({ offset: mixed.at.der, length: der(keys.ed25519.privateKey).length, detector: 'der', kind: 'ed25519-private-key', fingerprint: keys.ed25519.fingerprint });
    // With pem off, the base64 detector still sees the armor's body as base64 DER (the key is not lost).
    expect(findings.slice(1).map((f) => [f.detector, f.fingerprint])).toEqual([['base64', keys.rsa.fingerprint]]);
    // pem and base64 both off: only the DER key.
    const cwd2 = folder('config/nopem-nobase64');
    writeConfig('config/nopem-nobase64/dumpguard.config.json', { detectors: { pem: false, base64: false } });
    const r2 = await cli(['scan', file, '--format', 'jsonl'], { cwd: cwd2 });
    expect(jsonlFindings(r2).map((f) => [f.offset, f.detector])).toEqual([[mixed.at.der, 'der']]);
    // A typed --detectors wins over the config.
    const typed = await cli(['scan', file, '--format', 'jsonl', '--detectors', 'pem'], { cwd: cwd2 });
    expect(jsonlFindings(typed).map((f) => [f.offset, f.detector])).toEqual([[mixed.at.pem, 'pem']]);
  });

  test('an allowlist entry with a reason suppresses that key and counts it', async ({ expect }) => {
    const cwd = folder('config/allow');
    writeConfig('config/allow/dumpguard.config.json', { allowlist: [{ fingerprint: keys.ec.fingerprint, reason: 'vendor test key compiled into libfoo' }] });
    const two = layout([gap(65), ['ec', pem(keys.ec.privateKey)], gap(66), ['rsa', pem(keys.rsa.privateKey)], gap(67)]);
    const file = put('config/allow/two.core', two.bytes);
    const r = await cli(['scan', file, '--format', 'json'], { cwd });
    expectExit(r, 1);
    const doc = json(r);
    expect(doc.findings.map((f: any) => [f.offset, f.fingerprint])).toEqual([[two.at.rsa, keys.rsa.fingerprint]]);
    expect(doc.summary.suppressed).toEqual({ baseline: 0, allowlist: 1 });
    const onlyAllowed = await cli(['scan', highFile, '--format', 'json'], { cwd });
    expectExit(onlyAllowed, 0);
    expect(json(onlyAllowed).findings).toEqual([]);
    expect(json(onlyAllowed).summary.suppressed).toEqual({ baseline: 0, allowlist: 1 });
  });

  test('an allowlist entry without a reason → exit 2, the message names the entry', async ({ expect }) => {
    const cwd = folder('config/noreason');
    writeConfig('config/noreason/dumpguard.config.json', {
      allowlist: [
        { fingerprint: keys.rsa.fingerprint, reason: 'documented' },
        { fingerprint: keys.ec.fingerprint, reason: '   ' },
      ],
    });
    const r = await cli(['scan', highFile], { cwd });
    expectExit(r, 2);
    expect(r.stdoutText).toBe('');
    expect(r.stderrText).toContain('allowlist entry 2');
    expect(r.stderrText).toContain(keys.ec.fingerprint);
    expect(r.stderrText).toContain('no reason');
    writeConfig('config/noreason/dumpguard.config.json', { allowlist: [{ fingerprint: keys.ec.fingerprint }] });
    const missing = await cli(['scan', highFile], { cwd });
    expectExit(missing, 2);
    expect(missing.stderrText).toContain('allowlist entry 1');
  });

  test('an unknown config field → exit 2 naming it; invalid JSON → exit 2', async ({ expect }) => {
    const cwd = folder('config/unknown');
    writeConfig('config/unknown/dumpguard.config.json', { failOn: 'high', fail_on: 'critical' });
    const r = await cli(['scan', highFile], { cwd });
    expectExit(r, 2);
    expect(r.stderrText).toContain('unknown field');
    expect(r.stderrText).toContain('fail_on');
    const cwd2 = folder('config/badjson');
    put('config/badjson/dumpguard.config.json', '{ "failOn": ');
    const bad = await cli(['scan', highFile], { cwd: cwd2 });
    expectExit(bad, 2);
    expect(bad.stderrText).toContain('dumpguard.config.json');
  });

  test('--config pointing elsewhere is used; a --config that does not exist → exit 2', async ({ expect }) => {
    const cwd = folder('config/elsewhere-cwd');
    const team = writeConfig('config/team/team.json', { failOn: 'critical' });
    expectExit(await cli(['scan', highFile], { cwd }), 1);
    expectExit(await cli(['scan', highFile, '--config', team], { cwd }), 0);
    // --config wins over a dumpguard.config.json in the cwd.
    const cwdWithConfig = folder('config/elsewhere-cwd2');
    writeConfig('config/elsewhere-cwd2/dumpguard.config.json', { failOn: 'low' });
    expectExit(await cli(['scan', highFile, '--config', team], { cwd: cwdWithConfig }), 0);
    const missing = await cli(['scan', highFile, '--config', path.join(root, 'config', 'no-such.json')], { cwd });
    expectExit(missing, 2);
    expect(missing.stderrText).toContain('no-such.json');
  });

  test('knownKeys and baseline paths in a config are relative to the config file, not the cwd', async ({ expect }) => {
    const jwk = { ...createPublicKey(keys.ec.privateKey).export({ format: 'jwk' }), kid: 'edge-tls-2024', use: 'sig', alg: 'ES256' };
    put('config/teamdir/inventory/jwks.json', JSON.stringify({ keys: [jwk] }));
    const team = writeConfig('config/teamdir/team.json', { knownKeys: ['inventory/jwks.json'] });
    const cwd = folder('config/other-cwd');
    const r = await cli(['scan', highFile, '--config', team, '--format', 'jsonl'], { cwd });
    expect(r.stderrText).not.toContain('cannot read');
    expectExit(r, 1);
    expect(jsonlFindings(r).map((f) => [f.offset, f.severity, f.knownKey])).toEqual([[high.at.k, 'critical', { id: 'edge-tls-2024', source: 'jwks.json' }]]);

    const baseline = path.join(root, 'config', 'teamdir', 'accepted.json');
    expectExit(await cli(['scan', highFile, '--write-baseline', baseline], { cwd }), 1);
    const team2 = writeConfig('config/teamdir/team2.json', { baseline: 'accepted.json' });
    const suppressed = await cli(['scan', highFile, '--config', team2, '--format', 'json'], { cwd });
    expectExit(suppressed, 0);
    expect(json(suppressed).summary.suppressed).toEqual({ baseline: 1, allowlist: 0 });
  });
});

// =============================================================================================

describe('.dumpguardignore', () => {
  test('`skip/`, `*.tmp` and a comment skip paths below the folder; a nested file applies below itself only; skipped paths are listed', async () => {
    const top = folder('ignore/tree');
    const k = pem(keys.ec.privateKey);
    const planted = layout([gap(70, 500), ['k', k], gap(71, 500)]);
    put('ignore/tree/.dumpguardignore', '# keys under skip/ are fixtures\nskip/\n*.tmp\n');
    put('ignore/tree/sub/.dumpguardignore', '# only below sub/\nlocal.core\n');
    const files = ['a.core', 'other/local.core', 'skip/b.core', 'skip/deep/c.core', 'sub/deeper/local.core', 'sub/kept.core', 'sub/local.core', 'sub/y.tmp', 'x.tmp'];
    for (const f of files) put(`ignore/tree/${f}`, planted.bytes);

    const r = await cli(['scan', top, '--format', 'json']);
    expectExit(r, 1);
    const doc = json(r);
    const p = (f: string) => path.join(top, f);
    expect(doc.findings.map((f: any) => [f.path, f.offset, f.fingerprint])).toEqual(
      ['a.core', 'other/local.core', 'sub/kept.core'].map((f) => [p(f), planted.at.k, keys.ec.fingerprint]),
    );
    const topIgnore = p('.dumpguardignore');
    const subIgnore = p('sub/.dumpguardignore');
    expect(doc.summary.skipped).toEqual([
      { path: p('skip/b.core'), reason: `ignored by ${topIgnore}` },
      { path: p('skip/deep'), reason: `ignored by ${topIgnore}` }, // a folder below skip/ is skipped whole, not walked
      { path: p('sub/deeper/local.core'), reason: `ignored by ${subIgnore}` },
      { path: p('sub/local.core'), reason: `ignored by ${subIgnore}` },
      { path: p('sub/y.tmp'), reason: `ignored by ${topIgnore}` },
      { path: p('x.tmp'), reason: `ignored by ${topIgnore}` },
    ]);
    for (const s of doc.summary.skipped) expect(s.reason).toContain('.dumpguardignore');
    expect(doc.summary.perFile.map((f: any) => f.path)).toEqual(['.dumpguardignore', 'a.core', 'other/local.core', 'sub/.dumpguardignore', 'sub/kept.core'].map(p));
  });

  // KNOWN BUG (fail-open; src/input/enumerate.ts, readIgnoreFile line 90 and ignoredBy lines 93-97):
  // every .dumpguardignore line becomes a plain Minimatch and a path is skipped when ANY matcher
  // matches. A gitignore-style re-include line "!keep.tmp" is a minimatch NEGATION, which matches
  // every path that is not keep.tmp — so one such line skips every file in the folder (app.core with
  // a key in it included) and the scan exits 0: the gate passes a folder full of keys. Repro: folder
  // with app.core (a key), keep.tmp, and .dumpguardignore "*.tmp\n!keep.tmp" → `dumpguard scan dir`
  // → "scanned 0 file(s)", exit 0. Fix: give '!' lines gitignore meaning (patterns in order, the
  // last match wins, '!' re-includes), or reject a '!' line as a usage error (exit 2); never let a
  // negation widen what is skipped.
  test('a gitignore-style "!pattern" line does not skip every other file (fail-open)', async () => {
    const top = folder('ignore/negation');
    const planted = layout([gap(72, 500), ['k', pem(keys.ec.privateKey)], gap(73, 500)]);
    put('ignore/negation/.dumpguardignore', '*.tmp\n!keep.tmp\n');
    put('ignore/negation/app.core', planted.bytes);
    put('ignore/negation/scratch.tmp', planted.bytes);
    const r = await cli(['scan', top, '--format', 'json']);
    const doc = json(r);
    expect(doc.summary.skipped.map((s: { path: string }) => s.path)).not.toContain(path.join(top, 'app.core'));
    expect(r.code).not.toBe(0);
  });
});

// =============================================================================================

describe('progress on stderr', () => {
  const bigDir = folder('progress');
  const key = pem(keys.rsa.privateKey);
  const keyOffset = 40 * MiB + 17;
  beforeAll(() => {
    // ~64 MiB of pseudo-random bytes so the scan lasts long enough for several redraws.
    const big = pseudoRandomBytes(64 * MiB, 0x2545f491);
    big.write(key, keyOffset, 'latin1');
    fs.writeFileSync(path.join(bigDir, 'big.core'), big);
  });
  const progressLine = /\r\x1b\[K[^\r\n]*\d+(\.\d+)? [kMG]B \/ [^\r\n]*\d+ MB\/s[^\r\n]*big\.core[^\r\n]*findings \d+/;
  const expectedFinding = { path: 'big.core', offset: keyOffset, kind: 'rsa-private-key', fingerprint: keys.rsa.fingerprint };
  const pick = (f: Record<string, unknown>) => ({ path: f.path, offset: f.offset, kind: f.kind, fingerprint: f.fingerprint });

  /** Runs a shell command line on a pseudo-terminal (util-linux script); returns what the terminal showed. */
  async function onTerminal(commandLine: string): Promise<string> {
    const { stdout } = await execFileAsync('script', ['-qec', commandLine, '/dev/null'], { cwd: bigDir, maxBuffer: 16 * MiB, timeout: 40_000 }).catch((e) => {
      if (e.code === 1) return { stdout: e.stdout as string }; // the scan found the key: exit 1
      throw e;
    });
    return stdout;
  }

  test('on a terminal: \\r-redrawn progress lines with MB/s and findings; the jsonl on stdout holds only the finding', async () => {
    const out = path.join(bigDir, 'out.jsonl');
    const terminal = await onTerminal(`${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} scan big.core --format jsonl --jobs 2 > out.jsonl`);
    expect(terminal).toMatch(progressLine);
    expect(terminal).toContain('\r');
    // Redrawn inside the one large file, a few times a second: every 250 ms after the first draw.
    const redraws = terminal.match(new RegExp(progressLine.source, 'g')) ?? [];
    const seconds = Number(/scanned 1 file\(s\), \d+ bytes in (\d+(?:\.\d+)?) s/.exec(terminal)?.[1]);
    if (seconds >= 0.8) expect(redraws.length).toBeGreaterThanOrEqual(2);
    const done = redraws.map((line) => /\x1b\[K(\d+(?:\.\d+)?) ([kMG])B \//.exec(line)!).map((m) => Number(m[1]) * { k: 1e3, M: 1e6, G: 1e9 }[m[2] as 'k' | 'M' | 'G']);
    for (let i = 1; i < done.length; i++) expect(done[i]).toBeGreaterThanOrEqual(done[i - 1]);
    expect(terminal).toMatch(/\/ 67\.1 MB/); // the total is the file's size (64 MiB)
    expect(terminal).toContain('MB/s');
    expect(terminal).toContain('findings');
    expect(terminal).toContain('scanned 1 file(s)');
    const written = fs.readFileSync(out, 'utf8');
    const lines = written.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(pick(JSON.parse(lines[0]))).toEqual(expectedFinding);
    expect(written).not.toMatch(/\r|\x1b|MB\/s|ETA/);
  });

  test('--no-progress on a terminal: no progress at all', async () => {
    const terminal = await onTerminal(`${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} scan big.core --format jsonl --jobs 2 --no-progress > out-quiet.jsonl`);
    expect(terminal).not.toMatch(progressLine);
    expect(terminal).not.toContain('\x1b[K');
    expect(terminal).toContain('scanned 1 file(s)'); // the summary still comes
    expect(pick(JSON.parse(fs.readFileSync(path.join(bigDir, 'out-quiet.jsonl'), 'utf8')))).toEqual(expectedFinding);
  });

  test('--progress without a terminal: progress on the stderr pipe, stdout only jsonl; without the flag none', async () => {
    const r = await cli(['scan', 'big.core', '--format', 'jsonl', '--jobs', '2', '--progress'], { cwd: bigDir });
    expectExit(r, 1);
    expect(r.stderrText).toMatch(progressLine);
    expect(r.stdoutText).not.toMatch(/\r|\x1b|MB\/s/);
    expect(jsonlFindings(r).map(pick)).toEqual([expectedFinding]);
    const quiet = await cli(['scan', 'big.core', '--format', 'jsonl', '--jobs', '2'], { cwd: bigDir });
    expectExit(quiet, 1);
    expect(quiet.stderrText).not.toContain('\x1b[K');
    expect(jsonlFindings(quiet).map(pick)).toEqual([expectedFinding]);
  });
});

// =============================================================================================

describe('--format sarif through the CLI on the shipped gcore sample', () => {
  test('valid JSON, one result at the byte offset of offsets.json with the key fingerprint; schema-valid when the schema is present', async () => {
    const offsets = JSON.parse(fs.readFileSync(path.join(repoRoot, 'samples', 'offsets.json'), 'utf8'));
    const [offset] = offsets['core-holdkey-pem.core']['test-key-rsa2048.pem'];
    expect(offset).toBe(59736);
    const pemText = fs.readFileSync(path.join(repoRoot, 'samples', 'test-key-rsa2048.pem'), 'utf8');
    const fingerprint = fingerprintOf(createPrivateKey(pemText));

    const r = await cli(['scan', 'samples/core-holdkey-pem.core', '--format', 'sarif']);
    expectExit(r, 1);
    const log = json(r);
    expect(log.version).toBe('2.1.0');
    const run = log.runs[0];
    expect(run.results).toHaveLength(1);
    const [result] = run.results;
    expect(result.ruleId).toBe('rsa-private-key');
    expect(result.level).toBe('error');
    expect(result.locations[0].physicalLocation.artifactLocation.uri).toBe('samples/core-holdkey-pem.core');
    expect(result.locations[0].physicalLocation.region).toEqual({ byteOffset: offset, byteLength: Buffer.byteLength(pemText) - 1 });
    expect(result.partialFingerprints).toEqual({ 'keyFingerprint/v1': fingerprint });
    expect(run.invocations[0].executionSuccessful).toBe(true);
    // Nothing of the key body in the report.
    const body = pemText.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    for (let i = 4; i + 16 <= body.length; i += 8) expect(r.stdoutText).not.toContain(body.slice(i, i + 16));

    const schemaPath = fileURLToPath(new URL('../../shared/schemas/sarif-schema-2.1.0.json', import.meta.url));
    if (!fs.existsSync(schemaPath)) {
      console.warn(`gate.test.ts: ${schemaPath} is absent (../shared missing): SARIF schema validation skipped`);
      return;
    }
    const Ajv = AjvDraft04.default;
    const validate = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')));
    const valid = validate(log);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });
});
