#!/usr/bin/env node
// The speed and memory targets of issue #9, measured side by side on one machine:
//   - cat, dumpguard (default detectors, --jobs 2 and --jobs 1), each default detector alone,
//     and the peers when installed (yara -s with three PEM/DER rules, rsakeyfind, aeskeyfind),
//     on the dump-like file of bench/scan-throughput.mjs (generated and cached there);
//   - peak RSS on an 8 GiB sparse file with a key near its end, and on a 4 GiB stream on stdin;
//   - start-up on a 1 KiB file, and files per second over a folder of 10,000 small files.
// Every dumpguard run is checked: every planted key must be reported (no detector may be
// weakened to reach a number). Medians of BENCH_RUNS runs (default 3).
// The last line is the summary:
//   dumpguard=… MB/s cat=… MB/s yara=… MB/s ratio_vs_yara=… rss=… MiB …
// Env: BENCH_SIZE_MIB (1024), BENCH_RUNS (3), BENCH_PEERS=0 (skip peers), BENCH_LIMITS=0 (skip the
// 8 GiB / stdin / small-file cases), BENCH_PER_DETECTOR=0 (skip the per-detector rows).
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  cachePaths, checkFindings, CLI, fix, generate, loadCache, mbps, median, OUT_DIR, parseTime, printTable, readConfig, ROOT, runCat, runTimed, TIME_FORMAT,
} from './scan-throughput.mjs';

const GiB = 1024 ** 3;
const log = (...a) => console.log(...a);
const has = (tool) => {
  try {
    execFileSync('/bin/sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** One timed run of a command under GNU time: wall seconds, peak RSS (MiB), CPU seconds, and its stdout lines. */
async function timed(cmd, args, { keepLines = false } = {}) {
  const lines = [];
  let count = 0;
  const r = await runTimed('/usr/bin/time', ['-f', TIME_FORMAT, cmd, ...args], {
    onLine: (l) => {
      count++;
      if (keepLines) lines.push(l);
    },
  });
  const t = parseTime(r.stderr);
  return { seconds: r.seconds, code: r.code, rssMiB: t.peakRssKiB / 1024, cpu: t.cpuSeconds, lines, count, stderr: r.stderr };
}

/** `runs` runs; medians of wall and CPU, the worst peak RSS, and the last run (for its output). */
async function repeat(runs, once) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await once());
  return {
    seconds: median(results.map((r) => r.seconds)),
    cpu: median(results.map((r) => r.cpu)),
    rssMiB: Math.max(...results.map((r) => r.rssMiB)),
    last: results.at(-1),
    all: results,
  };
}

function findingsOf(result) {
  return result.lines.flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return [];
    }
  });
}

async function dumpguard(runs, target, args, plants) {
  const r = await repeat(runs, () => timed(process.execPath, [CLI, 'scan', target, '--format', 'jsonl', ...args], { keepLines: true }));
  const checks = r.all.map((x) => checkFindings(findingsOf(x), plants));
  // The scan's own time, from its summary line on stderr ("scanned … in X s"): the wall time less start-up and exit.
  const scanSeconds = median(r.all.map((x) => Number(/scanned \d+ file\(s\), \d+ bytes in ([\d.]+) s/.exec(x.stderr)?.[1] ?? NaN)));
  return { ...r, scanSeconds, found: Math.min(...checks.map((c) => c.found)), falseCount: Math.max(...checks.map((c) => c.falseCount)), ok: r.all.every((x) => x.code === 0 || x.code === 1) };
}

/** The CLI's default detectors, from `scan --help`. */
function defaultDetectors() {
  const help = execFileSync(process.execPath, [CLI, 'scan', '--help'], { encoding: 'utf8' });
  const m = /default:\s*(?:all\s+of\s+)?([\w\s,-]+?)[;)]/.exec(help.slice(help.indexOf('--detectors')));
  return m ? m[1].replace(/\s+/g, '').split(',').filter(Boolean) : [];
}

// Three rules as a yara user would write them for this job: PEM armor, PKCS#1 and PKCS#8 DER.
const YARA_RULES = `
rule pem_private_key { strings: $a = /-----BEGIN (RSA |EC |DSA |ENCRYPTED |OPENSSH )?PRIVATE KEY-----/ condition: $a }
rule der_pkcs1_rsa { strings: $a = { 30 82 ?? ?? 02 01 00 02 82 ?? ?? 00 } condition: $a }
rule der_pkcs8 { strings: $a = { 30 82 ?? ?? 02 01 00 30 0D 06 09 2A 86 48 86 F7 0D 01 01 01 } condition: $a }
`;

async function peers(runs, file, sizeBytes) {
  const rows = [];
  const out = {};
  if (has('yara')) {
    const rules = path.join(OUT_DIR, 'peers.yar');
    fs.writeFileSync(rules, YARA_RULES);
    const r = await repeat(runs, () => timed('yara', ['-s', rules, file]));
    out.yara = mbps(sizeBytes, r.seconds);
    rows.push(['yara -s (3 rules)', fix(out.yara), fix(r.cpu, 2), fix(r.rssMiB), `${r.last.count} lines`]);
  } else rows.push(['yara', 'not installed', '', '', 'apt-get install yara']);
  if (has('rsakeyfind')) {
    const r = await repeat(runs, () => timed('rsakeyfind', [file]));
    out.rsakeyfind = mbps(sizeBytes, r.seconds);
    rows.push(['rsakeyfind', fix(out.rsakeyfind), fix(r.cpu, 2), fix(r.rssMiB), `${r.last.count} lines`]);
  } else rows.push(['rsakeyfind', 'not installed', '', '', 'apt-get install rsakeyfind']);
  if (has('aeskeyfind')) {
    // 30-70 MB/s: once is enough to place it.
    const r = await repeat(1, () => timed('aeskeyfind', [file]));
    out.aeskeyfind = mbps(sizeBytes, r.seconds);
    rows.push(['aeskeyfind (1 run)', fix(out.aeskeyfind), fix(r.cpu, 2), fix(r.rssMiB), `${r.last.count} lines`]);
  } else rows.push(['aeskeyfind', 'not installed', '', '', 'apt-get install aeskeyfind']);
  return { rows, ...out };
}

/** An 8 GiB sparse file (holes read as zeros, as a mostly empty core does) with a PEM key 1 MiB before its end. */
function sparseFile() {
  const file = path.join(OUT_DIR, 'sparse-8g.bin');
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  const offset = 8 * GiB - 1024 * 1024 + 123;
  fs.rmSync(file, { force: true });
  const fd = fs.openSync(file, 'w');
  fs.ftruncateSync(fd, 8 * GiB);
  fs.writeSync(fd, Buffer.from(pem), 0, pem.length, offset);
  fs.closeSync(fd);
  return { file, offset };
}

/** 10,000 files of 1 KiB (random bytes; one in a thousand holds a PEM key), made once. */
function smallFiles() {
  const dir = path.join(OUT_DIR, 'small-10k');
  const marker = path.join(OUT_DIR, 'small-10k.complete'); // outside the folder: it would be scanned
  if (!fs.existsSync(marker)) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
    for (let i = 0; i < 10_000; i++) {
      const bytes = randomBytes(1024);
      if (i % 1000 === 0) Buffer.from(pem).copy(bytes, 100);
      fs.writeFileSync(path.join(dir, `f${String(i).padStart(5, '0')}.bin`), bytes);
    }
    fs.writeFileSync(marker, '');
  }
  return { dir, keys: 10 };
}

async function main() {
  process.stdout.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  if (!fs.existsSync(CLI)) throw new Error(`${path.relative(ROOT, CLI)} not found: run \`npm run build\` first`);
  const cfg = readConfig();
  const runs = cfg.runs;
  const paths = cachePaths(cfg);
  const rec = loadCache(cfg, paths) ?? generate(cfg, paths);
  const file = paths.bin;
  const size = cfg.sizeBytes;
  const plants = rec.plants;
  log(`file: ${path.relative(ROOT, file)} (${fix(size / 1e6)} MB, page-cached), ${plants.length} planted keys; ${runs} runs per case, medians (MB = 1e6 bytes)`);

  await runCat(file); // warm the page cache
  const catRuns = [];
  for (let i = 0; i < runs; i++) catRuns.push(await runCat(file));
  const catSeconds = median(catRuns);
  const cat = mbps(size, catSeconds);

  const rows = [['cat', fix(cat), '', '', '']];
  const jobs2 = await dumpguard(runs, file, ['--jobs', '2'], plants);
  const jobs1 = await dumpguard(runs, file, ['--jobs', '1'], plants);
  const rate2 = mbps(size, jobs2.seconds);
  const rate1 = mbps(size, jobs1.seconds);
  rows.push(['dumpguard --jobs 2 (default detectors)', fix(rate2), fix(jobs2.cpu, 2), fix(jobs2.rssMiB), `${jobs2.found}/${plants.length} found, ${jobs2.falseCount} false`]);
  rows.push(['dumpguard --jobs 1', fix(rate1), fix(jobs1.cpu, 2), fix(jobs1.rssMiB), `${jobs1.found}/${plants.length} found, ${jobs1.falseCount} false`]);
  let allFound = jobs2.ok && jobs1.ok && jobs2.found === plants.length && jobs1.found === plants.length;

  if (process.env.BENCH_PER_DETECTOR !== '0') {
    for (const id of defaultDetectors()) {
      const mine = plants.filter((p) => p.detector === id);
      const r = await dumpguard(runs, file, ['--jobs', '2', '--detectors', id], mine);
      rows.push([`  --detectors ${id} alone`, fix(mbps(size, r.seconds)), fix(r.cpu, 2), fix(r.rssMiB), `${r.found}/${mine.length} of its plants`]);
      allFound &&= r.found === mine.length;
    }
  }
  const peer = process.env.BENCH_PEERS === '0' ? { rows: [] } : await peers(runs, file, size);
  rows.push(...peer.rows);
  log('');
  printTable(['case', 'MB/s', 'cpu s', 'peak RSS MiB', 'checks'], rows);

  const limits = {};
  if (process.env.BENCH_LIMITS !== '0') {
    const lrows = [];
    const sparse = sparseFile();
    const s = await dumpguard(1, sparse.file, ['--jobs', '2'], [{ offset: sparse.offset, detector: 'pem' }]);
    const foundSparse = findingsOf(s.last).some((f) => f.offset === sparse.offset);
    limits.sparse = s.rssMiB;
    lrows.push(['8 GiB sparse file, key 1 MiB before the end', fix(mbps(8 * GiB, s.seconds)) + ' MB/s', fix(s.rssMiB), foundSparse ? 'key found' : 'KEY MISSED']);
    fs.rmSync(sparse.file, { force: true });

    const stream = await repeat(1, () => timed('/bin/sh', ['-c', 'cat "$1" "$1" "$1" "$1" | "$2" "$3" scan - --format jsonl --jobs 2', 'sh', file, process.execPath, CLI], { keepLines: true }));
    const streamFound = findingsOf(stream.last).length;
    limits.stdin = stream.rssMiB;
    lrows.push([`${fix((4 * size) / GiB, 2)} GiB on stdin (the file 4 times)`, fix(mbps(4 * size, stream.seconds)) + ' MB/s', fix(stream.rssMiB), `${streamFound}/${4 * plants.length} findings`]);

    const tiny = path.join(OUT_DIR, 'tiny-1k.bin');
    fs.writeFileSync(tiny, randomBytes(1024));
    const start = await repeat(Math.max(5, runs), () => timed(process.execPath, [CLI, 'scan', tiny, '--format', 'jsonl']));
    limits.startup = start.seconds;
    lrows.push(['start-up: scan of a 1 KiB file', `${fix(start.seconds, 3)} s`, fix(start.rssMiB), 'limit 0.5 s']);

    const small = smallFiles();
    const many = await repeat(runs, () => timed(process.execPath, [CLI, 'scan', small.dir, '--format', 'jsonl', '--jobs', '2'], { keepLines: true }));
    limits.filesPerSecond = 10_000 / many.seconds;
    lrows.push(['10,000 files of 1 KiB', `${fix(limits.filesPerSecond, 0)} files/s`, fix(many.rssMiB), `${findingsOf(many.last).length}/${small.keys} keys; limit 2000 files/s`]);
    allFound &&= foundSparse && streamFound >= 4 * plants.length && findingsOf(many.last).length === small.keys;
    log('');
    printTable(['memory and small inputs', 'rate', 'peak RSS MiB', 'checks'], lrows);
  }

  log('');
  // Start-up (a Node.js process, modules, worker threads: ~0.3 s) is in both wall times and no
  // thread count shortens it; the scan's own times show how the work itself scales.
  const scanScaling = jobs1.scanSeconds / jobs2.scanSeconds;
  log(`ratios: dumpguard/cat ${fix(rate2 / cat, 3)} | jobs 2/jobs 1 ${fix(rate2 / rate1, 2)}x (target 1.7x; scan time alone, start-up excluded: ${fix(scanScaling, 2)}x)` +
    (peer.yara ? ` | dumpguard/yara ${fix(rate2 / peer.yara, 2)}x (target 2x)` : '') +
    (peer.rsakeyfind ? ` | dumpguard/rsakeyfind ${fix(rate2 / peer.rsakeyfind, 2)}x` : '') +
    (peer.aeskeyfind ? ` | dumpguard/aeskeyfind ${fix(rate2 / peer.aeskeyfind, 1)}x` : ''));
  const rss = Math.max(jobs2.rssMiB, limits.sparse ?? 0, limits.stdin ?? 0);
  log(`dumpguard=${fix(rate2)} MB/s cat=${fix(cat)} MB/s yara=${peer.yara ? fix(peer.yara) : 'n/a'} MB/s ratio_vs_yara=${peer.yara ? fix(rate2 / peer.yara, 2) : 'n/a'} rss=${fix(rss)} MiB` +
    ` jobs_scaling=${fix(rate2 / rate1, 2)} jobs_scaling_scan=${fix(scanScaling, 2)} startup=${limits.startup ? fix(limits.startup, 3) + 's' : 'n/a'} files_per_s=${limits.filesPerSecond ? fix(limits.filesPerSecond, 0) : 'n/a'} planted=${allFound ? 'all found' : 'MISSED'}`);
  if (!allFound) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error?.stack ?? String(error));
  process.exitCode = 2;
});
