// Writes a copy of a dump with key material overwritten in place, same length, so the copy
// still opens in a debugger. Binary key material becomes zeros; text key material (PEM bodies,
// base64, JWK values) becomes 'A' characters, with armor lines and JSON punctuation kept.
// The input is never opened for writing; the copy is streamed, never held whole in memory.
import { open, realpath } from 'node:fs/promises';
import { UsageError, describeError } from './errors.js';
import type { Finding } from './types.js';

const blockSizeInBytes = 8 * 1024 * 1024;
const A = 0x41;

/** Is `c` a character of base64/base64url text (what key bodies and JWK values are made of)? */
function isKeyText(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 45 || c === 95;
}

/**
 * The scrubbed form of one finding's bytes (a copy): binary → zeros; text → every base64 or
 * base64url character becomes 'A', except inside `-----BEGIN …-----` / `-----END …-----` lines.
 */
export function scrubbedBytes(bytes: Uint8Array, finding: Pick<Finding, 'encoding'>): Uint8Array {
  const out = Uint8Array.from(bytes);
  if (finding.encoding === 'binary') return out.fill(0);
  const step = finding.encoding === 'utf16le' ? 2 : 1;
  let dashes = 0;
  let inArmorLine = false;
  for (let i = 0; i < out.length; i += step) {
    const c = out[i];
    if (step === 2 && out[i + 1] !== 0) {
      dashes = 0;
      continue;
    }
    if (c === 0x2d) {
      if (++dashes === 5) {
        dashes = 0;
        inArmorLine = !inArmorLine;
      }
      continue;
    }
    dashes = 0;
    if (!inArmorLine && isKeyText(c)) out[i] = A;
  }
  return out;
}

/** Streams `input` to `output`, overwriting every finding. Refuses to write over the input. */
export async function writeScrubbedCopy(input: string, output: string, findings: readonly Finding[]): Promise<void> {
  const source = await realpath(input);
  const target = await realpath(output).catch(() => undefined);
  if (target === source) throw new UsageError(`refusing to scrub in place: ${output} is the input`);
  const reader = await open(input, 'r');
  let writer;
  try {
    writer = await open(output, 'w');
  } catch (error) {
    await reader.close();
    throw new UsageError(`cannot write ${output}: ${describeError(error)}`);
  }
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
