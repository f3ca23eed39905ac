// Zstandard through fzstd (pure JS). The frame and block headers are walked here, ahead of the
// decoder: each frame's window is checked before any memory is given to it, the decoder is fed
// one whole block at a time (so one push yields at most one block, <= 128 KiB, and output is
// handed on block by block), and a failure is placed at the block where it happened.
import { Decompress } from 'fzstd';
import type { ByteReader } from './byte-reader.js';
import { nextFrame, u32le } from './frames.js';
import { DecodeError, MAX_ZSTD_WINDOW_IN_BYTES } from './limits.js';

const ZSTD_MAGIC = 0xfd2fb528;
const BLOCK_MAX_IN_BYTES = 128 * 1024;

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * fzstd 0.1.1 keeps an empty view of every whole block it was given in its list of pending input
 * (`c`, with `l` = 0 bytes pending), and only clears that list when bytes are pending: each view
 * holds its block's buffer, so a long stream kept all of its compressed input (RSS grew by the
 * compressed size: 318 MB for a 1 GiB core). With nothing pending the list holds nothing needed.
 */
function releaseConsumedInput(decoder: Decompress): void {
  const state = decoder as unknown as { c?: unknown; l?: unknown };
  if (state.l === 0 && Array.isArray(state.c) && state.c.length > 0) state.c = [];
}

export async function* unzstd(input: ByteReader): AsyncGenerator<Uint8Array> {
  const start = input.position;
  const fail = (message: string, at = input.position): never => {
    throw new DecodeError('zstd', `zstd data ${message}`, at);
  };
  const truncated = (what: string): never => fail(`truncated: the stream ends inside ${what} at compressed offset ${input.position - start}`);
  let produced: Uint8Array[] = [];
  const decoder = new Decompress((data) => {
    if (data.length > 0) produced.push(data);
  });
  const push = (bytes: Uint8Array, final: boolean, unitStart: number) => {
    try {
      decoder.push(bytes, final);
    } catch (error) {
      fail(`corrupt: ${(error as Error).message} (in the block at compressed offset ${unitStart - start})`, unitStart);
    }
    releaseConsumedInput(decoder);
  };
  let frames = 0;
  for (;;) {
    const next = await nextFrame(input, () => frames, () => frames++, truncated);
    if (!next) break;
    const magicAt = next.at;
    if (next.magic !== ZSTD_MAGIC) {
      fail(frames === 0 ? 'is not a zstd frame' : `corrupt: ${frames} frame(s) decoded, then bytes that are not a zstd frame at compressed offset ${magicAt - start}`, magicAt);
    }
    // Frame header: descriptor, window descriptor, dictionary id, content size.
    if ((await input.fill(6)) < 6) truncated('a frame header');
    const descriptor = input.peek(6)[4];
    const singleSegment = (descriptor >> 5) & 1;
    const fcsFlag = descriptor >> 6;
    const dictIdBytes = [0, 1, 2, 4][descriptor & 3];
    const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
    const headerLength = 5 + (singleSegment ? 0 : 1) + dictIdBytes + fcsBytes;
    const header = await input.read(headerLength);
    if (header.length < headerLength) truncated('a frame header');
    if (descriptor & 0x08) fail(`corrupt: reserved bit set in the frame header at compressed offset ${magicAt - start}`, magicAt);
    let dictId = 0;
    for (let i = 0; i < dictIdBytes; i++) dictId += header[5 + (singleSegment ? 0 : 1) + i] * 2 ** (8 * i);
    if (dictId !== 0) fail(`needs dictionary ${dictId}, which is not available (frame at compressed offset ${magicAt - start})`, magicAt);
    let window: number;
    if (singleSegment) {
      let fcs = 0;
      for (let i = 0; i < fcsBytes; i++) fcs += header[5 + dictIdBytes + i] * 2 ** (8 * i);
      window = fcsBytes === 2 ? fcs + 256 : fcs;
    } else {
      const wd = header[5];
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    if (window > MAX_ZSTD_WINDOW_IN_BYTES) {
      fail(`frame at compressed offset ${magicAt - start} needs a ${window}-byte window, over the ${MAX_ZSTD_WINDOW_IN_BYTES}-byte limit`, magicAt);
    }
    const hasChecksum = (descriptor >> 2) & 1;
    const blockMax = Math.min(Math.max(window, 1), BLOCK_MAX_IN_BYTES);
    let pending: Uint8Array[] = [header];
    let unitStart = magicAt;
    for (;;) {
      const blockHeader = await input.read(3);
      if (blockHeader.length < 3) truncated('a block header');
      const value = blockHeader[0] | (blockHeader[1] << 8) | (blockHeader[2] << 16);
      const last = value & 1;
      const type = (value >> 1) & 3;
      const size = value >>> 3;
      if (type === 3) fail(`corrupt: reserved block type at compressed offset ${input.position - 3 - start}`, input.position - 3);
      if (size > blockMax) fail(`corrupt: a ${size}-byte block over the ${blockMax}-byte maximum at compressed offset ${input.position - 3 - start}`, input.position - 3);
      const contentLength = type === 1 ? 1 : size;
      const content = await input.read(contentLength);
      if (content.length < contentLength) truncated('a block');
      pending.push(blockHeader, content);
      push(concat(pending), false, unitStart);
      pending = [];
      unitStart = input.position;
      if (produced.length > 0) {
        const out = produced;
        produced = [];
        yield* out;
      }
      if (last) {
        if (hasChecksum) {
          // Skipped by the decoder (not verified).
          const checksum = await input.read(4);
          if (checksum.length < 4) truncated('a frame checksum');
          push(checksum, false, unitStart);
        }
        break;
      }
    }
    frames++;
  }
  push(new Uint8Array(0), true, input.position);
  if (produced.length > 0) yield* produced;
}
