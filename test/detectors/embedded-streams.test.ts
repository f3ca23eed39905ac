// Embedded gzip members and zlib streams: real streams made with node:zlib and the system gzip,
// planted at odd offsets in pseudo-random bytes; the key reported at the stream's first byte,
// with the stream's length and the key's decompressed position in `inner`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, test } from 'vitest';
import { plausibleDeflateStart } from '../../src/detectors/deflate-start.js';
import { createEmbeddedStreamsDetector, MAX_EMBEDDED_INPUT_IN_BYTES } from '../../src/detectors/embedded-streams.js';
import { DEFAULT_DETECTORS, detectors, detectorsById, requiredMarginInBytes, runnableDetectors } from '../../src/detectors/index.js';
import type { Detector, Match } from '../../src/types.js';
import { scanChunked } from '../helpers/chunked.js';
import { jsonlFindings, runCli } from '../helpers/cli.js';
import { pkcs8Pem, pseudoRandomBytes, testKeys } from '../helpers/keys.js';

const keys = testKeys();
const embedded = runnableDetectors([...DEFAULT_DETECTORS, 'embedded']).find((d) => d.id === 'embedded')!;
/** Embedded streams are opt-in (their cost is over the 10% a default detector may have). */
const withEmbedded = ['--detectors', 'default,embedded'];
/** Text around the key, so its decompressed offset is not 0. */
const before = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\n\r\n'.repeat(3));
const pem = Buffer.from(pkcs8Pem(keys.rsa.privateKey));
const derEc = keys.ec.privateKey.export({ type: 'pkcs8', format: 'der' });
const payload = Buffer.concat([before, pem, Buffer.from('\n-- end of body --\n')]);

function plant(stream: Buffer, at: number, total = 256 * 1024, seed = 7): Buffer {
  const blob = pseudoRandomBytes(total, seed);
  stream.copy(blob, at);
  return blob;
}

function scanWhole(detector: Detector, bytes: Buffer): Match[] {
  return [...detector.scan(bytes, bytes.length)];
}

const hasGzip = spawnSync('gzip', ['--version'], { stdio: 'ignore' }).error === undefined;

describe('embedded streams', () => {
  test('a gzip member (node:zlib) at an odd offset: one finding at the stream, GZIP-<offset of the PEM inside>', () => {
    const gz = gzipSync(payload);
    const at = 100_001;
    const matches = scanWhole(embedded, plant(gz, at));
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({
      start: at,
      length: gz.length,
      detector: 'pem',
      kind: 'rsa-private-key',
      severity: 'high',
      fingerprint: keys.rsa.fingerprint,
      inner: `GZIP-${before.length}`,
    });
    expect(matches[0].evidence).not.toContain(pem.toString('latin1').split('\n')[1]);
  });

  test.skipIf(!hasGzip)('a gzip member made by the system gzip (with a file name in its header)', () => {
    const result = spawnSync('sh', ['-c', 'f=$(mktemp -d)/body.pem; cat > "$f"; gzip -c "$f"; rm -r "$(dirname "$f")"'], { input: payload });
    const gz = result.stdout;
    expect(gz[3] & 0x08).toBe(0x08); // FNAME
    const at = 77_777;
    const matches = scanWhole(embedded, plant(gz, at));
    expect(matches.map((m) => [m.start, m.length, m.kind, m.fingerprint, m.inner])).toEqual([[at, gz.length, 'rsa-private-key', keys.rsa.fingerprint, `GZIP-${before.length}`]]);
  });

  test('a zlib stream (deflateSync) holding a DER key: ZLIB-<offset of the DER inside>', () => {
    const inside = Buffer.concat([pseudoRandomBytes(333, 3), derEc, pseudoRandomBytes(100, 4)]);
    const z = deflateSync(inside);
    const at = 12_345;
    const matches = scanWhole(embedded, plant(z, at));
    expect(matches.map((m) => [m.start, m.length, m.detector, m.kind, m.fingerprint, m.inner])).toEqual([[at, z.length, 'der', 'ec-private-key', keys.ec.fingerprint, 'ZLIB-333']]);
  });

  test('two keys in one stream: two findings at the same stream, each with its own inner offset', () => {
    const second = Buffer.from(pkcs8Pem(keys.ed25519.privateKey));
    const z = deflateSync(Buffer.concat([payload, second]));
    const matches = scanWhole(embedded, plant(z, 5001));
    expect(matches.map((m) => [m.start, m.length, m.fingerprint, m.inner])).toEqual([
      [5001, z.length, keys.rsa.fingerprint, `ZLIB-${before.length}`],
      [5001, z.length, keys.ed25519.fingerprint, `ZLIB-${payload.length}`],
    ]);
  });

  test('the same findings for any chunk size, with a stream across a chunk boundary; shifted by 65 bytes, offsets move by 65', () => {
    const gz = gzipSync(payload);
    const z = deflateSync(Buffer.concat([Buffer.alloc(10), derEc]));
    const blob = plant(gz, 65_536 - 700, 3 * 1024 * 1024, 11);
    z.copy(blob, 2 * 1024 * 1024 - 3);
    const margin = requiredMarginInBytes(detectorsById(undefined));
    const at64k = scanChunked(embedded, blob, 64 * 1024, margin);
    const at1m = scanChunked(embedded, blob, 1024 * 1024, margin);
    const whole = scanChunked(embedded, blob, blob.length, margin);
    const view = (ms: typeof at64k) => ms.map((m) => [m.offset, m.length, m.kind, m.fingerprint, m.inner]);
    expect(view(at64k)).toEqual([
      [65_536 - 700, gz.length, 'rsa-private-key', keys.rsa.fingerprint, `GZIP-${before.length}`],
      [2 * 1024 * 1024 - 3, z.length, 'ec-private-key', keys.ec.fingerprint, 'ZLIB-10'],
    ]);
    expect(view(at1m)).toEqual(view(at64k));
    expect(view(whole)).toEqual(view(at64k));
    const shifted = scanChunked(embedded, Buffer.concat([pseudoRandomBytes(65, 9), blob]), 64 * 1024, margin);
    expect(shifted.map((m) => m.offset)).toEqual(at64k.map((m) => m.offset + 65));
  });

  test('the margin covers the compressed bytes read: its maxMatchLengthInBytes bounds every stream', () => {
    expect(embedded.maxMatchLengthInBytes).toBe(MAX_EMBEDDED_INPUT_IN_BYTES);
    expect(requiredMarginInBytes(detectorsById(undefined))).toBeGreaterThanOrEqual(MAX_EMBEDDED_INPUT_IN_BYTES);
    // A key whose compressed bytes lie past the bound is not found, wherever chunks fall.
    const z = deflateSync(Buffer.concat([pseudoRandomBytes(80 * 1024, 5), pem]), { level: 1 });
    const blob = plant(z, 1000, 512 * 1024);
    expect(scanWhole(embedded, blob)).toEqual([]);
    expect(scanChunked(embedded, blob, 64 * 1024)).toEqual([]);
  });

  test('a truncated stream is scanned as far as it decodes: cut at the end of the bytes, and cut with random bytes after it', () => {
    const z = deflateSync(Buffer.concat([before, pem, pseudoRandomBytes(16 * 1024, 6)]));
    const cut = z.subarray(0, z.length - 8 * 1024);
    const atEnd = Buffer.concat([pseudoRandomBytes(4097, 1), cut]);
    expect(scanWhole(embedded, atEnd).map((m) => [m.start, m.length, m.fingerprint, m.inner])).toEqual([[4097, cut.length, keys.rsa.fingerprint, `ZLIB-${before.length}`]]);
    const followed = plant(cut, 4097);
    const matches = scanWhole(embedded, followed);
    expect(matches.map((m) => [m.start, m.fingerprint, m.inner])).toEqual([[4097, keys.rsa.fingerprint, `ZLIB-${before.length}`]]);
  });

  test('a decompression bomb (60 MiB of zeros after the key) in a blob: the key found, the output budget kept, bounded time', () => {
    const bomb = deflateSync(Buffer.concat([pem, Buffer.alloc(60 * 1024 * 1024)]), { level: 9 });
    expect(bomb.length).toBeLessThan(MAX_EMBEDDED_INPUT_IN_BYTES);
    const blob = plant(bomb, 999);
    const started = performance.now();
    const matches = scanWhole(embedded, blob);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(matches.map((m) => [m.start, m.fingerprint, m.inner])).toEqual([[999, keys.rsa.fingerprint, 'ZLIB-0']]);
    // A bomb with nothing in it: no finding, no throw.
    expect(scanWhole(embedded, plant(gzipSync(Buffer.alloc(50 * 1024 * 1024)), 3))).toEqual([]);
  });

  test('negatives: random bytes, random bytes behind every zlib and gzip header, compressed random bytes, a stream of a public key', () => {
    expect(scanWhole(embedded, pseudoRandomBytes(4 * 1024 * 1024, 42))).toEqual([]);
    const headers = pseudoRandomBytes(1024 * 1024, 43);
    for (let at = 0; at + 3 < headers.length; at += 257) {
      const which = (at / 257) % 5;
      if (which === 4) headers.set([0x1f, 0x8b, 0x08, 0x00], at);
      else headers.set([0x78, [0x01, 0x5e, 0x9c, 0xda][which]], at);
    }
    expect(() => scanWhole(embedded, headers)).not.toThrow();
    expect(scanWhole(embedded, headers)).toEqual([]);
    expect(scanWhole(embedded, plant(gzipSync(pseudoRandomBytes(100_000, 44)), 17))).toEqual([]);
    const publicPem = Buffer.from(keys.rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString().replace(/PRIVATE/g, 'PUBLIC').slice(0, 200));
    expect(scanWhole(embedded, plant(deflateSync(publicPem), 17))).toEqual([]);
    expect(scanWhole(embedded, Buffer.alloc(0))).toEqual([]);
    expect(scanWhole(embedded, Buffer.from([0x78, 0x9c]))).toEqual([]);
    expect(scanWhole(embedded, Buffer.from([0x1f, 0x8b, 0x08, 0x00]))).toEqual([]);
  });

  test('the first-block prefilter accepts what zlib writes: every level and strategy, text, binary and short inputs', () => {
    const inputs = [payload, derEc, pseudoRandomBytes(5000, 8), Buffer.alloc(3000, 0x41), Buffer.from('ab'.repeat(40)), Buffer.concat([Buffer.alloc(200), derEc])];
    const strategies = [constants.Z_DEFAULT_STRATEGY, constants.Z_FILTERED, constants.Z_HUFFMAN_ONLY, constants.Z_RLE, constants.Z_FIXED];
    for (const input of inputs) {
      for (const level of [0, 1, 6, 9]) {
        for (const strategy of strategies) {
          const raw = deflateRawSync(input, { level, strategy });
          expect(plausibleDeflateStart(raw, 0, raw.length), `level ${level} strategy ${strategy} length ${input.length}`).toBe(true);
        }
      }
    }
  });

  test('a stored (uncompressed) deflate block is decoded too; the inner detectors are the ones it is given', () => {
    const z = deflateSync(payload, { level: 0 });
    expect(scanWhole(embedded, plant(z, 31)).map((m) => [m.start, m.inner])).toEqual([[31, `ZLIB-${before.length}`]]);
    const onlyDer = createEmbeddedStreamsDetector(detectors.filter((d) => d.id === 'der'));
    expect(scanWhole(onlyDer, plant(z, 31))).toEqual([]);
    expect(scanWhole(onlyDer, plant(deflateSync(derEc, { strategy: constants.Z_FIXED }), 31)).map((m) => m.kind)).toEqual(['ec-private-key']);
  });
});

const hasZstd = spawnSync('zstd', ['--version'], { stdio: 'ignore' }).error === undefined;

describe('dumpguard scan (built CLI) with an embedded stream', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dumpguard-embedded-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const gz = gzipSync(payload);
  const at = 0x1f00;
  const blob = plant(gz, at, 1024 * 1024, 21);
  const file = path.join(dir, 'blob.bin');
  writeFileSync(file, blob);
  const expected = { path: file, offset: at, length: gz.length, detector: 'pem', kind: 'rsa-private-key', severity: 'high', fingerprint: keys.rsa.fingerprint, inner: `GZIP-${before.length}` };

  test('exits 1; JSONL, JSON and SARIF carry inner; the same for --chunk-size 64k --jobs 1 and 1m --jobs 2', async () => {
    const a = await runCli(['scan', file, '--format', 'jsonl', '--chunk-size', '64k', '--jobs', '1', ...withEmbedded]);
    const b = await runCli(['scan', file, '--format', 'jsonl', '--chunk-size', '1m', '--jobs', '2', ...withEmbedded]);
    expect(a.code).toBe(1);
    expect(jsonlFindings(a)).toEqual([expect.objectContaining(expected)]);
    expect(jsonlFindings(b)).toEqual(jsonlFindings(a));
    const json = await runCli(['scan', file, '--format', 'json', ...withEmbedded]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdoutText).findings).toEqual([expect.objectContaining(expected)]);
    const sarif = await runCli(['scan', file, '--format', 'sarif', ...withEmbedded]);
    expect(sarif.code).toBe(1);
    const results = JSON.parse(sarif.stdoutText).runs[0].results;
    expect(results).toHaveLength(1);
    expect(results[0].properties.inner).toBe(expected.inner);
    expect(results[0].locations[0].physicalLocation.region).toMatchObject({ byteOffset: at, byteLength: gz.length });
    const text = await runCli(['scan', file, ...withEmbedded]);
    expect(text.stdoutText).toContain(`inside ${expected.inner}`);
  });

  test('without embedded (the default, or --detectors pem,der): not found (exit 0); a stored block whose PEM is readable as it is: one finding, the plain one', async () => {
    const off = await runCli(['scan', file, '--format', 'jsonl', '--detectors', 'pem,der']);
    expect(off.code).toBe(0);
    expect((await runCli(['scan', file, '--format', 'jsonl'])).code).toBe(0);
    const stored = deflateSync(payload, { level: 0 });
    const storedFile = path.join(dir, 'stored.bin');
    writeFileSync(storedFile, plant(stored, 4095, 256 * 1024, 22));
    const result = await runCli(['scan', storedFile, '--format', 'jsonl']);
    expect(result.code).toBe(1);
    expect(jsonlFindings(result).map((f) => [f.offset, f.detector, f.fingerprint, f.inner])).toEqual([[4095 + 2 + 5 + before.length, 'pem', keys.rsa.fingerprint, undefined]]);
  });

  test('scrub zeroes the whole stream; the copy rescans clean', async () => {
    const out = path.join(dir, 'blob.scrubbed');
    const result = await runCli(['scrub', file, '-o', out]);
    expect(result.code).toBe(0);
    expect(result.stderrText).toContain('rescan: 0 at or above medium');
    const scrubbed = readFileSync(out);
    expect(scrubbed.subarray(at, at + gz.length).every((b) => b === 0)).toBe(true);
    expect(Buffer.compare(scrubbed.subarray(0, at), blob.subarray(0, at))).toBe(0);
    expect(Buffer.compare(scrubbed.subarray(at + gz.length), blob.subarray(at + gz.length))).toBe(0);
  });

  test.skipIf(!hasZstd)('inside a zstd-compressed file: offset 0, inner ZSTD-<stream offset>/GZIP-<key offset>', async () => {
    const zst = path.join(dir, 'blob.zst');
    writeFileSync(zst, spawnSync('zstd', ['-q', '-c', file]).stdout);
    const result = await runCli(['scan', zst, '--format', 'jsonl', ...withEmbedded]);
    expect(result.code).toBe(1);
    expect(jsonlFindings(result)).toEqual([expect.objectContaining({ ...expected, path: zst, offset: 0, inner: `ZSTD-${at}/GZIP-${before.length}` })]);
  });
});
