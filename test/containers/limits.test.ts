// Decompression bombs: a 1000:1 gzip (1 GiB of zeros after the sample core, generated as a
// stream), a zip entry of the same, overlapping zip entries and a 32000:1 zstd. A limit stops
// the stream, is named in the summary with the offset reached, and fails the gate (exit 2)
// unless --allow-partial; memory stays bounded while 1 GiB is decompressed.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { cliPath, repoRoot, runCli } from '../helpers/cli.js';
import { hasTool, peakRssKiB, pemCore, pemKeyOffset, tempDir, writeZerosGzip, writeZerosZip, zstdZeros } from './helpers.js';

const dir = tempDir('dumpguard-bombs-');
const gzipBomb = path.join(dir, 'core-then-zeros.gz');
const zipBomb = path.join(dir, 'bomb.zip');
const overlapping = path.join(dir, 'overlapping.zip');
const zstdBomb = path.join(dir, 'zeros.zst');
const MiB = 1024 * 1024;

beforeAll(async () => {
  await writeZerosGzip(gzipBomb, 1024, readFileSync(pemCore));
  await writeZerosZip(zipBomb, 'zeros.bin', 1024);
  await writeZerosZip(overlapping, 'zeros.bin', 256, 20);
  writeFileSync(zstdBomb, zstdZeros(1024));
});

test('the gzip is a ~1000:1 bomb: about 1 MiB for 1 GiB', () => {
  const size = readFileSync(gzipBomb).length;
  expect(size).toBeLessThan(1.1 * MiB);
  expect((1024 * MiB) / size).toBeGreaterThan(990);
});

test('--max-decompressed-size stops the gzip at that size: error with the limit and the offset reached, exit 2', async () => {
  const result = await runCli(['scan', gzipBomb, '--format', 'jsonl', '--max-decompressed-size', '100m']);
  expect(result.code).toBe(2);
  expect(result.stderrText).toMatch(
    /error: .*core-then-zeros\.gz @\d+: decompression stopped at GZIP-104857600 \(container at offset 0\): the stream holds more than the maximum decompressed size of 104857600 bytes \(--max-decompressed-size\)/,
  );
  // What came before the limit was scanned: the key in the core at the stream's start.
  expect(result.stdoutText).toContain(`"inner":"GZIP-${pemKeyOffset}"`);
});

test('with --allow-partial the limit is a warning: exit 1 for the key found before it', async () => {
  const result = await runCli(['scan', gzipBomb, '--format', 'jsonl', '--max-decompressed-size', '100m', '--allow-partial']);
  expect(result.code).toBe(1);
  expect(result.stderrText).toMatch(/warning .*core-then-zeros\.gz: @\d+: decompression stopped at GZIP-104857600 .*\(--allow-partial\)/);
  expect(result.stderrText).toContain('errors: 0');
  const clean = await runCli(['scan', zipBomb, '--max-decompressed-size', '100m', '--allow-partial']);
  expect(clean.code).toBe(0);
});

test('--max-expansion-ratio stops the gzip once it expands past N:1 (after the 64 MiB grace)', async () => {
  const result = await runCli(['scan', gzipBomb, '--max-expansion-ratio', '100']);
  expect(result.code).toBe(2);
  expect(result.stdoutText).toMatch(/error .*core-then-zeros\.gz @\d+: decompression stopped at GZIP-\d+ \(container at offset 0\): \d+ bytes from \d+ compressed bytes is over the maximum expansion ratio of 100:1 \(--max-expansion-ratio\)/);
});

test('a zip entry of 1 GiB of zeros: the limit names the entry', async () => {
  const result = await runCli(['scan', zipBomb, '--max-decompressed-size', '100m']);
  expect(result.code).toBe(2);
  expect(result.stdoutText).toMatch(/error .*bomb\.zip @\d+: decompression stopped at ZIP\[zeros\.bin\]-104857600 \(container at offset 0\): the stream holds more than the maximum decompressed size/);
});

test('overlapping zip entries (each within the limits): the whole file stops at N times its size', async () => {
  const result = await runCli(['scan', overlapping, '--max-expansion-ratio', '100']);
  expect(result.code).toBe(2);
  expect(result.stdoutText).toMatch(/error .*overlapping\.zip @\d+: decompression stopped at ZIP\[zeros\.bin\]-\d+ .*: the file's streams and entries decompress to more than 100 times its \d+ bytes/);
});

test('a 32000:1 zstd stops at the default expansion ratio', async () => {
  const result = await runCli(['scan', zstdBomb]);
  expect(result.code).toBe(2);
  expect(result.stdoutText).toMatch(/error .*zeros\.zst @\d+: decompression stopped at ZSTD-\d+ .*over the maximum expansion ratio of 1000:1/);
});

test.skipIf(!hasTool('/usr/bin/time'))('1 GiB decompressed end to end: key found, peak RSS under 256 MiB', () => {
  // /usr/bin/time -f %M prints the peak RSS (KiB) as the last line of stderr.
  const result = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, cliPath, 'scan', gzipBomb, '--format', 'jsonl', '--max-expansion-ratio', '2000'], { cwd: repoRoot, encoding: 'utf8' });
  expect(result.status).toBe(1);
  expect(result.stdout).toContain(`"inner":"GZIP-${pemKeyOffset}"`);
  expect(result.stderr).toMatch(/scanned 1 file\(s\), \d+ bytes/);
  expect(result.stderr).toContain('errors: 0');
  const rss = peakRssKiB(result.stderr);
  expect(rss).toBeDefined();
  expect(rss!).toBeLessThan(256 * 1024);
});
