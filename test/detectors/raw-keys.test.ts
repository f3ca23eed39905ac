// Raw private integers (detector raw): RSA primes, EC scalars and Ed25519 seeds planted in
// their raw forms near their public keys, found at their exact offsets and lengths with the
// fingerprint of the key, through the whole scan (workers, second pass, any chunk size).
import { execFileSync, spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import AjvDraft04 from 'ajv-draft-04';
import { describe, expect, test } from 'vitest';
import { scan } from '../../dist/index.js';
import { runCli } from '../helpers/cli.js';
import { fingerprintOf, pkcs8Pem, pseudoRandomBytes } from '../helpers/keys.js';
import { tempTree } from '../helpers/temp-tree.js';
import { prng } from '../helpers/random.js';
import { collectPublics } from '../../src/raw/collect.js';
import { verifyCandidates } from '../../src/raw/verify.js';
import { DEFAULT_RADII, mergedRanges, searchRawKeys, toTarget } from '../../src/raw/search.js';
import { ZeroPages } from '../../src/raw/zero-pages.js';
import { Slots } from '../../src/input/chunker.js';
import type { ChunkResult, ChunkTask } from '../../src/pool/worker.js';
import type { FileHandle } from 'node:fs/promises';

const tree = tempTree('dumpguard-raw-');

type Form = 'raw-le' | 'raw-be' | 'raw-words';

/** The value's bytes as a library holds them (independent of src/raw/targets.ts). */
function inForm(bigEndian: Buffer, form: Form): Buffer {
  if (form === 'raw-be') return Buffer.from(bigEndian);
  if (form === 'raw-le') return Buffer.from(bigEndian).reverse();
  const out = Buffer.alloc(bigEndian.length);
  for (let i = 0; i < bigEndian.length; i += 4) out.writeUInt32LE(bigEndian.readUInt32BE(i), i);
  return out;
}

const jwkMember = (key: KeyObject, name: string) => Buffer.from((key.export({ format: 'jwk' }) as Record<string, string>)[name], 'base64url');
const spki = (key: KeyObject) => createPublicKey(key).export({ type: 'spki', format: 'der' });

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const ed = generateKeyPairSync('ed25519').privateKey;

interface Plant {
  at: number;
  bytes: Buffer;
}

function fileWith(size: number, plants: Plant[], seed = 7): Buffer {
  const bytes = pseudoRandomBytes(size, seed);
  for (const p of plants) p.bytes.copy(bytes, p.at);
  return bytes;
}

const summary = (findings: Array<{ offset: number; length: number; kind: string; encoding: string; detector: string; fingerprint?: string; severity: string }>) =>
  findings.filter((f) => f.detector === 'raw').map((f) => ({ offset: f.offset, length: f.length, kind: f.kind, encoding: f.encoding, fingerprint: f.fingerprint, severity: f.severity }));

describe('RSA primes', () => {
  const p = jwkMember(rsa, 'p');
  const q = jwkMember(rsa, 'q');
  const fingerprint = fingerprintOf(rsa);

  test.each([
    ['raw-le', 200_008, 201_000] as const, // 8-aligned, as OpenSSL's BIGNUM limbs are
    ['raw-words', 200_012, 230_004] as const, // 4-aligned, as a Java int[] magnitude
    ['raw-be', 195_003, 170_001] as const, // any alignment (within the narrower unaligned neighbourhood)
  ])('%s: p and q at their exact offsets, with the key fingerprint', async (form, pAt, qAt) => {
    // A library holds n in the same form as its primes: the neighbourhood of n is searched in that form.
    const file = tree.put(`rsa-${form}.bin`, fileWith(1 << 20, [
      { at: 100_001, bytes: spki(rsa) },
      { at: 180_000, bytes: inForm(jwkMember(rsa, 'n'), form) },
      { at: pAt, bytes: inForm(p, form) },
      { at: qAt, bytes: inForm(q, form) },
    ]));
    const { findings } = await scan([file], { jobs: 2 });
    expect(summary(findings)).toEqual(
      [
        { offset: pAt, length: 128, kind: 'rsa-private-key', encoding: form, fingerprint, severity: 'high' },
        { offset: qAt, length: 128, kind: 'rsa-private-key', encoding: form, fingerprint, severity: 'high' },
      ].sort((a, b) => a.offset - b.offset),
    );
  }, 30_000);

  test('the same findings for any chunk size and worker count; a 64-byte shift moves them by 64', async () => {
    const plants = [
      { at: 500_001, bytes: spki(rsa) },
      { at: 520_000, bytes: inForm(p, 'raw-le') },
      { at: 470_000, bytes: inForm(q, 'raw-le') },
    ];
    const file = tree.put('rsa-chunks.bin', fileWith(1 << 20, plants));
    const expected = summary((await scan([file], { jobs: 1 })).findings);
    expect(expected.map((f) => f.offset)).toEqual([470_000, 520_000]);
    for (const chunkSizeInBytes of [4096, 65_536 + 8, 300_000]) {
      expect(summary((await scan([file], { jobs: 2, chunkSizeInBytes })).findings), `chunk ${chunkSizeInBytes}`).toEqual(expected);
    }
    // Shifted by 64: alignment kept (limbs are 8-aligned in memory and in a core)
    const shifted = tree.put('rsa-shift.bin', Buffer.concat([Buffer.alloc(64, 0x11), fileWith(1 << 20, plants)]));
    expect(summary((await scan([shifted], { jobs: 2 })).findings).map((f) => f.offset)).toEqual([470_064, 520_064]);
  }, 30_000);

  test('--known-keys only (no public key in the file): found, critical', async () => {
    const known = tree.put('known-rsa.pem', createPublicKey(rsa).export({ type: 'spki', format: 'pem' }) as string);
    const file = tree.put('rsa-known.bin', fileWith(1 << 20, [
      { at: 300_000, bytes: inForm(jwkMember(rsa, 'n'), 'raw-le') },
      { at: 300_512, bytes: inForm(p, 'raw-le') },
      { at: 300_640, bytes: inForm(q, 'raw-le') },
    ]));
    const { findings } = await scan([file], { jobs: 2, knownKeys: [known] });
    expect(summary(findings)).toEqual([
      { offset: 300_512, length: 128, kind: 'rsa-private-key', encoding: 'raw-le', fingerprint, severity: 'critical' },
      { offset: 300_640, length: 128, kind: 'rsa-private-key', encoding: 'raw-le', fingerprint, severity: 'critical' },
    ]);
  }, 30_000);

  test('the key bytes zeroed: no raw finding', async () => {
    const file = tree.put('rsa-zeroed.bin', fileWith(1 << 20, [
      { at: 180_001, bytes: spki(rsa) },
      { at: 200_008, bytes: Buffer.alloc(128) },
      { at: 201_000, bytes: Buffer.alloc(128) },
    ]));
    expect(summary((await scan([file], { jobs: 2 })).findings)).toEqual([]);
  }, 30_000);
});

describe('public JWKs as the public keys', () => {
  const publicJwk = (key: KeyObject) => JSON.stringify(createPublicKey(key).export({ format: 'jwk' }));
  test.each([
    ['plain JSON', (jwk: string) => jwk, 'latin1'],
    ['JSON held in a JSON string', (jwk: string) => JSON.stringify({ config: jwk }).slice(1, -1), 'latin1'],
    ['a JWKS, kty last, n first', (jwk: string) => JSON.stringify({ keys: [{ ...JSON.parse(jwk), kty: undefined, use: 'sig' }].map((k) => ({ ...k, kty: 'RSA' })) }), 'latin1'],
    // A Java or .NET string holding the JWK (a JWKS a service fetched and kept).
    ['UTF-16LE', (jwk: string) => jwk, 'utf16le'],
    ['UTF-16LE, JSON held in a JSON string', (jwk: string) => JSON.stringify({ config: jwk }).slice(1, -1), 'utf16le'],
    ['UTF-16LE, a JWKS, kty last, n first', (jwk: string) => JSON.stringify({ keys: [{ ...JSON.parse(jwk), kty: undefined, use: 'sig' }].map((k) => ({ ...k, kty: 'RSA' })) }), 'utf16le'],
  ] as const)('an RSA public JWK (%s) and the BIGNUMs of its key: p and q found, with the key fingerprint', async (_name, wrap, encoding) => {
    const text = Buffer.from(wrap(publicJwk(rsa)), encoding);
    const plants = [
      { at: 100_003, bytes: text },
      { at: 180_000, bytes: inForm(jwkMember(rsa, 'n'), 'raw-le') },
      { at: 200_008, bytes: inForm(jwkMember(rsa, 'p'), 'raw-le') },
      { at: 201_000, bytes: inForm(jwkMember(rsa, 'q'), 'raw-le') },
    ];
    const file = tree.put(`jwk-${_name.replace(/\W+/g, '-')}.bin`, fileWith(1 << 20, plants));
    const expected = [200_008, 201_000].map((offset) => ({ offset, length: 128, kind: 'rsa-private-key', encoding: 'raw-le', fingerprint: fingerprintOf(rsa), severity: 'high' }));
    expect(summary((await scan([file], { jobs: 2 })).findings)).toEqual(expected);
    // The JWK's brace and its "kty" on either side of a chunk boundary: the same.
    const boundary = 100_003 + text.lastIndexOf(Buffer.from('{', encoding), text.indexOf(Buffer.from('kty', encoding))) + 1;
    expect(summary((await scan([file], { jobs: 1, chunkSizeInBytes: boundary })).findings)).toEqual(expected);
    // Without the JWK there is no public key to go by: nothing.
    const without = tree.put(`jwk-none-${_name.replace(/\W+/g, '-')}.bin`, fileWith(1 << 20, plants.slice(1)));
    expect(summary((await scan([without], { jobs: 2 })).findings)).toEqual([]);
  });

  test('EC and Ed25519 public JWKs: the scalar beside the point, the seed before the public key', async () => {
    const x = jwkMember(ec, 'x');
    const y = jwkMember(ec, 'y');
    const d = jwkMember(ec, 'd');
    const edPublic = jwkMember(ed, 'x');
    const edSeed = jwkMember(ed, 'd');
    const file = tree.put('jwk-ec-ed.bin', fileWith(1 << 20, [
      { at: 50_001, bytes: Buffer.from(publicJwk(ec), 'latin1') },
      { at: 60_001, bytes: Buffer.from(publicJwk(ed), 'latin1') },
      // OpenSSL-style EC_KEY: the point's coordinates (Montgomery form aside, raw-le) then the scalar.
      { at: 300_000, bytes: Buffer.concat([Buffer.from(x).reverse(), Buffer.from(y).reverse()]) },
      { at: 300_512, bytes: Buffer.from(d).reverse() },
      { at: 400_000, bytes: Buffer.concat([edSeed, edPublic]) },
    ]));
    const found = summary((await scan([file], { jobs: 2 })).findings);
    expect(found.map((f) => [f.offset, f.kind, f.fingerprint])).toEqual([
      [300_512, 'ec-private-key', fingerprintOf(ec)],
      [400_000, 'ed25519-private-key', fingerprintOf(ed)],
    ]);
  });
});

describe('holes of a sparse core', () => {
  test('chunks the first pass read as all zeros are not read again: the primes between holes are found, the same for any chunk size', async () => {
    const p = jwkMember(rsa, 'p');
    const q = jwkMember(rsa, 'q');
    // 24 MiB: a hole, a mapped region with the SPKI, n and the primes (BIGNUM form), a hole, and the public key again at the end.
    const region = 20 << 20;
    const bytes = Buffer.alloc(24 << 20);
    pseudoRandomBytes(1 << 20, 11).copy(bytes, region);
    spki(rsa).copy(bytes, region + 1001);
    inForm(jwkMember(rsa, 'n'), 'raw-le').copy(bytes, region + 80_000);
    inForm(p, 'raw-le').copy(bytes, region + 100_008);
    inForm(q, 'raw-le').copy(bytes, region + 120_008);
    spki(rsa).copy(bytes, bytes.length - 2000);
    const file = tree.put('sparse-core.bin', bytes);
    const expected = [
      { offset: region + 100_008, length: 128, kind: 'rsa-private-key', encoding: 'raw-le', fingerprint: fingerprintOf(rsa), severity: 'high' },
      { offset: region + 120_008, length: 128, kind: 'rsa-private-key', encoding: 'raw-le', fingerprint: fingerprintOf(rsa), severity: 'high' },
    ];
    for (const chunkSizeInBytes of [1 << 20, 8 << 20]) expect(summary((await scan([file], { jobs: 2, chunkSizeInBytes })).findings)).toEqual(expected);
  });

  const zerosOf = (ranges: Array<[number, number]>) => {
    const pages = new ZeroPages();
    for (const [from, to] of ranges) pages.add(from, to);
    return pages;
  };

  test('the second pass reads only the chunks outside the zero ranges', async () => {
    const targets = collectPublics(new Uint8Array(spki(rsa)), spki(rsa).length).map((v) => toTarget(v)!);
    const reads: Array<[number, number]> = [];
    const host = {
      path: 'fake',
      handle: { fd: -1 } as FileHandle,
      size: 64 << 20,
      slots: new Slots(3),
      bufferSizeInBytes: (8 << 20) + 65536,
      deep: false,
      // Zeros from 0 to 40 MiB (reported as three chunks, out of order) and from 50 MiB to the end.
      zeroPages: zerosOf([[16 << 20, 40 << 20], [0, 8 << 20], [8 << 20, 16 << 20], [50 << 20, 64 << 20]]),
      run: async (task: ChunkTask): Promise<ChunkResult> => {
        reads.push([task.read!.position, task.read!.position + task.length]);
        return { length: task.length, bodyLength: task.bodyLength, matches: [], failures: [], raw: { occurrences: [] } };
      },
    };
    expect(await searchRawKeys(host, targets)).toEqual([]);
    expect(reads.length).toBeGreaterThan(0);
    // Every chunk read overlaps the non-zero stretch [40, 50) MiB; together they cover it.
    for (const [from, to] of reads) expect(from < 50 << 20 && to > 40 << 20).toBe(true);
    expect(Math.min(...reads.map((r) => r[0]))).toBeLessThanOrEqual(40 << 20);
    expect(Math.max(...reads.map((r) => r[1]))).toBeGreaterThanOrEqual(50 << 20);
  });

  test('mergedRanges sorts and joins touching and overlapping ranges', () => {
    expect(mergedRanges([[30, 40], [0, 10], [10, 20], [35, 50], [60, 61]])).toEqual([[0, 20], [30, 50], [60, 61]]);
    expect(mergedRanges([])).toEqual([]);
  });
});

describe('EC and Ed25519', () => {
  test('a P-256 scalar near its point: raw-le near the SPKI, raw-be near a big-endian x‖y (CNG, Go)', async () => {
    const d = jwkMember(ec, 'd');
    const file = tree.put('ec.bin', fileWith(1 << 20, [
      { at: 400_003, bytes: spki(ec) },
      { at: 399_001, bytes: Buffer.concat([jwkMember(ec, 'x'), jwkMember(ec, 'y')]) },
      { at: 401_000, bytes: inForm(d, 'raw-le') },
      { at: 400_201, bytes: inForm(d, 'raw-be') },
    ]));
    const { findings } = await scan([file], { jobs: 2 });
    expect(summary(findings)).toEqual([
      { offset: 400_201, length: 32, kind: 'ec-private-key', encoding: 'raw-be', fingerprint: fingerprintOf(ec), severity: 'high' },
      { offset: 401_000, length: 32, kind: 'ec-private-key', encoding: 'raw-le', fingerprint: fingerprintOf(ec), severity: 'high' },
    ]);
  }, 30_000);

  describe('a JVM heap (gcore of a Java process): the scalar as a little-endian byte[] far from the point\'s BigInteger words', () => {
    const d = jwkMember(ec, 'd');
    const x = jwkMember(ec, 'x');
    const y = jwkMember(ec, 'y');
    type Header = 'compressed' | 'compact';
    /**
     * A HotSpot array whose data is at `at` (64-bit): mark word, 4-byte class pointer and element
     * count (compressed class pointers, the default: data 8-aligned), or the mark word holding the
     * class and then the count (compact object headers, Java 24+: data 4 bytes into a word).
     */
    const javaArray = (header: Header, at: number, data: Buffer, elementSize: 1 | 4, count = data.length / elementSize): Plant => {
      const head = Buffer.alloc(header === 'compressed' ? 16 : 12);
      if (header === 'compressed') {
        head.writeBigUInt64LE(1n, 0);
        head.writeUInt32LE(0x6848, 8);
      } else head.writeBigUInt64LE((0x1234n << 42n) | 1n, 0);
      head.writeUInt32LE(count, head.length - 4);
      return { at: at - head.length, bytes: Buffer.concat([head, data]) };
    };
    // The allocation order ECKeyPairGenerator leaves in eden: ECPrivateKeyImpl.arrayS, then the
    // ECPoint's BigInteger magnitudes, then the X509Key's 04‖x‖y, at the distances measured in
    // gcores (Java 17: five cores, arrayS 14.1 to 14.4 KiB before the x magnitude; Java 25 with
    // compact object headers: 146 KiB, its data 4 bytes into a word).
    const layouts: Array<{ name: string; header: Header; scalarAt: number; xAt: number; yAt: number; pointAt: number }> = [
      { name: 'Java 17', header: 'compressed', scalarAt: 400_000, xAt: 414_208, yAt: 416_696, pointAt: 419_200 },
      { name: 'Java 25, compact object headers', header: 'compact', scalarAt: 300_004, xAt: 449_060, yAt: 451_124, pointAt: 451_964 },
    ];
    const heap = (layout: (typeof layouts)[number], scalar: Buffer, count?: number, scalarAt = layout.scalarAt): Plant[] => [
      javaArray(layout.header, scalarAt, scalar, 1, count),
      javaArray(layout.header, layout.xAt, inForm(x, 'raw-words'), 4),
      javaArray(layout.header, layout.yAt, inForm(y, 'raw-words'), 4),
      javaArray(layout.header, layout.pointAt, Buffer.concat([Buffer.of(4), x, y]), 1),
    ];
    // The public key's X.509 encoding, or only Java's PKCS8Key.key (SEC1 without curve or point: the point is d·G on each 32-byte curve).
    const sources: Array<[string, Plant]> = [
      ['an SPKI', { at: 50_001, bytes: spki(ec) }],
      ['the SEC1 encoding of the private key alone', { at: 50_001, bytes: Buffer.concat([Buffer.from('302502010104' + '20', 'hex'), d]) }],
    ];
    const expected = (offset: number) => [{ offset, length: 32, kind: 'ec-private-key', encoding: 'raw-le', fingerprint: fingerprintOf(ec), severity: 'high' }];
    const cases = layouts.flatMap((layout) => sources.map(([name, source]) => [layout.name, name, layout, source] as const));

    test.each(cases)('%s, public key from %s: found at the byte[]\'s data, the same for any chunk size; a 64-byte shift moves it by 64', async (_layout, _source, layout, source) => {
      const slug = `${layout.header}-${_source.replace(/\W+/g, '-')}`;
      const file = tree.put(`jvm-ec-${slug}.bin`, fileWith(1 << 20, [source, ...heap(layout, inForm(d, 'raw-le'))]));
      expect(summary((await scan([file], { jobs: 2 })).findings)).toEqual(expected(layout.scalarAt));
      for (const chunkSizeInBytes of [65_536 + 8, layout.scalarAt + 4]) expect(summary((await scan([file], { jobs: 2, chunkSizeInBytes })).findings), `chunk ${chunkSizeInBytes}`).toEqual(expected(layout.scalarAt));
      const shifted = tree.put(`jvm-ec-shift-${slug}.bin`, Buffer.concat([Buffer.alloc(64, 0x11), readFileSync(file)]));
      expect(summary((await scan([shifted], { jobs: 2 })).findings).map((f) => f.offset)).toEqual([layout.scalarAt + 64]);
    }, 30_000);

    test.each(layouts.map((l) => [l.name, l] as const))('%s: the scalar bytes zeroed: no raw finding', async (_name, layout) => {
      const file = tree.put(`jvm-ec-zeroed-${layout.header}.bin`, fileWith(1 << 20, [sources[0][1], ...heap(layout, Buffer.alloc(32))]));
      expect(summary((await scan([file], { jobs: 2 })).findings)).toEqual([]);
    }, 30_000);

    test.each(layouts.map((l) => [l.name, l] as const))('%s: beyond 8 KiB only a window that starts an array of exactly a scalar is tested: a byte[33] header, no finding', async (_name, layout) => {
      const file = tree.put(`jvm-ec-not-an-array-${layout.header}.bin`, fileWith(1 << 20, [sources[0][1], ...heap(layout, inForm(d, 'raw-le'), 33)]));
      expect(summary((await scan([file], { jobs: 2 })).findings)).toEqual([]);
    }, 30_000);

    test('Java 25 distances are searched only around the point\'s BigInteger words (a JVM heap): the encoded point alone reaches 32 KiB', async () => {
      const layout = layouts[1];
      const withoutWords = heap(layout, inForm(d, 'raw-le')).filter((_, i) => i === 0 || i === 3);
      const file = tree.put('jvm-ec-no-words.bin', fileWith(1 << 20, [{ at: 1_000_001, bytes: spki(ec) }, ...withoutWords]));
      expect(summary((await scan([file], { jobs: 2 })).findings)).toEqual([]);
    }, 30_000);

    test('an array of a scalar farther than 256 KiB from every occurrence of its point: not tested (default mode)', async () => {
      const layout = layouts[1];
      const file = tree.put('jvm-ec-too-far.bin', fileWith(1 << 20, [{ at: 1_000_001, bytes: spki(ec) }, ...heap(layout, inForm(d, 'raw-le'), undefined, layout.xAt - 256 * 1024 - 64)]));
      expect(summary((await scan([file], { jobs: 2 })).findings)).toEqual([]);
    }, 30_000);

    test('within 8 KiB of a coordinate\'s BigInteger words, little-endian scalars are tested without a header too', async () => {
      const xAt = layouts[0].xAt;
      const file = tree.put('jvm-ec-near-words.bin', fileWith(1 << 20, [
        sources[0][1],
        { at: xAt - 4096, bytes: inForm(d, 'raw-le') },
        javaArray('compressed', xAt, inForm(x, 'raw-words'), 4),
      ]));
      expect(summary((await scan([file], { jobs: 2 })).findings)).toEqual(expected(xAt - 4096));
    }, 30_000);
  });

  test('an Ed25519 seed right before its public key (Go, BoringSSL)', async () => {
    const seed = jwkMember(ed, 'd');
    const pub = jwkMember(ed, 'x');
    const file = tree.put('ed.bin', fileWith(1 << 20, [
      { at: 100_001, bytes: spki(ed) },
      { at: 700_005, bytes: Buffer.concat([seed, pub]) },
    ]));
    const { findings } = await scan([file], { jobs: 2 });
    expect(summary(findings)).toEqual([{ offset: 700_005, length: 32, kind: 'ed25519-private-key', encoding: 'raw-be', fingerprint: fingerprintOf(ed), severity: 'high' }]);
  }, 30_000);
});

describe('negatives', () => {
  test('random bytes with 20 public moduli supplied via --known-keys: zero findings', async () => {
    const jwks = { keys: Array.from({ length: 20 }, (_, i) => ({ ...(createPublicKey(i === 0 ? rsa : generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey).export({ format: 'jwk' }) as object), kid: `k${i}` })) };
    const known = tree.put('twenty.json', JSON.stringify(jwks));
    const file = tree.put('random.bin', pseudoRandomBytes(8 << 20, 99));
    const { findings, summary: s } = await scan([file], { jobs: 2, knownKeys: [known] });
    expect(findings).toEqual([]);
    expect(s.errors).toEqual([]);
  }, 30_000);

  test('public keys alone (a certificate chain, SPKIs) are not private keys', async () => {
    const file = tree.put('publics.bin', fileWith(1 << 20, [
      { at: 1000, bytes: spki(rsa) },
      { at: 5001, bytes: spki(ec) },
      { at: 9002, bytes: spki(ed) },
      { at: 20_000, bytes: inForm(jwkMember(rsa, 'n'), 'raw-le') },
    ]));
    const { findings } = await scan([file], { jobs: 2 });
    expect(findings).toEqual([]);
  }, 30_000);
});


describe('the CLI', () => {
  const p = jwkMember(rsa, 'p');
  const plants = [
    { at: 100_001, bytes: spki(rsa) },
    { at: 120_000, bytes: inForm(jwkMember(rsa, 'n'), 'raw-le') },
    { at: 120_512, bytes: inForm(p, 'raw-le') },
  ];

  test('every report format carries the raw encodings; SARIF stays schema-valid', async () => {
    const file = tree.put('cli.bin', fileWith(1 << 20, plants));
    const jsonl = await runCli(['scan', file, '--format', 'jsonl']);
    expect(jsonl.code).toBe(1);
    const line = JSON.parse(jsonl.stdoutText.trim().split('\n')[0]);
    expect(line).toMatchObject({ offset: 120_512, length: 128, detector: 'raw', kind: 'rsa-private-key', severity: 'high', encoding: 'raw-le', fingerprint: fingerprintOf(rsa) });
    expect(line.evidence).toBe('raw prime factor of RSA-2048 modulus, little-endian limbs (OpenSSL BIGNUM, Go big.Int) (128 bytes)');
    const text = await runCli(['scan', file]);
    expect(text.stdoutText).toContain('[raw/raw-le]');
    const json = JSON.parse((await runCli(['scan', file, '--format', 'json'])).stdoutText);
    expect(json.findings.map((f: { encoding: string }) => f.encoding)).toEqual(['raw-le']);
    const sarif = JSON.parse((await runCli(['scan', file, '--format', 'sarif'])).stdoutText);
    expect(sarif.runs[0].results[0].properties.encoding).toBe('raw-le');
    const schemaPath = fileURLToPath(new URL('../../../shared/schemas/sarif-schema-2.1.0.json', import.meta.url));
    if (existsSync(schemaPath)) {
      const ajv = new AjvDraft04.default({ allErrors: true, strict: false, validateFormats: false });
      const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
      expect(validate(sarif), JSON.stringify(validate.errors)).toBe(true);
    }
    // The secret is nowhere in any report.
    for (const out of [jsonl.stdoutText, text.stdoutText, JSON.stringify(json), JSON.stringify(sarif)]) {
      expect(out).not.toContain(p.toString('hex'));
      expect(out).not.toContain(inForm(p, 'raw-le').toString('base64'));
    }
  }, 60_000);

  test('--detectors without raw: no raw search', async () => {
    const file = tree.put('cli-off.bin', fileWith(1 << 20, plants));
    const off = await runCli(['scan', file, '--format', 'jsonl', '--detectors', 'pem,der']);
    expect(off.code).toBe(0);
    expect(off.stdoutText).toBe('');
  }, 30_000);

  const hasOpenssl = spawnSync('sh', ['-c', 'command -v openssl']).status === 0;
  test.skipIf(!hasOpenssl)('a self-signed CA certificate is a trust anchor: its key is searched under --deep only; --deep tests primes over the whole file', async () => {
    const keyFile = tree.put('ca.key', pkcs8Pem(rsa));
    const certFile = `${keyFile}.crt`;
    execFileSync('openssl', ['req', '-x509', '-key', keyFile, '-out', certFile, '-subj', '/CN=dumpguard test root', '-days', '1', '-addext', 'basicConstraints=critical,CA:TRUE'], { stdio: 'ignore' });
    const der = new X509Certificate(readFileSync(certFile)).raw;
    const q = jwkMember(rsa, 'q');
    const file = tree.put('ca.bin', fileWith(1 << 20, [
      { at: 50_001, bytes: der },
      { at: 60_000, bytes: inForm(jwkMember(rsa, 'n'), 'raw-le') },
      { at: 60_512, bytes: inForm(p, 'raw-le') },
      { at: 900_000, bytes: inForm(q, 'raw-le') }, // far from every occurrence
    ]));
    expect(summary((await scan([file], { jobs: 2 })).findings)).toEqual([]);
    expect(summary((await scan([file], { jobs: 2, deep: true })).findings).map((f) => [f.offset, f.encoding])).toEqual([[60_512, 'raw-le'], [900_000, 'raw-le']]);
    const cli = await runCli(['scan', file, '--deep', '--format', 'jsonl']);
    expect(cli.stdoutText.trim().split('\n').map((l) => JSON.parse(l).offset)).toEqual([60_512, 900_000]);
  }, 60_000);
});

describe('garbage in, nothing out', () => {
  test('public structures with random bytes flipped: the collector never throws, and reports only well-formed keys', () => {
    const next = prng(6);
    const sshRsa = (() => {
      const j = createPublicKey(rsa).export({ format: 'jwk' }) as { n: string; e: string };
      const str = (b: Buffer) => {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(b.length);
        return Buffer.concat([length, b]);
      };
      return Buffer.concat([str(Buffer.from('ssh-rsa')), str(Buffer.from(j.e, 'base64url')), str(Buffer.concat([Buffer.from([0]), Buffer.from(j.n, 'base64url')]))]);
    })();
    const seeds = [spki(rsa), spki(ec), spki(ed), sshRsa];
    for (const seed of seeds) expect(collectPublics(new Uint8Array(seed), seed.length).length, 'the intact structure is collected').toBe(1);
    for (let round = 0; round < 3000; round++) {
      const bytes = Buffer.from(seeds[round % seeds.length]);
      for (let k = 0; k < 1 + Math.floor(next() * 4); k++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      const cut = bytes.subarray(0, Math.max(1, Math.floor(next() * bytes.length * 1.2)));
      const publics = collectPublics(new Uint8Array(cut), cut.length);
      for (const p of publics) expect(toTarget(p), 'every public value reported has a fingerprint').toBeDefined();
    }
  });

  test('candidate tests over random bytes with made-up occurrences: no match, no throw', () => {
    const bytes = new Uint8Array(pseudoRandomBytes(256 * 1024, 5));
    const targets = [spki(rsa), spki(ec), spki(ed)].flatMap((d) => collectPublics(new Uint8Array(d), d.length)).map((p) => toTarget(p)!);
    const occurrences = targets.flatMap((_, target) => [
      { target, start: 1000 + target, length: 64, form: 'raw-le' as const, encoded: false },
      { target, start: 90_001, length: 64, form: 'raw-be' as const, encoded: false },
      { target, start: 200_004, length: 64, form: 'raw-words' as const, encoded: false },
    ]);
    expect(verifyCandidates(bytes, { offset: 0, candidateEnd: bytes.length, targets, occurrences, radii: DEFAULT_RADII, everywhere: [] })).toEqual([]);
  }, 60_000);
});

describe('candidate tests planned while the occurrence search runs', () => {
  test('occurrence tasks finishing in any order (random delays): the same findings, each once, at the exact offsets', async () => {
    const { default: scanChunk } = await import('../../src/pool/worker.js');
    const { openSync, closeSync } = await import('node:fs');
    const MiB = 1 << 20;
    const size = 24 * MiB;
    // Zeros with random islands around the plants, spread over many 1 MiB chunks: RSA primes
    // near its modulus (two places), the EC scalar near its x coordinate, each as limbs.
    const bytes = Buffer.alloc(size);
    for (const island of [MiB, 7 * MiB, 15 * MiB, 21 * MiB]) pseudoRandomBytes(512 * 1024, island).copy(bytes, island);
    const plants: Plant[] = [
      { at: MiB + 1000, bytes: spki(rsa) },
      { at: MiB + 4000, bytes: spki(ec) },
      { at: 7 * MiB + 65_536, bytes: inForm(jwkMember(rsa, 'n'), 'raw-le') },
      { at: 7 * MiB + 65_536 + 40_000, bytes: inForm(jwkMember(rsa, 'p'), 'raw-le') },
      { at: 15 * MiB + 200_000, bytes: inForm(jwkMember(ec, 'x'), 'raw-le') },
      { at: 15 * MiB + 200_000 - 4096, bytes: inForm(jwkMember(ec, 'd'), 'raw-le') },
      { at: 21 * MiB + 300_000, bytes: inForm(jwkMember(rsa, 'n'), 'raw-le') },
      { at: 21 * MiB + 300_000 - 60_000, bytes: inForm(jwkMember(rsa, 'q'), 'raw-le') },
    ];
    for (const p of plants) p.bytes.copy(bytes, p.at);
    const file = tree.put('pipelined.bin', bytes);
    const targets = [...collectPublics(new Uint8Array(spki(rsa)), spki(rsa).length), ...collectPublics(new Uint8Array(spki(ec)), spki(ec).length)].map((v) => toTarget(v)!);
    const fd = openSync(file, 'r');
    try {
      const next = prng(41);
      const steps: string[] = [];
      const search = async (delayed: boolean) => {
        steps.length = 0;
        const host = {
          path: file,
          handle: { fd } as FileHandle,
          size,
          slots: new Slots(5),
          bufferSizeInBytes: MiB + 65_536,
          deep: false,
          run: async (task: ChunkTask): Promise<ChunkResult> => {
            if (delayed) await new Promise((resolve) => setTimeout(resolve, Math.floor(next() * 4)));
            steps.push(task.raw!.step);
            return scanChunk(task);
          },
        };
        return (await searchRawKeys(host, targets)).map((f) => [f.offset, f.length, f.kind, f.encoding, f.fingerprint]);
      };
      const inOrder = await search(false);
      expect(inOrder).toEqual([
        [7 * MiB + 65_536 + 40_000, 128, 'rsa-private-key', 'raw-le', fingerprintOf(rsa)],
        [15 * MiB + 200_000 - 4096, 32, 'ec-private-key', 'raw-le', fingerprintOf(ec)],
        [21 * MiB + 300_000 - 60_000, 128, 'rsa-private-key', 'raw-le', fingerprintOf(rsa)],
      ]);
      // The tests around the first plants ran before the search reached the last chunks.
      expect(steps.indexOf('verify')).toBeGreaterThan(0);
      expect(steps.indexOf('verify')).toBeLessThan(steps.lastIndexOf('occurrences'));
      for (let round = 0; round < 3; round++) expect(await search(true)).toEqual(inOrder);
    } finally {
      closeSync(fd);
    }
  }, 60_000);
});
