// Corrupt and truncated compressed data: scanned as far as it decodes, an error that says where
// decoding stopped, exit 2 (a warning with --allow-partial); never a crash or a hang.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { scan } from '../../dist/index.js';
import { runCli } from '../helpers/cli.js';
import { hasTool, pemCore, pemKeyOffset, prng, run, tempDir } from './helpers.js';

const dir = tempDir('dumpguard-corrupt-');
const core = readFileSync(pemCore);

describe.skipIf(!hasTool('zstd'))('a zstd core truncated at 10 random points', () => {
  const whole = run('zstd', ['-q', '-c', pemCore]);
  const random = prng(20240611);
  const cuts = Array.from({ length: 10 }, () => 1 + Math.floor(random() * (whole.length - 1))).sort((a, b) => a - b);
  const files = cuts.map((cut) => {
    const file = path.join(dir, `cut-${cut}.zst`);
    writeFileSync(file, whole.subarray(0, cut));
    return file;
  });

  test('each: an error at the cut, findings only as far as the data decoded', async () => {
    const { findings, summary } = await scan(files, { jobs: 2 });
    expect(summary.files).toBe(10);
    for (const [i, file] of files.entries()) {
      const errors = summary.errors.filter((e) => e.path === file);
      expect(errors, file).toHaveLength(1);
      expect(errors[0].offset).toBe(cuts[i]);
      expect(errors[0].message).toMatch(/^zstd data truncated: the stream ends inside .* at compressed offset \d+; decoded and scanned up to ZSTD-\d+ \(container at offset 0\)$/);
      const decodedTo = Number(/ZSTD-(\d+)/.exec(errors[0].message)![1]);
      const found = findings.filter((f) => f.path === file);
      // The key is found exactly when the decoded part holds it whole.
      expect(found.map((f) => f.inner)).toEqual(decodedTo >= pemKeyOffset + 1707 ? [`ZSTD-${pemKeyOffset}`] : []);
    }
  });

  test('the gate fails closed (exit 2); --allow-partial turns the errors into warnings', async () => {
    const strict = await runCli(['scan', ...files, '--format', 'jsonl']);
    expect(strict.code).toBe(2);
    const partial = await runCli(['scan', ...files, '--format', 'jsonl', '--allow-partial']);
    expect(partial.stderrText).toContain('errors: 0');
    expect(partial.code).toBe(partial.stdoutText.length > 0 ? 1 : 0);
  });
});

/** The compressed forms of the core that the machine can make. */
function compressedForms(): Array<{ name: string; bytes: Buffer }> {
  const forms = [{ name: 'gzip', bytes: gzipSync(core) }];
  if (hasTool('zstd')) forms.push({ name: 'zstd', bytes: run('zstd', ['-q', '-c', pemCore]) });
  if (hasTool('xz')) forms.push({ name: 'xz', bytes: run('xz', ['-c', pemCore]) });
  if (hasTool('lz4')) forms.push({ name: 'lz4', bytes: run('lz4', ['-q', '-c', pemCore]) });
  if (hasTool('zip')) forms.push({ name: 'zip', bytes: run('zip', ['-q', '-', 'core-holdkey-pem.core'], { cwd: path.dirname(pemCore) }) });
  if (hasTool('tar')) forms.push({ name: 'tgz', bytes: run('tar', ['-czf', '-', 'core-holdkey-pem.core'], { cwd: path.dirname(pemCore) }) });
  return forms;
}

test('every format, truncated in the middle: an error with an offset for each, exit 2', async () => {
  const files = compressedForms().map(({ name, bytes }) => {
    const file = path.join(dir, `half-${name}`);
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    return file;
  });
  const { summary } = await scan(files, { jobs: 2 });
  for (const file of files) {
    const errors = summary.errors.filter((e) => e.path === file);
    expect(errors.length, `${file}: ${JSON.stringify(summary.errors)}`).toBeGreaterThan(0);
    for (const e of errors) expect(e.offset).toBeTypeOf('number');
  }
});

test('every format with bytes flipped at random: the scan completes, and whatever it reports is consistent', async () => {
  const random = prng(7);
  const files: string[] = [];
  for (const { name, bytes } of compressedForms()) {
    for (let n = 0; n < 4; n++) {
      const damaged = Buffer.from(bytes);
      for (let k = 0; k < 3; k++) damaged[16 + Math.floor(random() * (damaged.length - 16))] ^= 1 + Math.floor(random() * 255);
      const file = path.join(dir, `flipped-${name}-${n}`);
      writeFileSync(file, damaged);
      files.push(file);
    }
  }
  const { findings, summary } = await scan(files, { jobs: 2 });
  expect(summary.files).toBe(files.length);
  for (const f of findings) expect(f.inner).toBeTypeOf('string');
  for (const e of summary.errors) expect(e.message).not.toMatch(/worker failed|cannot read/);
});
