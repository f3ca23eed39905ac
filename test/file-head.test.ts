import { appendFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { FILE_HEAD_BYTES, fileHead } from '../src/input/file-head.js';
import { tempTree } from './helpers/temp-tree.js';

const tree = tempTree('dumpguard-file-head-');

/** A FileHandle that counts its reads (and can fail them), over a real file. */
async function counted(path: string, fail = false) {
  const handle = await open(path, 'r');
  let reads = 0;
  const wrapped = {
    read(buffer: Uint8Array, offset: number, length: number, position: number) {
      reads++;
      if (fail) return Promise.reject(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
      return handle.read(buffer, offset, length, position);
    },
  } as unknown as Parameters<typeof fileHead>[0];
  return { handle, wrapped, reads: () => reads };
}

describe('fileHead: one read for sniffing, layout and a small file’s content', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('serves the head and the whole small file from one read, then hands the buffer over', async () => {
    const dir = tree.root;
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff));
    writeFileSync(`${dir}/small.bin`, bytes);
    const { handle, wrapped, reads } = await counted(`${dir}/small.bin`);
    cleanups.push(() => handle.close());
    const head = fileHead(wrapped, bytes.length);
    expect(Buffer.from(await head.read(0, 512))).toEqual(bytes.subarray(0, 512));
    expect(Buffer.from(await head.read(4096, 900))).toEqual(bytes.subarray(4096, 4996));
    const whole = await head.takeWhole();
    expect(whole?.length).toBe(5000);
    expect(Buffer.from(whole!.buffer, 0, whole!.length)).toEqual(bytes);
    expect(reads()).toBe(1); // one read of up to 5001 bytes: short at the size at open, so the whole file
    // Handed over: later reads go to the file, and the content is not handed out twice.
    expect(await head.takeWhole()).toBeUndefined();
    expect(Buffer.from(await head.read(10, 10))).toEqual(bytes.subarray(10, 20));
    expect(reads()).toBeGreaterThan(1);
  });

  it('a file that grew since it was opened, or one larger than the head, is not handed over whole', async () => {
    const dir = tree.root;
    writeFileSync(`${dir}/growing.bin`, Buffer.alloc(100, 1));
    const { handle, wrapped } = await counted(`${dir}/growing.bin`);
    cleanups.push(() => handle.close());
    const head = fileHead(wrapped, 100);
    appendFileSync(`${dir}/growing.bin`, Buffer.alloc(50, 2));
    expect(await head.takeWhole()).toBeUndefined();

    const big = Buffer.alloc(FILE_HEAD_BYTES + 1, 3);
    writeFileSync(`${dir}/big.bin`, big);
    const other = await counted(`${dir}/big.bin`);
    cleanups.push(() => other.handle.close());
    const bigHead = fileHead(other.wrapped, big.length);
    expect(await bigHead.takeWhole()).toBeUndefined();
    expect(Buffer.from(await bigHead.read(FILE_HEAD_BYTES - 2, 3))).toEqual(Buffer.alloc(3, 3)); // past the head: read directly
  });

  it('a read error is the read’s own, not swallowed: reads reject, takeWhole leaves it to the chunker', async () => {
    const dir = tree.root;
    writeFileSync(`${dir}/eio.bin`, Buffer.alloc(100));
    const { handle, wrapped } = await counted(`${dir}/eio.bin`, true);
    cleanups.push(() => handle.close());
    const head = fileHead(wrapped, 100);
    await expect(head.read(0, 10)).rejects.toThrow(/EIO/);
    expect(await head.takeWhole()).toBeUndefined();
  });
});
