// Text as memory holds it: plain ASCII, or UTF-16LE (Windows strings). Text detectors parse a
// narrow ASCII view and scale positions back, so one parser serves both encodings.
import { findAnchors, hitsBelow } from './anchors.js';

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * Narrows UTF-16LE text starting at `start` into ASCII, reading at most `maximumBytes` bytes
 * and stopping at the first code unit that is not 7-bit ASCII. Index i of the result is byte
 * start + 2·i of the input.
 */
export function narrowUtf16le(bytes: Uint8Array, start: number, maximumBytes: number): Buffer {
  const end = Math.min(bytes.length, start + maximumBytes) - 1;
  let count = 0;
  for (let i = start; i < end; i += 2) {
    if (bytes[i + 1] !== 0 || bytes[i] >= 0x80 || bytes[i] === 0) break;
    count++;
  }
  const out = Buffer.allocUnsafe(count);
  for (let k = 0; k < count; k++) out[k] = bytes[start + 2 * k];
  return out;
}

/** Every start < bodyLength of `needle` in `haystack`, in order (for a detector's own, unshared searches). */
export function indexesOf(haystack: Buffer, needle: Buffer, bodyLength: number): Iterable<number> {
  return hitsBelow(findAnchors(haystack, [needle]), needle, bodyLength);
}

/**
 * A narrow ASCII window of UTF-16LE text around byte `anchor` (which must be code-unit aligned
 * with the text): up to `backChars` before and `forwardChars` from it. Code units that are not
 * 7-bit ASCII become 0x80 (text, but no structural character, base64 digit or quote).
 * Index i is byte origin + 2·i.
 */
export function narrowUtf16Window(bytes: Uint8Array, anchor: number, backChars: number, forwardChars: number): { text: Buffer; origin: number } {
  const origin = anchor - 2 * Math.min(backChars, Math.floor(anchor / 2));
  const count = Math.min((anchor - origin) / 2 + forwardChars, Math.floor((bytes.length - origin) / 2));
  const text = Buffer.allocUnsafe(count);
  for (let k = 0; k < count; k++) {
    const low = bytes[origin + 2 * k];
    text[k] = bytes[origin + 2 * k + 1] === 0 && low < 0x80 ? low : 0x80;
  }
  return { text, origin };
}
