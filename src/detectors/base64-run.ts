// Base64 (and base64url) text as memory holds it outside any armor: one line or wrapped, with
// real or escaped (`\n`) line ends. Decodes a run from its first character, as far as needed.

const enum Char { Lf = 10, Cr = 13, Space = 32, Backslash = 92 }

/** 0..63 for a base64 or base64url character, 64 for '=', -1 for anything else. */
const VALUE = new Int8Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.split('').forEach((c, i) => (VALUE[c.charCodeAt(0)] = i));
VALUE['+'.charCodeAt(0)] = 62;
VALUE['/'.charCodeAt(0)] = 63;
VALUE['-'.charCodeAt(0)] = 62;
VALUE['_'.charCodeAt(0)] = 63;
VALUE['='.charCodeAt(0)] = 64;

/** `\n` or `\r` written as two characters at i. */
export function isEscapedLineBreak(text: Uint8Array, i: number): boolean {
  return text[i] === Char.Backslash && (text[i + 1] === 0x6e || text[i + 1] === 0x72);
}


export interface DecodedRun {
  bytes: Buffer;
  /** Index just past the last character consumed (padding included). */
  end: number;
}

/**
 * Decodes up to `maximumBytes` bytes from the base64 text starting at `start`, skipping line
 * breaks (real, CRLF, or escaped `\n`/`\r`) and stopping at the first other character. Lines
 * of a wrapped run must not be indented differently (spaces are taken as the run's end).
 */
export function decodeBase64Run(text: Uint8Array, start: number, limit: number, maximumBytes: number): DecodedRun {
  const out = Buffer.allocUnsafe(maximumBytes);
  let produced = 0;
  let accumulator = 0;
  let bits = 0;
  let i = start;
  let end = start;
  while (i < limit && produced < maximumBytes) {
    const c = text[i];
    const value = VALUE[c];
    if (value >= 0 && value < 64) {
      accumulator = ((accumulator << 6) | value) & 0xffffff;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[produced++] = (accumulator >> bits) & 0xff;
      }
      i++;
      end = i;
      continue;
    }
    if (value === 64) {
      while (i < limit && text[i] === 0x3d) i++;
      end = i;
      break;
    }
    if (c === Char.Lf || c === Char.Cr) {
      i++;
      continue;
    }
    if (isEscapedLineBreak(text, i)) {
      i += 2;
      continue;
    }
    break;
  }
  // Trailing '=' padding of the final quantum belongs to the run.
  while (end < limit && text[end] === 0x3d && produced >= maximumBytes) end++;
  return { bytes: out.subarray(0, produced), end };
}

/** Index just past the last base64 character that encodes byte `byteCount - 1` (plus its padding). */
export function endOfEncodedBytes(text: Uint8Array, start: number, limit: number, byteCount: number): number {
  const chars = Math.ceil((byteCount * 8) / 6);
  let seen = 0;
  let i = start;
  while (i < limit && seen < chars) {
    if (isEscapedLineBreak(text, i)) {
      i += 2; // the 'n' of an escaped `\n` is not a base64 digit here
      continue;
    }
    const value = VALUE[text[i]];
    if (value >= 0 && value < 64) seen++;
    i++;
  }
  while (i < limit && text[i] === 0x3d) i++;
  return i;
}
