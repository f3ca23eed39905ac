#!/usr/bin/env node
// Cost of the raw-key search (detector raw) on a dump-like file, against the 25% budget.
//
// 1. Copies bench/out/dumplike-<size>.bin (made by bench/scan-throughput.mjs) to
//    bench/out/rawkeys-<size>.bin, once (cached), and plants three TEST keys the way a process
//    holds them: each public key as a DER SPKI, and nearby (as OpenSSL keeps its RSA and
//    EC_KEY structures) its modulus / point coordinate and its private integers as 64-bit
//    little-endian limbs at 8-aligned offsets: an RSA-2048 key (p, q), an RSA-3072 key (p, q)
//    and an EC P-256 key (the scalar d). rawkeys-<size>.plants.json records each private
//    integer's offset, length, kind and the key's fingerprint.
// 2. Scans the file with the default detectors minus raw, and with the default detectors
//    (raw included), BENCH_RUNS rounds in alternating order: wall time, user+sys CPU and
//    peak RSS from GNU time.
// 3. Prints MB/s with and without the raw search, the cost (1 - with/without, on median MB/s
//    and on CPU seconds; and the median of each round's own cost, its two runs back to back)
//    against the 25% budget, and whether every planted integer was found at its exact offset
//    with its key's fingerprint.
//
// Env: BENCH_SIZE_MIB (1024; 256 while developing), BENCH_RUNS (15: with fewer rounds the cost
// moves by several points between series on this machine), BENCH_JOBS (2), BENCH_REGEN=1
// (rebuild the planted copy). Exit code 1 when a plant is missed or the cost is over budget.
import { spawn } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = path.join(ROOT, 'bench', 'out');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const GENERATOR_VERSION = 1;
/** Largest share of whole-scan throughput the raw search may cost (issue 6). */
const RAW_COST_BUDGET = 0.25;
const MiB = 1024 * 1024;

const envInt = (name, def) => (process.env[name] ? Number(process.env[name]) : def);
const sizeMiB = envInt('BENCH_SIZE_MIB', 1024);
const runs = envInt('BENCH_RUNS', 15);
const jobs = envInt('BENCH_JOBS', 2);
const tag = sizeMiB % 1024 === 0 ? `${sizeMiB / 1024}g` : `${sizeMiB}m`;
const base = path.join(OUT_DIR, `dumplike-${tag}.bin`);
const file = path.join(OUT_DIR, `rawkeys-${tag}.bin`);
const plantsFile = path.join(OUT_DIR, `rawkeys-${tag}.plants.json`);

function sha256Fingerprint(key) {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return 'SHA256:' + createHash('sha256').update(spki).digest('base64').replace(/=+$/, '');
}

const member = (key, name) => Buffer.from(key.export({ format: 'jwk' })[name], 'base64url');
const le = (bigEndian) => Buffer.from(bigEndian).reverse();

/** Places that keep clear of the base file's own plants (by ±1 MiB). */
function freeOffsets(size, taken, count) {
  const out = [];
  for (let k = 1; out.length < count; k++) {
    const at = Math.floor((size * k) / (count + 1) / 4096) * 4096 + 1000;
    if (taken.every((t) => Math.abs(t - at) > MiB)) out.push(at);
    else taken.push(at); // shift and try the next slot
    if (k > 1000) throw new Error('no free place to plant');
  }
  return out;
}

async function generate() {
  if (!fs.existsSync(base)) {
    console.error(`bench/raw-keys: ${path.relative(ROOT, base)} is missing; make it with: BENCH_SIZE_MIB=${sizeMiB} BENCH_RUNS=1 node bench/scan-throughput.mjs`);
    process.exit(2);
  }
  const baseStat = fs.statSync(base);
  const stamp = `${GENERATOR_VERSION}:${baseStat.size}:${baseStat.mtimeMs}`;
  if (!process.env.BENCH_REGEN && fs.existsSync(file) && fs.existsSync(plantsFile)) {
    const cached = JSON.parse(fs.readFileSync(plantsFile, 'utf8'));
    if (cached.stamp === stamp) return cached.plants;
  }
  console.error(`bench/raw-keys: planting raw keys into a copy of ${path.basename(base)} ...`);
  fs.copyFileSync(base, file);
  const basePlants = JSON.parse(fs.readFileSync(base.replace(/\.bin$/, '.plants.json'), 'utf8'));
  const taken = (Array.isArray(basePlants) ? basePlants : basePlants.plants ?? []).map((p) => p.offset).filter((o) => typeof o === 'number');
  const places = freeOffsets(baseStat.size, taken, 3);
  const keys = [
    { name: 'rsa-2048', key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey },
    { name: 'rsa-3072', key: generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey },
    { name: 'ec-p256', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey },
  ];
  const fd = fs.openSync(file, 'r+');
  const plants = [];
  const write = (bytes, at) => fs.writeSync(fd, bytes, 0, bytes.length, at);
  for (const [i, { name, key }] of keys.entries()) {
    const at = places[i];
    const fingerprint = sha256Fingerprint(key);
    const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
    write(spki, at + 1); // odd offset: DER sits anywhere
    const structAt = at + 40 * 1024; // the library's structure, 40 KiB on, 8-aligned
    if (name.startsWith('rsa')) {
      const n = member(key, 'n');
      write(le(n), structAt);
      const pAt = structAt + n.length + 64;
      const qAt = pAt + n.length / 2 + 32;
      write(le(member(key, 'p')), pAt);
      write(le(member(key, 'q')), qAt);
      plants.push({ key: name, what: 'p', offset: pAt, length: n.length / 2, kind: 'rsa-private-key', encoding: 'raw-le', fingerprint });
      plants.push({ key: name, what: 'q', offset: qAt, length: n.length / 2, kind: 'rsa-private-key', encoding: 'raw-le', fingerprint });
    } else {
      write(le(member(key, 'x')), structAt);
      const dAt = structAt + 2048;
      write(le(member(key, 'd')), dAt);
      plants.push({ key: name, what: 'd', offset: dAt, length: 32, kind: 'ec-private-key', encoding: 'raw-le', fingerprint });
    }
  }
  fs.closeSync(fd);
  fs.writeFileSync(plantsFile, JSON.stringify({ stamp, plants }, null, 2));
  return plants;
}

function defaultDetectors() {
  return import(path.join(ROOT, 'dist', 'detectors', 'index.js')).then(({ detectors, OPT_IN_DETECTORS }) => detectors.map((d) => d.id).filter((id) => !OPT_IN_DETECTORS.includes(id)));
}

function timed(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'TIME %e %U %S %M', process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let err = '';
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(err);
      if (!m || (code !== 0 && code !== 1)) return reject(new Error(`scan exited ${code}: ${err.slice(-2000)}`));
      const findings = Buffer.concat(out).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      resolve({ wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), rssMiB: Number(m[4]) / 1024, findings });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const plants = await generate();
  const size = fs.statSync(file).size;
  const all = await defaultDetectors();
  const without = all.filter((id) => id !== 'raw');
  const settings = [
    { name: 'without raw', args: ['--detectors', without.join(',')] },
    { name: 'with raw', args: ['--detectors', all.join(',')] },
  ];
  const results = { 'without raw': [], 'with raw': [] };
  for (let round = 0; round < runs; round++) {
    const order = round % 2 === 0 ? settings : [...settings].reverse();
    for (const s of order) {
      const r = await timed(['scan', file, '--format', 'jsonl', '--jobs', String(jobs), ...s.args]);
      results[s.name].push(r);
      console.error(`round ${round + 1} ${s.name}: ${((size / 1e6) / r.wall).toFixed(1)} MB/s, wall ${r.wall.toFixed(2)} s, cpu ${r.cpu.toFixed(2)} s, rss ${r.rssMiB.toFixed(0)} MiB`);
    }
  }
  const mbps = (name) => median(results[name].map((r) => size / 1e6 / r.wall));
  const cpu = (name) => median(results[name].map((r) => r.cpu));
  const costWall = 1 - mbps('with raw') / mbps('without raw');
  const costCpu = 1 - cpu('without raw') / cpu('with raw');
  // Each round ran the two settings back to back: its own cost, free of the machine's drift
  // between rounds (a scan's wall time moves by 15% from one run to the next here, so the two
  // medians above can be taken from different stretches of it).
  const paired = (of) => median(results['with raw'].map((r, i) => 1 - of(results['without raw'][i]) / of(r)));
  const pairedWall = paired((r) => r.wall);
  const pairedCpu = paired((r) => r.cpu);
  const last = results['with raw'].at(-1).findings;
  const found = plants.filter((p) => last.some((f) => f.offset === p.offset && f.length === p.length && f.kind === p.kind && f.encoding === p.encoding && f.fingerprint === p.fingerprint && f.detector === 'raw'));
  const missed = plants.filter((p) => !found.includes(p));
  const rawFindings = last.filter((f) => f.detector === 'raw');
  const stray = rawFindings.filter((f) => !plants.some((p) => p.offset === f.offset));
  for (const m of missed) console.error(`MISSED ${m.key} ${m.what} @${m.offset} (${m.length} bytes ${m.encoding})`);
  for (const f of stray) console.error(`UNEXPECTED raw finding @${f.offset} ${f.kind} ${f.encoding} ${f.fingerprint}`);
  console.log(
    `raw keys (${path.basename(file)}, ${(size / 1e6).toFixed(1)} MB, jobs ${jobs}, ${runs} runs): ` +
      `without raw ${mbps('without raw').toFixed(1)} MB/s (cpu ${cpu('without raw').toFixed(2)} s) | ` +
      `with raw ${mbps('with raw').toFixed(1)} MB/s (cpu ${cpu('with raw').toFixed(2)} s) | ` +
      `cost ${(costWall * 100).toFixed(1)}% wall, ${(costCpu * 100).toFixed(1)}% cpu; paired by round ${(pairedWall * 100).toFixed(1)}% wall, ${(pairedCpu * 100).toFixed(1)}% cpu (budget ${RAW_COST_BUDGET * 100}%) | ` +
      `planted ${found.length}/${plants.length} found, ${stray.length} other raw finding(s)`,
  );
  const over = costWall > RAW_COST_BUDGET && costCpu > RAW_COST_BUDGET;
  process.exitCode = missed.length > 0 || over ? 1 : 0;
}

await main();
