// The real sample core, compressed at test time with the system tools, scanned by the built CLI:
// the key is found with offset 0 (the container) and `inner` = <FORMAT>-<its offset in the core>,
// with the raw scan's fingerprint, address and region.
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { jsonlFindings, runCli } from '../helpers/cli.js';
import { CORE_SIZE, hasTool, pemCore, pemKeyOffset, run, tempDir } from './helpers.js';

const dir = tempDir('dumpguard-containers-');
let raw: Record<string, unknown>;

beforeAll(async () => {
  const result = await runCli(['scan', pemCore, '--format', 'jsonl']);
  expect(result.code).toBe(1);
  const findings = jsonlFindings(result);
  expect(findings).toHaveLength(1);
  raw = findings[0];
  expect(raw.offset).toBe(pemKeyOffset);
  copyFileSync(pemCore, path.join(dir, 'core-holdkey-pem.core'));
});

/** The raw finding as it must appear inside a container. */
function inside(file: string, inner: string, offset = 0): Record<string, unknown> {
  return { ...raw, path: file, offset, inner };
}

const compressors = [
  { tool: 'zstd', args: ['-q', '-c'], label: 'ZSTD', ext: 'zst' },
  { tool: 'xz', args: ['-c'], label: 'XZ', ext: 'xz' },
  { tool: 'lz4', args: ['-q', '-c'], label: 'LZ4', ext: 'lz4' },
  { tool: 'gzip', args: ['-c'], label: 'GZIP', ext: 'gz' },
] as const;

describe('whole-file compressed cores', () => {
  for (const c of compressors) {
    test.skipIf(!hasTool(c.tool))(`${c.tool}: the key at offset 0, inner ${c.label}-${pemKeyOffset}, same fingerprint and address`, async () => {
      // No telling file name: recognised by content.
      const file = path.join(dir, `core-${c.tool}.bin`);
      writeFileSync(file, run(c.tool, [...c.args, pemCore]));
      const result = await runCli(['scan', file, '--format', 'jsonl']);
      expect(result.stderrText).toContain('errors: 0');
      expect(result.code).toBe(1);
      expect(jsonlFindings(result)).toEqual([inside(file, `${c.label}-${pemKeyOffset}`)]);
    });
  }

  test.skipIf(!hasTool('zip'))('zip (deflated and stored): ZIP[core-holdkey-pem.core]-59736 at the local header offset 0', async () => {
    const deflated = path.join(dir, 'deflated.zip');
    const stored = path.join(dir, 'stored.zip');
    run('zip', ['-q', deflated, 'core-holdkey-pem.core'], { cwd: dir });
    run('zip', ['-q', '-0', stored, 'core-holdkey-pem.core'], { cwd: dir });
    const result = await runCli(['scan', deflated, stored, '--format', 'jsonl']);
    expect(result.code).toBe(1);
    expect(jsonlFindings(result)).toEqual([
      inside(deflated, `ZIP[core-holdkey-pem.core]-${pemKeyOffset}`),
      inside(stored, `ZIP[core-holdkey-pem.core]-${pemKeyOffset}`),
    ]);
  });

  test.skipIf(!hasTool('zip') || !hasTool('zstd'))('a zip of .zst files: ZIP[name]-0/ZSTD-59736, offset = each entry local header', async () => {
    writeFileSync(path.join(dir, 'a.zst'), run('zstd', ['-q', '-c', pemCore]));
    writeFileSync(path.join(dir, 'b.zst'), run('zstd', ['-q', '-19', '-c', pemCore]));
    const archive = path.join(dir, 'zsts.zip');
    run('zip', ['-q', '-0', '-X', archive, 'a.zst', 'b.zst'], { cwd: dir }); // -X: no extra fields
    const result = await runCli(['scan', archive, '--format', 'jsonl']);
    expect(result.code).toBe(1);
    const findings = jsonlFindings(result);
    expect(findings.map((f) => f.inner)).toEqual([`ZIP[a.zst]-0/ZSTD-${pemKeyOffset}`, `ZIP[b.zst]-0/ZSTD-${pemKeyOffset}`]);
    expect(findings[0].offset).toBe(0);
    // The second entry's local header: after the first's (30 bytes + name) and a.zst's bytes (stored).
    const aSize = run('zstd', ['-q', '-c', pemCore]).length;
    expect(findings[1].offset).toBe(30 + 'a.zst'.length + aSize);
    for (const f of findings) expect(f.fingerprint).toBe(raw.fingerprint);
  });

  test.skipIf(!hasTool('zstd'))('concatenated zstd frames: positions continue across frames; text output says inside', async () => {
    const one = run('zstd', ['-q', '-c', pemCore]);
    const file = path.join(dir, 'two-frames.bin');
    writeFileSync(file, Buffer.concat([one, one]));
    const result = await runCli(['scan', file, '--format', 'jsonl']);
    expect(jsonlFindings(result).map((f) => f.inner)).toEqual([`ZSTD-${pemKeyOffset}`, `ZSTD-${CORE_SIZE + pemKeyOffset}`]);
    const text = await runCli(['scan', file]);
    expect(text.stdoutText).toContain(`inside ZSTD-${pemKeyOffset}`);
  });

  test.skipIf(!hasTool('zstd'))('chunk-size invariance: the same findings with --chunk-size 64k and 8m on a compressed core', async () => {
    // Two copies of the core in one stream, so a key lands away from the stream's first chunk.
    const file = path.join(dir, 'invariance.zst');
    writeFileSync(file, run('zstd', ['-q', '-c'], { input: Buffer.concat([run('cat', [pemCore]), run('cat', [pemCore])]) }));
    const small = await runCli(['scan', file, '--format', 'jsonl', '--chunk-size', '64k']);
    const large = await runCli(['scan', file, '--format', 'jsonl', '--chunk-size', '8m']);
    expect(small.code).toBe(1);
    expect(jsonlFindings(small)).toHaveLength(2);
    expect(small.stdoutText).toBe(large.stdoutText);
  });
});
