// What zstd and LZ4 frame streams share: little-endian words, and skippable frames
// (magic 0x184D2A50..5F, a 4-byte size, user data) that carry nothing to decode.
import type { ByteReader } from './byte-reader.js';

export function u32le(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/**
 * Moves past skippable frames to the next frame's magic (left unread). Returns its position and
 * magic, or undefined at the end of the input once `framesSoFar` > 0 (an empty input is
 * truncated). `counted` is called for each skippable frame, so callers number frames alike.
 */
export async function nextFrame(input: ByteReader, framesSoFar: () => number, counted: () => void, truncated: (what: string) => never): Promise<{ at: number; magic: number } | undefined> {
  for (;;) {
    const have = await input.fill(4);
    if (have === 0 && framesSoFar() > 0) return undefined;
    if (have < 4) truncated('a frame header');
    const at = input.position;
    const magic = u32le(input.peek(4), 0);
    if (magic >>> 4 !== 0x184d2a5) return { at, magic };
    const header = await input.read(8);
    if (header.length < 8) truncated('a skippable frame');
    const size = u32le(header, 4);
    if ((await input.skip(size)) < size) truncated('a skippable frame');
    counted();
  }
}
