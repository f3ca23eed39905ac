// The build's bundles (scripts/bundle.mjs): the CLI and a worker thread each load one file, not
// a graph of modules, and find the package's files (package.json, wasm/, the worker entry) from
// there, as the one-module-a-file build does from dist/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { cliPath, repoRoot, runCli } from './helpers/cli.js';

const dist = path.join(repoRoot, 'dist');
const packageVersion: string = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version;
/** Every import of another file: static, re-exports, dynamic with a literal, require. */
const fileImports = (text: string) => [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]);

/** A copy of the package in a temporary folder (dist/, wasm/, package.json with `version`, node_modules linked), removed after the file's tests. */
function packageCopy(prefix: string, version: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.cpSync(dist, path.join(root, 'dist'), { recursive: true });
  fs.cpSync(path.join(repoRoot, 'wasm'), path.join(root, 'wasm'), { recursive: true });
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'));
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')), version }));
  return root;
}

describe('the bundles', () => {
  test('dist/cli.js and dist/pool/worker.bundle.js import no other file of the package (piscina is loaded from node_modules)', () => {
    const cli = fs.readFileSync(cliPath, 'utf8');
    const worker = fs.readFileSync(path.join(dist, 'pool', 'worker.bundle.js'), 'utf8');
    expect(cli.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(fileImports(cli)).toEqual([]);
    expect(fileImports(worker)).toEqual([]);
    // They are bundles of the real program: the scan's and the raw search's code is inside.
    expect(cli).toMatch(/function searchRawKeys\(/);
    expect(worker).toMatch(/function verifyCandidates\(/);
    expect(cli).toMatch(/from ['"]piscina['"]/);
    // The one-module-a-file build's worker module, as a check of the pattern above.
    expect(fileImports(fs.readFileSync(path.join(dist, 'pool', 'worker.js'), 'utf8'))).toContain('../detectors/index.js');
  });

  test('the worker entry loads the bundle when it is there and not older than worker.js', () => {
    const entry = fs.readFileSync(path.join(dist, 'pool', 'worker-entry.cjs'), 'utf8');
    expect(entry).toMatch(/newer\('worker\.bundle\.js', 'worker\.js'\) \? '\.\/worker\.bundle\.js' : '\.\/worker\.js'/);
    // As the build leaves them: the bundle made after tsc.
    expect(fs.statSync(path.join(dist, 'pool', 'worker.bundle.js')).mtimeMs).toBeGreaterThanOrEqual(fs.statSync(path.join(dist, 'pool', 'worker.js')).mtimeMs);
  });

  describe('a copy of the package elsewhere (its own package.json, dist/ and wasm/)', () => {
    const root = packageCopy('dumpguard-bundle-', '9.9.9-copy');
    const cli = path.join(root, 'dist', 'cli.js');

    test('--version is the copy\'s package.json, not this checkout\'s', async () => {
      const r = await runCli(['--version'], { cli });
      expect(r.code).toBe(0);
      expect(r.stdoutText.trim()).toBe('9.9.9-copy');
      expect(packageVersion).not.toBe('9.9.9-copy');
    });

    test('a scan from the copy runs its worker threads and finds the sample key (exit 1)', async () => {
      const sample = path.join(repoRoot, 'samples', 'core-holdkey-pem.core');
      const r = await runCli(['scan', sample, '--format', 'jsonl'], { cli });
      expect(r.code).toBe(1);
      const findings = r.stdoutText.trim().split('\n').map((l) => JSON.parse(l)).filter((f) => f.type === undefined || f.type === 'finding');
      expect(findings.map((f) => [f.offset, f.kind, f.severity])).toEqual([[0xe958, 'rsa-private-key', 'high']]);
    });
  });

  describe('a worker bundle older than worker.js (tsc run alone after a build) is not loaded', () => {
    const root = packageCopy('dumpguard-stale-', packageVersion);
    const cli = path.join(root, 'dist', 'cli.js');
    const bundle = path.join(root, 'dist', 'pool', 'worker.bundle.js');
    const plain = path.join(root, 'dist', 'pool', 'worker.js');
    // A bundle that cannot be what the workers run: loading it fails every task.
    fs.writeFileSync(bundle, "throw new Error('the stale worker bundle was loaded');\n");
    const sample = path.join(repoRoot, 'samples', 'core-holdkey-pem.core');

    test('older: the workers load worker.js and find the key (exit 1)', async () => {
      const now = Date.now() / 1000;
      fs.utimesSync(plain, now, now);
      fs.utimesSync(bundle, now - 60, now - 60);
      const r = await runCli(['scan', sample, '--format', 'jsonl'], { cli });
      expect(r.stderrText).not.toContain('stale worker bundle');
      expect(r.code).toBe(1);
    });

    test('newer: the bundle is what the workers load (here it fails: exit 2, the error said)', async () => {
      const now = Date.now() / 1000;
      fs.utimesSync(bundle, now + 60, now + 60);
      const r = await runCli(['scan', sample, '--format', 'jsonl'], { cli });
      expect(r.code).toBe(2);
      expect(r.stderrText).toContain('stale worker bundle');
    });
  });
});
