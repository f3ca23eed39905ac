// locate() over hand-made layouts: boundaries, gaps, region strings, and speed.
import { describe, expect, test } from 'vitest';
import { describeLayout, fileReader, layoutOfFile } from '../../src/formats/index.js';
import { addressRange, baseName, hex, locate, nonOverlapping, type DumpLayout, type MemoryRegion } from '../../src/formats/layout.js';

function elfRegion(fileOffset: number, fileSize: number, address: bigint, perms: string, file?: string): MemoryRegion {
  return {
    fileOffset,
    fileSize,
    address,
    memorySize: BigInt(fileSize),
    name: `${file ? baseName(file) : 'anon'} ${perms}`,
    perms,
    ...(file ? { mappedFile: file } : {}),
    fileBacked: file !== undefined,
    readOnly: !perms.includes('w'),
  };
}

describe('locate', () => {
  const elf: DumpLayout = {
    format: 'elf-core',
    regions: [
      elfRegion(0x1000, 0x1000, 0x7f3a1c2e4000n, 'rw-p'),
      elfRegion(0x3000, 0x2000, 0x7f3a20000000n, 'r--p', '/usr/lib/x86_64-linux-gnu/libcrypto.so.3'),
    ],
    facts: {},
    warnings: [],
  };

  test('ELF: address of the byte, region with range, perms and mapping name', () => {
    expect(locate(elf, 0x1010)).toEqual({ address: '0x7f3a1c2e4010', region: '[0x7f3a1c2e4000-0x7f3a1c2e5000) rw-p anon', readOnly: false, fileBacked: false });
    expect(locate(elf, 0x3000 + 0x1fff)).toEqual({
      address: '0x7f3a20001fff',
      region: '[0x7f3a20000000-0x7f3a20002000) r--p libcrypto.so.3',
      readOnly: true,
      fileBacked: true,
    });
  });

  test('boundaries: before, between and after regions there is no address', () => {
    expect(locate(elf, 0)).toBeUndefined();
    expect(locate(elf, 0xfff)).toBeUndefined();
    expect(locate(elf, 0x1000)!.address).toBe('0x7f3a1c2e4000');
    expect(locate(elf, 0x1fff)!.address).toBe('0x7f3a1c2e4fff');
    expect(locate(elf, 0x2000)).toBeUndefined();
    expect(locate(elf, 0x2fff)).toBeUndefined();
    expect(locate(elf, 0x5000)).toBeUndefined();
    expect(locate(elf, -1)).toBeUndefined();
    expect(locate(elf, Number.NaN)).toBeUndefined();
  });

  test('a region larger in memory than in the file shows its whole memory range', () => {
    const layout: DumpLayout = { ...elf, regions: [{ ...elf.regions[0], memorySize: 0x4000n }] };
    expect(locate(layout, 0x1000)!.region).toBe('[0x7f3a1c2e4000-0x7f3a1c2e8000) rw-p anon');
    expect(locate(layout, 0x2000)).toBeUndefined(); // the memory beyond fileSize is not in the file
  });

  test('minidump: module image, then thread stack, then plain memory', () => {
    const md: DumpLayout = {
      format: 'minidump',
      regions: [
        { fileOffset: 100, fileSize: 0x200, address: 0x400000n, memorySize: 0x200n, name: 'module app.exe', fileBacked: true, readOnly: true },
        { fileOffset: 0x300, fileSize: 0x100, address: 0x12f000n, memorySize: 0x100n, name: 'thread 7 stack', fileBacked: false, readOnly: false },
        { fileOffset: 0x400, fileSize: 0x100, address: 0x900000n, memorySize: 0x100n, name: 'memory', fileBacked: false, readOnly: false },
      ],
      facts: {},
      warnings: [],
      modules: [{ name: 'C:\\app\\app.exe', base: 0x400000n, size: 0x100n }],
      threads: [{ id: 7, stackStart: 0x12f080n, stackSize: 0xf80n }],
    };
    expect(locate(md, 100 + 0xff)).toEqual({ address: '0x4000ff', region: 'module app.exe', readOnly: true, fileBacked: true });
    expect(locate(md, 100 + 0x100)).toEqual({ address: '0x400100', region: 'memory [0x400000-0x400200)', readOnly: false, fileBacked: false });
    expect(locate(md, 0x300 + 0x7f)!.region).toBe('memory [0x12f000-0x12f100)');
    expect(locate(md, 0x300 + 0x80)).toEqual({ address: '0x12f080', region: 'thread 7 stack', readOnly: false, fileBacked: false });
    expect(locate(md, 0x450)!.region).toBe('memory [0x900000-0x900100)');
  });

  test('unsorted regions still resolve (locate indexes a sorted copy)', () => {
    const layout: DumpLayout = { ...elf, regions: [elf.regions[1], elf.regions[0]] };
    expect(locate(layout, 0x1010)!.address).toBe('0x7f3a1c2e4010');
    expect(locate(layout, 0x3010)!.address).toBe('0x7f3a20000010');
  });

  test('fast: a million lookups over 100k regions well under a second', () => {
    const regions: MemoryRegion[] = [];
    for (let i = 0; i < 100_000; i++) regions.push(elfRegion(i * 0x2000, 0x1000, 0x10000000n + BigInt(i) * 0x10000n, 'rw-p'));
    const layout: DumpLayout = { format: 'elf-core', regions, facts: {}, warnings: [] };
    locate(layout, 0);
    const started = performance.now();
    let found = 0;
    for (let i = 0; i < 1_000_000; i++) if (locate(layout, (i * 7919) % (100_000 * 0x2000))) found++;
    const elapsed = performance.now() - started;
    expect(found).toBeGreaterThan(400_000);
    expect(elapsed).toBeLessThan(3000);
    expect(locate(layout, 99_999 * 0x2000 + 5)!.address).toBe(hex(0x10000000n + 99_999n * 0x10000n + 5n));
  });
});

describe('helpers', () => {
  test('hex, addressRange, baseName', () => {
    expect(hex(0x7f3a1c2e4010n)).toBe('0x7f3a1c2e4010');
    expect(hex(0)).toBe('0x0');
    expect(addressRange(0x1000n, 0x10n)).toBe('[0x1000-0x1010)');
    expect(baseName('/usr/lib/libssl.so.3')).toBe('libssl.so.3');
    expect(baseName('C:\\Windows\\System32\\ntdll.dll')).toBe('ntdll.dll');
    expect(baseName('plain')).toBe('plain');
    expect(baseName('/dir/')).toBe('/dir/');
  });

  test('nonOverlapping trims later regions and warns', () => {
    const warnings: string[] = [];
    const out = nonOverlapping([elfRegion(100, 100, 0x5000n, 'rw-p'), elfRegion(0, 150, 0x1000n, 'rw-p'), elfRegion(120, 10, 0x9000n, 'rw-p')], warnings);
    expect(out.map((r) => [r.fileOffset, r.fileSize, r.address])).toEqual([
      [0, 150, 0x1000n],
      [150, 50, 0x5032n],
    ]);
    expect(warnings).toHaveLength(1);
  });

  test('describeLayout of an empty raw layout is one line', () => {
    expect(describeLayout({ format: 'raw', regions: [], facts: {}, warnings: [] })).toEqual(['format: raw']);
  });

  test('fileReader returns short reads at end of file; layoutOfFile of a non-dump is raw', async () => {
    const { open } = await import('node:fs/promises');
    const handle = await open('/bin/ls', 'r');
    try {
      const { size } = await handle.stat();
      const read = fileReader(handle);
      expect((await read(size - 10, 100)).length).toBe(10);
      expect((await read(0, 4))[1]).toBe(0x45);
    } finally {
      await handle.close();
    }
    expect((await layoutOfFile('/bin/ls')).format).toBe('raw');
  });
});
