// The LZ4 frame format (what the `lz4` tool writes), decoded here: frames, skippable frames,
// independent and linked blocks (64 KiB history), optional checksums (read, not verified).
// One block (at most 4 MiB) is decoded and handed on at a time. The legacy format (`lz4 -l`)
// is not supported.
import type { ByteReader } from './byte-reader.js';
import { nextFrame, u32le } from './frames.js';
import { DecodeError } from './limits.js';

const LZ4_MAGIC = 0x184d2204;
const HISTORY_IN_BYTES = 64 * 1024;
const BLOCK_SIZES: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };

/**
 * Decodes one LZ4 block from `src` into `dst` starting at `dstStart`; bytes before dstStart are
 * the history a match may reach back into. Returns the end of the output in dst. Throws on any
 * malformed sequence (never reads or writes out of bounds).
 */
export function decodeLz4Block(src: Uint8Array, dst: Uint8Array, dstStart: number): number {
  let ip = 0;
  let op = dstStart;
  const end = src.length;
  for (;;) {
    if (ip >= end) throw new Error('block ends without a last literal run');
    const token = src[ip++];
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (ip >= end) throw new Error('literal length runs past the block');
        b = src[ip++];
        literals += b;
      } while (b === 255);
    }
    if (ip + literals > end) throw new Error('literals run past the block');
    if (op + literals > dst.length) throw new Error('output exceeds the block maximum');
    dst.set(src.subarray(ip, ip + literals), op);
    ip += literals;
    op += literals;
    if (ip === end) return op; // the last sequence has literals only
    if (ip + 2 > end) throw new Error('match offset runs past the block');
    const distance = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (distance === 0 || distance > op) throw new Error('match offset points before the data');
    let length = token & 15;
    if (length === 15) {
      let b: number;
      do {
        if (ip >= end) throw new Error('match length runs past the block');
        b = src[ip++];
        length += b;
      } while (b === 255);
    }
    length += 4;
    if (op + length > dst.length) throw new Error('output exceeds the block maximum');
    let from = op - distance;
    if (distance >= length) {
      dst.copyWithin(op, from, from + length);
      op += length;
    } else {
      for (let i = 0; i < length; i++) dst[op++] = dst[from++];
    }
  }
}

export async function* unlz4(input: ByteReader): AsyncGenerator<Uint8Array> {
  const start = input.position;
  const fail = (message: string, at = input.position): never => {
    throw new DecodeError('lz4', `lz4 data ${message}`, at);
  };
  const truncated = (what: string): never => fail(`truncated: the stream ends inside ${what} at compressed offset ${input.position - start}`);
  let frames = 0;
  for (;;) {
    const next = await nextFrame(input, () => frames, () => frames++, truncated);
    if (!next) return;
    const frameAt = next.at;
    if (next.magic !== LZ4_MAGIC) {
      fail(frames === 0 ? 'is not an LZ4 frame' : `corrupt: ${frames} frame(s) decoded, then bytes that are not an LZ4 frame at compressed offset ${frameAt - start}`, frameAt);
    }
    const descriptor = await input.read(6);
    if (descriptor.length < 6) truncated('a frame header');
    const flg = descriptor[4];
    const bd = descriptor[5];
    if (flg >> 6 !== 1 || (flg & 0x02) || (bd & 0x8f)) fail(`corrupt: unsupported frame descriptor at compressed offset ${frameAt - start}`, frameAt);
    const independent = (flg >> 5) & 1;
    const blockChecksum = (flg >> 4) & 1;
    const contentSize = (flg >> 3) & 1;
    const contentChecksum = (flg >> 2) & 1;
    const dictId = flg & 1;
    const blockMax = BLOCK_SIZES[(bd >> 4) & 7];
    if (!blockMax) fail(`corrupt: unknown block size code at compressed offset ${frameAt - start}`, frameAt);
    const rest = (contentSize ? 8 : 0) + (dictId ? 4 : 0) + 1; // + header checksum
    const tail = await input.read(rest);
    if (tail.length < rest) truncated('a frame header');
    if (dictId) fail(`needs a dictionary (frame at compressed offset ${frameAt - start}), which is not available`, frameAt);
    // Linked blocks may reach 64 KiB back into the previous block's output.
    const buffer = new Uint8Array((independent ? 0 : HISTORY_IN_BYTES) + blockMax);
    let history = 0;
    for (;;) {
      const sizeBytes = await input.read(4);
      if (sizeBytes.length < 4) truncated('a block header');
      const word = u32le(sizeBytes, 0);
      if (word === 0) break; // EndMark
      const blockAt = input.position - 4;
      const stored = word >>> 31 === 1;
      const size = word & 0x7fffffff;
      if (size > blockMax) fail(`corrupt: a ${size}-byte block over the ${blockMax}-byte maximum at compressed offset ${blockAt - start}`, blockAt);
      const data = await input.read(size);
      if (data.length < size) truncated('a block');
      if (blockChecksum && (await input.skip(4)) < 4) truncated('a block checksum');
      let end: number;
      if (stored) {
        buffer.set(data, history);
        end = history + size;
      } else {
        try {
          end = decodeLz4Block(data, buffer, history);
        } catch (error) {
          fail(`corrupt: ${(error as Error).message} (in the block at compressed offset ${blockAt - start})`, blockAt);
        }
      }
      const out = buffer.slice(history, end!);
      if (!independent) {
        const keep = Math.min(end!, HISTORY_IN_BYTES);
        buffer.copyWithin(0, end! - keep, end!);
        history = keep;
      }
      if (out.length > 0) yield out;
    }
    if (contentChecksum && (await input.skip(4)) < 4) truncated('the content checksum');
    frames++;
  }
}
