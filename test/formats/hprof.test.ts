// hprof heap dumps: which record or heap object holds a finding's offset. Checked against a
// hand-built dump whose byte layout the builder records, and against a real `jcmd GC.heap_dump`
// of a JVM holding a test key, read back with a small independent record walker written here.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeOffsets, readLayout, sniffFormat } from '../../src/formats/index.js';
import type { ReadAt } from '../../src/formats/layout.js';
import { cutPoints, findAll, memoryReader, prng } from './helpers.js';

type Described = Map<number, { region: string; address?: string }>;

// ---------------------------------------------------------------------------------------------
// A hand-built hprof: every piece appended records its [start, end) and the region we expect.

interface Piece {
  start: number;
  end: number;
  region: string | undefined;
}

class HprofBuilder {
  private bytes: number[] = [];
  readonly pieces: Piece[] = [];

  constructor(readonly idSize: 4 | 8) {
    this.ascii('JAVA PROFILE 1.0.2');
    this.u1(0);
    this.u4(idSize);
    this.u4(0x0000018c);
    this.u4(0x12345678);
    this.pieces.push({ start: 0, end: this.bytes.length, region: undefined });
  }

  get length(): number {
    return this.bytes.length;
  }
  u1(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u2(v: number): this {
    return this.u1(v >>> 8).u1(v);
  }
  u4(v: number): this {
    return this.u1(v >>> 24).u1(v >>> 16).u1(v >>> 8).u1(v);
  }
  id(v: bigint): this {
    for (let shift = BigInt((this.idSize - 1) * 8); shift >= 0n; shift -= 8n) this.u1(Number((v >> shift) & 0xffn));
    return this;
  }
  ascii(text: string): this {
    for (const ch of Buffer.from(text, 'latin1')) this.u1(ch);
    return this;
  }
  raw(data: Uint8Array): this {
    for (const b of data) this.u1(b);
    return this;
  }

  /** A top-level record; `body` appends its body (may add sub-record pieces). */
  record(tag: number, region: string | undefined, body: () => void): Piece {
    const start = this.length;
    this.u1(tag).u4(0);
    const lengthAt = this.length;
    this.u4(0);
    body();
    const length = this.length - lengthAt - 4;
    this.bytes[lengthAt] = (length >>> 24) & 0xff;
    this.bytes[lengthAt + 1] = (length >>> 16) & 0xff;
    this.bytes[lengthAt + 2] = (length >>> 8) & 0xff;
    this.bytes[lengthAt + 3] = length & 0xff;
    const piece = { start, end: this.length, region };
    this.pieces.push(piece);
    return piece;
  }

  utf8(id: bigint, text: string): Piece {
    return this.record(0x01, `UTF-8 string 0x${id.toString(16)}`, () => this.id(id).raw(Buffer.from(text, 'utf8')));
  }

  /** A sub-record inside a heap dump segment body. */
  sub(region: string | undefined, body: () => void): Piece {
    const start = this.length;
    body();
    const piece = { start, end: this.length, region };
    this.pieces.push(piece);
    return piece;
  }

  build(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const CLASS = 0x7f00_0000_1000n;
const INSTANCE = 0x7f00_0000_2000n;
const ARRAY = 0x7f00_0000_3000n;
const BYTES = 0x7f00_0000_4000n;
const CHARS = 0x7f00_0000_5000n;
const NAME = 0x7f00_0000_0100n;
const SECRET = 'hello-secret-key';

function hexId(v: bigint): string {
  return '0x' + v.toString(16);
}

/** header, UTF8, LOAD CLASS, HEAP DUMP SEGMENT (root, class, instance, arrays), HEAP DUMP END. */
function buildSample(idSize: 4 | 8 = 8, big = 0): { bytes: Uint8Array; pieces: Piece[]; b: HprofBuilder } {
  const mask = idSize === 4 ? 0xffff_ffffn : 0xffff_ffff_ffff_ffffn;
  const [klass, instance, array, bytesId, chars, name] = [CLASS, INSTANCE, ARRAY, BYTES, CHARS, NAME].map((v) => v & mask);
  const b = new HprofBuilder(idSize);
  b.utf8(name, 'com/example/Holder');
  b.record(0x02, undefined, () => b.u4(1).id(klass).u4(0).id(name)); // LOAD CLASS: undescribed
  b.record(0x1c, undefined, () => {
    b.sub(undefined, () => b.u1(0xff).id(instance)); // ROOT UNKNOWN
    b.sub(undefined, () => b.u1(0x08).id(instance).u4(1).u4(2)); // ROOT THREAD OBJ
    b.sub(`class dump ${hexId(klass)}`, () => {
      b.u1(0x20).id(klass).u4(0).id(0n).id(0n).id(0n).id(0n).id(0n).id(0n).u4(16);
      b.u2(2).u2(1).u1(10).u4(7).u2(2).u1(2).id(instance); // constant pool: int, object
      b.u2(3).id(name).u1(11).u4(0).u4(42).id(name).u1(5).u2(0x41).id(name).u1(2).id(bytesId); // statics: long, char, object
      b.u2(2).id(name).u1(10).id(name).u1(2); // instance fields: int, object
    });
    b.sub(`instance ${hexId(instance)} of class ${hexId(klass)}`, () => b.u1(0x21).id(instance).u4(0).id(klass).u4(4 + idSize).u4(99).id(bytesId));
    b.sub(`object array ${hexId(array)} of class ${hexId(klass)}`, () => b.u1(0x22).id(array).u4(0).u4(2).id(klass).id(instance).id(bytesId));
    const payload = Buffer.concat([Buffer.from(SECRET), Buffer.alloc(big, 0x61)]);
    b.sub(`primitive array byte[] ${hexId(bytesId)}`, () => b.u1(0x23).id(bytesId).u4(0).u4(payload.length).u1(8).raw(payload));
    b.sub(`primitive array char[] ${hexId(chars)}`, () => b.u1(0x23).id(chars).u4(0).u4(3).u1(5).raw(Buffer.from('abc', 'utf16le').swap16()));
    b.sub(`primitive array long[] ${hexId(chars + 1n)}`, () => b.u1(0x23).id(chars + 1n).u4(0).u4(1).u1(11).u4(1).u4(2));
  });
  b.record(0x2c, undefined, () => undefined);
  return { bytes: b.build(), pieces: b.pieces, b };
}

/** The expected region of `offset`: the innermost described piece holding it. */
function expectedRegion(pieces: Piece[], offset: number): string | undefined {
  let found: string | undefined;
  let width = Infinity;
  for (const p of pieces) {
    if (p.start <= offset && offset < p.end && p.end - p.start < width) {
      width = p.end - p.start;
      found = p.region;
    }
  }
  return found;
}

function allOffsets(size: number): number[] {
  return Array.from({ length: size }, (_, i) => i);
}

/** A ReadAt that records every read. */
function countingReader(bytes: Uint8Array, size = bytes.length): { read: ReadAt; reads: Array<[number, number]> } {
  const inner = memoryReader(bytes, size);
  const reads: Array<[number, number]> = [];
  return { reads, read: async (offset, length) => (reads.push([offset, length]), inner(offset, length)) };
}

describe('hand-built hprof', () => {
  for (const idSize of [8, 4] as const) {
    test(`every byte is described as the object or record holding it (id size ${idSize})`, async () => {
      const { bytes, pieces } = buildSample(idSize);
      expect(sniffFormat(bytes)).toBe('hprof');
      const got = await describeOffsets('hprof', memoryReader(bytes), bytes.length, allOffsets(bytes.length));
      const expected = new Map<number, string>();
      for (let i = 0; i < bytes.length; i++) {
        const region = expectedRegion(pieces, i);
        if (region !== undefined) expected.set(i, region);
      }
      expect(new Map([...got].map(([o, d]) => [o, d.region]))).toEqual(expected);
      for (const d of got.values()) expect(d.address).toBeUndefined();
    });
  }

  test('exact region strings for the secret bytes, the instance and the UTF-8 name', async () => {
    const { bytes } = buildSample(8);
    const at = Buffer.from(bytes).indexOf(SECRET);
    const name = Buffer.from(bytes).indexOf('com/example/Holder');
    const instanceField = Buffer.from(bytes).indexOf(Buffer.from([0, 0, 0, 99]));
    const got = await describeOffsets('hprof', memoryReader(bytes), bytes.length, [at + 5, name, at, instanceField, at]);
    expect(Object.fromEntries(got)).toEqual({
      [at]: { region: 'primitive array byte[] 0x7f0000004000' },
      [at + 5]: { region: 'primitive array byte[] 0x7f0000004000' },
      [name]: { region: 'UTF-8 string 0x7f0000000100' },
      [instanceField]: { region: 'instance 0x7f0000002000 of class 0x7f0000001000' },
    });
  });

  test('objects larger than a read block: reads stay bounded and the walk skips, not reads, array bodies', async () => {
    const { bytes, pieces } = buildSample(8, 3 * 1024 * 1024);
    const last = pieces.find((p) => p.region?.startsWith('primitive array long[]'))!;
    const big = pieces.find((p) => p.region?.startsWith('primitive array byte[]'))!;
    const { read, reads } = countingReader(bytes);
    const got = await describeOffsets('hprof', read, bytes.length, [last.start + 3, big.start + 2 * 1024 * 1024]);
    expect(got.get(last.start + 3)?.region).toBe('primitive array long[] 0x7f0000005001');
    expect(got.get(big.start + 2 * 1024 * 1024)?.region).toBe('primitive array byte[] 0x7f0000004000');
    expect(Math.max(...reads.map(([, n]) => n))).toBeLessThanOrEqual(1024 * 1024);
    expect(reads.reduce((sum, [, n]) => sum + n, 0)).toBeLessThan(3 * 1024 * 1024);
  });

  test('no offsets: nothing is read; offsets outside the file are ignored', async () => {
    const { bytes } = buildSample(8);
    const { read, reads } = countingReader(bytes);
    expect((await describeOffsets('hprof', read, bytes.length, [])).size).toBe(0);
    expect(reads).toEqual([]);
    expect((await describeOffsets('hprof', read, bytes.length, [-1, bytes.length, 1.5, NaN, Infinity])).size).toBe(0);
  });

  test('an unknown sub-record (Android 0x89) stops its segment only; the next segment is walked', async () => {
    const b = new HprofBuilder(8);
    b.record(0x1c, undefined, () => {
      b.sub('primitive array int[] 0x10', () => b.u1(0x23).id(0x10n).u4(0).u4(1).u1(10).u4(5));
      b.sub(undefined, () => b.u1(0x89).id(0x11n)); // ROOT INTERNED STRING (Android): unknown here
      b.sub(undefined, () => b.u1(0x23).id(0x12n).u4(0).u4(1).u1(8).u1(1)); // not reachable by the walk
    });
    b.record(0x1c, undefined, () => {
      b.sub('primitive array boolean[] 0x13', () => b.u1(0x23).id(0x13n).u4(0).u4(2).u1(4).u1(1).u1(0));
    });
    const bytes = b.build();
    const got = await describeOffsets('hprof', memoryReader(bytes), bytes.length, allOffsets(bytes.length));
    const expected = new Map<number, string>();
    for (let i = 0; i < bytes.length; i++) {
      const region = expectedRegion(b.pieces, i);
      if (region !== undefined) expected.set(i, region);
    }
    expect(new Map([...got].map(([o, d]) => [o, d.region]))).toEqual(expected);
  });

  test('truncated copies (10 cuts): no throw, and whatever is described matches the full file', async () => {
    const { bytes } = buildSample(8);
    const offsets = allOffsets(bytes.length);
    const full = await describeOffsets('hprof', memoryReader(bytes), bytes.length, offsets);
    for (const cut of cutPoints(bytes.length, 10, 7)) {
      const got = await describeOffsets('hprof', memoryReader(bytes, cut), cut, offsets);
      for (const [offset, d] of got) {
        expect(offset).toBeLessThan(cut);
        expect(d).toEqual(full.get(offset));
      }
    }
  });

  test('garbage never throws: bad headers, odd id sizes, random mutations', async () => {
    const { bytes } = buildSample(8);
    const offsets = allOffsets(bytes.length);
    const badId = bytes.slice();
    badId[22] = 3; // id size 3
    expect((await describeOffsets('hprof', memoryReader(badId), badId.length, offsets)).size).toBe(0);
    const noNul = new Uint8Array(200).fill(0x41);
    noNul.set(Buffer.from('JAVA PROFILE 1.0.2'));
    expect((await describeOffsets('hprof', memoryReader(noNul), noNul.length, allOffsets(200))).size).toBe(0);
    const next = prng(42);
    const odd: number[] = [];
    for (let round = 0; round < 300; round++) {
      const copy = bytes.slice();
      const flips = 1 + Math.floor(next() * 8);
      for (let f = 0; f < flips; f++) copy[31 + Math.floor(next() * (copy.length - 31))] = Math.floor(next() * 256);
      const got: Described = await describeOffsets('hprof', memoryReader(copy), copy.length, offsets);
      for (const [offset, d] of got) if (!(offset < copy.length && typeof d.region === 'string')) odd.push(offset);
    }
    expect(odd).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// A real heap dump of a JVM holding a test key.

function has(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const haveJdk = has('javac') && has('java') && has('jcmd');
if (!haveJdk) console.warn('javac/java/jcmd not found: the real hprof heap dump test is skipped (install a JDK to run it)');

const JAVA = `import java.nio.file.*;
public class HoldKey {
  static String pem;
  static byte[] pemBytes;
  public static void main(String[] args) throws Exception {
    pem = Files.readString(Path.of(args[0]), java.nio.charset.StandardCharsets.ISO_8859_1);
    pemBytes = Files.readAllBytes(Path.of(args[0]));
    System.out.println("ready");
    System.out.flush();
    while (true) Thread.sleep(1000);
  }
}
`;

/** Independent reading of the real dump: top-level records, class names by LOAD CLASS. */
function classIdsNamed(bytes: Buffer, idSize: number, name: string): bigint[] {
  const readId = (at: number) => (idSize === 8 ? bytes.readBigUInt64BE(at) : BigInt(bytes.readUInt32BE(at)));
  const nameIds = new Set<bigint>();
  const loads: Array<[bigint, bigint]> = [];
  let at = bytes.indexOf(0) + 13;
  while (at + 9 <= bytes.length) {
    const tag = bytes[at];
    const length = bytes.readUInt32BE(at + 5);
    const body = at + 9;
    if (tag === 0x01 && bytes.subarray(body + idSize, body + length).toString('utf8') === name) nameIds.add(readId(body));
    if (tag === 0x02) loads.push([readId(body + 4), readId(body + 8 + idSize)]);
    at = body + length;
  }
  return loads.filter(([, nameId]) => nameIds.has(nameId)).map(([classId]) => classId);
}

/** [start, end) of the body of every HEAP DUMP / HEAP DUMP SEGMENT record. */
function segmentBodies(bytes: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let at = bytes.indexOf(0) + 13;
  while (at + 9 <= bytes.length) {
    const length = bytes.readUInt32BE(at + 5);
    if (bytes[at] === 0x0c || bytes[at] === 0x1c) out.push([at + 9, at + 9 + length]);
    at += 9 + length;
  }
  return out;
}

describe.skipIf(!haveJdk)('a real jcmd GC.heap_dump of a JVM holding a test PEM key', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dumpguard-hprof-'));
  const dump = path.join(tmp, 'holdkey.hprof');
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  let jvm: ChildProcess | undefined;
  let bytes: Buffer;

  beforeAll(async () => {
    writeFileSync(path.join(tmp, 'key.pem'), pem);
    writeFileSync(path.join(tmp, 'HoldKey.java'), JAVA);
    execFileSync('javac', ['-d', tmp, path.join(tmp, 'HoldKey.java')], { stdio: 'ignore' });
    jvm = spawn('java', ['-Xmx64m', '-XX:+UseSerialGC', '-Xshare:auto', '-cp', tmp, 'HoldKey', path.join(tmp, 'key.pem')], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      jvm!.once('error', reject);
      jvm!.once('exit', (code) => reject(new Error(`java exited early (${code})`)));
      jvm!.stdout!.once('data', () => resolve());
    });
    execFileSync('jcmd', [String(jvm.pid), 'GC.heap_dump', dump], { stdio: 'ignore', timeout: 15_000 });
    bytes = readFileSync(dump);
  }, 30_000);

  afterAll(() => {
    jvm?.removeAllListeners('exit');
    jvm?.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  test('sniffed as hprof; every copy of the PEM is in a byte[] whose id the record header gives', async () => {
    expect(sniffFormat(bytes.subarray(0, 4096))).toBe('hprof');
    expect((await readLayout(memoryReader(bytes), bytes.length)).format).toBe('hprof');
    const hits = await findAll(dump, Buffer.from(pem, 'latin1'));
    expect(hits.length).toBeGreaterThanOrEqual(2); // the String's Latin-1 value and pemBytes
    const idSize = bytes.readUInt32BE(bytes.indexOf(0) + 1);
    const offsets = hits.flatMap((h) => [h, h + 100, h + pem.length - 1]);
    const got = await describeOffsets('hprof', memoryReader(bytes), bytes.length, offsets);
    const ids = new Set<string>();
    for (const hit of hits) {
      // Independently: PRIMITIVE ARRAY DUMP header right before the elements (tag, id, u4, u4 count, u1 type).
      const header = hit - (idSize + 10);
      expect(bytes[header]).toBe(0x23);
      expect(bytes[hit - 1]).toBe(8); // byte[]
      expect(bytes.readUInt32BE(hit - 5)).toBe(pem.length);
      const id = idSize === 8 ? bytes.readBigUInt64BE(header + 1) : BigInt(bytes.readUInt32BE(header + 1));
      const region = `primitive array byte[] 0x${id.toString(16)}`;
      for (const o of [hit, hit + 100, hit + pem.length - 1]) expect(got.get(o), `offset ${o}`).toEqual({ region });
      ids.add(region);
    }
    expect(ids.size).toBe(hits.length);
  });

  test("the String's value reference lies in an instance of java/lang/String", async () => {
    const idSize = bytes.readUInt32BE(bytes.indexOf(0) + 1);
    const stringClasses = classIdsNamed(bytes, idSize, 'java/lang/String');
    expect(stringClasses).toHaveLength(1);
    const arrayIds = (await findAll(dump, Buffer.from(pem, 'latin1'))).map((hit) => bytes.subarray(hit - (idSize + 9), hit - 9));
    const references = arrayIds.flatMap((id) => {
      const at: number[] = [];
      for (let i = bytes.indexOf(id); i >= 0; i = bytes.indexOf(id, i + 1)) at.push(i);
      return at;
    });
    const got = await describeOffsets('hprof', memoryReader(bytes), bytes.length, references);
    const regions = [...got.values()].map((d) => d.region);
    expect(regions).toContainEqual(expect.stringMatching(new RegExp(`^instance 0x[0-9a-f]+ of class 0x${stringClasses[0].toString(16)}$`)));
  });

  test('reads are bounded blocks and the whole walk reads each byte at most about once', async () => {
    const hits = await findAll(dump, Buffer.from(pem, 'latin1'));
    const { read, reads } = countingReader(bytes);
    await describeOffsets('hprof', read, bytes.length, [...hits, bytes.length - 1]);
    expect(Math.max(...reads.map(([, n]) => n))).toBeLessThanOrEqual(1024 * 1024);
    expect(reads.reduce((sum, [, n]) => sum + n, 0)).toBeLessThan(2 * bytes.length + 1024 * 1024);
  });

  test('truncated copies (10 cuts): no throw, and whatever is described matches the full dump', async () => {
    const hits = await findAll(dump, Buffer.from(pem, 'latin1'));
    const next = prng(3);
    const offsets = [...hits, ...Array.from({ length: 2000 }, () => Math.floor(next() * bytes.length))];
    const full = await describeOffsets('hprof', memoryReader(bytes), bytes.length, offsets);
    // Nearly all of a heap dump segment is objects (roots are a few bytes each): the walk must
    // get through every segment, class dumps included, to describe them.
    const idSize = bytes.readUInt32BE(bytes.indexOf(0) + 1);
    const segments = segmentBodies(bytes);
    const inSegments = offsets.filter((o) => segments.some(([start, end]) => start <= o && o < end));
    expect(inSegments.length, `id size ${idSize}`).toBeGreaterThan(100);
    expect(inSegments.filter((o) => full.has(o)).length / inSegments.length).toBeGreaterThan(0.97);
    for (const cut of cutPoints(bytes.length, 10, 11)) {
      const got = await describeOffsets('hprof', memoryReader(bytes, cut), cut, offsets);
      for (const [offset, d] of got) {
        expect(offset).toBeLessThan(cut);
        expect(d).toEqual(full.get(offset));
      }
    }
  });
});
