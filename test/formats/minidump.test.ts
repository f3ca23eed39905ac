// Minidump layouts: two real third-party dumps (read from ../shared, never copied into the
// project) against known values from independent sources, and minidumps built here byte by
// byte with a marker in each kind of memory range.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { describeLayout, layoutOfFile, readLayout } from '../../src/formats/index.js';
import { locate, type DumpLayout } from '../../src/formats/layout.js';
import { parseMinidump } from '../../src/formats/minidump.js';
import { cutPoints, memoryReader, prng } from './helpers.js';
import { buildMinidump, MODULE_BASE, MODULE_SIZE, STACK_START } from './minidump-builder.js';

const sharedDir = fileURLToPath(new URL('../../../shared/samples/minidump/', import.meta.url));
const haveShared = existsSync(sharedDir);
if (!haveShared) console.warn(`${sharedDir} not found: the real-minidump parse tests are skipped (see SOURCES.md there)`);

describe.skipIf(!haveShared)('real minidumps from rust-minidump (../shared/samples/minidump)', () => {
  // win-xp-x86-test.dmp is rust-minidump's testdata/test.dmp, byte-identical in header and
  // stream directory to Breakpad's src/processor/testdata/minidump2.dmp. Known values from:
  //  [R] rust-minidump minidump/tests/test_minidump.rs (test_module_list, test_system_info,
  //      test_misc_info, test_thread_list)
  //  [B] Breakpad src/processor/testdata/minidump2.dump.out (minidump_dump of the same dump)
  describe('win-xp-x86-test.dmp', () => {
    const file = sharedDir + 'win-xp-x86-test.dmp';
    let layout: DumpLayout;
    beforeAll(async () => {
      layout = await layoutOfFile(file);
    });

    test('header, directory and system facts', () => {
      expect(layout.format).toBe('minidump');
      expect(layout.warnings).toEqual([]);
      expect(layout.declaredSize).toBe(11317); // = last memory range end 0x231d + 0x918 [B]; the file is 11317 bytes
      expect(layout.facts).toMatchObject({
        streams: 9, // stream_count = 9 [B]
        streamsUsed: 7, // 2 of the 9 are MD_UNUSED_STREAM [B]
        os: 'Windows NT 5.1.2600', // platform_id 2, major 5, minor 1, build 2600 [B]
        osDetail: 'Service Pack 2', // csd_version [R][B]
        cpu: 'x86', // Cpu::X86 [R], processor_architecture 0 [B]
        cpus: 1, // number_of_processors [B]
        pid: 3932, // misc_info process_id [R][B]
        threads: 2, // [R]
        modules: 13, // [R]
        memoryRanges: 3, // region_count = 3 [B]
        dumpTime: '2007-02-14T19:13:55.000Z', // time_date_stamp 0x45d35f73 [B]
      });
    });

    test('modules: names, bases and sizes', () => {
      const modules = layout.modules!;
      expect(modules.map((m) => m.name)).toEqual([
        // module_files, in stream order [R]
        'c:\\test_app.exe',
        'C:\\WINDOWS\\system32\\ntdll.dll',
        'C:\\WINDOWS\\system32\\kernel32.dll',
        'C:\\WINDOWS\\system32\\ole32.dll',
        'C:\\WINDOWS\\system32\\advapi32.dll',
        'C:\\WINDOWS\\system32\\rpcrt4.dll',
        'C:\\WINDOWS\\system32\\gdi32.dll',
        'C:\\WINDOWS\\system32\\user32.dll',
        'C:\\WINDOWS\\system32\\msvcrt.dll',
        'C:\\WINDOWS\\system32\\imm32.dll',
        'C:\\WINDOWS\\system32\\dbghelp.dll',
        'C:\\WINDOWS\\system32\\version.dll',
        'C:\\WINDOWS\\system32\\psapi.dll',
      ]);
      expect(modules[0]).toEqual({ name: 'c:\\test_app.exe', base: 0x400000n, size: 0x2d000n }); // [R]
      expect(modules[1]).toMatchObject({ base: 0x7c900000n, size: 0xb0000n }); // ntdll [B]
      expect(modules[12]).toEqual({ name: 'C:\\WINDOWS\\system32\\psapi.dll', base: 0x76bf0000n, size: 0xb000n }); // [R]
    });

    test('threads and memory ranges', () => {
      // thread_id 0xbf4 and 0x11c0 [R]; stack start and size [B] (and [R]: stack memory spans 0x12f31c..0x12ffff)
      expect(layout.threads).toEqual([
        { id: 0xbf4, stackStart: 0x12f31cn, stackSize: 0xce4n },
        { id: 0x11c0, stackStart: 0x97f6e8n, stackSize: 0x918n },
      ]);
      // MinidumpMemoryList region[0..2]: start_of_memory_range, data_size, rva [B]
      expect(layout.regions.map((r) => [r.address, r.memorySize, r.fileOffset, r.fileSize, r.name])).toEqual([
        [0x7c90eb14n, 0x100n, 0x1539, 0x100, 'module ntdll.dll'],
        [0x12f31cn, 0xce4n, 0x1639, 0xce4, 'thread 3060 stack'],
        [0x97f6e8n, 0x918n, 0x231d, 0x918, 'thread 4544 stack'],
      ]);
    });

    test('locate: module code, both thread stacks, and bytes outside memory', () => {
      expect(locate(layout, 0x1539 + 0x10)).toEqual({ address: '0x7c90eb24', region: 'module ntdll.dll', readOnly: true, fileBacked: true });
      expect(locate(layout, 0x1639)).toEqual({ address: '0x12f31c', region: 'thread 3060 stack', readOnly: false, fileBacked: false });
      // [R]: the last stack byte of thread 0xbf4 is 0x12ffff
      expect(locate(layout, 0x1639 + 0xce3)!.address).toBe('0x12ffff');
      expect(locate(layout, 0x231d + 0x917)).toEqual({ address: '0x97ffff', region: 'thread 4544 stack', readOnly: false, fileBacked: false });
      expect(locate(layout, 0)).toBeUndefined(); // header
      expect(locate(layout, 0x1e8 + 10)).toBeUndefined(); // module list stream
      expect(locate(layout, 11317)).toBeUndefined(); // end of file
    });

    test('describeLayout lists the modules and threads', () => {
      const lines = describeLayout(layout);
      expect(lines[0]).toBe('format: minidump');
      expect(lines).toContain('os: Windows NT 5.1.2600');
      expect(lines).toContain('modules: 13');
      expect(lines).toContain('module list (13):');
      expect(lines).toContain('thread list (2):');
      expect(lines).toContain('region table (3 regions, 5884 bytes of memory in the file):');
      expect(lines.some((l) => l.includes('[0x400000-0x42d000)') && l.includes('c:\\test_app.exe'))).toBe(true);
      expect(lines.some((l) => l.includes('3060') && l.includes('stack [0x12f31c-0x130000)'))).toBe(true);
    });
  });

  // win10-x64-invalid-parameter.dmp is rust-minidump's testdata/invalid-parameter.dmp. Known values from:
  //  [S] ../shared/samples/minidump/SOURCES.md: x86-64, Windows 10 build 17134
  //  [Q] an independent third-party summary of the same file (sha256 5edaec6b…): Windows x64,
  //      crash thread 5896, 6 threads, 31 modules
  //  [P] Python struct parsing of the file while writing these tests (directory, ThreadList,
  //      ModuleList, MemoryList, SystemInfo), cross-checked against [S] and [Q]
  describe('win10-x64-invalid-parameter.dmp', () => {
    const file = sharedDir + 'win10-x64-invalid-parameter.dmp';
    let layout: DumpLayout;
    beforeAll(async () => {
      layout = await layoutOfFile(file);
    });

    test('header, directory and system facts', () => {
      expect(layout.format).toBe('minidump');
      expect(layout.warnings).toEqual([]);
      expect(layout.declaredSize).toBe(44629); // last memory range 0xad55 + 0x100 [P] = the file's size [S]
      expect(layout.facts).toMatchObject({
        streams: 14, // [P]
        streamsUsed: 10, // [P]
        os: 'Windows NT 10.0.17134', // [S] build 17134, [P] 10.0, platform 2
        cpu: 'amd64', // [S] x86-64, [P] architecture 9
        threads: 6, // [Q][P]
        modules: 31, // [Q][P]
        memoryRanges: 10, // [P]
        executable: 'CrashTest.exe', // [P]
      });
    });

    test('modules, threads and memory ranges', () => {
      const modules = layout.modules!;
      expect(modules[0]).toEqual({ name: 'c:\\build\\CrashTest\\x64\\Debug\\CrashTest.exe', base: 0x7ff61bc80000n, size: 0x191000n }); // [P]
      expect(modules[1]).toEqual({ name: 'C:\\Windows\\System32\\ntdll.dll', base: 0x7ff806ab0000n, size: 0x1e1000n }); // [P]
      expect(modules[30].name).toBe('C:\\Windows\\System32\\ole32.dll'); // [P]
      expect(layout.threads![0]).toEqual({ id: 5896, stackStart: 0xfc218fe978n, stackSize: 0x1688n }); // id [Q], stack [P]
      expect(layout.threads!.map((t) => t.id)).toEqual([0x1708, 0x1350, 0x3720, 0x2de0, 0x2f0c, 0x3384]); // [P]
      const byOffset = (offset: number) => layout.regions.find((r) => r.fileOffset === offset)!;
      expect(byOffset(0x4a75)).toMatchObject({ address: 0x7ff61bcfa923n, memorySize: 0x100n, name: 'module CrashTest.exe' }); // [P]
      expect(byOffset(0x4b75)).toMatchObject({ address: 0xfc219fd448n, memorySize: 0x2bb8n, name: 'thread 4944 stack' }); // [P]
      expect(byOffset(0xad55)).toMatchObject({ address: 0x7ff806b4d7c4n, memorySize: 0x100n, name: 'module ntdll.dll' }); // [P]
      expect(layout.regions).toHaveLength(10);
      expect(locate(layout, 0x858d + 0x1687)).toEqual({ address: '0xfc218fffff', region: 'thread 5896 stack', readOnly: false, fileBacked: false });
    });
  });
});


function indexOf(haystack: Uint8Array, needle: Uint8Array): number[] {
  const hits: number[] = [];
  const buffer = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.length);
  for (let at = buffer.indexOf(needle); at >= 0; at = buffer.indexOf(needle, at + 1)) hits.push(at);
  return hits;
}

describe('minidumps built in the test', () => {
  for (const variant of [{}, { padLists: true }, { memory64: true }] as const) {
    const label = 'memory64' in variant ? 'Memory64ListStream' : 'padLists' in variant ? 'MemoryListStream, lists padded after the count' : 'MemoryListStream';
    test(`${label}: each marker's address and region (module / thread stack / memory)`, async () => {
      const built = buildMinidump(variant);
      const layout = await readLayout(memoryReader(built.bytes), built.bytes.length);
      expect(layout.format).toBe('minidump');
      expect(layout.warnings).toEqual([]);
      expect(layout.declaredSize).toBe(built.bytes.length);
      expect(layout.facts).toMatchObject({ streams: 6, streamsUsed: 5, os: 'Windows NT 10.0.19045', cpu: 'amd64', cpus: 8, pid: 777, threads: 1, modules: 1, memoryRanges: 3, executable: 'signer.dll' });
      expect(layout.modules).toEqual([{ name: 'C:\\Program Files\\Signer\\signer.dll', base: MODULE_BASE, size: MODULE_SIZE }]);
      expect(layout.threads).toEqual([{ id: 4242, stackStart: STACK_START, stackSize: 0x1000n }]);
      expect(layout.regions.map((r) => r.name)).toEqual(['module signer.dll', 'thread 4242 stack', 'memory']);
      for (const m of built.markers) {
        // The marker is where the builder put it, once.
        expect(indexOf(built.bytes, m.marker)).toEqual([m.offset]);
        expect(locate(layout, m.offset)).toEqual(m.expected);
      }
      // First and last byte of each range; one past the last range: nothing.
      for (const r of layout.regions) {
        expect(locate(layout, r.fileOffset)!.address).toBe('0x' + r.address.toString(16));
        expect(locate(layout, r.fileOffset + r.fileSize - 1)!.address).toBe('0x' + (r.address + BigInt(r.fileSize - 1)).toString(16));
      }
      expect(locate(layout, built.bytes.length)).toBeUndefined();
    });
  }

  test('a range straddling the end of a module image: the module inside it, plain memory after', async () => {
    const built = buildMinidump();
    const layout = await parseMinidump(memoryReader(built.bytes), built.bytes.length);
    // The same layout with the module shrunk so that it ends 0x100 bytes into the first range.
    const fresh: DumpLayout = { ...layout, modules: [{ ...layout.modules![0], size: 0x1100n }] };
    const first = fresh.regions[0];
    expect(locate(fresh, first.fileOffset + 0xff)!.region).toBe('module signer.dll');
    expect(locate(fresh, first.fileOffset + 0x100)).toEqual({
      address: '0x' + (first.address + 0x100n).toString(16),
      region: `memory [0x${first.address.toString(16)}-0x${(first.address + 0x400n).toString(16)})`,
      readOnly: false,
      fileBacked: false,
    });
  });
});

describe('truncated and damaged minidumps', () => {
  async function checkTruncated(bytes: Uint8Array, cut: number) {
    const full = await parseMinidump(memoryReader(bytes), bytes.length);
    const layout = await parseMinidump(memoryReader(bytes, cut), cut);
    expect(layout.warnings.some((w) => w.startsWith('truncated')), `cut at ${cut}: ${layout.warnings.join('; ')}`).toBe(true);
    for (const r of layout.regions) {
      expect(r.fileOffset + r.fileSize).toBeLessThanOrEqual(cut);
      const original = full.regions.find((o) => o.fileOffset === r.fileOffset)!;
      expect(original).toBeDefined();
      expect(r.address).toBe(original.address);
      expect(r.fileSize).toBe(Math.min(original.fileSize, cut - original.fileOffset));
    }
    // When the descriptors survive, every range that starts before the cut survives.
    return { full, layout };
  }

  const built64 = buildMinidump({ memory64: true });
  test.each(cutPoints(built64.bytes.length, 10, 0xd06))('built Memory64 dump cut at %i', async (cut) => {
    const { full, layout } = await checkTruncated(built64.bytes, cut);
    const descriptorsEnd = full.regions[0].fileOffset - 13; // the builder leaves 13 bytes between descriptors and data
    if (cut >= descriptorsEnd) expect(layout.regions.length).toBe(full.regions.filter((r) => r.fileOffset < cut).length);
  });

  const built = buildMinidump();
  test.each(cutPoints(built.bytes.length, 10, 0xd05))('built MemoryList dump cut at %i', async (cut) => {
    await checkTruncated(built.bytes, cut);
  });

  test.each([1, 4, 31, 32, 40, 103, 104])('built dump cut inside the header or directory at %i', async (cut) => {
    await checkTruncated(built.bytes, cut);
  });

  test.skipIf(!haveShared)('real dump (win-xp-x86-test.dmp) cut at 10 points', async () => {
    const bytes = new Uint8Array(readFileSync(sharedDir + 'win-xp-x86-test.dmp'));
    for (const cut of cutPoints(bytes.length, 10, 0x7e57)) {
      const { layout } = await checkTruncated(bytes, cut);
      // The memory list descriptors end at 0x1505 + 52; past them, ranges starting before the cut survive.
      if (cut >= 0x1505 + 52) expect(layout.regions.length).toBe([0x1539, 0x1639, 0x231d].filter((o) => o < cut).length);
    }
  });

  test('garbage after an MDMP header never throws', async () => {
    const random = prng(0x3d3d);
    for (let i = 0; i < 300; i++) {
      const junk = Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256));
      const dv = new DataView(junk.buffer);
      junk.set([0x4d, 0x44, 0x4d, 0x50]);
      if (i % 2 === 0) dv.setUint32(8, Math.floor(random() * 12), true); // few streams
      if (i % 3 === 0) dv.setUint32(12, 32, true); // a plausible directory
      if (i % 4 === 0) {
        // Every directory entry points at a plausible place, with a random type among the parsed ones.
        for (let k = 0; k < 12; k++) {
          dv.setUint32(32 + k * 12, [3, 4, 5, 7, 9, 15, 0x47670007][Math.floor(random() * 7)], true);
          dv.setUint32(32 + k * 12 + 4, Math.floor(random() * 600), true);
          dv.setUint32(32 + k * 12 + 8, 200 + Math.floor(random() * 3000), true);
        }
        dv.setUint32(8, 12, true);
        dv.setUint32(12, 32, true);
      }
      const layout = await parseMinidump(memoryReader(junk), junk.length);
      expect(layout.format).toBe('minidump');
      for (const r of layout.regions) expect(r.fileOffset + r.fileSize).toBeLessThanOrEqual(junk.length);
      for (let k = 1; k < layout.regions.length; k++) {
        expect(layout.regions[k].fileOffset).toBeGreaterThanOrEqual(layout.regions[k - 1].fileOffset + layout.regions[k - 1].fileSize);
      }
      describeLayout(layout);
      for (const r of layout.regions) locate(layout, r.fileOffset);
    }
  });

  test('huge declared counts are bounded and reported, not trusted', async () => {
    const b = buildMinidump();
    const bytes = b.bytes.slice();
    const dv = new DataView(bytes.buffer);
    // The ThreadList stream starts right after the directory (32 + 6 * 12).
    dv.setUint32(104, 0xffffffff, true);
    dv.setUint32(8, 0x7fffffff, true); // NumberOfStreams
    const layout = await parseMinidump(memoryReader(bytes), bytes.length);
    expect(layout.warnings.join('\n')).toMatch(/streams declared/);
    expect(layout.warnings.join('\n')).toMatch(/threads list declares 4294967295 entries/);
    expect(layout.threads!.length).toBeLessThanOrEqual(1);
  });
});
