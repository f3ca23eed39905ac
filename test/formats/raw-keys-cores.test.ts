// Raw keys in real process cores: a live `openssl s_server` (RSA-2048 and EC P-256, after TLS
// handshakes) and a live node https server, gcore'd. The primes and the scalar are found as
// OpenSSL BIGNUMs (little-endian limbs) at offsets where the test reads the bytes back and
// compares them with the key's own p, q and d; copies of the cores with those integers zeroed
// have no raw finding left.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { scan } from '../../dist/index.js';
import { fingerprintOf } from '../helpers/keys.js';
import { sServerPort } from '../helpers/servers.js';
import { tempTree } from '../helpers/temp-tree.js';

const tree = tempTree('dumpguard-raw-cores-');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const missing = ['gcore', 'openssl', 'readelf'].filter((t) => !has(t));
const missingJdk = ['javac', 'java', 'jcmd'].filter((t) => !has(t));
if (missingJdk.length) console.warn(`raw-keys-cores: Java heap dump test skipped, missing ${missingJdk.join(', ')}`);
if (missing.length) console.warn(`raw-keys-cores: skipped, missing ${missing.join(', ')} (gdb's gcore, openssl, binutils)`);

const member = (key: KeyObject, name: string) => Buffer.from((key.export({ format: 'jwk' }) as Record<string, string>)[name], 'base64url');
const le = (bigEndian: Buffer) => Buffer.from(bigEndian).reverse();

/** Every offset where `needle` occurs in `haystack` (the test's own search, independent of src/). */
function offsetsOf(haystack: Buffer, needle: Buffer): number[] {
  const out: number[] = [];
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) out.push(at);
  return out;
}

/** A test CA and a leaf certificate it signs for `keyFile` (a leaf, not a self-signed CA: its key is searched by default). */
function leafCertificate(dir: string, name: string, keyFile: string): string {
  const ca = path.join(dir, 'ca');
  if (!existsSync(`${ca}.crt`)) {
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${ca}.key`], { stdio: 'ignore' });
    execFileSync('openssl', ['req', '-x509', '-key', `${ca}.key`, '-out', `${ca}.crt`, '-subj', '/CN=dumpguard test CA', '-days', '1'], { stdio: 'ignore' });
  }
  const csr = path.join(dir, `${name}.csr`);
  const crt = path.join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', `/CN=${name}.dumpguard.test`, '-out', csr], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', crt, '-days', '1'], { stdio: 'ignore' });
  return crt;
}

function gcore(pid: number, prefix: string): string {
  execFileSync('gcore', ['-o', prefix, String(pid)], { stdio: 'ignore' });
  return `${prefix}.${pid}`;
}

interface Expected {
  what: string;
  fingerprint: string;
  kind: string;
  value: Buffer; // big-endian
}

/**
 * Every raw finding of the key holds, at its offset, exactly one of the key's integers in its
 * encoding; each integer is found at least once. Returns the byte ranges where the integers
 * are in the core (the test's own search), to zero them.
 */
async function expectRawIntegers(core: string, expected: Expected[]): Promise<Array<[number, number]>> {
  const bytes = readFileSync(core);
  const { findings, summary } = await scan([core], { jobs: 2 });
  expect(summary.errors).toEqual([]);
  const raw = findings.filter((f) => f.detector === 'raw');
  const ranges: Array<[number, number]> = [];
  for (const e of expected) {
    const ours = raw.filter((f) => f.fingerprint === e.fingerprint && f.kind === e.kind);
    const exact = ours.filter((f) => {
      const at = bytes.subarray(f.offset, f.offset + f.length);
      const value = f.encoding === 'raw-le' ? le(at) : f.encoding === 'raw-be' ? Buffer.from(at) : undefined;
      return f.length === e.value.length && value?.equals(e.value);
    });
    const everywhere = [...offsetsOf(bytes, le(e.value)), ...offsetsOf(bytes, e.value)];
    console.log(`${path.basename(core)}: ${e.what} found at ${exact.map((f) => `${f.offset} (${f.encoding}, ${f.region ?? '?'})`).join(', ') || 'nowhere'}; in the core (LE or BE) at ${everywhere.join(', ')}`);
    expect(exact.length, `${e.what} found`).toBeGreaterThan(0);
    expect(exact.some((f) => f.encoding === 'raw-le'), `${e.what} as a BIGNUM`).toBe(true);
    for (const f of exact) expect(f.severity).toBe('high');
    for (const at of everywhere) ranges.push([at, at + e.value.length]);
  }
  // Every raw finding of these keys is one of their integers: none at a wrong offset.
  const keysOfTest = new Set(expected.map((e) => e.fingerprint));
  for (const f of raw.filter((x) => keysOfTest.has(x.fingerprint!))) {
    const at = bytes.subarray(f.offset, f.offset + f.length);
    expect(expected.some((e) => le(at).equals(e.value) || at.equals(e.value)), `raw finding at ${f.offset}`).toBe(true);
  }
  return ranges;
}

/** A copy of the core with the ranges zeroed: no high raw finding remains. */
async function expectNothingWhenZeroed(core: string, ranges: Array<[number, number]>): Promise<void> {
  const bytes = readFileSync(core);
  for (const [from, to] of ranges) bytes.fill(0, from, to);
  const zeroed = `${core}.zeroed`;
  writeFileSync(zeroed, bytes);
  const { findings } = await scan([zeroed], { jobs: 2 });
  expect(findings.filter((f) => f.detector === 'raw' && (f.severity === 'high' || f.severity === 'critical'))).toEqual([]);
}

describe.skipIf(missing.length > 0)('raw keys in real cores', () => {
  test('openssl s_server with an RSA-2048 and an EC P-256 key, after TLS handshakes: p, q and d as BIGNUMs', async () => {
    const dir = tree.root;
    const rsaFile = path.join(dir, 'rsa.key');
    const ecFile = path.join(dir, 'ec.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', rsaFile], { stdio: 'ignore' });
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', ecFile], { stdio: 'ignore' });
    const rsaCert = leafCertificate(dir, 'rsa', rsaFile);
    const ecCert = leafCertificate(dir, 'ec', ecFile);
    const server = spawn('openssl', ['s_server', '-key', rsaFile, '-cert', rsaCert, '-dkey', ecFile, '-dcert', ecCert, '-accept', '127.0.0.1:0', '-www'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(server);
    const port = await sServerPort(server);
    for (const sigalgs of ['RSA-PSS+SHA256', 'ECDSA+SHA256']) {
      spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-sigalgs', sigalgs], { input: 'GET / HTTP/1.0\r\n\r\n', timeout: 10_000, stdio: ['pipe', 'ignore', 'ignore'] });
    }
    const core = gcore(server.pid!, path.join(dir, 's_server'));
    server.kill('SIGKILL');
    const rsa = createPrivateKey(readFileSync(rsaFile));
    const ec = createPrivateKey(readFileSync(ecFile));
    const ranges = await expectRawIntegers(core, [
      { what: 'RSA p', fingerprint: fingerprintOf(rsa), kind: 'rsa-private-key', value: member(rsa, 'p') },
      { what: 'RSA q', fingerprint: fingerprintOf(rsa), kind: 'rsa-private-key', value: member(rsa, 'q') },
      { what: 'EC d', fingerprint: fingerprintOf(ec), kind: 'ec-private-key', value: member(ec, 'd') },
    ]);
    await expectNothingWhenZeroed(core, ranges);
  }, 60_000);

  test('a node https server with an RSA key, after a request: p and q as BIGNUMs (node\'s bundled OpenSSL)', async () => {
    const dir = tree.root;
    const keyFile = path.join(dir, 'node-rsa.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile], { stdio: 'ignore' });
    const cert = leafCertificate(dir, 'node', keyFile);
    const program = `
      const https = require('https'), fs = require('fs');
      const server = https.createServer({ key: fs.readFileSync(${JSON.stringify(keyFile)}), cert: fs.readFileSync(${JSON.stringify(cert)}) }, (q, s) => s.end('ok'));
      server.listen(0, '127.0.0.1', () => {
        https.get({ host: '127.0.0.1', port: server.address().port, rejectUnauthorized: false }, (r) => { r.resume(); r.on('end', () => console.log('ready')); });
      });`;
    const child = spawn(process.execPath, ['--jitless', '--max-semi-space-size=1', '-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    const core = gcore(child.pid!, path.join(dir, 'node-https'));
    child.kill('SIGKILL');
    const rsa = createPrivateKey(readFileSync(keyFile));
    const ranges = await expectRawIntegers(core, [
      { what: 'RSA p', fingerprint: fingerprintOf(rsa), kind: 'rsa-private-key', value: member(rsa, 'p') },
      { what: 'RSA q', fingerprint: fingerprintOf(rsa), kind: 'rsa-private-key', value: member(rsa, 'q') },
    ]);
    await expectNothingWhenZeroed(core, ranges);
  }, 90_000);
});

describe.skipIf(missingJdk.length > 0)('raw keys in a Java heap dump', () => {
  test('jcmd GC.heap_dump of a JVM holding an RSA and an EC KeyPair: p and q as BigInteger int[] magnitudes, the EC scalar as an array', async () => {
    const dir = tree.root;
    writeFileSync(path.join(dir, 'HoldKeys.java'), `
      import java.security.*;
      import java.security.spec.ECGenParameterSpec;
      import java.nio.file.*;
      import java.util.Base64;
      public class HoldKeys {
        static KeyPair rsa, ec;
        public static void main(String[] args) throws Exception {
          KeyPairGenerator g = KeyPairGenerator.getInstance("RSA"); g.initialize(2048); rsa = g.generateKeyPair();
          KeyPairGenerator h = KeyPairGenerator.getInstance("EC"); h.initialize(new ECGenParameterSpec("secp256r1")); ec = h.generateKeyPair();
          Signature s = Signature.getInstance("SHA256withRSA"); s.initSign(rsa.getPrivate()); s.update(new byte[] {1}); s.sign();
          Signature t = Signature.getInstance("SHA256withECDSA"); t.initSign(ec.getPrivate()); t.update(new byte[] {1}); t.sign();
          Base64.Encoder b = Base64.getEncoder();
          Files.write(Paths.get(args[0]), (b.encodeToString(rsa.getPrivate().getEncoded()) + "\\n" + b.encodeToString(ec.getPrivate().getEncoded()) + "\\n").getBytes());
          System.out.println("ready");
          Thread.sleep(600000);
        }
      }`);
    execFileSync('javac', ['-d', dir, path.join(dir, 'HoldKeys.java')], { stdio: 'ignore' });
    const keyFile = path.join(dir, 'java-keys.b64');
    const jvm = spawn('java', ['-Xmx64m', '-XX:+UseSerialGC', '-cp', dir, 'HoldKeys', keyFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(jvm);
    await new Promise<void>((resolve) => jvm.stdout!.once('data', () => resolve()));
    const dump = path.join(dir, 'java.hprof');
    execFileSync('jcmd', [String(jvm.pid), 'GC.heap_dump', dump], { stdio: 'ignore', timeout: 30_000 });
    jvm.kill('SIGKILL');
    const [rsa, ec] = readFileSync(keyFile, 'utf8').trim().split('\n').map((b64) => createPrivateKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'pkcs8' }));
    const bytes = readFileSync(dump);
    const { findings, summary } = await scan([dump], { jobs: 2 });
    expect(summary.errors).toEqual([]);
    const raw = findings.filter((f) => f.detector === 'raw');
    console.log(`java.hprof: raw findings ${raw.map((f) => `${f.kind} ${f.offset} ${f.encoding} ${f.region}`).join('; ')}`);
    const valueAt = (f: (typeof raw)[number]) => {
      const at = Buffer.from(bytes.subarray(f.offset, f.offset + f.length));
      return f.encoding === 'raw-le' ? at.reverse() : at;
    };
    // Both primes, each as a BigInteger magnitude: an int[] of 32 ints, big-endian in hprof.
    for (const name of ['p', 'q']) {
      const ours = raw.filter((f) => f.fingerprint === fingerprintOf(rsa) && valueAt(f).equals(member(rsa, name)));
      expect(ours.length, `RSA ${name}`).toBeGreaterThan(0);
      for (const f of ours) expect(f.region).toMatch(/^primitive array int\[\] 0x[0-9a-f]+$/);
    }
    const scalar = raw.filter((f) => f.fingerprint === fingerprintOf(ec) && f.kind === 'ec-private-key');
    expect(scalar.length, 'EC scalar').toBeGreaterThan(0);
    for (const f of scalar) expect(valueAt(f).equals(member(ec, 'd'))).toBe(true);
    // Nothing else is claimed.
    for (const f of raw) expect([fingerprintOf(rsa), fingerprintOf(ec)]).toContain(f.fingerprint);
  }, 60_000);

  test.skipIf(missing.length > 0)('gcore of the same JVM (its raw heap, about 1 GB): the primes as BigInteger int[] magnitudes in memory (raw-words), the EC scalar as ECPrivateKeyImpl\'s little-endian byte[] (raw-le)', async () => {
    const dir = tree.root;
    if (!existsSync(path.join(dir, 'HoldKeys.class'))) return; // written by the test above
    const keyFile = path.join(dir, 'java-keys-core.b64');
    // A small heap and code cache keep the core near 1 GB.
    const jvm = spawn('java', ['-Xmx16m', '-Xms16m', '-XX:+UseSerialGC', '-XX:ReservedCodeCacheSize=8m', '-XX:CompressedClassSpaceSize=16m', '-XX:MaxMetaspaceSize=32m', '-XX:TieredStopAtLevel=1', '-cp', dir, 'HoldKeys', keyFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(jvm);
    await new Promise<void>((resolve) => jvm.stdout!.once('data', () => resolve()));
    const core = gcore(jvm.pid!, path.join(dir, 'jvm'));
    jvm.kill('SIGKILL');
    try {
      const [rsa, ec] = readFileSync(keyFile, 'utf8').trim().split('\n').map((b64) => createPrivateKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'pkcs8' }));
      const { findings, summary } = await scan([core], { jobs: 2 });
      expect(summary.errors).toEqual([]);
      const raw = findings.filter((f) => f.detector === 'raw');
      const words = raw.filter((f) => f.encoding === 'raw-words' && f.kind === 'rsa-private-key');
      expect(words.length).toBeGreaterThan(0);
      const scalars = raw.filter((f) => f.kind === 'ec-private-key');
      expect(scalars.length, 'EC scalar').toBeGreaterThan(0);
      // Nothing else is claimed.
      for (const f of raw) expect([fingerprintOf(rsa), fingerprintOf(ec)]).toContain(f.fingerprint);
      const primes = [member(rsa, 'p'), member(rsa, 'q')];
      const handle = await open(core, 'r');
      /** The integer at the finding's offset, big-endian, decoded per its encoding. */
      const valueAt = async (f: (typeof raw)[number]) => {
        const at = Buffer.alloc(f.length);
        await handle.read(at, 0, f.length, f.offset);
        if (f.encoding === 'raw-le') return at.reverse();
        if (f.encoding === 'raw-be') return at;
        const bigEndian = Buffer.alloc(f.length);
        for (let i = 0; i < f.length; i += 4) bigEndian.writeUInt32BE(at.readUInt32LE(i), i);
        return bigEndian;
      };
      try {
        for (const f of raw.filter((r) => r.kind === 'rsa-private-key')) {
          expect(f.fingerprint).toBe(fingerprintOf(rsa));
          const value = await valueAt(f);
          expect(primes.some((p) => p.equals(value)), `${f.encoding} at ${f.offset}`).toBe(true);
        }
        for (const f of scalars) {
          expect(f.fingerprint, `EC scalar at ${f.offset}`).toBe(fingerprintOf(ec));
          expect(f.length).toBe(32);
          expect((await valueAt(f)).equals(member(ec, 'd')), `EC scalar at ${f.offset} (${f.encoding})`).toBe(true);
        }
      } finally {
        await handle.close();
      }
      console.log(`jvm core: ${words.length} raw-words prime(s), e.g. at ${words.slice(0, 3).map((f) => `${f.address} ${f.region}`).join('; ')}; EC scalar at ${scalars.map((f) => `${f.offset} ${f.encoding} ${f.address}`).join('; ')}`);
    } finally {
      rmSync(core, { force: true });
    }
  }, 120_000);
});
