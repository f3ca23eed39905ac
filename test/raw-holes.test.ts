// The raw pass over a spooled stream does not read the spool's holes back: the runs of zero
// pages the spool left unwritten are handed to the raw search as known zeros (with the first
// pass's zero chunks), and its workers fill those parts of a chunk or window with zeros instead
// of reading them. The findings are those of the same bytes scanned as a regular file, with key
// material right next to holes; a failpoint that makes any raw-pass read of a whole zero page
// fail shows that neither the holes nor the zero pages the first pass saw in a file are read.
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FileHandle } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { scan } from '../dist/index.js';
import { dataRuns, Spool } from '../dist/input/spool.js';
import { Slots } from '../dist/input/chunker.js';
import { collectPublics } from '../dist/raw/collect.js';
import { buildPatternTable, occurrenceSearchWhileFilling } from '../dist/raw/occurrences.js';
import { searchRawKeys, toTarget } from '../dist/raw/search.js';
import { ZeroPages } from '../dist/raw/zero-pages.js';
import type { ChunkResult, ChunkTask } from '../dist/pool/worker.js';
import { jsonlFindings, repoRoot, runCli } from './helpers/cli.js';
import { fingerprintOf, pseudoRandomBytes } from './helpers/keys.js';
import { piecesOf, rawOf, type Found } from './helpers/raw-findings.js';
import { tempTree } from './helpers/temp-tree.js';

const tree = tempTree('dumpguard-raw-holes-');

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const jwkMember = (key: KeyObject, name: string) => Buffer.from((key.export({ format: 'jwk' }) as Record<string, string>)[name], 'base64url');
/** OpenSSL's BIGNUM form on x86-64: 64-bit limbs, least significant first (= the bytes reversed). */
const limbs = (bigEndian: Buffer) => Buffer.from(bigEndian).reverse();

const PAGE = 4096;
const KiB = 1024;
/** The two first-pass chunk sizes: 128 KiB (chunk edges at every 32 pages) and 1 MiB (every 256). */
const CHUNK_SIZES = [128 * KiB, 1 << 20];

/**
 * A core-like stream of 610 pages: islands of random bytes between runs of zero pages (40 KiB and
 * more, not at chunk edges): the SPKI, then the modulus as limbs, then p starting right where a
 * hole ends and q ending right where the next hole starts. Laid out so that, for both chunk
 * sizes, every zero run the spool writes (a part of a run cut by a chunk's edge, shorter than
 * 32 KiB) has data or a hole next to it, never another written zero run: a raw-pass read of
 * 32 KiB of zero pages can then only be a read of a hole.
 */
const ZERO_RUNS_IN_PAGES: Array<[number, number]> = [[20, 262], [265, 275], [277, 287], [290, 300], [310, 600]];
const SIZE = 610 * PAGE;
const SPKI_AT = 262 * PAGE + 1001;
const N_AT = 275 * PAGE + 512;
const P_AT = 287 * PAGE; // right after the hole [277, 287) pages
const Q_AT = 290 * PAGE - 128; // its limbs end where the hole [290, 300) pages starts
const stream = pseudoRandomBytes(SIZE, 23);
for (const [from, to] of ZERO_RUNS_IN_PAGES) stream.fill(0, from * PAGE, to * PAGE);
createPublicKey(rsa).export({ type: 'spki', format: 'der' }).copy(stream, SPKI_AT);
limbs(jwkMember(rsa, 'n')).copy(stream, N_AT);
limbs(jwkMember(rsa, 'p')).copy(stream, P_AT);
limbs(jwkMember(rsa, 'q')).copy(stream, Q_AT);
const streamFile = tree.put('holes.bin', stream);

const fingerprint = fingerprintOf(rsa);
const expected = (extra: Record<string, unknown> = {}, offsets = [P_AT, Q_AT]) =>
  offsets.map((offset) => ({ offset, length: 128, detector: 'raw', kind: 'rsa-private-key', encoding: 'raw-le', severity: 'high', fingerprint, ...extra }));



/** The holes a spool leaves for `bytes` cut into chunks of `chunkSize` (what scan.ts writes: each body's dataRuns). */
function spoolHoles(bytes: Buffer, chunkSize: number): Array<[number, number]> {
  const holes: Array<[number, number]> = [];
  let at = 0;
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    const body = bytes.subarray(offset, Math.min(bytes.length, offset + chunkSize));
    const runs = dataRuns(body, body.length);
    for (let i = 0; i < runs.length; i += 2) {
      if (offset + runs[i] > at) holes.push([at, offset + runs[i]]);
      at = offset + runs[i + 1];
    }
  }
  if (bytes.length > at) holes.push([at, bytes.length]);
  // Holes that touch across a chunk's edge are one.
  return holes.reduce<Array<[number, number]>>((out, h) => (out.length > 0 && out[out.length - 1][1] === h[0] ? (out[out.length - 1][1] = h[1], out) : (out.push(h), out)), []);
}

describe('the fixture', () => {
  test.each(CHUNK_SIZES)('chunks of %i bytes: p starts where a hole ends, q ends where one starts, the public key and modulus lie between holes', (chunkSize) => {
    const holes = spoolHoles(stream, chunkSize);
    expect(holes.some(([, to]) => to === P_AT)).toBe(true);
    expect(holes.some(([from]) => from === Q_AT + 128)).toBe(true);
    // The first run is cut at 256 pages (an edge of both chunk sizes): its last 24 KiB are written.
    expect(holes.some(([from, to]) => from === 20 * PAGE && to === 256 * PAGE)).toBe(true);
    expect(holes.some(([from, to]) => from === 265 * PAGE && to === 275 * PAGE)).toBe(true);
    expect(holes.reduce((sum, [from, to]) => sum + to - from, 0)).toBeGreaterThan(SIZE / 2);
  });
});

describe('a stream with key material next to holes: the same raw findings as the same bytes as a file', () => {
  test.each(CHUNK_SIZES)('chunks of %i bytes: file, stdin (library) and a .gz give p and q at their exact offsets', async (chunkSizeInBytes) => {
    const asFile = await scan([streamFile], { jobs: 2, chunkSizeInBytes });
    expect(asFile.summary.errors).toEqual([]);
    expect(rawOf(asFile.findings)).toEqual(expected());

    const onStdin = await scan(['-'], { jobs: 2, chunkSizeInBytes, stdin: piecesOf(stream) });
    expect(onStdin.summary.errors).toEqual([]);
    expect(onStdin.summary.bytes).toBe(SIZE);
    expect(rawOf(onStdin.findings)).toEqual(rawOf(asFile.findings));

    const gz = tree.put(`holes-${chunkSizeInBytes}.bin.gz`, gzipSync(stream));
    const inGz = await scan([gz], { jobs: 2, chunkSizeInBytes });
    expect(inGz.summary.errors).toEqual([]);
    expect(rawOf(inGz.findings)).toEqual([...expected({ offset: 0, inner: `GZIP-${P_AT}` }, [0]), ...expected({ offset: 0, inner: `GZIP-${Q_AT}` }, [0])]);
  }, 60_000);

  test('one worker, 64 KiB chunks (a prime and its hole in different chunks): the same findings on stdin', async () => {
    const { findings, summary } = await scan(['-'], { jobs: 1, chunkSizeInBytes: 64 * KiB, stdin: piecesOf(stream, 4097) });
    expect(summary.errors).toEqual([]);
    expect(rawOf(findings)).toEqual(expected());
  }, 60_000);
});

/**
 * Random pages with single zero pages between them (every third page, not one run of two): the
 * SPKI, the modulus as limbs, p and q each inside a data page.
 */
const scattered = (() => {
  const pages = 300;
  const bytes = pseudoRandomBytes(pages * PAGE, 29);
  for (let page = 1; page < pages; page += 3) bytes.fill(0, page * PAGE, (page + 1) * PAGE);
  createPublicKey(rsa).export({ type: 'spki', format: 'der' }).copy(bytes, 90 * PAGE + 100);
  limbs(jwkMember(rsa, 'n')).copy(bytes, 150 * PAGE + 1024);
  limbs(jwkMember(rsa, 'p')).copy(bytes, 153 * PAGE + 2048);
  limbs(jwkMember(rsa, 'q')).copy(bytes, 159 * PAGE + 8);
  return { file: tree.put('scattered.bin', bytes), offsets: [153 * PAGE + 2048, 159 * PAGE + 8] };
})();

/**
 * dist/ copied beside a node_modules link but without wasm/: the program then runs without the
 * SIMD module (the JS search gives the same anchors, but knows nothing of zero pages).
 */
const withoutModule = (() => {
  let cli: string | undefined;
  return () => {
    if (cli) return cli;
    const root = path.join(tree.root, 'no-module');
    fs.cpSync(path.join(repoRoot, 'dist'), path.join(root, 'dist'), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'));
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir');
    return (cli = path.join(root, 'dist', 'cli.js'));
  };
})();

describe('zero pages are not read again (DUMPGUARD_TEST_FAULT=raw-read-zero-pages: a raw-pass read of a whole zero page fails)', () => {
  test.each(CHUNK_SIZES.map((size) => `${size / KiB}k`))('--chunk-size %s: stdin is scanned without error, p and q found', async (chunkSize) => {
    const tmp = path.join(tree.root, `tmp-${chunkSize}`);
    fs.mkdirSync(tmp);
    const r = await runCli(['scan', '-', '--format', 'jsonl', '--chunk-size', chunkSize], { stdin: stream, env: { TMPDIR: tmp, DUMPGUARD_TEST_FAULT: 'raw-read-zero-pages' }, timeoutMs: 40_000 });
    expect(r.stderrText).toContain('errors: 0');
    expect(r.stderrText).not.toContain('raw-read-zero-pages');
    expect(r.code).toBe(1);
    expect(rawOf(jsonlFindings(r) as unknown as Found[])).toEqual(expected());
    expect(fs.readdirSync(tmp)).toEqual([]);
  }, 60_000);

  test.each(CHUNK_SIZES.map((size) => `${size / KiB}k`))('--chunk-size %s: the same bytes as a regular file (the first pass saw its zero pages): no error, p and q found', async (chunkSize) => {
    const r = await runCli(['scan', streamFile, '--format', 'jsonl', '--chunk-size', chunkSize], { env: { DUMPGUARD_TEST_FAULT: 'raw-read-zero-pages' }, timeoutMs: 40_000 });
    expect(r.stderrText).toContain('errors: 0');
    expect(r.code).toBe(1);
    expect(rawOf(jsonlFindings(r) as unknown as Found[])).toEqual(expected());
  }, 60_000);

  test('single zero pages between data pages (every third page) are not read either', async () => {
    const r = await runCli(['scan', scattered.file, '--format', 'jsonl', '--chunk-size', '128k'], { env: { DUMPGUARD_TEST_FAULT: 'raw-read-zero-pages' }, timeoutMs: 40_000 });
    expect(r.stderrText).toContain('errors: 0');
    expect(r.code).toBe(1);
    expect(rawOf(jsonlFindings(r) as unknown as Found[])).toEqual(expected({}, scattered.offsets));
  }, 60_000);

  test('without the SIMD module the same findings, but the zero pages are read: the failpoint fires', async () => {
    const cli = withoutModule();
    const plain = await runCli(['scan', scattered.file, '--format', 'jsonl', '--chunk-size', '128k'], { cli, timeoutMs: 40_000 });
    expect(plain.stderrText).toContain('errors: 0');
    expect(plain.code).toBe(1);
    expect(rawOf(jsonlFindings(plain) as unknown as Found[])).toEqual(expected({}, scattered.offsets));

    const r = await runCli(['scan', scattered.file, '--format', 'jsonl', '--chunk-size', '128k'], { cli, env: { DUMPGUARD_TEST_FAULT: 'raw-read-zero-pages' }, timeoutMs: 40_000 });
    expect(r.code).toBe(2);
    expect(r.stderrText).toMatch(/raw key search failed: read failed at offset \d+: EIO: the raw pass read the zero page at \d+ \(injected: raw-read-zero-pages\)/);
  }, 60_000);
});

describe('the raw search hands the known zeros to its workers', () => {
  test('each task is told exactly the parts of its range in known zero pages (4 KiB or more); the rest of the file is read', async () => {
    const spki = createPublicKey(rsa).export({ type: 'spki', format: 'der' });
    const targets = collectPublics(new Uint8Array(spki), spki.length).map((v) => toTarget(v)!);
    const MiB = 1 << 20;
    const size = 40 * MiB;
    // Unmerged, out of order, touching: a whole-chunk range, holes finer than chunks, ends off the page grid, one shorter than a page.
    const zeroRanges: Array<[number, number]> = [[12 * MiB + 4096, 12 * MiB + 4096 + 40_000], [0, 8 * MiB], [8 * MiB, 8 * MiB + 123_456], [20 * MiB + 1, 33 * MiB + 7], [38 * MiB, 38 * MiB + 1000]];
    const zeroPages = new ZeroPages();
    for (const [from, to] of zeroRanges) zeroPages.add(from, to);
    const zero = (at: number) => zeroRanges.some(([from, to]) => at >= from && at < to);
    const tasks: ChunkTask[] = [];
    const host = {
      path: 'fake',
      handle: { fd: -1 } as FileHandle,
      size,
      slots: new Slots(3),
      bufferSizeInBytes: 8 * MiB + 65536,
      deep: false,
      zeroPages,
      run: async (task: ChunkTask): Promise<ChunkResult> => {
        tasks.push(task);
        return { length: task.length, bodyLength: task.bodyLength, matches: [], failures: [], raw: { occurrences: [] } };
      },
    };
    expect(await searchRawKeys(host, targets)).toEqual([]);
    // A task reads a chunk, and maybe the next ones after it.
    const pieces = tasks.flatMap((t) => [
      { position: t.read!.position, length: t.length, zeros: t.read!.zeros },
      ...(t.raw?.step === 'occurrences' ? (t.raw.next ?? []) : []).map((p) => ({ position: p.offset, length: p.length, zeros: p.zeros })),
    ]);
    expect(pieces.length).toBeGreaterThan(2);
    // The whole 4 KiB pages inside them, joined.
    const merged: Array<[number, number]> = [[0, 8 * MiB + 30 * 4096], [12 * MiB + 4096, 12 * MiB + 10 * 4096], [20 * MiB + 4096, 33 * MiB]];
    const read: Array<[number, number]> = [];
    for (const { position, length, zeros = [] } of pieces) {
      const from = position;
      const to = position + length;
      const want = merged.flatMap(([a, b]) => (Math.min(to, b) - Math.max(from, a) >= 4096 ? [Math.max(from, a) - from, Math.min(to, b) - from] : []));
      expect(zeros).toEqual(want);
      let at = 0;
      for (let i = 0; i <= zeros.length; i += 2) {
        const end = i < zeros.length ? zeros[i] : length;
        if (end > at) read.push([from + at, from + end]);
        if (i < zeros.length) at = zeros[i + 1];
      }
    }
    // A chunk wholly in zeros is not a task; every byte outside the zero ranges is in a part read.
    expect(pieces.every((p) => !(p.zeros?.length === 2 && p.zeros[0] === 0 && p.zeros[1] === p.length))).toBe(true);
    read.sort((a, b) => a[0] - b[0]);
    let covered = 0;
    for (const [from, to] of read) {
      if (from > covered) for (let at = covered; at < from; at += 4096) expect(zero(at) && zero(Math.min(from - 1, at + 4095))).toBe(true);
      covered = Math.max(covered, to);
    }
    expect(covered).toBe(size);
  });

  test('the occurrence search skips the words of known zeros and finds the same occurrences next to and across their edges', () => {
    // Patterns that begin or end with zero bytes, planted so that those zeros lie inside a known-zero range.
    const head = pseudoRandomBytes(56, 3);
    const endsWithZeros = new Uint8Array([...head, 0, 0, 0, 0, 0, 0, 0, 0]);
    const startsWithZeros = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, ...pseudoRandomBytes(56, 4)]);
    const plain = new Uint8Array(pseudoRandomBytes(64, 5));
    const patterns = [endsWithZeros, startsWithZeros, plain].map((bytes, target) => ({ target, form: 'raw-be' as const, bytes, alignment: 1 }));
    const table = buildPatternTable(patterns);
    const bytes = new Uint8Array(pseudoRandomBytes(1 << 20, 6));
    const zeros = [100_003, 200_001, 300_000, 340_000, 700_001, 800_002];
    for (let i = 0; i < zeros.length; i += 2) bytes.fill(0, zeros[i], zeros[i + 1]);
    bytes.set(endsWithZeros, 100_003 - 56); // its zeros are the range's first bytes
    bytes.set(startsWithZeros, 200_001 - 8); // its zeros are the range's last bytes
    bytes.set(plain, 300_000 - 64); // ends where a range starts
    bytes.set(plain, 340_000); // starts where one ends
    bytes.set(endsWithZeros, 700_001 - 59); // three of its zeros before the range, five in it
    const all = occurrenceSearchWhileFilling(table, bytes).finish(bytes.length, bytes.length);
    expect(all.map((o) => [o.start, o.pattern])).toEqual([[100_003 - 56, 0], [200_001 - 8, 1], [300_000 - 64, 2], [340_000, 2], [700_001 - 59, 0]]);
    expect(occurrenceSearchWhileFilling(table, bytes, zeros).finish(bytes.length, bytes.length)).toEqual(all);
    // The words inside a range said to be zeros are not looked at: a pattern wholly inside one is not seen.
    const liar = new Uint8Array(bytes);
    liar.set(plain, 500_000);
    expect(occurrenceSearchWhileFilling(table, liar).finish(liar.length, liar.length).some((o) => o.start === 500_000)).toBe(true);
    expect(occurrenceSearchWhileFilling(table, liar, [...zeros, 480_000, 600_000].sort((a, b) => a - b)).finish(liar.length, liar.length)).toEqual(all);
  });
});

describe('Spool.holes', () => {
  test('the ranges never written, whatever the order of the writes; none for a stream held in memory', async () => {
    const tmp = path.join(tree.root, 'tmp-spool');
    fs.mkdirSync(tmp);
    const before = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const MiB = 1 << 20;
      const spool = new Spool();
      spool.skip(2 * MiB, MiB);
      void spool.write(pseudoRandomBytes(4096, 1), 2 * MiB + 8192);
      void spool.write(pseudoRandomBytes(100_000, 2), MiB);
      spool.skip(0, MiB);
      expect(await spool.finish()).toBeUndefined();
      expect(spool.holes()).toEqual([[0, MiB], [MiB + 100_000, 2 * MiB + 8192], [2 * MiB + 12_288, 3 * MiB]]);
      await spool.dispose();

      const held = new Spool();
      held.hold(pseudoRandomBytes(5000, 3), 0);
      expect(await held.finish()).toBeUndefined();
      expect(held.holes()).toEqual([]);
      await held.dispose();
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});

describe('a worker fills only the edges of the known zeros of an occurrence task', () => {
  test('what its buffer held before (the modulus everywhere, and across both edges of the zero range) is never seen: the occurrences of the true bytes', async () => {
    const { default: scanChunk } = await import('../dist/pool/worker.js');
    const { packPatterns, patternsOf, patternSetId } = await import('../dist/raw/targets.js');
    const spki = createPublicKey(rsa).export({ type: 'spki', format: 'der' });
    const targets = collectPublics(new Uint8Array(spki), spki.length).map((v) => toTarget(v)!);
    const patterns = patternsOf(targets);
    const n = limbs(jwkMember(rsa, 'n'));
    const size = 1 << 20;
    const [zeroFrom, zeroTo] = [64 * KiB, 512 * KiB];
    // Before: the modulus as limbs every 8 KiB, and straddling both ends of the later zero range.
    const before = Buffer.alloc(size);
    for (let at = 0; at + n.length <= size; at += 8 * KiB) n.copy(before, at + 1024);
    n.copy(before, zeroFrom - 128);
    n.copy(before, zeroTo - 128);
    // Now: random bytes, zeros in [64 KiB, 512 KiB); the modulus's first half just before the
    // range and its second half just after it (neither is an occurrence), and one whole
    // modulus ending where the range starts.
    const now = pseudoRandomBytes(size, 31);
    now.fill(0, zeroFrom, zeroTo);
    n.copy(now, zeroFrom - 128, 0, 128);
    n.copy(now, zeroTo, 128);
    n.copy(now, zeroFrom - 1024 - 256, 0);
    const files = [tree.put('stale-before.bin', before), tree.put('stale-now.bin', now)];
    const run = (file: string, zeros?: number[]) => {
      const fd = fs.openSync(file, 'r');
      try {
        const task: ChunkTask = { length: size, bodyLength: size, detectorIds: [], read: { fd, position: 0, ...(zeros ? { zeros } : {}) }, raw: { step: 'occurrences', offset: 0, bodyStart: 0, setId: patternSetId(patterns), patterns: packPatterns(patterns) } };
        return (scanChunk(task).raw?.occurrences ?? []).map((o) => [o.offset, patterns[o.pattern].form]);
      } finally {
        fs.closeSync(fd);
      }
    };
    expect(run(files[0]).length).toBeGreaterThan(100);
    const withZeros = run(files[1], [zeroFrom, zeroTo]);
    expect(withZeros).toEqual([[zeroFrom - 1024 - 256, 'raw-le']]);
    // The same as reading every byte (after a stale buffer again).
    run(files[0]);
    expect(run(files[1])).toEqual(withZeros);
  });
});

describe('an occurrence task of several chunks', () => {
  test('reports what each of its chunks reports alone, each occurrence once, in the body it starts in', async () => {
    const { default: scanChunk } = await import('../dist/pool/worker.js');
    const { packPatterns, patternsOf, patternSetId } = await import('../dist/raw/targets.js');
    const spki = createPublicKey(rsa).export({ type: 'spki', format: 'der' });
    const patterns = patternsOf(collectPublics(new Uint8Array(spki), spki.length).map((v) => toTarget(v)!));
    const n = limbs(jwkMember(rsa, 'n'));
    const body = 256 * KiB;
    const margin = 4 * KiB;
    const bytes = pseudoRandomBytes(3 * body, 47);
    bytes.fill(0, 300 * KiB, 400 * KiB);
    // One in each body, one across each boundary between bodies (it starts in the first: the margin reads it whole).
    const plants = [1000, body - 128, body + 5000, 2 * body - 64, 2 * body + 9000];
    for (const at of plants) n.copy(bytes, at);
    const fd = fs.openSync(tree.put('three-chunks.bin', bytes), 'r');
    try {
      const raw = { step: 'occurrences' as const, setId: patternSetId(patterns), patterns: packPatterns(patterns) };
      const piece = (k: number) => {
        const readFrom = Math.max(0, k * body - 64);
        const readTo = Math.min(bytes.length, (k + 1) * body + margin);
        return { offset: readFrom, bodyStart: k * body - readFrom, length: readTo - readFrom, bodyLength: body, ...(k === 1 ? { zeros: [300 * KiB - readFrom, 400 * KiB - readFrom] } : {}) };
      };
      const task = (pieces: ReturnType<typeof piece>[]): ChunkTask => {
        const [first, ...next] = pieces;
        return { length: first.length, bodyLength: first.bodyLength, detectorIds: [], read: { fd, position: first.offset, ...(first.zeros ? { zeros: first.zeros } : {}) }, raw: { ...raw, offset: first.offset, bodyStart: first.bodyStart, ...(next.length > 0 ? { next } : {}) } };
      };
      const found = (t: ChunkTask) => (scanChunk(t).raw?.occurrences ?? []).filter((o) => patterns[o.pattern].form === 'raw-le').map((o) => o.offset);
      const alone = [0, 1, 2].flatMap((k) => found(task([piece(k)])));
      expect(alone).toEqual(plants);
      expect(found(task([0, 1, 2].map(piece)))).toEqual(plants);
      expect(found(task([1, 2].map(piece)))).toEqual(plants.slice(2));
    } finally {
      fs.closeSync(fd);
    }
  });
});
