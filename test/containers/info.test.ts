// `dumpguard info` on real compressed cores (the sample core compressed at test time with the
// system tools): the container chain to the content, and the core's own layout read through it.
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { CORE_SIZE, hasTool, pemCore, run, tempDir } from './helpers.js';

const dir = tempDir('dumpguard-info-');
const compressors = [
  { tool: 'zstd', args: ['-q', '-c'], chain: 'zstd', label: 'ZSTD' },
  { tool: 'xz', args: ['-c'], chain: 'xz', label: 'XZ' },
  { tool: 'lz4', args: ['-q', '-c'], chain: 'lz4', label: 'LZ4' },
  { tool: 'gzip', args: ['-c'], chain: 'gzip', label: 'GZIP' },
].filter((c) => hasTool(c.tool));

let plainInfo: Array<Record<string, unknown>>;

beforeAll(async () => {
  copyFileSync(pemCore, path.join(dir, 'a.core'));
  copyFileSync(pemCore, path.join(dir, 'b.core'));
  for (const c of compressors) writeFileSync(path.join(dir, `core-${c.tool}.bin`), run(c.tool, [...c.args, pemCore]));
  const plain = await runCli(['info', '--format', 'json', pemCore]);
  expect(plain.code).toBe(0);
  plainInfo = JSON.parse(plain.stdoutText);
});

describe('dumpguard info through containers', () => {
  test('a plain core: its layout, no container line', async () => {
    const result = await runCli(['info', pemCore]);
    expect(result.code).toBe(0);
    expect(result.stdoutText).toContain('format: elf-core');
    expect(result.stdoutText).not.toContain('container:');
    expect(plainInfo[0]).toMatchObject({ path: pemCore, format: 'elf-core' });
  });

  test('compressed cores: text names `<tool> → ELF core`, JSON has the chain and the same region table as the plain core', async () => {
    const files = compressors.map((c) => path.join(dir, `core-${c.tool}.bin`));
    const text = await runCli(['info', ...files]);
    expect(text.code).toBe(0);
    for (const c of compressors) {
      expect(text.stdoutText).toContain(`container: ${c.chain} → ELF core (${CORE_SIZE} bytes decompressed; findings in it: offset 0, inner ${c.label}-<position>)`);
    }
    const json = await runCli(['info', '--format', 'json', ...files]);
    expect(json.code).toBe(0);
    const documents = JSON.parse(json.stdoutText) as Array<{ path: string; contents: Array<Record<string, unknown>>; problems: unknown[] }>;
    expect(documents.map((d) => d.path)).toEqual(files);
    documents.forEach((d, i) => {
      expect(d.problems).toEqual([]);
      expect(d.contents).toHaveLength(1);
      expect(d.contents[0]).toMatchObject({ chain: `${compressors[i].chain} → ELF core`, containers: [compressors[i].chain], offset: 0, inner: `${compressors[i].label}-0`, decompressedBytes: CORE_SIZE, format: 'elf-core' });
      expect(d.contents[0].regions).toEqual(plainInfo[0].regions);
      expect(d.contents[0].facts).toEqual(plainInfo[0].facts);
    });
  });

  test.skipIf(!hasTool('tar') || !hasTool('gzip'))('a .tar.gz of two cores: gzip → tar[a.core] → ELF core and gzip → tar[b.core] → ELF core', async () => {
    const archive = path.join(dir, 'cores.tar.gz');
    run('tar', ['czf', archive, 'a.core', 'b.core'], { cwd: dir });
    const text = await runCli(['info', archive]);
    expect(text.code).toBe(0);
    const chains = text.stdoutText.split('\n').filter((l) => l.includes('container:'));
    expect(chains).toEqual([
      `  container: gzip → tar[a.core] → ELF core (${CORE_SIZE} bytes decompressed; findings in it: offset 0, inner GZIP-0/TAR[a.core]-<position>)`,
      expect.stringMatching(/^ {2}container: gzip → tar\[b\.core\] → ELF core \(\d+ bytes decompressed; findings in it: offset 0, inner GZIP-\d+\/TAR\[b\.core\]-<position>\)$/),
    ]);
  });

  test.skipIf(!hasTool('zstd'))('a truncated .zst: the chain, the core as far as it decoded (truncated warning), and where decoding stopped', async () => {
    const whole = run('zstd', ['-q', '-c', pemCore]);
    const cut = path.join(dir, 'cut.zst');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const json = await runCli(['info', '--format', 'json', cut]);
    expect(json.code).toBe(0);
    const [document] = JSON.parse(json.stdoutText);
    expect(document.contents[0]).toMatchObject({ chain: 'zstd → ELF core', format: 'elf-core' });
    expect(document.contents[0].decompressedBytes).toBeLessThan(CORE_SIZE);
    expect(document.problems).toEqual([{ offset: Math.floor(whole.length / 2), message: expect.stringContaining('truncated') }]);
  });
});
