// Safety of the tool itself (issue #10): no network access anywhere, no install scripts, and a
// scan never writes next to its inputs (nor leaves temporary files behind).
import { createHash } from 'node:crypto';
import dns from 'node:dns';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import net, { connect as namedNetConnect } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { pkcs8Pem, pseudoRandomBytes, testKeys, fingerprintOf } from '../helpers/keys.js';
import { expectHealthy, findingsOf, runMeasured, scratchDir } from './helpers.js';

const { dir, remove } = scratchDir('safety');
afterAll(remove);

const distDir = path.join(repoRoot, 'dist');
const key = testKeys().ec.privateKey;
const pem = pkcs8Pem(key);

function jsFilesUnder(folder: string): string[] {
  return fs
    .readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

describe('no network access', () => {
  // dist/cli.js is the bin: importing it RUNS the program on this process's argv (and sets its
  // exit code), so it is not imported; it only imports dist/run.js, which is, and the static
  // check below reads it like every other file.
  const importable = jsFilesUnder(distDir).filter((f) => path.relative(distDir, f) !== 'cli.js');

  test('every module of dist/ loads, and a scan (library API, jobs 1) of a planted key completes, with every network entry point replaced by a throwing stub that is never called', async () => {
    expect(importable.length).toBeGreaterThan(20);
    const calls: string[] = [];
    const stub = (name: string) =>
      function networkStub(): never {
        calls.push(name);
        throw new Error(`network access attempted: ${name}`);
      };
    const targets: Array<[Record<string, unknown>, string, string]> = [
      [net.Socket.prototype as unknown as Record<string, unknown>, 'connect', 'net.Socket.prototype.connect'],
      [net as unknown as Record<string, unknown>, 'connect', 'net.connect'],
      [net as unknown as Record<string, unknown>, 'createConnection', 'net.createConnection'],
      [tls as unknown as Record<string, unknown>, 'connect', 'tls.connect'],
      [http as unknown as Record<string, unknown>, 'request', 'http.request'],
      [http as unknown as Record<string, unknown>, 'get', 'http.get'],
      [https as unknown as Record<string, unknown>, 'request', 'https.request'],
      [https as unknown as Record<string, unknown>, 'get', 'https.get'],
      [dns as unknown as Record<string, unknown>, 'lookup', 'dns.lookup'],
      [dns as unknown as Record<string, unknown>, 'resolve', 'dns.resolve'],
      [dns.promises as unknown as Record<string, unknown>, 'lookup', 'dns.promises.lookup'],
      [globalThis as unknown as Record<string, unknown>, 'fetch', 'fetch'],
    ];
    const saved = targets.map(([object, property]) => object[property]);
    for (const [object, property, name] of targets) object[property] = stub(name);
    syncBuiltinESMExports(); // so `import { connect } from 'node:net'` sees the stubs too
    try {
      // Sanity: the stubs are what a module reaches, by default and by named import.
      expect(() => namedNetConnect(9)).toThrow(/network access attempted: net.connect/);
      expect(() => (globalThis.fetch as unknown as () => void)()).toThrow(/fetch/);
      expect(() => new net.Socket().connect(9)).toThrow(/Socket.prototype.connect/);
      expect(calls).toEqual(['net.connect', 'fetch', 'net.Socket.prototype.connect']);
      calls.length = 0;

      const loaded: string[] = [];
      for (const file of importable) {
        await import(pathToFileURL(file).href);
        loaded.push(file);
      }
      expect(loaded).toEqual(importable);

      // The worker's entry point, in this isolate (pool workers are separate isolates the stubs
      // cannot reach): every detector over a chunk holding a key.
      const worker = (await import(pathToFileURL(path.join(distDir, 'pool/worker.js')).href)).default as (task: unknown) => unknown;
      const { detectors } = await import(pathToFileURL(path.join(distDir, 'detectors/index.js')).href);
      const chunk = Buffer.concat([pseudoRandomBytes(3000, 1), Buffer.from(pem), pseudoRandomBytes(3000, 2)]);
      const buffer = chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.length);
      worker({ buffer, length: chunk.length, bodyLength: chunk.length, detectorIds: detectors.map((d: { id: string }) => d.id) });

      const file = path.join(dir, 'planted-for-network-test.bin');
      fs.writeFileSync(file, chunk);
      const { scan } = await import(pathToFileURL(path.join(distDir, 'index.js')).href);
      const count = (list: string[], pattern: RegExp) => list.filter((r) => pattern.test(r)).length;
      const baselinePipes = count(process.getActiveResourcesInfo(), /Pipe/); // this test process's own stdio/IPC
      const resources: string[][] = [];
      const result = await scan([file], { jobs: 1, onFileDone: () => resources.push(process.getActiveResourcesInfo()) });
      resources.push(process.getActiveResourcesInfo());
      expect(result.summary.errors).toEqual([]);
      expect(result.findings.map((f: { offset: number; fingerprint?: string }) => [f.offset, f.fingerprint])).toEqual([[3000, fingerprintOf(key)]]);
      expect(calls).toEqual([]);
      // Sockets, TLS and DNS requests show up as resources while they exist (pipes: none beyond
      // the ones this test process already had).
      for (const snapshot of resources) {
        expect(snapshot.filter((r) => /TCP|TLS|UDP|GetAddrInfo|QueryWrap|Connect/i.test(r))).toEqual([]);
        expect(count(snapshot, /Pipe/)).toBeLessThanOrEqual(baselinePipes);
      }
    } finally {
      targets.forEach(([object, property], i) => (object[property] = saved[i]));
      syncBuiltinESMExports();
    }
  });

  test('no module of dist/ names a network API (static check, covers the worker isolates and the bundles); the one allowed use is node:net Socket reading a FIFO by fd in scan.js', () => {
    const files = jsFilesUnder(distDir);
    const forbidden = [
      /\bfrom\s+['"](?:node:)?(?:net|http|https|http2|dns|tls|dgram)['"]/,
      /\b(?:require|import)\s*\(\s*['"](?:node:)?(?:net|http|https|http2|dns|tls|dgram)['"]/,
      /\bfetch\s*\(/,
      /\b(?:WebSocket|XMLHttpRequest|EventSource)\b/,
      /\.connect\s*\(/,
      /\bcreateConnection\s*\(/,
    ];
    const hits: string[] = [];
    for (const file of files) {
      const rel = path.relative(distDir, file);
      let text = fs.readFileSync(file, 'utf8');
      // scan.js, and the CLI's bundle of it (scripts/bundle.mjs: esbuild writes double quotes).
      if (rel === 'scan.js' || rel === 'cli.js') {
        // The allowlist: exactly one import of Socket from node:net, used only as a readable,
        // non-writable wrapper of an already opened file descriptor (a FIFO).
        const socketImport = /^import \{ Socket \} from ['"]node:net['"];$/m;
        expect(text.match(/from\s+['"](?:node:)?net['"]/g)).toHaveLength(1);
        expect(text).toMatch(socketImport);
        const uses = text.match(/new Socket\([^)]*\)/g) ?? [];
        expect(uses).toEqual(['new Socket({ fd, readable: true, writable: false })']);
        text = text.replace(socketImport, '');
      }
      for (const pattern of forbidden) if (pattern.test(text)) hits.push(`${rel}: ${pattern}`);
    }
    expect(files.map((f) => path.relative(distDir, f))).toEqual(expect.arrayContaining(['scan.js', 'cli.js', path.join('pool', 'worker.bundle.js')]));
    expect(hits).toEqual([]);
  });
});

describe('the package', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));

  test('package.json has no preinstall/install/postinstall (nor prepare) scripts', () => {
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) expect(pkg.scripts?.[hook], hook).toBeUndefined();
  });

  test('no runtime dependency (package-lock, dev excluded) runs an install script', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8'));
    const withScripts = Object.entries(lock.packages as Record<string, { dev?: boolean; hasInstallScript?: boolean }>)
      .filter(([name, p]) => name !== '' && !p.dev && p.hasInstallScript)
      .map(([name]) => name);
    expect(withScripts).toEqual([]);
  });
});

describe('a scan never writes next to its inputs', () => {
  function snapshot(folder: string): string[] {
    return fs
      .readdirSync(folder, { recursive: true, withFileTypes: true })
      .map((e) => {
        const full = path.join(e.parentPath, e.name);
        const st = fs.lstatSync(full);
        const digest = e.isFile() ? createHash('sha256').update(fs.readFileSync(full)).digest('hex').slice(0, 16) : '';
        return `${path.relative(folder, full)} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${digest}`;
      })
      .sort();
  }

  test('scanning a folder (every format, a key inside) leaves it byte-for-byte as it was, and no temporary file behind', async () => {
    const inputs = path.join(dir, 'inputs');
    fs.mkdirSync(path.join(inputs, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(inputs, 'key.pem'), pem);
    fs.writeFileSync(path.join(inputs, 'clean.bin'), pseudoRandomBytes(200_000, 3));
    fs.writeFileSync(path.join(inputs, 'sub', 'core.bin'), Buffer.concat([pseudoRandomBytes(70_000, 4), Buffer.from(pem)]));
    fs.writeFileSync(path.join(inputs, 'empty'), '');
    const tmp = path.join(dir, 'tmp');
    fs.mkdirSync(tmp);
    const before = snapshot(inputs);
    for (const format of ['text', 'json', 'jsonl', 'sarif']) {
      const r = await runMeasured(['scan', inputs, '--format', format, '--jobs', '2', '--chunk-size', '64k'], { env: { TMPDIR: tmp, TMP: tmp, TEMP: tmp } });
      expectHealthy(r, 1);
      if (format === 'jsonl') expect(findingsOf(r)).toHaveLength(2);
    }
    expect(snapshot(inputs)).toEqual(before);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  test('--output elsewhere creates that one file and nothing beside the inputs', async () => {
    const inputs = path.join(dir, 'inputs2');
    fs.mkdirSync(inputs);
    fs.writeFileSync(path.join(inputs, 'key.pem'), pem);
    const outDir = path.join(dir, 'out');
    fs.mkdirSync(outDir);
    const before = snapshot(inputs);
    const r = await runMeasured(['scan', path.join(inputs, 'key.pem'), '--format', 'json', '--output', path.join(outDir, 'report.json')]);
    expectHealthy(r, 1);
    expect(snapshot(inputs)).toEqual(before);
    expect(fs.readdirSync(outDir)).toEqual(['report.json']);
  });
});
