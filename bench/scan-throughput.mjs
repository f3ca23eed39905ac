#!/usr/bin/env node
// Scan-throughput benchmark for dumpguard.
//
// 1. Builds (once, cached in bench/out/) a deterministic "dump-like" file: 4 KiB pages of
//    zeros / random / ASCII text / code-ish bytes in rough real-core proportions, with nine
//    TEST private keys planted at known offsets: four PEM texts (ascii LF, ascii CRLF, UTF-16LE,
//    JSON-escaped) and five binary forms (PKCS#1 DER, PKCS#8 DER x2, CNG BCRYPT_ECCPRIVATE_BLOB,
//    CryptoAPI PRIVATEKEYBLOB).
// 2. Times `cat FILE > /dev/null` (the page-cache read ceiling) and
//    `node dist/cli.js scan FILE --format jsonl --jobs N` (wall time + peak RSS via GNU time).
// 3. Checks every plant is reported at its exact offset with the right fingerprint (binary
//    plants also with the right detector and exact DER/blob length) and counts every other
//    finding as a false alarm.
// 4. With BENCH_DETECTOR_COMPARE=1, compares `--detectors pem` with `--detectors
//    pem,der,windows-blob` (gated: the der + windows-blob detectors may cost at most 15% of
//    median MB/s) and, when the CLI's default set is larger, with the default (reported, not
//    gated), on the dump-like file and on a file of pure pseudo-random bytes
//    (bench/out/random-<size>.bin, cached; every finding on it is false).
//
// Env: BENCH_SIZE_MIB (1024, >= 32), BENCH_RUNS (3), BENCH_JOBS (2), BENCH_ARGS (extra scan
// args, split on whitespace), BENCH_CHUNK_SWEEP=1, BENCH_JOBS_SWEEP=1, BENCH_DETECTOR_COMPARE=1,
// BENCH_REGEN=1 (force regen of both files), BENCH_CLI (path of the cli.js to run, default
// dist/cli.js).
// Plain Node 20 ESM, node: builtins only. MB = 1e6 bytes, MiB = 2^20 bytes.

import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = path.join(ROOT, 'bench', 'out');
// BENCH_CLI lets you bench another build (e.g. a worktree's dist/cli.js) against the same file.
const CLI = path.resolve(ROOT, process.env.BENCH_CLI || path.join('dist', 'cli.js'));

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4 * KiB;
// Generation buffer; also the boundary one plant straddles (a likely reader chunk size).
const WRITE_BUF = 8 * MiB;

// Bump when the generator's output changes so cached files are rebuilt.
const GENERATOR_VERSION = 3;
// Same for the pure-random file (its bytes depend only on SEED and the size).
const RANDOM_VERSION = 1;
const SEED = 0x64756d70; // "dump"
/** Largest share of throughput the der + windows-blob detectors may cost (BENCH_DETECTOR_COMPARE). */
const DETECTOR_COST_LIMIT = 0.15;
// Page mix, in rough proportions seen in real process cores.
const PAGE_MIX = { zero: 0.6, random: 0.15, text: 0.1, code: 0.15 };

// ---------------------------------------------------------------------------------------
// Config

function envInt(name, def, min) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

function readConfig() {
  // >= 32 so there are two distinct 8 MiB boundaries inside, one per straddling plant.
  const sizeMiB = envInt('BENCH_SIZE_MIB', 1024, 32);
  return {
    sizeMiB,
    sizeBytes: sizeMiB * MiB,
    runs: envInt('BENCH_RUNS', 3, 1),
    jobs: envInt('BENCH_JOBS', 2, 1),
    extraArgs: (process.env.BENCH_ARGS ?? '').split(/\s+/).filter(Boolean),
    chunkSweep: process.env.BENCH_CHUNK_SWEEP === '1',
    jobsSweep: process.env.BENCH_JOBS_SWEEP === '1',
    detectorCompare: process.env.BENCH_DETECTOR_COMPARE === '1',
    regen: process.env.BENCH_REGEN === '1',
  };
}

/** 1024 MiB -> "1g", 256 -> "256m": different sizes get different cache files. */
function sizeTag(sizeMiB) {
  return sizeMiB % 1024 === 0 ? `${sizeMiB / 1024}g` : `${sizeMiB}m`;
}

// ---------------------------------------------------------------------------------------
// Deterministic PRNG: xorshift128 seeded by splitmix32. Fast in plain JS (32-bit int ops only),
// which matters because we draw ~40M words for the random pages alone.

function makeRng(seed) {
  let s = seed >>> 0;
  const splitmix32 = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let x = splitmix32() || 1, y = splitmix32(), z = splitmix32(), w = splitmix32();
  const next = () => {
    const t = x ^ (x << 11);
    x = y; y = z; z = w;
    w = (w ^ (w >>> 19) ^ t ^ (t >>> 8)) >>> 0;
    return w;
  };
  return {
    u32: next,
    /** Uniform in [0, n) for small n (bias negligible for our use). */
    int: (n) => next() % n,
    float: () => next() / 0x100000000,
    pick: (arr) => arr[next() % arr.length],
  };
}

// ---------------------------------------------------------------------------------------
// Page fillers. Each writes exactly one 4 KiB page at `off` (4-aligned) of `buf`.

function fillZeroPage(buf, off) {
  buf.fill(0, off, off + PAGE);
}

function fillRandomPage(u32, off, rng) {
  const base = off >>> 2;
  for (let i = 0; i < PAGE / 4; i++) u32[base + i] = rng.u32();
}

// Code-ish qwords: common opcode bytes, small LE ints, user-space pointers
// (0x00007fxxxxxxxxxx little-endian), int3/nop padding runs.
const OPCODE_BYTES = [0x48, 0x89, 0x8b, 0xe8, 0xe9, 0x55, 0x5d, 0xc3, 0x83, 0xc4, 0xec, 0x0f, 0x1f, 0x44,
  0x00, 0x74, 0x75, 0xeb, 0x31, 0xc0, 0x85, 0xff, 0x41, 0x4c, 0x8d, 0x05, 0x15, 0x24, 0x10, 0x08];

function fillCodePage(u32, off, rng) {
  const base = off >>> 2;
  for (let q = 0; q < PAGE / 8; q++) {
    const i = base + q * 2;
    const r = rng.u32();
    const kind = r & 15;
    if (kind < 5) { // pointer into a mapping at 0x00007fxx_xxxxxxxx
      u32[i] = rng.u32() & 0xfffffff8;
      u32[i + 1] = 0x00007f00 | ((r >>> 8) & 0xff);
    } else if (kind < 8) { // small ints / lengths / flags
      u32[i] = (r >>> 8) & 0xff;
      u32[i + 1] = (r >>> 16) & 3;
    } else if (kind < 13) { // instruction-ish bytes
      const a = rng.u32();
      u32[i] = OPCODE_BYTES[a % 30] | (OPCODE_BYTES[(a >>> 5) % 30] << 8) |
        (OPCODE_BYTES[(a >>> 10) % 30] << 16) | (OPCODE_BYTES[(a >>> 15) % 30] << 24);
      u32[i + 1] = OPCODE_BYTES[(a >>> 20) % 30] | (OPCODE_BYTES[(a >>> 25) % 30] << 8) |
        (OPCODE_BYTES[r % 30] << 16) | (OPCODE_BYTES[(r >>> 4) % 30] << 24);
    } else if (kind < 15) { // int3 padding between functions
      u32[i] = 0xcccccccc; u32[i + 1] = 0xcccccccc;
    } else { // multi-byte nop: 0f 1f 44 00 00 | 0f 1f 00
      u32[i] = 0x00441f0f; u32[i + 1] = 0x001f0f00;
    }
  }
}

// Text pages: log lines and rodata-like NUL-separated string tables. Decoys on purpose:
// bare PEM labels with no body, as crypto libraries hold them in rodata, and logs that merely
// mention BEGIN/PRIVATE. None of these is key material; a report on them is a false alarm.
// Decoys are a small minority (~1 PEM-shaped label per 100 KB overall): enough to exercise the
// scanner's candidate path, not so many that the bench measures only that path.
const PEM_DECOYS = [
  '-----BEGIN CERTIFICATE-----', '-----END CERTIFICATE-----', '-----BEGIN PRIVATE KEY-----',
  '-----END PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----', '-----END RSA PRIVATE KEY-----',
  '-----BEGIN EC PRIVATE KEY-----', '-----BEGIN ENCRYPTED PRIVATE KEY-----',
  '-----BEGIN OPENSSH PRIVATE KEY-----', '-----BEGIN ', '-----END ',
];
const RODATA_STRINGS = [
  'PRIVATE KEY', 'RSA PRIVATE KEY', 'ANY PRIVATE KEY', 'PEM_read_bio_PrivateKey', 'd2i_PrivateKey',
  'EVP_PKEY_get1_RSA', 'crypto/pem/pem_lib.c', 'bad base64 decode', 'no start line', 'BEGIN TRANSACTION',
  'COMMIT', '%s: %s\n', 'malloc(%zu) failed', 'assertion failed: %s', 'SSL_CTX_new', 'EVP_DigestInit_ex',
  'GLIBC_2.2.5', 'GLIBC_2.34', 'libssl.so.3', 'libcrypto.so.3', '/usr/lib/x86_64-linux-gnu', 'HTTP/1.1',
  'Content-Type', 'application/json', 'keep-alive', 'ECONNRESET', 'uv_loop_init', 'v8::internal::Heap',
  '__libc_start_main', 'pthread_mutex_lock', 'SIGSEGV', 'core dumped', 'en_US.UTF-8', 'TZ', 'HOME',
];
const LOG_LEVELS = ['DEBUG', 'INFO', 'INFO', 'INFO', 'WARN', 'ERROR'];
const LOG_COMPONENTS = ['http', 'tls', 'db', 'cache', 'auth', 'worker', 'gc', 'sched'];
const LOG_MESSAGES = [
  (r) => `GET /api/v1/items/${r.int(100000)} 200 ${r.int(900) + 3}ms`,
  (r) => `POST /login 401 user=u${r.int(5000)} reason=bad_password`,
  (r) => `connection ${r.int(65535)} closed by peer after ${r.int(3600)}s`,
  (r) => `BEGIN tx ${r.u32().toString(16)} isolation=read_committed`,
  (r) => `loading key from /etc/ssl/private/server-${r.int(9)}.key (PRIVATE, mode 0600)`,
  (r) => `tls handshake ok cipher=TLS_AES_128_GCM_SHA256 sni=host${r.int(99)}.example.com`,
  (r) => `cache miss key=sess:${r.u32().toString(36)} size=${r.int(1 << 20)}`,
  (r) => `gc pause ${(r.int(5000) / 100).toFixed(2)}ms heap=${r.int(4096)}MiB`,
];
// 1 in 200 log lines carries a bare PEM label (own line or quoted); 1 in 100 rodata strings.
const pemDecoyLine = (r) => (r.int(2) ? `${r.pick(PEM_DECOYS)}` : `PEM header seen: ${r.pick(PEM_DECOYS)}`);
const rodataString = (r) => (r.int(100) === 0 ? r.pick(PEM_DECOYS) : r.pick(RODATA_STRINGS));

function logLine(rng, n) {
  const ts = `2024-05-${String(1 + (n % 28)).padStart(2, '0')}T${String(rng.int(24)).padStart(2, '0')}:` +
    `${String(rng.int(60)).padStart(2, '0')}:${String(rng.int(60)).padStart(2, '0')}.${String(rng.int(1000)).padStart(3, '0')}Z`;
  const msg = rng.int(200) === 0 ? pemDecoyLine(rng) : rng.pick(LOG_MESSAGES)(rng);
  return `${ts} ${rng.pick(LOG_LEVELS)} [${rng.pick(LOG_COMPONENTS)}] ${msg}\n`;
}

function fillTextPage(buf, off, rng) {
  const end = off + PAGE;
  const rodata = rng.int(4) === 0; // 1 in 4 text pages looks like a string table
  let p = off;
  let n = 0;
  while (p < end) {
    const s = rodata ? rodataString(rng) + '\0' : logLine(rng, n++);
    p += buf.write(s, p, end - p, 'latin1'); // truncates the last line at the page end
  }
}

// ---------------------------------------------------------------------------------------
// Plants: TEST keys generated fresh at generation time (cannot seed node:crypto keygen, so the
// fingerprints live in plants.json next to the file they describe).

function spkiFingerprint(publicKey) {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return 'SHA256:' + createHash('sha256').update(der).digest('base64').replace(/=+$/, '');
}

/** base64url (JWK) -> big-endian bytes, left-padded with zeros to `width`. */
function jwkBytes(b64url, width) {
  const raw = Buffer.from(b64url, 'base64url');
  if (raw.length > width) throw new Error(`JWK value of ${raw.length} bytes does not fit in ${width}`);
  return Buffer.concat([Buffer.alloc(width - raw.length), raw]);
}

/** base64url (JWK) -> little-endian bytes of exactly `width` (CryptoAPI's integer layout). */
const jwkLittleEndian = (b64url, width) => jwkBytes(b64url, width).reverse();

/** CNG BCRYPT_ECCPRIVATE_BLOB for a P-256 ECDSA key: 'ECS2', cbKey = 32, then X, Y, d big-endian. */
function cngEccPrivateBlob(privateKey) {
  const jwk = privateKey.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256') throw new Error(`expected a P-256 key, got ${jwk.crv}`);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x32534345, 0); // BCRYPT_ECDSA_PRIVATE_P256_MAGIC, "ECS2"
  head.writeUInt32LE(32, 4);
  return Buffer.concat([head, jwkBytes(jwk.x, 32), jwkBytes(jwk.y, 32), jwkBytes(jwk.d, 32)]);
}

/**
 * CryptoAPI PRIVATEKEYBLOB (RSA, CALG_RSA_KEYX): BLOBHEADER, RSAPUBKEY ('RSA2', bitlen, pubexp),
 * then modulus, prime1, prime2, exponent1, exponent2, coefficient, privateExponent, every one
 * little-endian and zero-padded to its width. Length = 20 + 9 * bitlen / 16.
 */
function cryptoApiPrivateKeyBlob(privateKey, bits) {
  const jwk = privateKey.export({ format: 'jwk' });
  const full = bits / 8;
  const half = bits / 16;
  const head = Buffer.alloc(20);
  head[0] = 0x07; // PRIVATEKEYBLOB
  head[1] = 0x02; // CUR_BLOB_VERSION
  head.writeUInt16LE(0, 2); // reserved
  head.writeUInt32LE(0x0000a400, 4); // CALG_RSA_KEYX
  head.writeUInt32LE(0x32415352, 8); // "RSA2"
  head.writeUInt32LE(bits, 12);
  const e = Buffer.from(jwk.e, 'base64url');
  if (e.length > 4) throw new Error('public exponent does not fit in RSAPUBKEY.pubexp');
  head.writeUInt32LE(e.readUIntBE(0, e.length), 16);
  const blob = Buffer.concat([
    head,
    jwkLittleEndian(jwk.n, full),
    jwkLittleEndian(jwk.p, half), jwkLittleEndian(jwk.q, half),
    jwkLittleEndian(jwk.dp, half), jwkLittleEndian(jwk.dq, half), jwkLittleEndian(jwk.qi, half),
    jwkLittleEndian(jwk.d, full),
  ]);
  if (blob.length !== 20 + (9 * bits) / 16) throw new Error(`PRIVATEKEYBLOB length ${blob.length}`);
  return blob;
}

/**
 * Returns plants without offsets: { name, kind, detector, encoding, bytes, beginAt (where the
 * reported offset is inside bytes: "-----BEGIN" for PEM, 0 for binary), fingerprint }. Binary
 * plants also carry `length`, the exact DER/blob byte length the finding must report.
 */
function makePlantPayloads() {
  const rsa8 = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ed = generateKeyPairSync('ed25519');
  const rsa1 = generateKeyPairSync('rsa', { modulusLength: 2048 });

  const pkcs8Pem = rsa8.privateKey.export({ type: 'pkcs8', format: 'pem' });
  const sec1Pem = ec.privateKey.export({ type: 'sec1', format: 'pem' }).replace(/\n/g, '\r\n');
  const edPem = ed.privateKey.export({ type: 'pkcs8', format: 'pem' });
  const pkcs1Pem = rsa1.privateKey.export({ type: 'pkcs1', format: 'pem' });
  // JSON.stringify turns each LF into the two characters backslash-n.
  const json = JSON.stringify({ key: pkcs1Pem });

  // Binary plants: fresh keys, so no fingerprint is shared with a PEM plant.
  const rsaDer = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ecDer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const edDer = generateKeyPairSync('ed25519');
  const ecBlob = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const rsaBlob = generateKeyPairSync('rsa', { modulusLength: 2048 });

  const ascii = (s) => Buffer.from(s, 'latin1');
  const pem = (p) => ({ detector: 'pem', ...p });
  const binary = (p) => ({ detector: p.detector, encoding: 'binary', beginAt: 0, length: p.bytes.length, ...p });
  return [
    pem({ name: 'rsa2048-pkcs8-pem-lf', kind: 'rsa-private-key', encoding: 'ascii', label: 'PRIVATE KEY',
      bytes: ascii(pkcs8Pem), beginAt: 0, fingerprint: spkiFingerprint(rsa8.publicKey) }),
    pem({ name: 'ec-p256-sec1-pem-crlf', kind: 'ec-private-key', encoding: 'ascii', label: 'EC PRIVATE KEY',
      bytes: ascii(sec1Pem), beginAt: 0, fingerprint: spkiFingerprint(ec.publicKey) }),
    pem({ name: 'ed25519-pkcs8-pem-utf16le', kind: 'ed25519-private-key', encoding: 'utf16le', label: 'PRIVATE KEY',
      bytes: Buffer.from(edPem, 'utf16le'), beginAt: 0, fingerprint: spkiFingerprint(ed.publicKey) }),
    pem({ name: 'rsa2048-pkcs1-pem-json-escaped', kind: 'rsa-private-key', encoding: 'json-escaped', label: 'RSA PRIVATE KEY',
      bytes: ascii(json), beginAt: json.indexOf('-----BEGIN'), fingerprint: spkiFingerprint(rsa1.publicKey) }),
    binary({ name: 'rsa2048-pkcs1-der', kind: 'rsa-private-key', detector: 'der',
      bytes: rsaDer.privateKey.export({ type: 'pkcs1', format: 'der' }), fingerprint: spkiFingerprint(rsaDer.publicKey) }),
    binary({ name: 'ec-p256-pkcs8-der', kind: 'ec-private-key', detector: 'der',
      bytes: ecDer.privateKey.export({ type: 'pkcs8', format: 'der' }), fingerprint: spkiFingerprint(ecDer.publicKey) }),
    binary({ name: 'ed25519-pkcs8-der', kind: 'ed25519-private-key', detector: 'der',
      bytes: edDer.privateKey.export({ type: 'pkcs8', format: 'der' }), fingerprint: spkiFingerprint(edDer.publicKey) }),
    binary({ name: 'ec-p256-cng-eccprivate-blob', kind: 'ec-private-key', detector: 'windows-blob',
      bytes: cngEccPrivateBlob(ecBlob.privateKey), fingerprint: spkiFingerprint(ecBlob.publicKey) }),
    binary({ name: 'rsa2048-cryptoapi-privatekeyblob', kind: 'rsa-private-key', detector: 'windows-blob',
      bytes: cryptoApiPrivateKeyBlob(rsaBlob.privateKey, 2048), fingerprint: spkiFingerprint(rsaBlob.publicKey) }),
  ];
}

/**
 * Spread plants across the file. PEM: ~23%, straddling the 8 MiB boundary nearest ~41%, ~67%,
 * and inside the last 64 KiB. Binary: PKCS#1 DER at an odd offset near ~12%, PKCS#8 EC DER
 * starting 40 bytes before the (other) 8 MiB boundary nearest ~55%, Ed25519 DER ~31%, CNG ECC
 * blob ~79%, CryptoAPI blob ~88% (crossing a 4 KiB page end). Offsets are deliberately not
 * page-aligned (heap objects are not). Each plant is written NUL-guarded on both sides like a C
 * string, so neighbour bytes cannot glue onto it and blur the expected offset or length.
 */
function placePlants(payloads, sizeBytes) {
  const pageAt = (frac) => Math.floor((sizeBytes * frac) / PAGE) * PAGE;
  const nearestBoundary = (frac, exclude = []) => {
    let best = null;
    for (let b = WRITE_BUF; b < sizeBytes; b += WRITE_BUF) {
      if (exclude.includes(b)) continue;
      if (best === null || Math.abs(b - sizeBytes * frac) < Math.abs(best - sizeBytes * frac)) best = b;
    }
    if (best === null) throw new Error(`no free 8 MiB boundary inside a ${sizeBytes}-byte file`);
    return best;
  };
  const byName = Object.fromEntries(payloads.map((p) => [p.name, p]));
  const pemBoundary = nearestBoundary(0.41);
  const derBoundary = nearestBoundary(0.55, [pemBoundary]);
  const starts = {
    'rsa2048-pkcs8-pem-lf': pageAt(0.23) + 0x6c8,
    'ec-p256-sec1-pem-crlf': (pemBoundary - Math.floor(byName['ec-p256-sec1-pem-crlf'].bytes.length / 2)) & ~1,
    'ed25519-pkcs8-pem-utf16le': pageAt(0.67) + 0x310,
    'rsa2048-pkcs1-pem-json-escaped': sizeBytes - 64 * KiB + 0x5a0,
    'rsa2048-pkcs1-der': pageAt(0.12) + 0x2a1, // odd
    'ec-p256-pkcs8-der': derBoundary - 40,
    'ed25519-pkcs8-der': pageAt(0.31) + 0x7e6,
    'ec-p256-cng-eccprivate-blob': pageAt(0.79) + 0xa2c,
    'rsa2048-cryptoapi-privatekeyblob': pageAt(0.88) + 0xf10,
  };
  const plants = payloads.map((p) => {
    if (!(p.name in starts)) throw new Error(`no place for plant ${p.name}`);
    return { ...p, start: starts[p.name], offset: starts[p.name] + p.beginAt };
  });
  // Guard zones (see applyPlants) must neither overlap nor leave the file.
  const zones = plants.map((p) => [p.start - guardBytes(p), p.start + p.bytes.length + guardBytes(p), p.name]).sort((a, b) => a[0] - b[0]);
  for (let i = 0; i < zones.length; i++) {
    if (zones[i][0] < 0 || zones[i][1] > sizeBytes) throw new Error(`plant ${zones[i][2]} does not fit in the file`);
    if (i > 0 && zones[i][0] < zones[i - 1][1]) throw new Error(`plants ${zones[i - 1][2]} and ${zones[i][2]} overlap`);
  }
  if (starts['rsa2048-pkcs1-der'] % 2 !== 1) throw new Error('PKCS#1 DER plant must be at an odd offset');
  return plants;
}

const guardBytes = (p) => (p.encoding === 'utf16le' ? 2 : 1);

/** Copy the part of every plant that overlaps [bufStart, bufStart + len) into buf, with NUL guards. */
function applyPlants(buf, bufStart, len, plants) {
  const bufEnd = bufStart + len;
  for (const p of plants) {
    const guard = guardBytes(p);
    const zoneStart = p.start - guard;
    const zoneEnd = p.start + p.bytes.length + guard;
    if (zoneEnd <= bufStart || zoneStart >= bufEnd) continue;
    for (let a = Math.max(zoneStart, bufStart); a < Math.min(zoneEnd, bufEnd); a++) {
      const i = a - p.start;
      buf[a - bufStart] = i >= 0 && i < p.bytes.length ? p.bytes[i] : 0;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Generation

function cachePaths(cfg) {
  const tag = sizeTag(cfg.sizeMiB);
  return {
    bin: path.join(OUT_DIR, `dumplike-${tag}.bin`),
    plants: path.join(OUT_DIR, `dumplike-${tag}.plants.json`),
  };
}

function generatorParams(cfg) {
  return { version: GENERATOR_VERSION, seed: SEED, sizeBytes: cfg.sizeBytes, pageSize: PAGE, pageMix: PAGE_MIX };
}

/** Returns the cached plants record, or null if the file must be (re)generated. */
function loadCache(cfg, paths) {
  if (cfg.regen) return null;
  try {
    const st = fs.statSync(paths.bin);
    const rec = JSON.parse(fs.readFileSync(paths.plants, 'utf8'));
    if (st.size !== cfg.sizeBytes) return null;
    if (JSON.stringify(rec.params) !== JSON.stringify(generatorParams(cfg))) return null;
    return rec;
  } catch {
    return null;
  }
}

function checkDiskSpace(needBytes) {
  const s = fs.statfsSync(OUT_DIR);
  const free = s.bavail * s.bsize;
  if (free < needBytes + 1024 * MiB) {
    throw new Error(`not enough disk in ${OUT_DIR}: need ${fmtMiB(needBytes)} + 1 GiB headroom, have ${fmtMiB(free)}`);
  }
}

/** Picks a page type per run of 1-32 pages: real cores have long same-type stretches. */
function makePageTypeStream(rng) {
  const cum = [];
  let acc = 0;
  for (const [type, w] of Object.entries(PAGE_MIX)) cum.push([type, (acc += w)]);
  let left = 0;
  let type = 'zero';
  return () => {
    if (left === 0) {
      // Mean run length is the same for every type, so page proportions follow PAGE_MIX.
      const f = rng.float() * acc;
      type = cum.find(([, c]) => f < c)[0];
      left = 1 + rng.int(32);
    }
    left--;
    return type;
  };
}

function generate(cfg, paths) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  checkDiskSpace(cfg.sizeBytes);
  // Remove the old record first: a crash mid-generation must not leave a stale plants.json
  // that matches the params but describes different keys.
  fs.rmSync(paths.plants, { force: true });

  const t0 = process.hrtime.bigint();
  const plants = placePlants(makePlantPayloads(), cfg.sizeBytes);
  const rng = makeRng(SEED);
  const nextType = makePageTypeStream(rng);
  const counts = { zero: 0, random: 0, text: 0, code: 0 };
  const buf = Buffer.allocUnsafeSlow(WRITE_BUF); // own ArrayBuffer, offset 0 -> aligned Uint32 view
  const u32 = new Uint32Array(buf.buffer, buf.byteOffset, WRITE_BUF / 4);

  const tmp = paths.bin + '.tmp';
  const fd = fs.openSync(tmp, 'w');
  try {
    for (let bufStart = 0; bufStart < cfg.sizeBytes; bufStart += WRITE_BUF) {
      const len = Math.min(WRITE_BUF, cfg.sizeBytes - bufStart);
      for (let off = 0; off < len; off += PAGE) {
        const type = nextType();
        counts[type]++;
        if (type === 'zero') fillZeroPage(buf, off);
        else if (type === 'random') fillRandomPage(u32, off, rng);
        else if (type === 'text') fillTextPage(buf, off, rng);
        else fillCodePage(u32, off, rng);
      }
      applyPlants(buf, bufStart, len, plants);
      writeAll(fd, buf, len);
    }
    // Flush now so background writeback does not overlap the timed runs.
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, paths.bin);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;

  const rec = {
    params: generatorParams(cfg),
    file: path.relative(ROOT, paths.bin),
    generatedAt: new Date().toISOString(),
    generationSeconds: round(seconds, 2),
    pageCounts: counts,
    note: 'TEST keys generated by bench/scan-throughput.mjs; offset = first byte of "-----BEGIN" ' +
      '(for utf16le, of its first code unit), for binary plants the first byte of the DER/blob; ' +
      'length (binary plants only) = exact DER/blob byte length the finding must report. ' +
      'Every plant is NUL-guarded on both sides. MB = 1e6 bytes.',
    plants: plants.map((p) => ({
      name: p.name, kind: p.kind, detector: p.detector, encoding: p.encoding,
      ...(p.label ? { label: p.label } : {}), offset: p.offset,
      ...(p.encoding === 'binary' ? { length: p.length } : {}),
      plantStart: p.start, plantLength: p.bytes.length, fingerprint: p.fingerprint,
    })),
  };
  fs.writeFileSync(paths.plants, JSON.stringify(rec, null, 2) + '\n');
  return rec;
}

function writeAll(fd, buf, len) {
  let done = 0;
  while (done < len) done += fs.writeSync(fd, buf, done, len - done);
}

// Pure pseudo-random file (BENCH_DETECTOR_COMPARE): the same seeded PRNG, every word drawn.
// Nothing in it is key material, so every finding on it is a false alarm.

function randomPaths(cfg) {
  const tag = sizeTag(cfg.sizeMiB);
  return {
    bin: path.join(OUT_DIR, `random-${tag}.bin`),
    params: path.join(OUT_DIR, `random-${tag}.params.json`),
  };
}

const randomParams = (cfg) => ({ version: RANDOM_VERSION, seed: SEED, sizeBytes: cfg.sizeBytes });

/** Returns the file's path, generating it first unless a matching cached copy exists. */
function ensureRandomFile(cfg) {
  const paths = randomPaths(cfg);
  const want = JSON.stringify(randomParams(cfg));
  if (!cfg.regen) {
    try {
      const rec = JSON.parse(fs.readFileSync(paths.params, 'utf8'));
      if (fs.statSync(paths.bin).size === cfg.sizeBytes && JSON.stringify(rec.params) === want) {
        log(`using cached ${path.relative(ROOT, paths.bin)} (generated ${rec.generatedAt})`);
        return paths.bin;
      }
    } catch { /* regenerate */ }
  }
  log(`generating ${path.relative(ROOT, paths.bin)} (${cfg.sizeMiB} MiB of PRNG output)...`);
  fs.mkdirSync(OUT_DIR, { recursive: true });
  checkDiskSpace(cfg.sizeBytes);
  fs.rmSync(paths.params, { force: true });
  const t0 = process.hrtime.bigint();
  const rng = makeRng(SEED);
  const buf = Buffer.allocUnsafeSlow(WRITE_BUF);
  const u32 = new Uint32Array(buf.buffer, buf.byteOffset, WRITE_BUF / 4);
  const tmp = paths.bin + '.tmp';
  const fd = fs.openSync(tmp, 'w');
  try {
    for (let bufStart = 0; bufStart < cfg.sizeBytes; bufStart += WRITE_BUF) {
      const len = Math.min(WRITE_BUF, cfg.sizeBytes - bufStart); // sizes are whole MiB: len % 4 === 0
      for (let i = 0; i < len / 4; i++) u32[i] = rng.u32();
      writeAll(fd, buf, len);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, paths.bin);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.writeFileSync(paths.params, JSON.stringify({
    params: randomParams(cfg), file: path.relative(ROOT, paths.bin), generatedAt: new Date().toISOString(),
    generationSeconds: round(seconds, 2), note: 'xorshift128 output, no plants: every finding is a false alarm.',
  }, null, 2) + '\n');
  log(`  generated in ${fix(seconds, 2)}s`);
  return paths.bin;
}

// ---------------------------------------------------------------------------------------
// Process runners

/** Spawns, collects stdout line by line via onLine (so huge outputs are not held), returns timing. */
function runTimed(cmd, args, { onLine } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', onLine ? 'pipe' : 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-64 * KiB); });
    if (onLine) {
      let rest = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d) => {
        const lines = (rest + d).split('\n');
        rest = lines.pop();
        for (const l of lines) if (l.trim()) onLine(l);
      });
      child.stdout.on('end', () => { if (rest.trim()) onLine(rest); });
    }
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, code, signal, stderr });
    });
  });
}

async function runCat(file) {
  // "$1" so the path needs no shell quoting.
  const r = await runTimed('/bin/sh', ['-c', 'cat "$1" > /dev/null', 'sh', file]);
  if (r.code !== 0) throw new Error(`cat failed (${r.code}): ${r.stderr}`);
  return r.seconds;
}

/** GNU time prints our marker line last; before it may come the child's stderr and
 * "Command exited with non-zero status 1". Returns peak RSS (KiB) and user + system CPU seconds. */
const TIME_FORMAT = 'BENCH_TIME %M %U %S';
function parseTime(stderr) {
  const line = stderr.trim().split('\n').reverse().find((x) => x.startsWith('BENCH_TIME '));
  if (line === undefined) return { peakRssKiB: NaN, cpuSeconds: NaN };
  const [, rss, user, sys] = line.trim().split(/\s+/).map(Number);
  return { peakRssKiB: rss, cpuSeconds: user + sys };
}

async function runScan(file, jobs, extraArgs, plants) {
  const args = ['-f', TIME_FORMAT, process.execPath, CLI, 'scan', file, '--format', 'jsonl', '--jobs', String(jobs), ...extraArgs];
  const findings = [];
  let badLines = 0;
  const r = await runTimed('/usr/bin/time', args, {
    onLine: (l) => {
      try { findings.push(JSON.parse(l)); } catch { badLines++; }
    },
  });
  // Exit 1 = "found keys", expected here. Anything else (2 = error) is a failed run.
  const ok = (r.code === 0 || r.code === 1) && !r.signal;
  return { ...r, ok, ...parseTime(r.stderr), badLines, check: checkFindings(findings, plants) };
}

// ---------------------------------------------------------------------------------------
// Verification

const NEAR = 64 * KiB; // findings this close to a plant are probably mis-placed reports of it

/** A PEM plant matches on offset + fingerprint; a binary one also on detector and exact length. */
function matchesPlant(f, p) {
  if (f.offset !== p.offset || f.fingerprint !== p.fingerprint) return false;
  return p.encoding !== 'binary' || (f.detector === p.detector && f.length === p.length);
}

function checkFindings(findings, plants) {
  const found = plants.map((p) => findings.find((f) => matchesPlant(f, p)));
  const matched = new Set(found.filter(Boolean));
  const falses = findings.filter((f) => !matched.has(f));
  const nearPlant = (f) => plants.find((p) => Math.abs(f.offset - p.offset) <= NEAR);
  const byKind = {};
  for (const f of falses) {
    const k = `${f.detector}/${f.kind}/${f.encoding}`;
    byKind[k] = (byKind[k] ?? 0) + 1;
  }
  return {
    total: findings.length,
    found: found.filter(Boolean).length,
    missing: plants.filter((_, i) => !found[i]).map((p) => ({
      plant: p,
      // What was reported near the expected place, to tell "offset off by N" from "not found".
      nearby: findings.filter((f) => Math.abs(f.offset - p.offset) <= NEAR),
    })),
    falseCount: falses.length,
    falseNearPlants: falses.filter(nearPlant).length,
    falseByKind: byKind,
    falseExamples: falses.slice(0, 5),
  };
}

// ---------------------------------------------------------------------------------------
// Reporting helpers

const round = (x, d) => Math.round(x * 10 ** d) / 10 ** d;
const mbps = (bytes, s) => bytes / s / 1e6;
const fmtMiB = (b) => `${(b / MiB).toFixed(1)} MiB`;
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fix = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const pad = (s, n) => String(s).padStart(n);
const log = (...a) => console.log(...a);

function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  log('  ' + header.map((h, i) => pad(h, widths[i])).join('  '));
  for (const r of rows) log('  ' + r.map((c, i) => pad(c, widths[i])).join('  '));
}

function describeFinding(f) {
  return `offset ${f.offset} len ${f.length} ${f.detector}/${f.kind}/${f.encoding} ` +
    `conf ${f.confidence} fp ${f.fingerprint ?? '-'} evidence ${JSON.stringify(String(f.evidence ?? '').slice(0, 60))}`;
}

function printScanDetails(res) {
  const c = res.check;
  if (!res.ok) {
    log(`  ! scan exited with code ${res.code}${res.signal ? ` signal ${res.signal}` : ''}; stderr tail:`);
    log(res.stderr.trim().split('\n').slice(-10).map((l) => '    ' + l).join('\n'));
  }
  if (res.badLines) log(`  ! ${res.badLines} stdout lines were not JSON`);
  for (const m of c.missing) {
    const p = m.plant;
    log(`  ! MISSING ${p.name}: expected offset ${p.offset}` +
      (p.encoding === 'binary' ? ` len ${p.length} detector ${p.detector}` : '') + ` fp ${p.fingerprint}`);
    if (m.nearby.length === 0) log('      nothing reported within 64 KiB');
    for (const f of m.nearby.slice(0, 5)) {
      log(`      nearby: ${describeFinding(f)} (delta ${f.offset - p.offset}` +
        `${f.fingerprint === p.fingerprint ? ', same fingerprint' : ''})`);
    }
  }
  if (c.falseCount) {
    log(`  false alarms: ${c.falseCount} (${c.falseNearPlants} within 64 KiB of a plant) by detector/kind/encoding: ${JSON.stringify(c.falseByKind)}`);
    for (const f of c.falseExamples) log(`      e.g. ${describeFinding(f)}`);
  }
}

// ---------------------------------------------------------------------------------------
// Bench phases

async function benchCat(file, sizeBytes, runs) {
  log(`\ncat "${path.relative(ROOT, file)}" > /dev/null  (MB = 1e6 bytes)`);
  const rows = [];
  const rates = [];
  for (let i = 1; i <= runs; i++) {
    const s = await runCat(file);
    rates.push(mbps(sizeBytes, s));
    rows.push([i, fix(s, 3), fix(rates.at(-1))]);
  }
  printTable(['run', 'seconds', 'MB/s'], rows);
  const med = median(rates);
  log(`  median ${fix(med)} MB/s`);
  return med;
}

/** Runs the scan `runs` times with the given args; prints a table; returns medians + worst check. */
async function benchScan(label, file, sizeBytes, runs, jobs, extraArgs, plants, { details = true } = {}) {
  log(`\n${label}: node ${path.relative(ROOT, CLI)} scan FILE --format jsonl --jobs ${jobs}${extraArgs.length ? ' ' + extraArgs.join(' ') : ''}`);
  log('  (wall time incl. node startup; cpu = user+sys s; peak RSS from GNU time %M; exit 1 = keys found, expected)');
  const results = [];
  const rows = [];
  for (let i = 1; i <= runs; i++) {
    const r = await runScan(file, jobs, extraArgs, plants);
    results.push(r);
    rows.push([i, r.code ?? r.signal, fix(r.seconds, 3), fix(mbps(sizeBytes, r.seconds)), fix(r.cpuSeconds, 2),
      fix(r.peakRssKiB / 1024), r.check.total, `${r.check.found}/${plants.length}`, r.check.falseCount]);
    // Details once, then again only when a run behaves differently from the first.
    const first = results[0];
    const differs = r.check.found !== first.check.found || r.check.falseCount !== first.check.falseCount;
    if (details && (i === 1 || !r.ok || differs)) printScanDetails(r);
  }
  printTable(['run', 'exit', 'seconds', 'MB/s', 'cpu s', 'peakRSS MiB', 'findings', 'planted', 'false'], rows);
  const good = results.filter((r) => r.ok);
  const summary = {
    ok: good.length === results.length,
    failedRuns: results.length - good.length,
    mbps: median(good.map((r) => mbps(sizeBytes, r.seconds))),
    // Peak is a worst case, so take the max over runs, not the median.
    peakRssMiB: Math.max(...results.map((r) => r.peakRssKiB / 1024).filter(Number.isFinite)),
    found: Math.min(...results.map((r) => r.check.found)),
    falseCount: Math.max(...results.map((r) => r.check.falseCount)),
  };
  log(`  median ${fix(summary.mbps)} MB/s, max peak RSS ${fix(summary.peakRssMiB)} MiB, worst run ${summary.found}/${plants.length} found, ${summary.falseCount} false` +
    (summary.failedRuns ? `, ${summary.failedRuns} FAILED run(s)` : ''));
  return summary;
}

async function chunkSweep(cfg, file, plants) {
  log('\n=== chunk-size sweep ===');
  const base = withoutOption(cfg.extraArgs, '--chunk-size');
  const rows = [];
  for (const size of ['1m', '4m', '8m', '16m', '32m']) {
    const s = await benchScan(`chunk ${size}`, file, cfg.sizeBytes, cfg.runs, cfg.jobs, [...base, '--chunk-size', size], plants, { details: false });
    rows.push([size, fix(s.mbps), fix(s.peakRssMiB), `${s.found}/${plants.length}`, s.falseCount, s.ok ? 'ok' : 'FAILED']);
  }
  log('\nchunk-size sweep summary (median MB/s, max peak RSS):');
  printTable(['chunk', 'MB/s', 'peakRSS MiB', 'planted', 'false', 'status'], rows);
}

async function jobsSweep(cfg, file, plants) {
  log('\n=== jobs sweep ===');
  const s1 = await benchScan('jobs 1', file, cfg.sizeBytes, cfg.runs, 1, cfg.extraArgs, plants, { details: false });
  const s2 = await benchScan('jobs 2', file, cfg.sizeBytes, cfg.runs, 2, cfg.extraArgs, plants, { details: false });
  log(`\njobs scaling: jobs 1 ${fix(s1.mbps)} MB/s, jobs 2 ${fix(s2.mbps)} MB/s, ratio ${fix(s2.mbps / s1.mbps, 2)}x` +
    ` (peak RSS ${fix(s1.peakRssMiB)} vs ${fix(s2.peakRssMiB)} MiB)`);
}

// The detectors whose cost BENCH_DETECTOR_COMPARE gates, on top of pem.
const COMPARED_DETECTORS = ['pem', 'der', 'windows-blob'];

/** The CLI's default detector list, read from `scan --help` ("default: all of a,b,c"); null if unknown. */
async function defaultDetectors() {
  let out = '';
  await new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'scan', '--help'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => { out += d; });
    child.on('error', resolve);
    child.on('close', resolve);
  });
  const m = /default:\s*(?:all\s+of\s+)?([\w\s,-]+?)[;)]/.exec(out.slice(out.indexOf('--detectors')));
  return m ? m[1].replace(/\s+/g, '').split(',').filter(Boolean) : null;
}

/**
 * `--detectors pem` vs `--detectors pem,der,windows-blob` (the gated cost) and, when the CLI's
 * default set is larger (e.g. it also runs jwk), vs the default too, on one file. Runs rotate
 * their order every round so drift from other load on the machine hits all of them alike.
 * `plants` are what the der/blob-enabled runs must find; the pem-only run is checked against
 * the PEM ones.
 */
async function compareDetectorsOn(cfg, label, file, plants, defaults) {
  const base = withoutOption(cfg.extraArgs, '--detectors');
  // raw is left out of both: it searches the file again for the public halves of the keys der
  // and windows-blob find, so without them it has less to do, and that saving is raw's cost
  // (issue #6 budgets it), not theirs.
  const all = (defaults ?? COMPARED_DETECTORS).filter((d) => d !== 'raw');
  const without = all.filter((d) => !COMPARED_DETECTORS.slice(1).includes(d));
  const pemPlus = COMPARED_DETECTORS.join(',');
  // The gate: the default scan against the same scan without der and windows-blob (issue #3's
  // "the scan without them"). For information: pem alone against pem + der + windows-blob.
  const configs = [
    { name: `default-raw without der,windows-blob`, args: [...base, '--detectors', without.join(',')], plants: plants.filter((p) => without.includes(p.detector)), results: [] },
    { name: 'default-raw', args: [...base, '--detectors', all.join(',')], plants, results: [] },
    { name: 'pem only', args: [...base, '--detectors', 'pem'], plants: plants.filter((p) => p.detector === 'pem'), results: [] },
    { name: pemPlus, args: [...base, '--detectors', pemPlus], plants, results: [] },
  ];
  log(`\n${label}: node ${path.relative(ROOT, CLI)} scan FILE --format jsonl --jobs ${cfg.jobs}` +
    `${base.length ? ' ' + base.join(' ') : ''} [--detectors ...]`);
  await runCat(file); // page-cache it
  const rows = [];
  for (let i = 1; i <= cfg.runs; i++) {
    const k = (i - 1) % configs.length;
    const order = [...configs.slice(k), ...configs.slice(0, k)];
    for (const c of order) {
      const r = await runScan(file, cfg.jobs, c.args, c.plants);
      c.results.push(r);
      rows.push([i, c.name, r.code ?? r.signal, fix(r.seconds, 3), fix(mbps(cfg.sizeBytes, r.seconds)), fix(r.cpuSeconds, 2),
        fix(r.peakRssKiB / 1024), r.check.total, `${r.check.found}/${c.plants.length}`, r.check.falseCount]);
      if (i === 1 || !r.ok || r.check.found !== c.results[0].check.found || r.check.falseCount !== c.results[0].check.falseCount) {
        printScanDetails(r);
      }
    }
  }
  printTable(['run', 'detectors', 'exit', 'seconds', 'MB/s', 'cpu s', 'peakRSS MiB', 'findings', 'planted', 'false'], rows);
  const reference = (c) => {
    const good = c.results.filter((r) => r.ok);
    return { mbps: median(good.map((r) => mbps(cfg.sizeBytes, r.seconds))), cpuSeconds: median(good.map((r) => r.cpuSeconds)) };
  };
  /** c against the reference run `ref`: cost = 1 - MB/s / reference MB/s, plus the two load-resistant views. */
  const summarize = (c, ref) => {
    const good = c.results.filter((r) => r.ok);
    const refSummary = reference(ref);
    const s = {
      name: c.name,
      reference: ref.name,
      referenceMbps: refSummary.mbps,
      ok: good.length === c.results.length && ref.results.every((r) => r.ok),
      mbps: median(good.map((r) => mbps(cfg.sizeBytes, r.seconds))),
      cpuSeconds: median(good.map((r) => r.cpuSeconds)),
      found: Math.min(...c.results.map((r) => r.check.found)),
      expected: c.plants.length,
      falseCount: Math.max(...c.results.map((r) => r.check.falseCount), ...ref.results.map((r) => r.check.falseCount)),
    };
    // The gate uses median MB/s; two views that resist load on the machine: the median of
    // per-round costs (same round = close in time) and the CPU-seconds cost.
    s.cost = 1 - s.mbps / refSummary.mbps;
    s.pairCost = median(c.results.map((r, i) => 1 - ref.results[i].seconds / r.seconds));
    s.cpuCost = 1 - refSummary.cpuSeconds / s.cpuSeconds;
    return s;
  };
  const gated = summarize(configs[1], configs[0]);
  const info = summarize(configs[3], configs[2]);
  const withinLimit = Number.isFinite(gated.cost) && gated.cost <= DETECTOR_COST_LIMIT;
  return { label, gated, info, withinLimit };
}

function detectorCostLine(c) {
  const checks = [c.gated, c.info].map((s) => `${s.name} ${s.found}/${s.expected} planted ${s.falseCount} false${s.ok ? '' : ' FAILED run(s)'}`);
  return `detector cost (${c.label}): ${c.gated.reference} ${fix(c.gated.referenceMbps)} MB/s | ${c.gated.name} ${fix(c.gated.mbps)} MB/s | ` +
    `cost ${fix(100 * c.gated.cost)}% (cpu ${fix(100 * c.gated.cpuCost)}%, limit ${fix(100 * DETECTOR_COST_LIMIT, 0)}%)${c.withinLimit ? '' : ' OVER LIMIT'}` +
    ` | info: ${c.info.reference} ${fix(c.info.referenceMbps)} MB/s, ${c.info.name} ${fix(c.info.mbps)} MB/s, cost ${fix(100 * c.info.cost)}%` +
    ` | ${checks.join(', ')}`;
}

async function detectorCompare(cfg, dumpFile, plants) {
  log(`\n=== detector cost of der + windows-blob: the default scan with and without them (limit ${fix(100 * DETECTOR_COST_LIMIT, 0)}%) ===`);
  const defaults = await defaultDetectors();
  log(`  CLI default detectors: ${defaults ? defaults.join(',') : 'unknown (could not read scan --help)'}`);
  const randomFile = ensureRandomFile(cfg);
  const tag = sizeTag(cfg.sizeMiB);
  const results = [
    await compareDetectorsOn(cfg, `dumplike-${tag}`, dumpFile, plants, defaults),
    await compareDetectorsOn(cfg, `random-${tag}`, randomFile, [], defaults),
  ];
  log('\ndetector cost summary (median MB/s; cost = 1 - MB/s / reference MB/s):');
  log('  (paired = median over rounds of 1 - reference time / time; cpu = 1 - reference CPU s / CPU s, user+sys)');
  const rows = [];
  for (const c of results) {
    for (const s of [c.gated, c.info]) {
      const gated = s === c.gated;
      rows.push([c.label, `${s.reference} -> ${s.name}`, fix(s.referenceMbps), fix(s.mbps), fix(100 * s.cost), fix(100 * s.pairCost), fix(100 * s.cpuCost),
        gated ? fix(100 * DETECTOR_COST_LIMIT, 0) : '-', `${s.found}/${s.expected}`, s.falseCount,
        !gated ? 'info' : c.withinLimit && s.ok ? 'ok' : 'FAIL']);
    }
  }
  printTable(['file', 'detectors', 'ref MB/s', 'MB/s', 'cost %', 'paired %', 'cpu %', 'limit %', 'planted', 'false', 'status'], rows);
  return results;
}

/** ISO time of the newest file under dir (recursive). */
function newestMtime(dir) {
  let newest = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  try { walk(dir); } catch { return 'unknown'; }
  return new Date(newest).toISOString();
}

/** Drops "--opt value" and "--opt=value" so a sweep can set its own value. */
function withoutOption(args, opt) {
  const out = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === opt) { i++; continue; }
    if (args[i].startsWith(opt + '=')) continue;
    out.push(args[i]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------

async function main() {
  // `... | head` should end the bench quietly, not with an EPIPE stack.
  process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
  const cfg = readConfig();
  const paths = cachePaths(cfg);

  let rec = loadCache(cfg, paths);
  if (rec) {
    log(`using cached ${path.relative(ROOT, paths.bin)} (generated ${rec.generatedAt} in ${fix(rec.generationSeconds, 2)}s)`);
  } else {
    log(`generating ${path.relative(ROOT, paths.bin)} (${cfg.sizeMiB} MiB)...`);
    rec = generate(cfg, paths);
    log(`  generated in ${fix(rec.generationSeconds, 2)}s (${fix(mbps(cfg.sizeBytes, rec.generationSeconds))} MB/s)`);
  }
  const total = Object.values(rec.pageCounts).reduce((a, b) => a + b, 0);
  log('  page mix: ' + Object.entries(rec.pageCounts).map(([k, v]) => `${k} ${(100 * v / total).toFixed(1)}%`).join(', '));
  log('  plants:');
  printTable(['name', 'detector', 'offset', 'bytes', 'fingerprint'],
    rec.plants.map((p) => [p.name, p.detector, p.offset, p.plantLength, p.fingerprint]));

  const fileMB = cfg.sizeBytes / 1e6;
  // Warm-up: one full read so every run sees a page-cached file.
  await runCat(paths.bin);
  const catMbps = await benchCat(paths.bin, cfg.sizeBytes, cfg.runs);

  if (!fs.existsSync(CLI)) {
    log(`\n${path.relative(ROOT, CLI)} not found: run \`npm run build\` first; skipping scan.`);
    log(`bench: ${fix(fileMB)} MB file | dumpguard n/a (jobs ${cfg.jobs}) | cat ${fix(catMbps)} MB/s | ratio n/a | peak RSS n/a | planted 0/${rec.plants.length} found, n/a false`);
    process.exitCode = 2;
    return;
  }

  // dist/ gets rebuilt often; record which build these numbers belong to, and warn at the end
  // if it changed under the bench (a rebuild mid-run can also crash a worker that is loading).
  const buildStamp = newestMtime(path.dirname(CLI));
  log(`\ncli: ${path.relative(ROOT, CLI)} (newest file in ${path.relative(ROOT, path.dirname(CLI))}/ from ${buildStamp})`);
  const scan = await benchScan('dumpguard', paths.bin, cfg.sizeBytes, cfg.runs, cfg.jobs, cfg.extraArgs, rec.plants);
  if (cfg.chunkSweep) await chunkSweep(cfg, paths.bin, rec.plants);
  if (cfg.jobsSweep) await jobsSweep(cfg, paths.bin, rec.plants);
  const costs = cfg.detectorCompare ? await detectorCompare(cfg, paths.bin, rec.plants) : [];

  log('');
  log(`bench: ${fix(fileMB)} MB file | dumpguard ${fix(scan.mbps)} MB/s (jobs ${cfg.jobs}) | cat ${fix(catMbps)} MB/s | ` +
    `ratio ${fix(scan.mbps / catMbps, 3)} | peak RSS ${fix(scan.peakRssMiB)} MiB | ` +
    `planted ${scan.found}/${rec.plants.length} found, ${scan.falseCount} false` +
    (scan.ok ? '' : ` | ${scan.failedRuns} run(s) FAILED`));
  for (const c of costs) log(detectorCostLine(c));
  const buildStampAfter = newestMtime(path.dirname(CLI));
  if (buildStampAfter !== buildStamp) {
    log(`! ${path.relative(ROOT, path.dirname(CLI))}/ was rebuilt during the bench (${buildStamp} -> ${buildStampAfter}): the numbers mix builds; rerun.`);
  }
  if (!scan.ok || scan.found < rec.plants.length) process.exitCode = 1;
  for (const c of costs) {
    if (!c.withinLimit || [c.gated, c.info].some((r) => !r.ok || r.found < r.expected || r.falseCount > 0)) process.exitCode = 1;
  }
}

// Run as a script; imported (bench/targets.mjs), it only lends its generator and checks.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err?.stack ?? String(err));
    process.exitCode = 2;
  });
}

export { envInt, PAGE_MIX, readConfig, cachePaths, loadCache, generate, runTimed, runCat, parseTime, TIME_FORMAT, checkFindings, median, mbps, fix, printTable, CLI, ROOT, OUT_DIR };
