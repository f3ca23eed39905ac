// The library API exactly as README.md shows it, against the BUILT package (dist/, through the
// package's own "exports": `import { scan } from 'dumpguard'`). Build first: npx tsc -p tsconfig.json.
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { scan } from 'dumpguard';
import type { Finding, ScanOptions, ScanRun, Summary } from 'dumpguard';
import * as fromDist from '../dist/index.js';
import { pkcs8Pem, pseudoRandomBytes, testKeys } from './helpers/keys.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dumpguard-lib-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function put(relative: string, data: Buffer): string {
  const full = path.join(root, relative);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, data);
  return full;
}

const keys = testKeys();
const pem = (name: keyof typeof keys) => Buffer.from(pkcs8Pem(keys[name].privateKey));
const der = (name: keyof typeof keys) => keys[name].privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer;

/** A file of filler with keys planted; the expected findings (path, offset, kind, fingerprint) in offset order. */
function plant(relative: string, pieces: Array<[keyof typeof keys, 'pem' | 'der'] | number>): { file: string; expected: Array<[string, number, string, string]> } {
  const file = path.join(root, relative);
  const buffers: Buffer[] = [];
  const expected: Array<[string, number, string, string]> = [];
  let offset = 0;
  pieces.forEach((piece, i) => {
    const bytes = typeof piece === 'number' ? pseudoRandomBytes(piece, i + relative.length * 31) : piece[1] === 'pem' ? pem(piece[0]) : der(piece[0]);
    if (typeof piece !== 'number') expected.push([file, offset, `${piece[0]}-private-key`, keys[piece[0]].fingerprint]);
    buffers.push(bytes);
    offset += bytes.length;
  });
  put(relative, Buffer.concat(buffers));
  return { file, expected };
}

// A folder of several files, walked in sorted order: b/ has three keys in one file (two forms).
const dumps = path.join(root, 'dumps');
const planted = [
  plant('dumps/a.core', [5000, ['rsa', 'pem'], 3000, ['ec', 'der'], 2000]),
  plant('dumps/b/c.core', [70_000, ['ed25519', 'pem'], 100, ['rsa', 'der'], 100, ['x25519', 'pem'], 50]),
  plant('dumps/b/d.core', [4096]),
  plant('dumps/e.dmp', [1, ['ec', 'pem'], 1]),
];
const expectedFindings = planted.flatMap((p) => p.expected);
const pick = (f: Finding) => [f.path, f.offset, f.kind, f.fingerprint];

describe('import { scan } from "dumpguard" (the README example)', () => {
  test('the self-reference and ../dist/index.js are the same module', () => {
    expect(scan).toBe(fromDist.scan);
    expect(typeof fromDist.loadInventory).toBe('function');
    expect(typeof fromDist.readBaseline).toBe('function');
    expect(typeof fromDist.writeBaseline).toBe('function');
    expect(Array.isArray(fromDist.detectors)).toBe(true);
    expect(fromDist.spkiFingerprint(createPublicKey(keys.ec.privateKey))).toBe(keys.ec.fingerprint);
  });

  test('for await over the run, then await run.summary; and `const { findings } = await scan(...)`: identical, in input order', async () => {
    const options: ScanOptions = { jobs: 2 };
    const run: ScanRun = scan([dumps], options);
    const iterated: Finding[] = [];
    for await (const finding of run) {
      iterated.push(finding);
    }
    const summary: Summary = await run.summary;

    const { findings } = await scan([dumps]);

    expect(iterated.map(pick)).toEqual(expectedFindings);
    expect(findings).toEqual(iterated);
    // Input order (the folder walked in sorted order), offsets ascending within a file.
    for (let i = 1; i < iterated.length; i++) {
      if (iterated[i].path === iterated[i - 1].path) expect(iterated[i].offset).toBeGreaterThan(iterated[i - 1].offset);
    }
    expect(summary.files).toBe(4);
    expect(summary.bytes).toBe(planted.reduce((sum, p) => sum + fs.statSync(p.file).size, 0));
    expect(summary.perFile.map((f) => [f.path, f.findings])).toEqual(planted.map((p) => [p.file, p.expected.length]));
    expect(summary.findingsBySeverity).toEqual({ critical: 0, high: expectedFindings.length, medium: 0, low: 0 });
    expect(summary.errors).toEqual([]);
    expect(summary.interrupted).toBe(false);
    for (const f of iterated) {
      expect(f).toMatchObject({ severity: 'high', length: expect.any(Number), detector: expect.any(String), evidence: expect.any(String) });
      expect(f.evidence).not.toMatch(/[A-Za-z0-9+/]{40}/); // redacted, never the key
    }
  });

  test('the paths in the README order: several named inputs come back in the order named', async () => {
    const [a, c, , e] = planted;
    const run = scan([e.file, a.file, c.file], { jobs: 1, chunkSizeInBytes: 64 * 1024 });
    const iterated: Finding[] = [];
    for await (const finding of run) iterated.push(finding);
    expect(iterated.map(pick)).toEqual([...e.expected, ...a.expected, ...c.expected]);
    expect((await run).findings).toEqual(iterated); // awaiting the same run after iterating
  });

  test('knownKeys as in the README: a listed key is critical with its kid', async () => {
    const jwks = path.join(root, 'jwks.json');
    fs.writeFileSync(jwks, JSON.stringify({ keys: [{ ...createPublicKey(keys.ed25519.privateKey).export({ format: 'jwk' }), kid: 'lib-kid', use: 'sig', alg: 'EdDSA' }] }));
    const run = scan([dumps], { jobs: 2, knownKeys: [jwks] });
    const critical: Finding[] = [];
    for await (const finding of run) if (finding.severity === 'critical') critical.push(finding);
    expect(critical.map((f) => [f.path, f.offset, f.knownKey])).toEqual([[planted[1].file, 70_000, { id: 'lib-kid', source: 'jwks.json' }]]);
    expect((await run.summary).findingsBySeverity.critical).toBe(1);
  });

  test('a nonexistent path is an error in summary.errors; iteration still completes with every finding', async () => {
    const missing = path.join(root, 'no-such.core');
    const run = scan([missing, dumps], { jobs: 2 });
    const iterated: Finding[] = [];
    for await (const finding of run) iterated.push(finding);
    expect(iterated.map(pick)).toEqual(expectedFindings);
    const summary = await run.summary;
    expect(summary.errors).toHaveLength(1);
    expect(summary.errors[0].path).toBe(missing);
    expect(summary.errors[0].message).toMatch(/^cannot read: ENOENT/);
    const whole = await scan([missing, dumps]);
    expect(whole.findings).toEqual(iterated);
    expect(whole.summary.errors).toEqual(summary.errors);
  });

  test('a UsageError (jobs: 0) rejects both the iterator and the awaited run (and run.summary)', async () => {
    const expected = { name: 'UsageError', message: '--jobs must be an integer from 1 to 256, got 0' };
    const iterate = async () => {
      const seen: Finding[] = [];
      for await (const finding of scan([dumps], { jobs: 0 })) seen.push(finding);
      return seen;
    };
    await expect(iterate()).rejects.toMatchObject(expected);
    await expect(scan([dumps], { jobs: 0 })).rejects.toMatchObject(expected);
    await expect(scan([dumps], { jobs: 0 }).summary).rejects.toMatchObject(expected);
    await expect(scan([dumps], { chunkSizeInBytes: 10 })).rejects.toMatchObject({ name: 'UsageError' });
  });
});
