// Archives walked entry by entry, nested containers, and the provenance path of each finding.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, test } from 'vitest';
import { scan } from '../../dist/index.js';
import { DEFAULT_DETECTORS } from '../../dist/detectors/index.js';
import { jsonlFindings, runCli } from '../helpers/cli.js';
import { CORE_SIZE, derCore, hasTool, offsets, pemCore, pemKeyOffset, run, tempDir } from './helpers.js';

const dir = tempDir('dumpguard-archives-');
const der = offsets['core-holdkey-der.core'];
/** Where the second member's header sits in a tar of the two cores: one header block + the first core padded to 512. */
const secondMember = 512 + Math.ceil(CORE_SIZE / 512) * 512;

beforeAll(() => {
  copyFileSync(derCore, path.join(dir, 'core-holdkey-der.core'));
  copyFileSync(pemCore, path.join(dir, 'core-holdkey-pem.core'));
});

describe('tar', () => {
  test.skipIf(!hasTool('tar'))('a .tar.gz of the two sample cores: every key, with GZIP-<member header>/TAR[name]-<offset in the core>', async () => {
    const file = path.join(dir, 'cores.tar.gz');
    run('tar', ['--format=ustar', '-czf', file, 'core-holdkey-der.core', 'core-holdkey-pem.core'], { cwd: dir });
    const result = await runCli(['scan', file, '--format', 'jsonl']);
    expect(result.stderrText).toContain('errors: 0');
    expect(result.code).toBe(1);
    const findings = jsonlFindings(result);
    expect(findings.map((f) => [f.offset, f.inner, f.kind])).toEqual([
      [0, `GZIP-0/TAR[core-holdkey-der.core]-${der['test-key-rsa2048-pkcs1.der'][0]}`, 'rsa-private-key'],
      [0, `GZIP-0/TAR[core-holdkey-der.core]-${der['test-key-ec-p256.der'][0]}`, 'ec-private-key'],
      [0, `GZIP-${secondMember}/TAR[core-holdkey-pem.core]-${pemKeyOffset}`, 'rsa-private-key'],
    ]);
    // The same keys as the raw cores, with the addresses the cores' own headers give.
    const rawCores = jsonlFindings(await runCli(['scan', derCore, pemCore, '--format', 'jsonl']));
    expect(findings.map((f) => [f.fingerprint, f.address, f.region])).toEqual(rawCores.map((f) => [f.fingerprint, f.address, f.region]));
  });

  test.skipIf(!hasTool('tar'))('a plain tar: offset = the member header in the file; GNU long names and PAX paths; names escaped', async () => {
    const plain = path.join(dir, 'cores.tar');
    run('tar', ['--format=ustar', '-cf', plain, 'core-holdkey-der.core', 'core-holdkey-pem.core'], { cwd: dir });
    const long = `${'d'.repeat(120)}/core]x.core`;
    mkdirSync(path.join(dir, 'd'.repeat(120)), { recursive: true });
    copyFileSync(pemCore, path.join(dir, long));
    const gnu = path.join(dir, 'gnu.tar');
    const pax = path.join(dir, 'pax.tar');
    run('tar', ['--format=gnu', '-cf', gnu, long], { cwd: dir });
    run('tar', ['--format=pax', '-cf', pax, long], { cwd: dir });
    const { findings, summary } = await scan([plain, gnu, pax], { jobs: 2 });
    expect(summary.errors).toEqual([]);
    const escaped = `${'d'.repeat(120)}/core%5Dx.core`;
    expect(findings.map((f) => [path.basename(f.path), f.offset, f.inner])).toEqual([
      ['cores.tar', 0, `TAR[core-holdkey-der.core]-${der['test-key-rsa2048-pkcs1.der'][0]}`],
      ['cores.tar', 0, `TAR[core-holdkey-der.core]-${der['test-key-ec-p256.der'][0]}`],
      ['cores.tar', secondMember, `TAR[core-holdkey-pem.core]-${pemKeyOffset}`],
      // GNU: the long-name header ('L', 2 blocks with its name) starts the member.
      ['gnu.tar', 0, `TAR[${escaped}]-${pemKeyOffset}`],
      // PAX: the extended header starts the member.
      ['pax.tar', 0, `TAR[${escaped}]-${pemKeyOffset}`],
    ]);
  });
});

describe('zip', () => {
  test.skipIf(!hasTool('zip'))('ZIP64 records (zip -fz, and a zip streamed from stdin) are read', async () => {
    const forced = path.join(dir, 'forced64.zip');
    run('zip', ['-q', '-fz', forced, 'core-holdkey-pem.core'], { cwd: dir });
    const streamed = path.join(dir, 'streamed.zip');
    run('zip', ['-q', streamed, '-'], { input: run('cat', [pemCore]) });
    const { findings, summary } = await scan([forced, streamed], { jobs: 2 });
    expect(summary.errors).toEqual([]);
    expect(findings.map((f) => [path.basename(f.path), f.offset, f.inner])).toEqual([
      ['forced64.zip', 0, `ZIP[core-holdkey-pem.core]-${pemKeyOffset}`],
      ['streamed.zip', 0, `ZIP[-]-${pemKeyOffset}`],
    ]);
  });

  test.skipIf(!hasTool('zip'))('a zip inside a gzip stream is walked by its local headers', async () => {
    const archive = path.join(dir, 'inner.zip');
    run('zip', ['-q', archive, 'core-holdkey-pem.core'], { cwd: dir });
    const file = path.join(dir, 'zip.gz');
    writeFileSync(file, gzipSync(run('cat', [archive])));
    const { findings, summary } = await scan([file], { jobs: 2 });
    expect(summary.errors).toEqual([]);
    expect(findings.map((f) => [f.offset, f.inner])).toEqual([[0, `GZIP-0/ZIP[core-holdkey-pem.core]-${pemKeyOffset}`]]);
  });

  test.skipIf(!hasTool('zip'))('an encrypted entry cannot be scanned: error (exit 2), or a warning with --allow-partial', async () => {
    const file = path.join(dir, 'encrypted.zip');
    run('zip', ['-q', '-P', 'secret', file, 'core-holdkey-pem.core'], { cwd: dir });
    const strict = await runCli(['scan', file, '--format', 'jsonl']);
    expect(strict.code).toBe(2);
    expect(strict.stderrText).toMatch(/error: .*encrypted\.zip @0: zip entry "core-holdkey-pem\.core" .* is encrypted: not scanned/);
    const partial = await runCli(['scan', file, '--format', 'jsonl', '--allow-partial']);
    expect(partial.code).toBe(0);
    expect(partial.stderrText).toMatch(/warning .*encrypted\.zip: @0: zip entry .* is encrypted/);
  });
});

test('containers nested deeper than the depth limit (4) are reported, scanned raw, and fail the gate', async () => {
  let bytes = run('cat', [pemCore]);
  for (let i = 0; i < 4; i++) bytes = gzipSync(bytes);
  const four = path.join(dir, 'four.gz');
  writeFileSync(four, bytes);
  const five = path.join(dir, 'five.gz');
  writeFileSync(five, gzipSync(bytes));
  const { findings, summary } = await scan([four, five], { jobs: 2, detectors: [...DEFAULT_DETECTORS, 'embedded'] });
  // Past the limit the content is scanned as raw bytes, where the embedded-stream detector still
  // decodes a gzip member it meets (within its own 64 KiB / 2 MiB budget): the last layer here.
  expect(findings.map((f) => [path.basename(f.path), f.inner])).toEqual([
    ['four.gz', `GZIP-0/GZIP-0/GZIP-0/GZIP-${pemKeyOffset}`],
    ['five.gz', `GZIP-0/GZIP-0/GZIP-0/GZIP-0/GZIP-${pemKeyOffset}`],
  ]);
  const withoutEmbedded = await scan([five], { jobs: 1, detectors: ['pem', 'der'] });
  expect(withoutEmbedded.findings).toEqual([]);
  expect(summary.errors).toEqual([
    { path: five, offset: 0, message: 'gzip content at GZIP-0/GZIP-0/GZIP-0/GZIP-0 (container at offset 0) is nested deeper than the container depth limit (4): scanned as raw bytes, not decompressed' },
  ]);
});
