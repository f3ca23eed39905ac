// The raw-key search (detector raw) over inputs that cannot be read twice: standard input, and
// content decompressed from a container. Their bytes are spooled to a private temporary file as
// the first pass scans them, and the second pass runs over that file; the findings are those of
// the same bytes scanned as a regular file, at stream offsets (stdin) or with `inner` (a
// container). A spool that cannot be written leaves the first pass standing and fails the gate
// closed; the spool file is gone afterwards in every case.
import { createPrivateKey, generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { scan } from '../dist/index.js';
import { dataRuns, dataRunsAround, maximumHeldInBytes, minimumHoleInBytes, Spool } from '../dist/input/spool.js';
import { anchorSearchWhileFilling } from '../dist/detectors/anchors.js';
import { detectors } from '../dist/detectors/index.js';
import { prng } from './helpers/random.js';
import { jsonlFindings, runCli, spawnCli } from './helpers/cli.js';
import { fingerprintOf, pkcs8Pem, pseudoRandomBytes } from './helpers/keys.js';
import { piecesOf, rawOf, type Found } from './helpers/raw-findings.js';
import { sServerPort } from './helpers/servers.js';
import { tempTree } from './helpers/temp-tree.js';
import { hasTool, run } from './containers/helpers.js';

const tree = tempTree('dumpguard-raw-streams-');

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
/** A second key, as PEM: what the first pass finds whatever happens to the raw pass. */
const pemKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

const jwkMember = (key: KeyObject, name: string) => Buffer.from((key.export({ format: 'jwk' }) as Record<string, string>)[name], 'base64url');
/** OpenSSL's BIGNUM form on x86-64: 64-bit limbs, least significant first (= the bytes reversed). */
const limbs = (bigEndian: Buffer) => Buffer.from(bigEndian).reverse();

const SIZE = 1 << 20;
const PEM_AT = 600_000;
const P_AT = 200_008; // 8-aligned, as BIGNUM limbs are
const Q_AT = 201_000;
const pem = Buffer.from(pkcs8Pem(pemKey));

/**
 * A core-like buffer: the public key as an SPKI (as in a loaded certificate), the modulus and
 * the primes as BIGNUM limbs at known offsets, the second key as PEM, random bytes around.
 */
const core = pseudoRandomBytes(SIZE, 11);
createPublicKey(rsa).export({ type: 'spki', format: 'der' }).copy(core, 100_001);
limbs(jwkMember(rsa, 'n')).copy(core, 180_000);
limbs(jwkMember(rsa, 'p')).copy(core, P_AT);
limbs(jwkMember(rsa, 'q')).copy(core, Q_AT);
pem.copy(core, PEM_AT);
const coreFile = tree.put('core.bin', core);

const fingerprint = fingerprintOf(rsa);
const raw = (offsets: number[], extra: Record<string, unknown> = {}) =>
  offsets.map((offset) => ({ offset, length: 128, detector: 'raw', kind: 'rsa-private-key', encoding: 'raw-le', severity: 'high', fingerprint, ...extra }));

const pemOf = (findings: readonly Found[]) => findings.filter((f) => f.detector === 'pem').map((f) => ({ offset: f.offset, kind: f.kind, ...(f.inner !== undefined ? { inner: f.inner } : {}) }));


/** A fresh, empty directory to be TMPDIR. */
function freshTmp(name: string): string {
  const dir = path.join(tree.root, name);
  fs.mkdirSync(dir);
  return dir;
}

/** Runs `body` with TMPDIR set (os.tmpdir() reads it at each call), then restores it. */
async function withTmpdir<T>(dir: string, body: () => Promise<T>): Promise<T> {
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  }
}

describe('the same raw findings for a file, stdin and a container', () => {
  test('as a regular file: p and q at their offsets (the reference)', async () => {
    const { findings, summary } = await scan([coreFile], { jobs: 2 });
    expect(summary.errors).toEqual([]);
    expect(rawOf(findings)).toEqual(raw([P_AT, Q_AT]));
    expect(pemOf(findings)).toEqual([{ offset: PEM_AT, kind: 'ec-private-key' }]);
  }, 30_000);

  test.each([
    { name: 'default chunks', options: {} },
    { name: '64 KiB chunks (the key parts in different chunks), one worker', options: { chunkSizeInBytes: 65_536, jobs: 1 } },
  ])('stdin through the library ($name): the same findings at stream offsets; the spool is gone after', async ({ options }) => {
    const tmp = freshTmp(`tmp-lib-${options.jobs ?? 2}`);
    const { findings, summary } = await withTmpdir(tmp, () => scan(['-'], { jobs: 2, ...options, stdin: piecesOf(core) }));
    expect(summary.errors).toEqual([]);
    expect(findings.every((f) => f.path === '-')).toBe(true);
    expect(rawOf(findings)).toEqual(raw([P_AT, Q_AT]));
    expect(pemOf(findings)).toEqual([{ offset: PEM_AT, kind: 'ec-private-key' }]);
    expect(fs.readdirSync(tmp)).toEqual([]);
  }, 30_000);

  test.each([
    { name: 'zero chunks', chunkSizeInBytes: 65_536 },
    { name: 'zero pages inside one chunk', chunkSizeInBytes: 8 << 20 },
  ])('a sparse core on stdin ($name before and after: holes in the spool, not written): the same findings, shifted', async ({ chunkSizeInBytes }) => {
    const zeros = Buffer.alloc(8 * 65_536);
    const sparse = Buffer.concat([zeros, core, zeros]);
    const { findings, summary } = await withTmpdir(freshTmp(`tmp-sparse-${chunkSizeInBytes}`), () => scan(['-'], { jobs: 2, chunkSizeInBytes, stdin: piecesOf(sparse) }));
    expect(summary.errors).toEqual([]);
    expect(summary.bytes).toBe(sparse.length);
    expect(rawOf(findings)).toEqual(raw([zeros.length + P_AT, zeros.length + Q_AT]));
    expect(pemOf(findings)).toEqual([{ offset: zeros.length + PEM_AT, kind: 'ec-private-key' }]);
  }, 30_000);

  test('stdin through the CLI (`scan -`): exit 1, the same findings; the spool is gone after', async () => {
    const tmp = freshTmp('tmp-cli');
    const r = await runCli(['scan', '-', '--format', 'jsonl'], { stdin: core, env: { TMPDIR: tmp }, timeoutMs: 30_000 });
    expect(r.stderrText).toContain('errors: 0');
    expect(r.code).toBe(1);
    const findings = jsonlFindings(r) as unknown as Found[];
    expect(rawOf(findings)).toEqual(raw([P_AT, Q_AT]));
    expect(pemOf(findings)).toEqual([{ offset: PEM_AT, kind: 'ec-private-key' }]);
    expect(fs.readdirSync(tmp)).toEqual([]);
  }, 40_000);

  test.skipIf(!hasTool('mkfifo'))('a named FIFO (CLI): the same findings at stream offsets, the FIFO\'s path', async () => {
    const fifo = path.join(tree.root, 'core.fifo');
    run('mkfifo', [fifo]);
    const tmp = freshTmp('tmp-fifo');
    const scanning = runCli(['scan', fifo, '--format', 'jsonl'], { env: { TMPDIR: tmp }, timeoutMs: 30_000 });
    // Opens once dumpguard has opened the FIFO for reading.
    const writer = fs.createWriteStream(fifo);
    writer.on('error', () => {});
    writer.end(core);
    const r = await scanning;
    writer.destroy();
    expect(r.stderrText).toContain('errors: 0');
    expect(r.code).toBe(1);
    const findings = jsonlFindings(r) as unknown as Array<Found & { path: string }>;
    expect(findings.every((f) => f.path === fifo)).toBe(true);
    expect(rawOf(findings)).toEqual(raw([P_AT, Q_AT]));
    expect(pemOf(findings)).toEqual([{ offset: PEM_AT, kind: 'ec-private-key' }]);
    expect(fs.readdirSync(tmp)).toEqual([]);
  }, 40_000);

  test('a .gz of the core: offset 0 (the container), inner GZIP-<offset in the core>; the spool is gone after', async () => {
    const file = tree.put('core.bin.gz', gzipSync(core));
    const tmp = freshTmp('tmp-gz');
    const { findings, summary } = await withTmpdir(tmp, () => scan([file], { jobs: 2 }));
    expect(summary.errors).toEqual([]);
    expect(rawOf(findings)).toEqual([...raw([0], { inner: `GZIP-${P_AT}` }), ...raw([0], { inner: `GZIP-${Q_AT}` })]);
    expect(pemOf(findings)).toEqual([{ offset: 0, kind: 'ec-private-key', inner: `GZIP-${PEM_AT}` }]);
    expect(fs.readdirSync(tmp)).toEqual([]);
  }, 30_000);

  test('a truncated .gz: the raw pass runs over what was decoded (the primes are in it), the truncation is an error', async () => {
    const whole = gzipSync(core);
    const file = tree.put('core-truncated.gz', whole.subarray(0, Math.floor(whole.length * 0.7)));
    const { findings, summary } = await scan([file], { jobs: 2 });
    expect(summary.errors).toHaveLength(1);
    expect(summary.errors[0].message).toMatch(/truncated|unexpected end/i);
    expect(rawOf(findings)).toEqual([...raw([0], { inner: `GZIP-${P_AT}` }), ...raw([0], { inner: `GZIP-${Q_AT}` })]);
    expect(pemOf(findings)).toEqual([{ offset: 0, kind: 'ec-private-key', inner: `GZIP-${PEM_AT}` }]);
  }, 30_000);

  test.skipIf(!hasTool('zstd'))('a .zst of the core through the CLI: inner ZSTD-<offset in the core>', async () => {
    const file = path.join(tree.root, 'core.bin.zst');
    fs.writeFileSync(file, run('zstd', ['-q', '-c', coreFile]));
    const tmp = freshTmp('tmp-zst');
    const r = await runCli(['scan', file, '--format', 'jsonl'], { env: { TMPDIR: tmp }, timeoutMs: 30_000 });
    expect(r.stderrText).toContain('errors: 0');
    expect(r.code).toBe(1);
    const findings = jsonlFindings(r) as unknown as Found[];
    expect(rawOf(findings)).toEqual([...raw([0], { inner: `ZSTD-${P_AT}` }), ...raw([0], { inner: `ZSTD-${Q_AT}` })]);
    expect(pemOf(findings)).toEqual([{ offset: 0, kind: 'ec-private-key', inner: `ZSTD-${PEM_AT}` }]);
    expect(fs.readdirSync(tmp)).toEqual([]);
  }, 40_000);

  test.skipIf(!hasTool('tar'))('two cores in a tar.gz: each member its own raw pass, through its own public keys', async () => {
    // b.core holds the primes but not the public key: nothing to find them through in that member.
    const dir = freshTmp('tar-src');
    fs.writeFileSync(path.join(dir, 'a.core'), core);
    const noPublic = Buffer.from(core);
    noPublic.fill(0x5a, 100_001, 100_001 + 294).fill(0x5a, 180_000, 180_256);
    fs.writeFileSync(path.join(dir, 'b.core'), noPublic);
    const file = path.join(tree.root, 'cores.tar.gz');
    run('tar', ['-czf', file, '-C', dir, 'a.core', 'b.core']);
    const { findings, summary } = await scan([file], { jobs: 2 });
    expect(summary.errors).toEqual([]);
    // a.core's header is at 0 and its data takes 2048 blocks of 512 bytes: b.core's header is at 512 + 2^20.
    expect(rawOf(findings)).toEqual([...raw([0], { inner: `GZIP-0/TAR[a.core]-${P_AT}` }), ...raw([0], { inner: `GZIP-0/TAR[a.core]-${Q_AT}` })]);
    expect(pemOf(findings)).toEqual([
      { offset: 0, kind: 'ec-private-key', inner: `GZIP-0/TAR[a.core]-${PEM_AT}` },
      { offset: 0, kind: 'ec-private-key', inner: `GZIP-${512 + SIZE}/TAR[b.core]-${PEM_AT}` },
    ]);
  }, 30_000);

  test('without the raw detector nothing is spooled', async () => {
    const tmp = freshTmp('tmp-off');
    let seen: string[] | undefined;
    const stdin = Readable.from((function* () {
      yield core.subarray(0, SIZE / 2);
      seen = fs.readdirSync(tmp);
      yield core.subarray(SIZE / 2);
    })());
    const { findings } = await withTmpdir(tmp, () => scan(['-'], { jobs: 2, detectors: ['pem', 'der'], stdin }));
    expect(seen).toEqual([]);
    expect(rawOf(findings)).toEqual([]);
    expect(pemOf(findings)).toEqual([{ offset: PEM_AT, kind: 'ec-private-key' }]);
  }, 30_000);
});

describe('the spool file', () => {
  test('holes for skipped zeros (a sparse file as long as the stream), read back as written; removed by dispose', async () => {
    const tmp = freshTmp('tmp-unit');
    const spool = new Spool();
    const MiB = 1 << 20;
    const data = pseudoRandomBytes(MiB, 5);
    // Out of order, as workers finish: the holes at the start and at the end are never written.
    spool.skip(2 * MiB, MiB);
    // The file is made at the first write, under the TMPDIR of that moment.
    expect(await withTmpdir(tmp, async () => (void spool.write(data, MiB), spool.skip(0, MiB), spool.finish()))).toBeUndefined();
    expect(path.dirname(path.dirname(spool.path))).toBe(tmp);
    expect(spool.size).toBe(3 * MiB);
    const stat = fs.statSync(spool.path);
    expect(stat.size).toBe(3 * MiB);
    expect(stat.mode & 0o777).toBe(0o600);
    expect(stat.blocks * 512).toBeLessThan(2 * MiB);
    const back = fs.readFileSync(spool.path);
    expect(back.subarray(MiB, 2 * MiB).equals(data)).toBe(true);
    expect(back.subarray(0, MiB).every((b) => b === 0) && back.subarray(2 * MiB).every((b) => b === 0)).toBe(true);
    await spool.dispose();
    await spool.dispose();
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  test('dataRuns: zero pages are left out only in runs of at least 32 KiB; a short zero run and a partial last page are data', () => {
    const needles = [...new Set(detectors.flatMap((d) => d.anchors ?? []))];
    const KiB = 1024;
    expect(minimumHoleInBytes).toBe(32 * KiB);
    const at = (size: number, ...ones: number[]) => {
      const b = new Uint8Array(size);
      for (const i of ones) b[i] = 1;
      return b;
    };
    expect(dataRuns(at(64 * KiB), 64 * KiB)).toEqual([]);
    expect(dataRuns(at(16 * KiB), 16 * KiB)).toEqual([0, 16 * KiB]); // too short to be a hole
    expect(dataRuns(at(64 * KiB, 0, 64 * KiB - 1), 64 * KiB)).toEqual([0, 4 * KiB, 60 * KiB, 64 * KiB]);
    // 4 KiB of data, a 28 KiB zero run (written), 4 KiB of data, a 44 KiB hole, data in a partial last page
    const b = at(80 * KiB + 100, 5, 32 * KiB + 7, 80 * KiB + 99);
    expect(dataRuns(b, b.length)).toEqual([0, 36 * KiB, 80 * KiB, 80 * KiB + 100]);
    // Only `length` bytes count; a hole at the start and one at the end.
    const c = at(200 * KiB, 40 * KiB + 1, 150 * KiB);
    expect(dataRuns(c, 100 * KiB)).toEqual([40 * KiB, 44 * KiB]);

    // The same runs from the anchor filter's page map (what a worker hands the spool when the
    // filter ran), for these buffers and for random patterns of zero pages and data.
    const viaPageMap = (bytes: Uint8Array, length: number) => {
      const search = anchorSearchWhileFilling(bytes, needles);
      search.finish(bytes.length);
      return dataRunsAround(search.zeroPages()!, length);
    };
    for (const [bytes, length] of [[at(64 * KiB), 64 * KiB], [at(16 * KiB), 16 * KiB], [at(64 * KiB, 0, 64 * KiB - 1), 64 * KiB], [b, b.length], [c, 100 * KiB]] as const) {
      expect(viaPageMap(bytes, length)).toEqual(dataRuns(bytes, length));
    }
    const next = prng(91);
    for (let round = 0; round < 20; round++) {
      const bytes = new Uint8Array(64 * 4096 + Math.floor(next() * 4096));
      for (let page = 0; page * 4096 < bytes.length; page += 1 + Math.floor(next() * 12)) bytes[page * 4096 + Math.floor(next() * 4096)] = 1;
      expect(viaPageMap(bytes, bytes.length)).toEqual(dataRuns(bytes, bytes.length));
    }
  });

  test('a spool file that cannot be removed is said, with its path (it holds the stream)', async (context) => {
    const tmp = freshTmp('tmp-stuck');
    const spool = new Spool();
    await withTmpdir(tmp, () => spool.write(Buffer.alloc(10, 1), 0));
    // An immutable file cannot be removed, even by root.
    if (spawnSync('chattr', ['+i', spool.path]).status !== 0) {
      await spool.dispose();
      return context.skip('chattr +i is not available here');
    }
    try {
      expect(await spool.dispose()).toMatch(new RegExp(`^could not remove the spool file ${spool.path}: E[A-Z]+`));
    } finally {
      spawnSync('chattr', ['-i', spool.path]);
      fs.rmSync(path.dirname(spool.path), { recursive: true, force: true });
    }
  });

  test('a small stream is held in memory: written only when finish asks for it, nothing on disk otherwise', async () => {
    expect(maximumHeldInBytes).toBe(1 << 20);
    const tmp = freshTmp('tmp-held');
    const original = pseudoRandomBytes(4096, 9);
    await withTmpdir(tmp, async () => {
      const unwanted = new Spool();
      unwanted.hold(Buffer.from(original), 0);
      expect(fs.readdirSync(tmp)).toEqual([]);
      expect(await unwanted.dispose()).toBeUndefined();
      const wanted = new Spool();
      const buffer = Buffer.from(original);
      wanted.hold(buffer, 0);
      buffer.fill(0); // a copy was held: the buffer goes back to the pool
      expect(fs.readdirSync(tmp)).toEqual([]);
      expect(await wanted.finish()).toBeUndefined();
      expect(fs.readdirSync(tmp)).toHaveLength(1);
      expect(fs.readFileSync(wanted.path).equals(original)).toBe(true);
      await wanted.dispose();
    });
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  test('a chunk lost with its worker: the spool cannot hold the stream, said why', async () => {
    const tmp = freshTmp('tmp-lost');
    const spool = new Spool();
    await withTmpdir(tmp, () => spool.write(Buffer.alloc(10, 1), 0));
    spool.lose('the chunk at offset 10 did not come back from its worker');
    expect(await spool.finish()).toBe('the chunk at offset 10 did not come back from its worker');
    await spool.dispose();
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  test('is a 0600 file in a fresh 0700 directory under TMPDIR while the stream is read', async () => {
    const tmp = freshTmp('tmp-mode');
    let during: { entries: string[]; dirMode: number; fileMode: number; files: string[] } | undefined;
    const stdin = Readable.from((async function* () {
      yield core.subarray(0, SIZE / 2);
      // Made at the first write, once a worker has handed back the first chunk: the directory
      // (mkdtemp) a moment before the file in it, so both are waited for.
      const spoolFile = () => fs.readdirSync(tmp).some((entry) => fs.readdirSync(path.join(tmp, entry)).length > 0);
      for (const deadline = Date.now() + 10_000; !spoolFile() && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 10));
      const entries = fs.readdirSync(tmp);
      const dir = path.join(tmp, entries[0]);
      const files = fs.readdirSync(dir);
      during = { entries, dirMode: fs.statSync(dir).mode & 0o777, fileMode: fs.statSync(path.join(dir, files[0])).mode & 0o777, files };
      yield core.subarray(SIZE / 2);
    })());
    const { findings } = await withTmpdir(tmp, () => scan(['-'], { jobs: 2, chunkSizeInBytes: 65_536, stdin }));
    expect(during!.entries).toHaveLength(1);
    expect(during!.entries[0]).toMatch(/^dumpguard-spool-/);
    expect(during!.files).toEqual(['stream']);
    expect(during!.dirMode).toBe(0o700);
    expect(during!.fileMode).toBe(0o600);
    expect(rawOf(findings)).toEqual(raw([P_AT, Q_AT]));
    expect(fs.readdirSync(tmp)).toEqual([]);
  }, 30_000);

  test('is removed when the scan is aborted part-way', async () => {
    const tmp = freshTmp('tmp-abort');
    const abort = new AbortController();
    let spooling: string[] = [];
    const stdin = Readable.from((async function* () {
      for (let at = 0; at < SIZE; at += 65_536) {
        if (at === SIZE / 2) {
          for (const deadline = Date.now() + 10_000; fs.readdirSync(tmp).length === 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 10));
          spooling = fs.readdirSync(tmp);
          abort.abort();
        }
        yield core.subarray(at, at + 65_536);
      }
    })());
    const result = await withTmpdir(tmp, () => scan(['-'], { jobs: 2, chunkSizeInBytes: 65_536, stdin, signal: abort.signal }));
    expect(spooling).toHaveLength(1);
    expect(result.summary.interrupted).toBe(true);
    expect(rawOf(result.findings)).toEqual([]);
    expect(fs.readdirSync(tmp)).toEqual([]);
  }, 30_000);

  test('is removed when the CLI is interrupted (SIGINT) while stdin is spooled: exit 130', async () => {
    const tmp = freshTmp('tmp-sigint');
    const { child, done } = spawnCli(['scan', '-', '--format', 'jsonl', '--jobs', '1', '--chunk-size', '64k'], { keepStdinOpen: true, env: { TMPDIR: tmp }, timeoutMs: 20_000 });
    try {
      child.stdin!.write(core.subarray(0, SIZE / 2));
      // The spool exists once dumpguard reads stdin (after its signal handlers are installed).
      const deadline = Date.now() + 10_000;
      while (fs.readdirSync(tmp).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(fs.readdirSync(tmp)).toHaveLength(1);
      child.kill('SIGINT');
      const r = await done;
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(130);
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});

/** A loop device over `file` (root and losetup needed), detached after `body`; undefined when none can be made. */
async function withLoopDevice<T>(file: string, body: (device: string) => Promise<T>): Promise<T | undefined> {
  const made = spawnSync('losetup', ['-f', '--show', '-r', file], { encoding: 'utf8' });
  const device = made.status === 0 ? made.stdout.trim() : '';
  if (!device.startsWith('/dev/')) return undefined;
  try {
    return await body(device);
  } finally {
    spawnSync('losetup', ['-d', device]);
  }
}

test('a block device is read again where it is, not spooled: found with TMPDIR missing, no error', async (context) => {
  const result = await withLoopDevice(coreFile, (device) => withTmpdir(path.join(tree.root, 'no-tmp-for-device'), () => scan([device], { jobs: 2 })));
  if (!result) return context.skip('no loop device (needs root and losetup)');
  expect(result.summary.errors).toEqual([]);
  expect(rawOf(result.findings)).toEqual(raw([P_AT, Q_AT]));
  expect(pemOf(result.findings)).toEqual([{ offset: PEM_AT, kind: 'ec-private-key' }]);
}, 30_000);

describe('a spool that cannot be written: the first pass stands, the raw pass is an error (exit 2)', () => {
  const missing = path.join(tree.root, 'no-such-dir');

  test('TMPDIR does not exist (library, stdin): the error names stdin and the directory, no raw finding', async () => {
    const { findings, summary } = await withTmpdir(missing, () => scan(['-'], { jobs: 2, stdin: piecesOf(core) }));
    expect(summary.errors).toHaveLength(1);
    expect(summary.errors[0].path).toBe('-');
    expect(summary.errors[0].message).toMatch(new RegExp(`^raw pass not run: could not spool stdin to ${missing}: ENOENT`));
    expect(pemOf(findings)).toEqual([{ offset: PEM_AT, kind: 'ec-private-key' }]);
    expect(rawOf(findings)).toEqual([]);
    expect(fs.existsSync(missing)).toBe(false);
  }, 30_000);

  test('TMPDIR does not exist (CLI, stdin): exit 2, the PEM key still reported', async () => {
    const r = await runCli(['scan', '-', '--format', 'jsonl'], { stdin: core, env: { TMPDIR: missing }, timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderrText).toContain(`raw pass not run: could not spool stdin to ${missing}: ENOENT`);
    const findings = jsonlFindings(r) as unknown as Found[];
    expect(pemOf(findings)).toEqual([{ offset: PEM_AT, kind: 'ec-private-key' }]);
    expect(rawOf(findings)).toEqual([]);
  }, 40_000);

  test.skipIf(!hasTool('tar'))('no public key to search for: nothing is spooled, so a missing TMPDIR is no error (200 small tar members, a 2 MiB one)', async () => {
    const dir = freshTmp('many-src');
    const names: string[] = [];
    for (let i = 0; i < 200; i++) {
      names.push(`m${i}.bin`);
      fs.writeFileSync(path.join(dir, names[i]), pseudoRandomBytes(4096, 100 + i));
    }
    names.push('big.bin');
    fs.writeFileSync(path.join(dir, 'big.bin'), Buffer.concat([pseudoRandomBytes(2 << 20, 99), pem]));
    const file = path.join(tree.root, 'many.tar');
    run('tar', ['-cf', file, '-C', dir, ...names]);
    const { findings, summary } = await withTmpdir(missing, () => scan([file], { jobs: 2, chunkSizeInBytes: 1 << 20 }));
    expect(summary.errors).toEqual([]);
    expect(findings.map((f) => ({ detector: f.detector, inner: f.inner?.replace(/-\d+$/, '') }))).toEqual([{ detector: 'pem', inner: 'TAR[big.bin]' }]);
  }, 30_000);

  test('TMPDIR does not exist (a .gz): the error names the decompressed stream', async () => {
    const file = tree.put('core-nospool.gz', gzipSync(core));
    const { findings, summary } = await withTmpdir(missing, () => scan([file], { jobs: 2 }));
    expect(summary.errors.map((e) => ({ path: e.path, message: e.message.replace(/: ENOENT.*/, ': ENOENT') }))).toEqual([
      { path: file, message: `raw pass not run: could not spool the decompressed stream GZIP to ${missing}: ENOENT` },
    ]);
    expect(pemOf(findings)).toEqual([{ offset: 0, kind: 'ec-private-key', inner: `GZIP-${PEM_AT}` }]);
    expect(rawOf(findings)).toEqual([]);
  }, 30_000);

  test('a write fails part-way (a full disk, injected): exit 2, ENOSPC named, the partial spool removed, no key bytes in the output', async () => {
    const tmp = freshTmp('tmp-enospc');
    const r = await runCli(['scan', '-', '--format', 'jsonl', '--chunk-size', '64k'], { stdin: core, env: { TMPDIR: tmp, DUMPGUARD_TEST_FAULT: 'spool-enospc' }, timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderrText).toMatch(new RegExp(`raw pass not run: could not spool stdin to ${tmp}/dumpguard-spool-[^/ ]+/stream: ENOSPC`));
    const findings = jsonlFindings(r) as unknown as Found[];
    expect(pemOf(findings)).toEqual([{ offset: PEM_AT, kind: 'ec-private-key' }]);
    expect(rawOf(findings)).toEqual([]);
    expect(fs.readdirSync(tmp)).toEqual([]);
    for (const secret of [jwkMember(rsa, 'p'), jwkMember(rsa, 'q')]) {
      expect(r.stdoutText + r.stderrText).not.toContain(secret.toString('hex'));
      expect(r.stdoutText + r.stderrText).not.toContain(limbs(secret).toString('base64'));
    }
  }, 40_000);
});

const hasAll = (...tools: string[]) => tools.every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);

describe.skipIf(!hasAll('gcore', 'openssl'))('a real core: openssl s_server after a TLS handshake, gcore\'d', () => {
  test('its BIGNUM primes found at the same offsets as a file, on stdin and in a .gz, the bytes there are p or q', async () => {
    const dir = freshTmp('s_server');
    const keyFile = path.join(dir, 'rsa.key');
    const certFile = path.join(dir, 'rsa.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-subj', '/CN=dumpguard.test', '-days', '1'], { stdio: 'ignore' });
    const server = spawn('openssl', ['s_server', '-key', keyFile, '-cert', certFile, '-accept', '127.0.0.1:0', '-www'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let file: string;
    try {
      const port = await sServerPort(server);
      spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`], { input: 'GET / HTTP/1.0\r\n\r\n', timeout: 10_000, stdio: ['pipe', 'ignore', 'ignore'] });
      execFileSync('gcore', ['-o', path.join(dir, 'core'), String(server.pid)], { stdio: 'ignore' });
      file = path.join(dir, `core.${server.pid}`);
    } finally {
      server.kill('SIGKILL');
    }
    const bytes = fs.readFileSync(file);
    const key = createPrivateKey(fs.readFileSync(keyFile));
    // The certificate is self-signed (a CA root, not searched by default): the key is named with --known-keys.
    const options = { jobs: 2, knownKeys: [certFile] };
    const asFile = rawOf((await scan([file], options)).findings);
    const onStdin = await scan(['-'], { ...options, stdin: fs.createReadStream(file) });
    const gz = tree.put('s_server-core.gz', gzipSync(bytes));
    const inGz = await scan([gz], options);
    expect(onStdin.summary.errors).toEqual([]);
    expect(inGz.summary.errors).toEqual([]);
    expect(asFile.length).toBeGreaterThanOrEqual(2);
    const primes = [jwkMember(key, 'p'), jwkMember(key, 'q')].map(limbs);
    for (const f of asFile) {
      expect(f).toMatchObject({ kind: 'rsa-private-key', encoding: 'raw-le', length: 128, severity: 'critical', fingerprint: fingerprintOf(key) });
      expect(primes.some((p) => p.equals(bytes.subarray(f.offset, f.offset + 128)))).toBe(true);
    }
    expect(rawOf(onStdin.findings)).toEqual(asFile);
    expect(rawOf(inGz.findings)).toEqual(asFile.map((f) => ({ ...f, offset: 0, inner: `GZIP-${f.offset}` })));
  }, 60_000);
});
