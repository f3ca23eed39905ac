// Speed of the opt-in entropy and AES detectors, two ways:
//
// 1. Whole scan (issue #5's gate): the CLI over the bench's 1 GiB dump-like file
//    (bench/out/dumplike-1g.bin, made and cached by `BENCH_SIZE_MIB=1024 node
//    bench/scan-throughput.mjs`) with the default detectors, with default + aes,entropy, and
//    with default + --entropy-profile; median of BENCH_WHOLE_RUNS (3) runs each, interleaved,
//    wall clock and CPU time (user + sys, steadier on a shared machine: the MB/s a scan would
//    reach on a machine of its own is bytes / CPU seconds x cores). Prints the ratio with aes
//    and entropy against the 70% limit.
// 2. In-process, single thread, over 8 MiB chunks (the scan's default): each detector alone on
//    random bytes, mostly zeros, and the dump-like file when it exists; MB/s by wall clock and
//    by CPU time, best and median of BENCH_RUNS (5), with the pem detector and Buffer.indexOf
//    as yardsticks measured in the same rounds.
//
//   npm run build && node bench/entropy-aes.mjs
//   BENCH_PARTS=whole BENCH_WHOLE_RUNS=5 BENCH_JOBS=2 node bench/entropy-aes.mjs
//   BENCH_PARTS=detectors BENCH_SIZE_MIB=256 BENCH_RUNS=5 node bench/entropy-aes.mjs
//   BENCH_FILE=/path/to/core node bench/entropy-aes.mjs      (whole scan of another file)
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { aesDetector } from '../dist/detectors/aes.js';
import { blockEntropies, entropyDetector } from '../dist/detectors/entropy.js';
import { detectors as registry, OPT_IN_DETECTORS } from '../dist/detectors/index.js';
import { pemDetector } from '../dist/detectors/pem.js';

const mib = 1 << 20;
const parts = (process.env.BENCH_PARTS ?? 'whole,detectors').split(',');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---------------------------------------------------------------------------------------------
// 1. Whole scan

/** Smallest throughput with aes + entropy, as a share of the default scan's (issue #5). */
const RATIO_LIMIT = 0.7;

function wholeScan() {
  const file = process.env.BENCH_FILE ?? [new URL('./out/dumplike-1g.bin', import.meta.url), new URL('./out/dumplike-1024.bin', import.meta.url)].map((u) => fileURLToPath(u)).find((f) => existsSync(f));
  if (!file || !existsSync(file)) {
    console.log('whole scan: no dump-like file; make it with: BENCH_SIZE_MIB=1024 node bench/scan-throughput.mjs');
    return;
  }
  const size = statSync(file).size;
  const jobs = process.env.BENCH_JOBS ?? '2';
  const runs = Number(process.env.BENCH_WHOLE_RUNS ?? 3);
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const defaults = registry.filter((d) => !OPT_IN_DETECTORS.includes(d.id)).map((d) => d.id);
  const configs = [
    ['default detectors', ['--detectors', defaults.join(',')]],
    ['default + aes,entropy', ['--detectors', [...defaults, 'aes', 'entropy'].join(',')]],
    ['default + --entropy-profile', ['--detectors', defaults.join(','), '--entropy-profile']],
  ];
  const results = configs.map(() => []);
  for (let r = 0; r < runs; r++) {
    configs.forEach(([, args], k) => {
      // GNU time: wall, user and system seconds of the scan and its worker threads.
      const child = spawnSync('/usr/bin/time', ['-f', '%e %U %S', process.execPath, cli, 'scan', file, '--format', 'json', '--fail-on', 'none', '--no-progress', '--jobs', jobs, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
      if (child.status !== 0) throw new Error(`scan failed (${child.status}): ${child.stderr}`);
      const [wall, user, sys] = child.stderr.trim().split('\n').pop().split(' ').map(Number);
      const findings = JSON.parse(child.stdout).findings;
      results[k].push({ wall: size / wall / 1e6, cpu: size / (user + sys) / 1e6, findings: findings.length, aes: findings.filter((f) => f.detector === 'aes').length, entropy: findings.filter((f) => f.detector === 'entropy').length });
    });
  }
  console.log(`whole scan of ${file} (${(size / mib).toFixed(0)} MiB), --jobs ${jobs}, median of ${runs} runs:`);
  console.log('  MB/s by wall clock, and by CPU time (user + sys: MB per CPU-second, x cores for a machine of its own)');
  const medians = results.map((rs) => ({ wall: median(rs.map((x) => x.wall)), cpu: median(rs.map((x) => x.cpu)), ...rs[0] }));
  configs.forEach(([name], k) => {
    const m = medians[k];
    console.log(`  ${name.padEnd(30)} wall ${m.wall.toFixed(0).padStart(5)} MB/s   cpu ${m.cpu.toFixed(0).padStart(5)} MB/s   findings ${m.findings} (aes ${m.aes}, entropy ${m.entropy})`);
  });
  const [base, both, profile] = medians;
  const ratio = (k) => `wall ${(100 * both[k] / base[k]).toFixed(0)}%`;
  console.log(`  aes + entropy keep ${ratio('wall')}, cpu ${(100 * both.cpu / base.cpu).toFixed(0)}% of the default throughput (limit ${100 * RATIO_LIMIT}%): ${both.cpu / base.cpu >= RATIO_LIMIT ? 'ok' : 'BELOW THE LIMIT'}`);
  console.log(`  --entropy-profile keeps wall ${(100 * profile.wall / base.wall).toFixed(0)}%, cpu ${(100 * profile.cpu / base.cpu).toFixed(0)}%`);
}

if (parts.includes('whole')) wholeScan();

const size = Number(process.env.BENCH_SIZE_MIB ?? 256) * mib;
const runs = Number(process.env.BENCH_RUNS ?? 5);
const chunk = 8 * mib;

function mostlyZeros(length) {
  const bytes = Buffer.alloc(length);
  const text = Buffer.from('the quick brown fox jumps over the lazy dog; error: connection reset by peer\n'.repeat(64));
  for (let page = 0; page < length / 4096; page++) {
    const x = (page * 2654435761) >>> 0;
    if (x % 100 < 3) randomFillSync(bytes, page * 4096, 4096);
    else if (x % 100 < 6) text.copy(bytes, page * 4096, 0, 4096);
  }
  return bytes;
}

if (parts.includes('detectors')) detectorsAlone();

function detectorsAlone() {
const inputs = [
  ['random', randomFillSync(Buffer.allocUnsafe(size))],
  ['mostly zeros', mostlyZeros(size)],
];
const dumplike = new URL('./out/dumplike-256m.bin', import.meta.url);
if (existsSync(dumplike)) inputs.push(['dumplike-256m.bin', readFileSync(dumplike)]);

const blockMap = { id: 'blockEntropies (4 KiB)', maxMatchLengthInBytes: 0, *scan(bytes, bodyLength) { blockEntropies(bytes, bodyLength); } };
const indexOf = { id: 'Buffer.indexOf (yardstick)', maxMatchLengthInBytes: 0, *scan(bytes) { Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf('-----BEGIN'); } };
const detectors = [aesDetector, entropyDetector, blockMap, pemDetector, indexOf];

function once(detector, bytes) {
  const margin = Math.max(4096, detector.maxMatchLengthInBytes);
  let findings = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let offset = 0; offset < bytes.length; offset += chunk) {
    const slice = bytes.subarray(offset, offset + chunk + margin);
    const last = offset + chunk + margin >= bytes.length;
    for (const _ of detector.scan(slice, last ? slice.length : chunk)) findings++;
    if (last) break;
  }
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { wall: bytes.length / wall / 1e6, cpu: bytes.length / ((used.user + used.system) / 1e6) / 1e6, findings };
}

for (const [name, bytes] of inputs) {
  const results = new Map(detectors.map((d) => [d.id, []]));
  for (const d of detectors) once(d, bytes.subarray(0, 16 * mib)); // warm-up
  for (let r = 0; r < runs; r++) for (const d of detectors) results.get(d.id).push(once(d, bytes));
  console.log(`${name} (${(bytes.length / mib).toFixed(0)} MiB), ${runs} runs, MB/s best | median:`);
  for (const d of detectors) {
    const rs = results.get(d.id);
    const f = (k) => `${Math.max(...rs.map((x) => x[k])).toFixed(0)} | ${median(rs.map((x) => x[k])).toFixed(0)}`;
    console.log(`  ${d.id.padEnd(28)} wall ${f('wall').padEnd(14)} cpu ${f('cpu').padEnd(14)} findings ${rs[0].findings}`);
  }
}
}
