// Writes a copy of a dump with key material overwritten in place, same length, so the copy
// still opens in a debugger. Binary key material becomes zeros; text key material (PEM bodies,
// base64, JWK values) becomes 'A' characters, with armor lines and JSON punctuation kept.
// The input is never opened for writing; the copy is streamed, never held whole in memory.
import { constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';
import { UsageError, describeError } from './errors.js';
import type { Finding } from './types.js';

const blockSizeInBytes = 8 * 1024 * 1024;
const A = 0x41;

/** Is `c` a character of base64/base64url text (what key bodies and JWK values are made of)? */
function isKeyText(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 45 || c === 95;
}

/** `-----BEGIN …-----` and `-----END …-----` lines stay readable: only the key between them goes. */
const ARMOR_LINE = /-----(?:BEGIN|END) [A-Z0-9 ]{1,48}-----/g;

/**
 * The scrubbed form of one finding's bytes (a copy): binary → zeros; text → every base64 or
 * base64url character becomes 'A' (length kept), except the armor lines, and in escaped text
 * the escape sequences (`\n`, `\"`) so the surrounding JSON still parses.
 */
export function scrubbedBytes(bytes: Uint8Array, finding: Pick<Finding, 'encoding' | 'inner'>): Uint8Array {
  const out = Uint8Array.from(bytes);
  // A key inside an embedded compressed stream (`inner`) is in none of its bytes as text: the whole stream goes.
  if (finding.encoding === 'binary' || finding.inner !== undefined) return out.fill(0);
  const step = finding.encoding === 'utf16le' ? 2 : 1;
  // Work on the characters (every byte, or the low byte of every UTF-16 unit).
  const count = Math.floor(out.length / step);
  const chars = new Uint8Array(count);
  for (let k = 0; k < count; k++) chars[k] = step === 2 && out[2 * k + 1] !== 0 ? 0 : out[k * step];
  const keep = new Uint8Array(count);
  for (const m of Buffer.from(chars).toString('latin1').matchAll(ARMOR_LINE)) keep.fill(1, m.index!, m.index! + m[0].length);
  for (let k = 0; k < count; k++) {
    if (keep[k]) continue;
    if (chars[k] === 0x5c && k + 1 < count) {
      k += chars[k + 1] === 0x75 ? 5 : 1; // an escape: \n, \", or \uXXXX stays as written
      continue;
    }
    if (isKeyText(chars[k])) out[k * step] = A;
  }
  return out;
}

/** Streams `input` to `output`, overwriting every finding. Refuses to write over the input. */
export async function writeScrubbedCopy(input: string, output: string, findings: readonly Finding[]): Promise<void> {
  const reader = await open(input, 'r');
  let writer;
  try {
    // Opened without truncating, so a path that is the input itself (a hard link, a symlink,
    // another name) is recognised by device and inode before a single byte is lost.
    writer = await open(output, fsConstants.O_WRONLY | fsConstants.O_CREAT);
  } catch (error) {
    await reader.close();
    throw new UsageError(`cannot write ${output}: ${describeError(error)}`);
  }
  const [a, b] = [await reader.stat(), await writer.stat()];
  if (a.dev === b.dev && a.ino === b.ino) {
    await Promise.all([reader.close(), writer.close()]);
    throw new UsageError(`refusing to scrub in place: ${output} is the input`);
  }
  await writer.truncate(0);
  try {
    const block = Buffer.allocUnsafe(blockSizeInBytes);
    for (let offset = 0; ; offset += blockSizeInBytes) {
      const { bytesRead } = await reader.read(block, 0, blockSizeInBytes, offset);
      if (bytesRead === 0) break;
      await writer.write(block, 0, bytesRead, offset);
      if (bytesRead < blockSizeInBytes) break;
    }
    // Then each finding, read whole from the input and written over its place in the copy.
    for (const finding of findings) {
      const original = Buffer.alloc(finding.length);
      const { bytesRead } = await reader.read(original, 0, finding.length, finding.offset);
      await writer.write(scrubbedBytes(original.subarray(0, bytesRead), finding), 0, bytesRead, finding.offset);
    }
  } finally {
    await reader.close();
    await writer.close();
  }
}
