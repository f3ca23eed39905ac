// The SARIF reporter: schema-valid against the official OASIS schema, byte regions (never lines),
// stable identities, and nothing of a key beyond its redacted evidence.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import AjvDraft04 from 'ajv-draft-04';
import { describe, expect, test } from 'vitest';
import { redactedEvidence } from '../../src/report/redact.js';
import { artifactUri, KEY_FINGERPRINT_ID, LOCATION_FINGERPRINT_ID, sarifReport } from '../../src/report/sarif.js';
import type { Finding, Severity, Summary } from '../../src/types.js';

const schemaPath = fileURLToPath(new URL('../../../shared/schemas/sarif-schema-2.1.0.json', import.meta.url));
const haveSchema = existsSync(schemaPath);
if (!haveSchema) {
  console.warn(`sarif.test.ts: the official SARIF 2.1.0 schema is not at ${schemaPath} (../shared is absent): skipping schema validation`);
}
const goldenPath = fileURLToPath(new URL('./golden/sarif-simple.sarif', import.meta.url));

// ajv-draft-04 is CommonJS (module.exports = Ajv, with Ajv.default = Ajv): `.default` types and runs under NodeNext.
const Ajv = AjvDraft04.default;

const VERSION = '0.1.0-test';

/** One finding of each shape the reporter has to handle. */
const findings: Finding[] = [
  {
    path: 'dumps/core.1234', offset: 65536, length: 1704, detector: 'pem', kind: 'rsa-private-key', severity: 'high',
    confidence: 1, encoding: 'ascii', fingerprint: 'SHA256:Zq0mFz3wJ0Yb8cXk2cJpWm8s9m2eXJ3lq7cQyF0aB1c',
    evidence: '-----BEGIN PRIVATE KEY----- MIIE…(1624 chars)',
  },
  {
    path: 'dumps/core.1234', offset: 131072, length: 1854, detector: 'pem', kind: 'encrypted-private-key', severity: 'medium',
    confidence: 0.9, encoding: 'ascii', inner: 'ZSTD-182736',
    evidence: '-----BEGIN ENCRYPTED PRIVATE KEY----- MIIF…(1788 chars)',
  },
  {
    path: 'heap dumps/app #1.hprof', offset: 1047576, length: 238, detector: 'pem', kind: 'ed25519-private-key', severity: 'high',
    confidence: 1, encoding: 'utf16le', fingerprint: 'SHA256:3nW8m8bq0V6k1y1Q7j0aP9xv0c4kz0o3mJtq9c8Rr2s',
    evidence: '-----BEGIN PRIVATE KEY----- MC4C…(64 chars)',
  },
  {
    path: 'dumps/core.1234', offset: 2097151, length: 121, detector: 'der', kind: 'ec-private-key', severity: 'high',
    confidence: 0.95, encoding: 'binary', fingerprint: 'SHA256:q9b3Zx0p2JbF8m1c7Yt4kV6n0sL2aR5eW8uH1gD3fQk',
    address: '0x7f3a12c04010', region: 'libcrypto.so.3 rw-p',
    evidence: 'DER SEC1 EC private key, P-256 (121 bytes)',
  },
  {
    path: '-', offset: 4096, length: 1704, detector: 'pem', kind: 'rsa-private-key', severity: 'critical',
    confidence: 1, encoding: 'ascii', fingerprint: 'SHA256:Zq0mFz3wJ0Yb8cXk2cJpWm8s9m2eXJ3lq7cQyF0aB1c',
    knownKey: { id: 'prod-signing-2024', source: 'inventory/keys.json' },
    evidence: '-----BEGIN PRIVATE KEY----- MIIE…(1624 chars)',
  },
  {
    path: 'snapshots/vm.img', offset: 8192, length: 32, detector: 'entropy', kind: 'high-entropy', severity: 'low',
    confidence: 0.3, encoding: 'binary', note: 'key-sized high-entropy run, no key structure',
    evidence: 'high-entropy bytes (32 bytes)',
  },
];

const summary: Summary = {
  files: 5,
  bytes: 4 * 1024 * 1024 + 2 * 1024 * 1024 + 16384 + 16384,
  seconds: 1.25,
  megabytesPerSecond: 3.4,
  findingsBySeverity: { critical: 1, high: 3, medium: 1, low: 1 },
  skipped: [{ path: 'dumps/socket', reason: 'not a regular file' }],
  warnings: [{ path: 'dumps/empty.core', reason: 'empty input: nothing to scan' }],
  errors: [],
  perFile: [
    { path: 'dumps/core.1234', bytes: 4 * 1024 * 1024, findings: 3 },
    { path: 'heap dumps/app #1.hprof', bytes: 2 * 1024 * 1024, findings: 1 },
    { path: '-', bytes: 16384, findings: 1 },
    { path: 'snapshots/vm.img', bytes: 16384, findings: 1 },
    { path: 'dumps/empty.core', bytes: 0, findings: 0 },
  ],
  peakRssBytes: 123_456_789,
  interrupted: false,
};

const withErrors: Summary = {
  ...summary,
  errors: [
    { path: 'dumps/unreadable.core', message: 'EACCES: permission denied' },
    { path: 'dumps/core.1234', offset: 3145728, message: 'read failed: EIO' },
  ],
};

// A minimal typed view of what the reporter writes; the schema test checks the whole of it.
interface SarifLog {
  $schema: string;
  version: string;
  runs: {
    tool: { driver: { name: string; version: string; rules: { id: string; name: string; defaultConfiguration: { level: string } }[] } };
    invocations: { executionSuccessful: boolean; toolExecutionNotifications: { level: string; message: { text: string }; descriptor: { id: string } }[] }[];
    artifacts: { location: { uri: string }; length?: number }[];
    results: {
      ruleId: string;
      ruleIndex: number;
      level: string;
      message: { text: string };
      locations: { physicalLocation: { artifactLocation: { uri: string; index: number }; region: Record<string, number>; address?: Record<string, unknown> } }[];
      partialFingerprints: Record<string, string>;
      properties: Record<string, unknown>;
    }[];
  }[];
}

const parse = (text: string) => JSON.parse(text) as SarifLog;
const simple = sarifReport(findings, summary, VERSION);
const run = parse(simple).runs[0];

describe('sarifReport', () => {
  test.skipIf(!haveSchema)('validates against the official SARIF 2.1.0 schema', () => {
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
    for (const text of [simple, sarifReport(findings, withErrors, VERSION), sarifReport([], { ...summary, perFile: [], interrupted: true }, VERSION)]) {
      const valid = validate(JSON.parse(text));
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    }
  });

  test('matches the golden file (UPDATE_GOLDEN=1 rewrites it)', () => {
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(goldenPath, simple);
    expect(existsSync(goldenPath), `${goldenPath} is missing: run with UPDATE_GOLDEN=1 and check it by eye`).toBe(true);
    expect(simple).toBe(readFileSync(goldenPath, 'utf8'));
  });

  test('is deterministic and pretty-printed with a final newline', () => {
    expect(sarifReport(findings, summary, VERSION)).toBe(simple);
    expect(simple.endsWith('}\n')).toBe(true);
    expect(simple).toContain('\n  "version": "2.1.0",\n');
    expect(simple).not.toMatch(/TimeUtc|guid/i);
  });

  test('has the SARIF header and the tool', () => {
    const log = parse(simple);
    expect(log.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    expect(log.version).toBe('2.1.0');
    expect(log.runs).toHaveLength(1);
    expect(run.tool.driver).toMatchObject({ name: 'dumpguard', version: VERSION, informationUri: 'https://github.com/dumpguard/dumpguard' });
  });

  test('every result locates the finding by its exact byte range, never by line', () => {
    expect(run.results).toHaveLength(findings.length);
    run.results.forEach((result, i) => {
      expect(result.locations[0].physicalLocation.region).toEqual({ byteOffset: findings[i].offset, byteLength: findings[i].length });
    });
    expect(simple).not.toMatch(/"(startLine|endLine|startColumn|endColumn|charOffset)"/);
  });

  test.each<[Severity, string]>([
    ['critical', 'error'],
    ['high', 'error'],
    ['medium', 'warning'],
    ['low', 'note'],
  ])('severity %s → level %s', (severity, level) => {
    const results = run.results.filter((r) => r.properties.severity === severity);
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) expect(r.level).toBe(level);
  });

  test('has one rule per kind, deduplicated, and every ruleIndex points at its rule', () => {
    const kinds = [...new Set(findings.map((f) => f.kind))];
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(kinds);
    expect(run.tool.driver.rules.map((r) => r.name)).toEqual(['RsaPrivateKey', 'EncryptedPrivateKey', 'Ed25519PrivateKey', 'EcPrivateKey', 'HighEntropy']);
    run.results.forEach((result, i) => {
      expect(result.ruleId).toBe(findings[i].kind);
      expect(run.tool.driver.rules[result.ruleIndex].id).toBe(result.ruleId);
    });
    const rsa = run.tool.driver.rules[0] as unknown as { help: { text: string }; defaultConfiguration: { level: string } };
    expect(rsa.help.text).toMatch(/rotate/);
    expect(rsa.help.text).toContain('dumpguard scrub');
    expect(rsa.defaultConfiguration.level).toBe('error');
  });

  test('keyFingerprint/v1 is present iff the finding has a fingerprint; otherwise a stable location identity', () => {
    run.results.forEach((result, i) => {
      const f = findings[i];
      if (f.fingerprint !== undefined) {
        expect(result.partialFingerprints).toEqual({ [KEY_FINGERPRINT_ID]: f.fingerprint });
      } else {
        expect(result.partialFingerprints[KEY_FINGERPRINT_ID]).toBeUndefined();
        expect(result.partialFingerprints[LOCATION_FINGERPRINT_ID]).toMatch(new RegExp(`^${f.kind}:${f.detector}:[0-9a-f]{64}:${f.offset}$`));
      }
    });
    const [, encrypted] = findings;
    const identity = (f: Finding) => parse(sarifReport([f], summary, VERSION)).runs[0].results[0].partialFingerprints[LOCATION_FINGERPRINT_ID];
    expect(identity(encrypted)).toBe(identity({ ...encrypted, confidence: 0.5, evidence: 'changed' }));
    expect(identity(encrypted)).not.toBe(identity({ ...encrypted, offset: encrypted.offset + 1 }));
    expect(identity(encrypted)).not.toBe(identity({ ...encrypted, path: 'dumps/other.core' }));
    expect(identity(encrypted)).not.toBe(identity({ ...encrypted, inner: 'ZSTD-1' }));
  });

  test('properties carry the finding fields and leave absent ones out', () => {
    expect(run.results[0].properties).toEqual({
      severity: 'high', confidence: 1, detector: 'pem', encoding: 'ascii', kind: 'rsa-private-key',
      fingerprint: findings[0].fingerprint,
    });
    expect(run.results[1].properties).toMatchObject({ inner: 'ZSTD-182736' });
    expect(run.results[4].properties.knownKey).toEqual({ id: 'prod-signing-2024', source: 'inventory/keys.json' });
    expect(run.results[5].properties.note).toBe('key-sized high-entropy run, no key structure');
    expect(run.results[2].properties.encoding).toBe('utf16le');
    for (const r of run.results) expect(Object.values(r.properties)).not.toContain(undefined);
  });

  test('address and region of a mapped finding', () => {
    const located = run.results[3];
    expect(located.properties).toMatchObject({ address: '0x7f3a12c04010', region: 'libcrypto.so.3 rw-p' });
    expect(located.locations[0].physicalLocation.address).toEqual({ absoluteAddress: 0x7f3a12c04010, length: 121, name: 'libcrypto.so.3 rw-p' });
    expect(run.results[0].locations[0].physicalLocation.address).toBeUndefined();
    // An address beyond 2^53 is not written as a (rounded) number; the string stays in properties.
    const high = parse(sarifReport([{ ...findings[3], address: '0xffffffffff600000' }], summary, VERSION)).runs[0].results[0];
    expect(high.locations[0].physicalLocation.address).toEqual({ name: 'libcrypto.so.3 rw-p' });
    expect(high.properties.address).toBe('0xffffffffff600000');
  });

  test('message names kind, severity, detector, encoding, fingerprint and the redacted evidence', () => {
    run.results.forEach((result, i) => {
      const f = findings[i];
      for (const part of [f.kind, f.severity, f.detector, f.encoding, f.evidence]) expect(result.message.text).toContain(part);
      if (f.fingerprint) expect(result.message.text).toContain(f.fingerprint);
    });
  });

  test('artifacts are the scanned files with their lengths; results point at them by index', () => {
    expect(run.artifacts.map((a) => [a.location.uri, a.length])).toEqual([
      ['dumps/core.1234', 4 * 1024 * 1024],
      ['heap%20dumps/app%20%231.hprof', 2 * 1024 * 1024],
      ['stdin', 16384],
      ['snapshots/vm.img', 16384],
      ['dumps/empty.core', 0],
    ]);
    for (const result of run.results) {
      const { uri, index } = result.locations[0].physicalLocation.artifactLocation;
      expect(run.artifacts[index].location.uri).toBe(uri);
    }
    const stdin = run.results[4].locations[0].physicalLocation.artifactLocation as { uri: string; description?: { text: string } };
    expect(stdin.uri).toBe('stdin');
    expect(stdin.description?.text).toMatch(/standard input/);
  });

  test.each([
    ['dumps/core.1234', 'dumps/core.1234'],
    ['heap dumps/app #1.hprof', 'heap%20dumps/app%20%231.hprof'],
    ['./core?%.bin', './core%3F%25.bin'],
    ['a:b/core', 'a%3Ab/core'],
    ['dumps\\win\\app.dmp', 'dumps/win/app.dmp'],
    ['C:\\dumps\\app.dmp', 'file:///C:/dumps/app.dmp'],
    ['/var/crash/core.1', 'file:///var/crash/core.1'],
    ['\\\\server\\share\\core', 'file://server/share/core'],
    ['dumps/ünïcode.core', 'dumps/%C3%BCn%C3%AFcode.core'],
    ['-', 'stdin'],
  ])('artifact URI of %j is %j', (path, uri) => {
    expect(artifactUri(path)).toBe(uri);
  });

  test('a clean run is successful and reports skipped inputs and warnings as notifications', () => {
    const invocation = run.invocations[0];
    expect(invocation.executionSuccessful).toBe(true);
    expect(invocation.toolExecutionNotifications.map((n) => [n.level, n.descriptor.id, n.message.text])).toEqual([
      ['warning', 'warning', 'dumps/empty.core: empty input: nothing to scan'],
      ['note', 'skipped', 'dumps/socket: skipped: not a regular file'],
    ]);
  });

  test('errors make the execution unsuccessful, with one error notification each', () => {
    const invocation = parse(sarifReport(findings, withErrors, VERSION)).runs[0].invocations[0];
    expect(invocation.executionSuccessful).toBe(false);
    const errors = invocation.toolExecutionNotifications.filter((n) => n.level === 'error');
    expect(errors.map((n) => n.message.text)).toEqual([
      'dumps/unreadable.core: EACCES: permission denied',
      'dumps/core.1234 at byte offset 3145728: read failed: EIO',
    ]);
    const [, withOffset] = errors as unknown as { locations: { physicalLocation: { artifactLocation: { uri: string; index?: number }; region?: { byteOffset: number } } }[] }[];
    expect(withOffset.locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'dumps/core.1234', index: 0 }, region: { byteOffset: 3145728 } });
  });

  test('an interrupted scan is unsuccessful even without errors', () => {
    const invocation = parse(sarifReport([], { ...summary, interrupted: true }, VERSION)).runs[0].invocations[0];
    expect(invocation.executionSuccessful).toBe(false);
    expect(invocation.toolExecutionNotifications.at(-1)).toMatchObject({ level: 'error', descriptor: { id: 'interrupted' } });
  });

  test('no findings: an empty rules and results list', () => {
    const empty = parse(sarifReport([], summary, VERSION)).runs[0];
    expect(empty.tool.driver.rules).toEqual([]);
    expect(empty.results).toEqual([]);
  });

  test('carries nothing of a real key beyond its redacted evidence', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const lines = pem.trim().split('\n');
    const body = lines.slice(1, -1).join('');
    const evidence = redactedEvidence(lines[0], body);
    expect(evidence).toMatch(/^-----BEGIN PRIVATE KEY----- MII.…\(\d+ chars\)$/);
    const finding: Finding = {
      path: 'dumps/core.9', offset: 777, length: pem.length, detector: 'pem', kind: 'rsa-private-key', severity: 'high',
      confidence: 1, encoding: 'ascii', evidence,
    };
    const text = sarifReport([finding], { ...summary, perFile: [{ path: 'dumps/core.9', bytes: 4096, findings: 1 }] }, VERSION);
    expect(text).toContain(evidence);
    for (let i = 4; i + 16 <= body.length; i++) {
      const window = body.slice(i, i + 16);
      if (text.includes(window)) expect.fail(`SARIF output contains key body characters ${i}..${i + 16}`);
    }
  });
});
