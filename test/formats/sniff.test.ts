// Format sniffing by content: a table of heads, real files where they exist.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { readLayout } from '../../src/formats/index.js';
import type { DumpFormat } from '../../src/formats/layout.js';
import { SNIFF_BYTES, sniffFormat } from '../../src/formats/sniff.js';
import { memoryReader, prng } from './helpers.js';

const ascii = (text: string) => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]) => Buffer.concat(parts);

/** An ELF header prefix: class (1/2), data (1 LE / 2 BE), e_type. */
function elfHead(elfClass: number, data: number, type: number): Uint8Array {
  const head = new Uint8Array(64);
  head.set([0x7f, 0x45, 0x4c, 0x46, elfClass, data, 1]);
  if (data === 1) head.set([type & 0xff, type >> 8], 16);
  else head.set([type >> 8, type & 0xff], 16);
  return head;
}

const random = prng(42);
const randomBytes = Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256));
const root = fileURLToPath(new URL('../../', import.meta.url));
const shared = fileURLToPath(new URL('../../../shared/samples/minidump/', import.meta.url));

const table: Array<[string, Uint8Array, DumpFormat]> = [
  ['empty', new Uint8Array(0), 'raw'],
  ['random bytes', randomBytes, 'raw'],
  ['zeros', new Uint8Array(4096), 'raw'],
  ['ELF64 LE core', elfHead(2, 1, 4), 'elf-core'],
  ['ELF32 LE core', elfHead(1, 1, 4), 'elf-core'],
  ['ELF64 BE core', elfHead(2, 2, 4), 'elf-core'],
  ['ELF32 BE core', elfHead(1, 2, 4), 'elf-core'],
  ['ELF64 LE executable (ET_EXEC)', elfHead(2, 1, 2), 'raw'],
  ['ELF64 LE shared object / PIE (ET_DYN)', elfHead(2, 1, 3), 'raw'],
  ['ELF64 LE relocatable (ET_REL)', elfHead(2, 1, 1), 'raw'],
  ['ELF BE core type read as LE (0x0400)', elfHead(2, 1, 0x0400), 'raw'],
  ['ELF with bad class', (() => { const h = elfHead(2, 1, 4); h[4] = 3; return h; })(), 'raw'],
  ['ELF core header cut at 17 bytes', elfHead(2, 1, 4).subarray(0, 17), 'raw'],
  ['minidump', concat(ascii('MDMP'), new Uint8Array([0x93, 0xa7, 0, 0])), 'minidump'],
  ['minidump magic only', ascii('MDMP'), 'minidump'],
  ['lowercase mdmp', ascii('mdmp\x93\xa7'), 'raw'],
  ['Windows kernel dump, 64-bit', ascii('PAGEDU64' + '\0'.repeat(100)), 'windows-kernel-dump'],
  ['Windows kernel dump, 32-bit', ascii('PAGEDUMP' + '\0'.repeat(100)), 'windows-kernel-dump'],
  ['PAGE alone', ascii('PAGE1234'), 'raw'],
  ['hprof 1.0.2', concat(ascii('JAVA PROFILE 1.0.2\0'), new Uint8Array([0, 0, 0, 8])), 'hprof'],
  ['hprof 1.0.1', ascii('JAVA PROFILE 1.0.1\0'), 'hprof'],
  ['hprof 1.0.3', ascii('JAVA PROFILE 1.0.3\0'), 'hprof'],
  ['JAVA PROFILE 2', ascii('JAVA PROFILE 2.0\0'), 'raw'],
  ['V8 heap snapshot', ascii('{"snapshot":{"meta":{"node_fields":["type","name","id"]}},"nodes":[]}'), 'v8-heap-snapshot'],
  ['V8 heap snapshot after whitespace', ascii('\n  \t{"snapshot":{"meta":{}}}'), 'v8-heap-snapshot'],
  ['V8 heap snapshot, pretty-printed', ascii('{\n  "snapshot" : {\n    "meta": {}'), 'v8-heap-snapshot'],
  ['V8 heap snapshot with a UTF-8 BOM', concat(new Uint8Array([0xef, 0xbb, 0xbf]), ascii('{"snapshot":{}}')), 'v8-heap-snapshot'],
  ['other JSON', ascii('{"nodes":[],"snapshot":{}}'), 'raw'],
  ['JSON string "snapshot"', ascii('"snapshot"'), 'raw'],
  ['PEM text', ascii('-----BEGIN PRIVATE KEY-----\nMIIE'), 'raw'],
];

describe('sniffFormat', () => {
  test.each(table)('%s', (_name, head, format) => {
    expect(sniffFormat(head)).toBe(format);
  });

  test('an ELF executable from the system (/bin/ls) is raw, not a core', () => {
    const ls = readFileSync('/bin/ls');
    expect(ls.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(sniffFormat(ls.subarray(0, SNIFF_BYTES))).toBe('raw');
  });

  test('real files: the committed gcore sample is an ELF core', () => {
    const core = readFileSync(root + 'samples/core-holdkey-pem.core').subarray(0, SNIFF_BYTES);
    expect(sniffFormat(core)).toBe('elf-core');
  });

  test.skipIf(!existsSync(shared))('real files: both shared minidumps are minidumps', () => {
    for (const name of ['win-xp-x86-test.dmp', 'win10-x64-invalid-parameter.dmp']) {
      expect(sniffFormat(readFileSync(shared + name).subarray(0, SNIFF_BYTES))).toBe('minidump');
    }
  });

  test('readLayout: formats without a parser here are named, with no regions; tiny files are raw', async () => {
    for (const [, head, format] of table) {
      const layout = await readLayout(memoryReader(head), head.length);
      expect(layout.format).toBe(format);
      if (format !== 'elf-core' && format !== 'minidump') {
        expect(layout.regions).toEqual([]);
        expect(layout.warnings).toEqual([]);
      }
    }
  });
});
