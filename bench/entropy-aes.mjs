// In-process speed of the entropy and AES detectors alone, single thread, over 8 MiB chunks
// (the scan's default) of: random bytes, mostly zeros (zero pages with a few random and text
// pages), and the bench's dump-like file when it exists. Prints MB/s by wall clock and by CPU
// time (steadier on a shared machine), best and median of the runs, with the pem detector and
// Buffer.indexOf as yardsticks measured in the same rounds.
//
//   npm run build && node bench/entropy-aes.mjs
//   BENCH_SIZE_MIB=256 BENCH_RUNS=5 node bench/entropy-aes.mjs
import { randomFillSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { aesDetector } from '../dist/detectors/aes.js';
import { blockEntropies, entropyDetector } from '../dist/detectors/entropy.js';
import { pemDetector } from '../dist/detectors/pem.js';

const mib = 1 << 20;
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

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
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
