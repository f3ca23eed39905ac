// V8 heap snapshots: which top-level member, and which "strings" element, holds a finding's
// offset. Expected indexes come from JSON.parse of the same file (or from how the test built
// the text), never from the scanner.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeOffsets, readLayout, sniffFormat } from '../../src/formats/index.js';
import type { ReadAt } from '../../src/formats/layout.js';
import { cutPoints, findAll, memoryReader, prng } from './helpers.js';

/** A ReadAt that records every read. */
function countingReader(bytes: Uint8Array, size = bytes.length): { read: ReadAt; reads: Array<[number, number]> } {
  const inner = memoryReader(bytes, size);
  const reads: Array<[number, number]> = [];
  return { reads, read: async (offset, length) => (reads.push([offset, length]), inner(offset, length)) };
}

function allOffsets(size: number): number[] {
  return Array.from({ length: size }, (_, i) => i);
}

function regions(map: Map<number, { region: string; address?: string }>): Map<number, string> {
  return new Map([...map].map(([o, d]) => [o, d.region]));
}

// ---------------------------------------------------------------------------------------------
// A hand-built snapshot, assembled from raw JSON pieces whose byte spans and labels are known.

class JsonBuilder {
  private parts: Buffer[] = [];
  private size = 0;
  /** [start, end, label] of every labelled span, in order. */
  readonly spans: Array<[number, number, string]> = [];

  add(raw: string, label?: string): this {
    const bytes = Buffer.from(raw, 'utf8');
    if (label !== undefined) this.spans.push([this.size, this.size + bytes.length, label]);
    this.parts.push(bytes);
    this.size += bytes.length;
    return this;
  }

  /** A member `"key":value`, labelled `key` from the key's quote to the value's last byte. */
  member(key: string, value: string): this {
    return this.add(`${JSON.stringify(key)}:${value}`, key);
  }

  /** The top-level "strings" member from raw JSON element literals, each labelled by index. */
  strings(elements: string[], separator = ','): this {
    const start = this.size;
    this.add('"strings" : [\n');
    elements.forEach((raw, i) => {
      if (i > 0) this.add(separator);
      this.add(raw, raw.startsWith('"') ? `strings[${i}]` : undefined);
    });
    this.add('\n]');
    // Everything else inside the member is labelled 'strings': fill the gaps.
    const inner = this.spans.filter(([s]) => s >= start);
    const gaps: Array<[number, number, string]> = [];
    let at = start;
    for (const [s, e] of inner) {
      if (s > at) gaps.push([at, s, 'strings']);
      at = e;
    }
    if (this.size > at) gaps.push([at, this.size, 'strings']);
    this.spans.push(...gaps);
    this.spans.sort((a, b) => a[0] - b[0]);
    return this;
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }

  /** The label of byte `offset` (binary search over the sorted spans). */
  labelAt(offset: number): string | undefined {
    let lo = 0;
    let hi = this.spans.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const [start, end, label] = this.spans[mid];
      if (offset < start) hi = mid - 1;
      else if (offset >= end) lo = mid + 1;
      else return label;
    }
    return undefined;
  }

  expected(): Map<number, string> {
    const out = new Map<number, string>();
    for (const [start, end, label] of this.spans) for (let i = start; i < end; i++) out.set(i, label);
    return out;
  }
}

/** Raw JSON string literals with escaped quotes, backslashes, \u escapes, brackets, commas and UTF-8. */
const TRICKY = [
  '"<dummy>"',
  '""',
  '"he said \\"hi\\", then left"',
  '"back\\\\slash"',
  '"\\\\"',
  '"ends with an escaped quote\\""',
  '"\\\\\\""',
  '"\\"strings\\":[\\"fake\\"]"',
  '"] } , { ["',
  '"\\u0022\\u005c\\/\\b\\f\\n\\r\\t"',
  '"caf\u00e9 \u6f22\u5b57 \ud83d\udd11"',
  '"-----BEGIN PRIVATE KEY-----\\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\\n-----END PRIVATE KEY-----\\n"',
];

function buildSnapshot(elements = TRICKY, separator = ',\n', padding = 0): JsonBuilder {
  return new JsonBuilder()
    .add('{')
    .member('snapshot', '{"meta":{"node_fields":["type","name"],"strings":["nested, not the table"],"x":"a\\"b}"},"node_count":2,"edge_count":1}')
    .add(',\n')
    .member('nodes', `[1,2,3,\n4,5,6${' '.repeat(padding)}]`)
    .add(',\n')
    .member('edges', '[0,1,6]')
    .add(',\n')
    .member('trace_function_infos', '[]')
    .add(',\n')
    .member('locations', '[]')
    .add(',\n')
    .strings(elements, separator)
    .add('}\n');
}

describe('hand-built V8 snapshot', () => {
  test('every byte: strings[<index>] inside an element, else the top-level member holding it', async () => {
    const built = buildSnapshot();
    const bytes = built.build();
    expect(sniffFormat(bytes)).toBe('v8-heap-snapshot');
    const parsed = JSON.parse(bytes.toString('utf8')) as { strings: string[] };
    expect(parsed.strings).toHaveLength(TRICKY.length);
    expect(parsed.strings[7]).toBe('"strings":["fake"]');
    const got = await describeOffsets('v8-heap-snapshot', memoryReader(bytes), bytes.length, allOffsets(bytes.length));
    expect(regions(got)).toEqual(built.expected());
    for (const d of got.values()) expect(d.address).toBeUndefined();
  });

  test('the index of the string holding a key is its index in JSON.parse(...).strings', async () => {
    const bytes = buildSnapshot().build();
    const strings = (JSON.parse(bytes.toString('utf8')) as { strings: string[] }).strings;
    const pemAt = bytes.indexOf('-----BEGIN PRIVATE KEY-----');
    const caf = bytes.indexOf('\u6f22');
    const got = await describeOffsets('v8-heap-snapshot', memoryReader(bytes), bytes.length, [pemAt, caf, bytes.indexOf('"nodes"') + 12]);
    expect(Object.fromEntries(got)).toEqual({
      [pemAt]: { region: `strings[${strings.findIndex((s) => s.startsWith('-----BEGIN PRIVATE KEY-----'))}]` },
      [caf]: { region: `strings[${strings.findIndex((s) => s.includes('\u6f22'))}]` },
      [bytes.indexOf('"nodes"') + 12]: { region: 'nodes' },
    });
  });

  test('non-string elements still count toward the index; a byte-order mark and odd spacing are fine', async () => {
    const built = new JsonBuilder()
      .add('\ufeff \n{ ')
      .member('snapshot', '{}')
      .add(', ')
      .strings(['"a"', '17', '{"x":["y"]}', '["z", "w"]', '"b\\\\"', 'null', '"c"'], ' ,\n ')
      .add('}');
    const bytes = built.build();
    const strings = (JSON.parse(bytes.subarray(3).toString('utf8')) as { strings: unknown[] }).strings;
    expect(strings.indexOf('c')).toBe(6);
    const got = await describeOffsets('v8-heap-snapshot', memoryReader(bytes), bytes.length, allOffsets(bytes.length));
    expect(regions(got)).toEqual(built.expected());
  });

  test('block boundaries: a strings table larger than a read block, read in bounded blocks', async () => {
    const elements = ['"<dummy>"'];
    const next = prng(5);
    while (elements.length < 50_000) {
      const n = Math.floor(next() * 60);
      let raw = '';
      for (let i = 0; i < n; i++) raw += ['a', '\\\\', '\\"', '\\n', 'é', ',', ']'][Math.floor(next() * 7)];
      elements.push(`"${raw}"`);
    }
    const built = buildSnapshot(elements);
    const bytes = built.build();
    expect(bytes.length).toBeGreaterThan(2 * 1024 * 1024);
    const strings = (JSON.parse(bytes.toString('utf8')) as { strings: string[] }).strings;
    const offsets = Array.from({ length: 3000 }, () => Math.floor(next() * bytes.length));
    const { read, reads } = countingReader(bytes);
    const got = await describeOffsets('v8-heap-snapshot', read, bytes.length, offsets);
    const wrong = offsets.filter((o) => got.get(o)?.region !== built.labelAt(o));
    expect(wrong).toEqual([]);
    expect(strings).toHaveLength(elements.length);
    expect(Math.max(...reads.map(([, n]) => n))).toBeLessThanOrEqual(1024 * 1024);
    expect(reads.reduce((sum, [, n]) => sum + n, 0)).toBeLessThanOrEqual(bytes.length + 3);
  });

  test('escapes and quotes split across read blocks (1 MiB)', async () => {
    const block = 1024 * 1024;
    const plain = buildSnapshot().build();
    // Put each interesting byte (a backslash, an escaped quote, a closing quote) last in the first block.
    const targets = [plain.indexOf('back\\\\slash') + 4, plain.indexOf('quote\\""') + 5, plain.indexOf('quote\\""') + 6, plain.indexOf('"\\\\\\""') + 3];
    for (const target of targets) {
      const built = buildSnapshot(TRICKY, ',\n', block - 1 - target);
      const bytes = built.build();
      const offsets = allOffsets(bytes.length).slice(block - 4000);
      const got = await describeOffsets('v8-heap-snapshot', memoryReader(bytes), bytes.length, offsets);
      const expected = offsets.flatMap((o): Array<[number, string]> => {
        const label = built.labelAt(o);
        return label === undefined ? [] : [[o, label]];
      });
      expect(regions(got), `byte ${target}`).toEqual(new Map(expected));
    }
  });

  test('no offsets: nothing is read; the scan stops after the last requested offset', async () => {
    const bytes = buildSnapshot().build();
    const { read, reads } = countingReader(bytes);
    expect((await describeOffsets('v8-heap-snapshot', read, bytes.length, [])).size).toBe(0);
    expect(reads).toEqual([]);
    expect((await describeOffsets('v8-heap-snapshot', read, bytes.length, [-5, bytes.length, 0.5])).size).toBe(0);
  });

  test('truncated copies (10 cuts): no throw, and every described offset matches the full file', async () => {
    const bytes = buildSnapshot().build();
    const offsets = allOffsets(bytes.length);
    const full = await describeOffsets('v8-heap-snapshot', memoryReader(bytes), bytes.length, offsets);
    for (const cut of cutPoints(bytes.length, 10, 9)) {
      const got = await describeOffsets('v8-heap-snapshot', memoryReader(bytes, cut), cut, offsets);
      const wrong = [...got].filter(([o, d]) => o >= cut || full.get(o)?.region !== d.region);
      expect(wrong, `cut at ${cut}`).toEqual([]);
      // A cut inside a string element leaves its bytes labelled with it.
      for (const o of offsets.slice(0, cut)) if (full.has(o)) expect(got.has(o), `offset ${o}, cut ${cut}`).toBe(true);
    }
  });

  test('garbage never throws: not JSON, unbalanced brackets, random mutations', async () => {
    for (const text of ['', '[1,2]', '"strings":["x"]', '{"strings":["a"', '{]]]]]]"x', '{"a":"\\', '{{{{{{{{{"strings":["a"]']) {
      const bytes = Buffer.from(text);
      await describeOffsets('v8-heap-snapshot', memoryReader(bytes), bytes.length, allOffsets(bytes.length));
    }
    const notJson = Buffer.from('hello "strings":["a"]');
    expect((await describeOffsets('v8-heap-snapshot', memoryReader(notJson), notJson.length, allOffsets(notJson.length))).size).toBe(0);
    const bytes = buildSnapshot().build();
    const next = prng(77);
    const odd: number[] = [];
    for (let round = 0; round < 300; round++) {
      const copy = Buffer.from(bytes);
      const flips = 1 + Math.floor(next() * 6);
      for (let f = 0; f < flips; f++) copy[Math.floor(next() * copy.length)] = '"\\[]{},: a'.charCodeAt(Math.floor(next() * 10));
      const got = await describeOffsets('v8-heap-snapshot', memoryReader(copy), copy.length, allOffsets(copy.length));
      for (const [o, d] of got) if (!(o < copy.length && typeof d.region === 'string')) odd.push(o);
    }
    expect(odd).toEqual([]);
  });

  test('other formats describe nothing', async () => {
    const bytes = buildSnapshot().build();
    for (const format of ['raw', 'elf-core', 'minidump', 'windows-kernel-dump'] as const) {
      expect((await describeOffsets(format, memoryReader(bytes), bytes.length, [0, 10, 100])).size).toBe(0);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A real snapshot: v8.writeHeapSnapshot() in a node child holding a flat PEM string.

describe('a real v8.writeHeapSnapshot() of a node process holding a test PEM key', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dumpguard-v8-'));
  const keyFile = path.join(tmp, 'key.pem');
  const snapshot = path.join(tmp, 'holdkey.heapsnapshot');
  // P-256 PKCS#8 PEM (~240 chars): V8 keeps at most 1024 characters of a string in the table.
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  let bytes: Buffer;
  let strings: string[];

  beforeAll(() => {
    writeFileSync(keyFile, pem);
    const script = `globalThis.keep = require('fs').readFileSync(${JSON.stringify(keyFile)}, 'latin1'); require('v8').writeHeapSnapshot(${JSON.stringify(snapshot)});`;
    execFileSync(process.execPath, ['-e', script], { stdio: 'ignore', timeout: 30_000 });
    bytes = readFileSync(snapshot);
    strings = (JSON.parse(bytes.toString('utf8')) as { strings: string[] }).strings;
  }, 40_000);

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('sniffed; the escaped PEM lies in strings[n], n its index in JSON.parse(file).strings', async () => {
    expect(sniffFormat(bytes.subarray(0, 4096))).toBe('v8-heap-snapshot');
    expect((await readLayout(memoryReader(bytes), bytes.length)).format).toBe('v8-heap-snapshot');
    const n = strings.indexOf(pem);
    expect(n).toBeGreaterThan(0);
    const escaped = Buffer.from(JSON.stringify(pem).slice(1, -1));
    const hits = await findAll(snapshot, escaped);
    expect(hits.length).toBeGreaterThanOrEqual(1);
    const offsets = hits.flatMap((h) => [h, h + 50, h + escaped.length - 1]);
    const got = await describeOffsets('v8-heap-snapshot', memoryReader(bytes), bytes.length, offsets);
    const indexes = new Set<number>();
    for (const o of offsets) {
      const m = /^strings\[(\d+)\]$/.exec(got.get(o)?.region ?? '');
      expect(m, `offset ${o}: ${got.get(o)?.region}`).not.toBeNull();
      const index = Number(m![1]);
      expect(strings[index]).toContain(pem);
      indexes.add(index);
    }
    expect(indexes).toContain(n);
    // The element's quotes: the hit of the exact string starts right after its opening quote.
    const exact = hits.find((h) => bytes[h - 1] === 0x22 && bytes[h + escaped.length] === 0x22)!;
    const quotes = await describeOffsets('v8-heap-snapshot', memoryReader(bytes), bytes.length, [exact - 1, exact + escaped.length]);
    expect(regions(quotes)).toEqual(new Map([[exact - 1, `strings[${n}]`], [exact + escaped.length, `strings[${n}]`]]));
  });

  test('offsets in the other members are named by member', async () => {
    const text = bytes.toString('latin1');
    const probes: Record<string, number> = {};
    for (const key of ['snapshot', 'nodes', 'edges', 'locations']) {
      const at = text.indexOf(`"${key}":`);
      expect(at, key).toBeGreaterThanOrEqual(0);
      probes[key] = at + key.length + 5; // inside the value
    }
    const got = await describeOffsets('v8-heap-snapshot', memoryReader(bytes), bytes.length, Object.values(probes));
    for (const [key, at] of Object.entries(probes)) expect(got.get(at), key).toEqual({ region: key });
  });

  test('every sampled offset inside the strings table maps to the element JSON.parse puts there', async () => {
    // Independently: re-parse the "strings" array element by element with JSON.parse on each literal.
    const text = bytes.toString('utf8');
    const start = Buffer.byteLength(text.slice(0, text.lastIndexOf('"strings":[') + '"strings":['.length));
    const next = prng(13);
    const offsets = Array.from({ length: 500 }, () => start + Math.floor(next() * (bytes.length - start)));
    const got = await describeOffsets('v8-heap-snapshot', memoryReader(bytes), bytes.length, offsets);
    for (const o of offsets) {
      const region = got.get(o)?.region;
      if (region === 'strings' || region === undefined) {
        expect([0x2c, 0x0a, 0x5d, 0x7d], `offset ${o}`).toContain(bytes[o]); // separators only
        continue;
      }
      const index = Number(/^strings\[(\d+)\]$/.exec(region)![1]);
      // Walk out to the enclosing literal: quotes not preceded by an odd run of backslashes.
      const isQuote = (i: number) => {
        if (bytes[i] !== 0x22) return false;
        let k = i - 1;
        while (bytes[k] === 0x5c) k--;
        return (i - 1 - k) % 2 === 0;
      };
      const quoteBefore = (i: number) => {
        let q = i - 1;
        while (!isQuote(q)) q--;
        return q;
      };
      // V8 separates elements with ',\n' (a raw newline is never inside a JSON string).
      let open = quoteBefore(o);
      if (isQuote(o) && [',\n', ':['].includes(bytes.subarray(open + 1, o).toString('latin1'))) open = o;
      let close = open + 1;
      while (!isQuote(close)) close++;
      expect(o).toBeLessThanOrEqual(close);
      expect(strings[index], `offset ${o}`).toBe(JSON.parse(bytes.subarray(open, close + 1).toString('utf8')));
    }
  });

  test('truncated copies (10 cuts): no throw, and every described offset matches the full file', async () => {
    const next = prng(21);
    const offsets = Array.from({ length: 2000 }, () => Math.floor(next() * bytes.length));
    const full = await describeOffsets('v8-heap-snapshot', memoryReader(bytes), bytes.length, offsets);
    for (const cut of cutPoints(bytes.length, 10, 4)) {
      const got = await describeOffsets('v8-heap-snapshot', memoryReader(bytes, cut), cut, offsets);
      const wrong = [...got].filter(([o, d]) => o >= cut || full.get(o)?.region !== d.region);
      expect(wrong, `cut at ${cut}`).toEqual([]);
    }
  });
});
