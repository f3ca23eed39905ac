// The pipeline through the built worker pool (piscina loads dist/pool/worker.js).
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, test } from 'vitest';
import { scan } from '../dist/index.js';
import type { Finding } from '../src/types.js';
import { asCrlf, fingerprintOf, jsonEscaped, pkcs8Pem, pseudoRandomBytes, testKeys, utf16le } from './helpers/keys.js';

const root = new URL('..', import.meta.url).pathname;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dumpguard-scan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const keys = testKeys();

interface Plant {
  offset: number;
  payload: Buffer;
  length: number;
  kind: Finding['kind'];
  fingerprint: string;
}

/** Keys planted before, at and across the boundaries of 4 KiB, 64 KiB and 1 MiB chunks. */
function plantedFile(): { bytes: Buffer; plants: Plant[] } {
  const bytes = pseudoRandomBytes(3 * 1024 * 1024 + 777, 42);
  const rsa = pkcs8Pem(keys.rsa.privateKey);
  const ec = asCrlf(keys.ec.privateKey.export({ type: 'sec1', format: 'pem' }) as string);
  const ed = pkcs8Pem(keys.ed25519.privateKey);
  const pkcs1 = jsonEscaped(keys.rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string);
  const armorEnd = (text: string) => text.lastIndexOf('-----') + 5;
  const plants: Plant[] = [
    { offset: 0, payload: Buffer.from(ed), length: armorEnd(ed), kind: 'ed25519-private-key', fingerprint: keys.ed25519.fingerprint },
    { offset: 4096 - 300, payload: Buffer.from(ec), length: armorEnd(ec), kind: 'ec-private-key', fingerprint: keys.ec.fingerprint },
    { offset: 65536, payload: Buffer.from(rsa), length: armorEnd(rsa), kind: 'rsa-private-key', fingerprint: keys.rsa.fingerprint },
    { offset: 1024 * 1024 - 1000, payload: utf16le(ed), length: 2 * armorEnd(ed), kind: 'ed25519-private-key', fingerprint: keys.ed25519.fingerprint },
    { offset: 2 * 1024 * 1024 - 1, payload: Buffer.from(pkcs1), length: armorEnd(pkcs1), kind: 'rsa-private-key', fingerprint: keys.rsa.fingerprint },
    { offset: 3 * 1024 * 1024 + 777 - ed.length, payload: Buffer.from(ed), length: armorEnd(ed), kind: 'ed25519-private-key', fingerprint: keys.ed25519.fingerprint },
  ];
  for (const p of plants) {
    bytes[p.offset - 1] = 0; // a separator, so random bytes never extend the armor
    p.payload.copy(bytes, p.offset);
    if (p.offset + p.payload.length < bytes.length) bytes[p.offset + p.payload.length] = 0;
  }
  return { bytes, plants };
}

const essentials = (f: Finding) => ({ offset: f.offset, length: f.length, kind: f.kind, severity: f.severity, fingerprint: f.fingerprint });

describe('chunk invariance', () => {
  const { bytes, plants } = plantedFile();
  const file = path.join(tmp, 'planted.bin');
  writeFileSync(file, bytes);
  const expected = plants.map((p) => ({ offset: p.offset, length: p.length, kind: p.kind, severity: 'high', fingerprint: p.fingerprint }));

  test.each([
    [4 * 1024, 1],
    [4 * 1024, 2],
    [64 * 1024, 1],
    [64 * 1024, 2],
    [1024 * 1024, 1],
    [1024 * 1024, 2],
  ])('chunk %i bytes, %i job(s): every planted key exactly once', async (chunkSizeInBytes, jobs) => {
    const { findings, summary } = await scan([file], { chunkSizeInBytes, jobs });
    expect(findings.map(essentials)).toEqual(expected);
    expect(summary.bytes).toBe(bytes.length);
    expect(summary.errors).toEqual([]);
  });

  test('standard input gives stream offsets equal to file offsets', async () => {
    const { findings } = await scan(['-'], { chunkSizeInBytes: 4096, jobs: 2, stdin: Readable.from([bytes.subarray(0, 100_000), bytes.subarray(100_000)]) });
    expect(findings.map(essentials)).toEqual(expected);
    expect(findings.every((f) => f.path === '-')).toBe(true);
  });

  test('shift: 65 junk bytes in front move every offset by exactly 65', async () => {
    const shifted = path.join(tmp, 'shifted.bin');
    writeFileSync(shifted, Buffer.concat([pseudoRandomBytes(64, 3), Buffer.from([0]), bytes]));
    const { findings } = await scan([shifted], { chunkSizeInBytes: 64 * 1024, jobs: 2 });
    expect(findings.map(essentials)).toEqual(expected.map((e) => ({ ...e, offset: e.offset + 65 })));
  });
});

describe('the shipped sample core dump', () => {
  test('the planted key at its exact offset', async () => {
    const offsets = JSON.parse(readFileSync(path.join(root, 'samples/offsets.json'), 'utf8'));
    const pem = readFileSync(path.join(root, 'samples/test-key-rsa2048.pem'), 'utf8');
    const core = path.join(root, 'samples/core-holdkey-pem.core');
    const { findings } = await scan([core], { jobs: 2 });
    expect(findings.map(essentials)).toEqual([
      {
        offset: offsets['core-holdkey-pem.core']['test-key-rsa2048.pem'][0],
        length: pem.trimEnd().length,
        kind: 'rsa-private-key',
        severity: 'high',
        fingerprint: fingerprintOf(createPrivateKey(pem)),
      },
    ]);
    expect(findings[0].encoding).toBe('ascii');
  });
});

describe('a real core dump of a process holding DER keys', () => {
  test('each key at the offset where its bytes really are', async () => {
    const offsets = JSON.parse(readFileSync(path.join(root, 'samples/offsets.json'), 'utf8'))['core-holdkey-der.core'];
    const core = readFileSync(path.join(root, 'samples/core-holdkey-der.core'));
    const rsa = readFileSync(path.join(root, 'samples/test-key-rsa2048-pkcs1.der'));
    const ec = readFileSync(path.join(root, 'samples/test-key-ec-p256.der'));
    // The recorded offsets are where the key files' bytes are in the core, independently of dumpguard.
    expect(core.indexOf(rsa)).toBe(offsets['test-key-rsa2048-pkcs1.der'][0]);
    expect(core.indexOf(ec)).toBe(offsets['test-key-ec-p256.der'][0]);
    const { findings } = await scan([path.join(root, 'samples/core-holdkey-der.core')], { jobs: 2 });
    expect(findings.map((f) => ({ ...essentials(f), detector: f.detector, encoding: f.encoding }))).toEqual([
      { offset: offsets['test-key-rsa2048-pkcs1.der'][0], length: rsa.length, kind: 'rsa-private-key', severity: 'high', fingerprint: fingerprintOf(createPrivateKey({ key: rsa, format: 'der', type: 'pkcs1' })), detector: 'der', encoding: 'binary' },
      { offset: offsets['test-key-ec-p256.der'][0], length: ec.length, kind: 'ec-private-key', severity: 'high', fingerprint: fingerprintOf(createPrivateKey({ key: ec, format: 'der', type: 'pkcs8' })), detector: 'der', encoding: 'binary' },
    ]);
  });
});

describe('one key, one fingerprint', () => {
  test('the same key as PEM, DER and PKCS#8 inside one file: three findings, one fingerprint', async () => {
    const file = path.join(tmp, 'three-forms.bin');
    const pem = Buffer.from(pkcs8Pem(keys.ec.privateKey));
    const pkcs8 = keys.ec.privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer;
    const sec1 = keys.ec.privateKey.export({ type: 'sec1', format: 'der' }) as Buffer;
    writeFileSync(file, Buffer.concat([Buffer.alloc(100), pem, Buffer.alloc(100), pkcs8, Buffer.alloc(100), sec1, Buffer.alloc(100)]));
    const { findings } = await scan([file], { jobs: 1 });
    // The SEC1 inside the PKCS#8 is one finding with its wrapper; the bare SEC1 is its own.
    expect(findings.map((f) => [f.offset, f.length, f.detector, f.fingerprint])).toEqual([
      [100, pem.length - 1, 'pem', keys.ec.fingerprint],
      [200 + pem.length, pkcs8.length, 'der', keys.ec.fingerprint],
      [300 + pem.length + pkcs8.length, sec1.length, 'der', keys.ec.fingerprint],
    ]);
  });
});

const minidumps = path.join(root, '../shared/samples/minidump');
describe.skipIf(!existsSync(minidumps))('real third-party minidumps (../shared/samples/minidump)', () => {
  test.each(['win-xp-x86-test.dmp', 'win10-x64-invalid-parameter.dmp'])('%s holds no keys', async (name) => {
    const { findings, summary } = await scan([path.join(minidumps, name)], { jobs: 1 });
    expect(findings).toEqual([]);
    expect(summary.errors).toEqual([]);
    expect(summary.bytes).toBeGreaterThan(10_000);
  });
});
if (!existsSync(minidumps)) console.warn(`skipping minidump samples: ${minidumps} is absent`);
