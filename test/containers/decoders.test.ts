// The decoders on their own (built modules), against what the system tools write, and the
// pieces of the provenance notation.
import { createHash, randomBytes } from 'node:crypto';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ByteReader } from '../../dist/input/containers/byte-reader.js';
import { unlz4 } from '../../dist/input/containers/lz4.js';
import { childPlace, escapeEntryName, FILE_PLACE, locatePosition, segment } from '../../dist/input/containers/provenance.js';
import { sniffContainer } from '../../dist/input/containers/sniff.js';
import { unxz } from '../../dist/input/containers/xz.js';
import { unzstd } from '../../dist/input/containers/zstd.js';
import { hasTool, pemCore, prng, run } from './helpers.js';

/** Dump-like input: the sample core, pseudo-random text, zeros, and a repeated pattern. */
const random = prng(99);
const input = Buffer.concat([
  readFileSync(pemCore),
  Buffer.from(Array.from({ length: 300_000 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789\n'[Math.floor(random() * 37)]).join('')),
  Buffer.alloc(200_000),
  Buffer.from('0123456789abcdef'.repeat(20_000)),
]);
const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function decode(decoder: (r: ByteReader) => AsyncIterable<Uint8Array>, bytes: Buffer, pieceSize = 4096): Promise<Buffer> {
  async function* pieces() {
    for (let i = 0; i < bytes.length; i += pieceSize) yield bytes.subarray(i, i + pieceSize);
  }
  const out: Uint8Array[] = [];
  for await (const piece of decoder(new ByteReader(pieces()))) out.push(piece);
  return Buffer.concat(out);
}

describe.skipIf(!hasTool('lz4'))('lz4 frames as the lz4 tool writes them', () => {
  for (const options of [[], ['-BD'], ['-B4'], ['-B4', '-BD'], ['-BX'], ['--content-size'], ['--no-frame-crc'], ['-9', '-BD']]) {
    test(`lz4 ${options.join(' ') || '(defaults)'}`, async () => {
      const compressed = run('lz4', ['-q', '-c', ...options], { input });
      expect(digest(await decode(unlz4, compressed))).toBe(digest(input));
    });
  }
  test('concatenated frames decode as one stream', async () => {
    const one = run('lz4', ['-q', '-c', '-B4'], { input });
    expect(digest(await decode(unlz4, Buffer.concat([one, one]), 777))).toBe(digest(Buffer.concat([input, input])));
  });
});

describe.skipIf(!hasTool('zstd'))('zstd frames as the zstd tool writes them', () => {
  for (const options of [['-1'], ['-19'], ['--no-check'], ['--long=27'], ['-3', '--no-content-size']]) {
    test(`zstd ${options.join(' ')}`, async () => {
      const compressed = run('zstd', ['-q', '-c', ...options], { input });
      expect(digest(await decode(unzstd, compressed, 1000))).toBe(digest(input));
    });
  }
  test('a skippable frame before the data is skipped', async () => {
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 5, 0, 0, 0]), Buffer.from('hello')]);
    expect(digest(await decode(unzstd, Buffer.concat([skippable, run('zstd', ['-q', '-c'], { input })])))).toBe(digest(input));
  });
  test('memory stays bounded: the decoder lets go of the compressed blocks it has decoded', async () => {
    // 96 MiB that does not compress: before the fix fzstd kept every block it was given (RSS grew by the compressed size).
    const data = randomBytes(96 * 1024 * 1024);
    const compressed = run('zstd', ['-q', '-1', '-c'], { input: data });
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    async function* pieces() {
      for (let i = 0; i < compressed.length; i += 1 << 20) yield compressed.subarray(i, i + (1 << 20));
    }
    gc();
    const before = process.memoryUsage().arrayBuffers;
    let decoded = 0;
    const held: number[] = [];
    for await (const piece of unzstd(new ByteReader(pieces()))) {
      decoded += piece.length;
      if (decoded >= (64 + 8 * held.length) * 1024 * 1024 && held.length < 3) {
        gc();
        held.push(process.memoryUsage().arrayBuffers - before);
      }
    }
    expect(decoded).toBe(data.length);
    // `before` counts the input this test holds. Read so far: 64 MiB or more, which a leak would hold;
    // the decoder needs a few blocks (transient garbage can add some, hence the least of three samples).
    expect(held).toHaveLength(3);
    expect(Math.min(...held)).toBeLessThan(32 * 1024 * 1024);
  });
  test('a frame that asks for a window over 128 MiB is refused before any allocation', async () => {
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x98, 0x01, 0x00, 0x00]); // window 2^(10+19) = 512 MiB
    await expect(decode(unzstd, frame)).rejects.toThrow(/needs a 536870912-byte window, over the 134217728-byte limit/);
  });
});

test.skipIf(!hasTool('xz'))('xz as the xz tool writes it (one block and multi-threaded blocks)', async () => {
  expect(digest(await decode(unxz, run('xz', ['-c'], { input })))).toBe(digest(input));
  expect(digest(await decode(unxz, run('xz', ['-c', '-T2', '--block-size=200000'], { input })))).toBe(digest(input));
});

test('containers are recognised by their first bytes only', () => {
  expect(sniffContainer(Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3]))).toBe('gzip');
  expect(sniffContainer(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20]))).toBe('zstd');
  expect(sniffContainer(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe('xz');
  expect(sniffContainer(Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x64]))).toBe('lz4');
  expect(sniffContainer(Buffer.from('PK\x03\x04', 'latin1'))).toBe('zip');
  expect(sniffContainer(Buffer.from('\x7fELF'))).toBeUndefined();
  // A tar header needs its checksum to add up, not just the magic.
  const header = Buffer.alloc(512);
  header.write('ustar', 257);
  expect(sniffContainer(header)).toBeUndefined();
  header.write('        ', 148);
  const sum = header.reduce((n, b) => n + b, 0);
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  expect(sniffContainer(header)).toBe('tar');
});

test('the provenance notation', () => {
  expect(locatePosition(FILE_PLACE, 42)).toEqual({ offset: 42 });
  const zip = childPlace(FILE_PLACE, 1234, segment('ZIP', 'cores/core.zst'));
  expect(locatePosition(zip, 7)).toEqual({ offset: 1234, inner: 'ZIP[cores/core.zst]-7' });
  const zstd = childPlace(zip, 0, segment('ZSTD'));
  expect(locatePosition(zstd, 182736)).toEqual({ offset: 1234, inner: 'ZIP[cores/core.zst]-0/ZSTD-182736' });
  expect(escapeEntryName('a]b[c%d\ne')).toBe('a%5Db%5Bc%25d%0Ae');
  expect(segment('TAR', 'ünï/x y')).toBe('TAR[ünï/x y]');
});
