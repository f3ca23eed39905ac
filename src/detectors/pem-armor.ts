// Reads an RFC 7468 armor (and the OpenPGP armor of RFC 4880 §6.2) out of narrow ASCII text,
// tolerating how memory holds it: LF or CRLF, indentation, spaces for newlines, and newlines
// escaped as the two characters `\n` (JSON, .env files, logs, V8 heap snapshots).

export const BEGIN_MARKER = '-----BEGIN ';

/** Labels that hold private key material; everything else (certificates, public keys, CSRs, CRLs) is ignored. */
export const PRIVATE_LABELS = new Set([
  'PRIVATE KEY',
  'RSA PRIVATE KEY',
  'EC PRIVATE KEY',
  'DSA PRIVATE KEY',
  'ENCRYPTED PRIVATE KEY',
  'OPENSSH PRIVATE KEY',
  'PGP PRIVATE KEY BLOCK',
]);

const maximumLabelLength = 48;
const maximumHeaderLineLength = 256;

export interface Armor {
  label: string;
  /** `Name: value` lines before the body (Proc-Type, DEK-Info, Version, Comment). */
  headers: string[];
  /** The body's base64 characters, separators removed. */
  base64: string;
  /** Index just past the END line's dashes, or past the last body character when incomplete. */
  end: number;
  /** The END line with the same label was found. */
  complete: boolean;
  /** Newlines were written as the two characters `\n` / `\r`. */
  escaped: boolean;
}

const enum Char {
  Tab = 9, Lf = 10, Cr = 13, Space = 32, Plus = 43, Dash = 45, Slash = 47, Colon = 58,
  Equals = 61, Backslash = 92, n = 110, r = 114, t = 116,
}

function isBase64(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === Char.Plus || c === Char.Slash || c === Char.Equals;
}

function isLabelChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === Char.Space;
}

function startsWithAt(text: Uint8Array, at: number, ascii: string, limit: number): boolean {
  if (at + ascii.length > limit) return false;
  for (let k = 0; k < ascii.length; k++) if (text[at + k] !== ascii.charCodeAt(k)) return false;
  return true;
}

/** RFC 1421 and OpenPGP armors carry two or three header lines. */
const maximumHeaderLines = 8;

/** A separator's length in its low bits, and what it is in the flags. */
const SEPARATOR_NEWLINE = 4;
const SEPARATOR_ESCAPED = 8;

/**
 * The separator at i (real or escaped whitespace): its length (1 or 2) | SEPARATOR_NEWLINE |
 * SEPARATOR_ESCAPED, 0 when there is none. A number, not an object: this runs on every
 * character of every armor body and of every text that merely follows a BEGIN label.
 */
function separatorAt(text: Uint8Array, i: number, limit: number): number {
  const c = text[i];
  if (c === Char.Lf || c === Char.Cr) return 1 | SEPARATOR_NEWLINE;
  if (c === Char.Space || c === Char.Tab) return 1;
  if (c === Char.Backslash && i + 1 < limit) {
    const d = text[i + 1];
    if (d === Char.n || d === Char.r) return 2 | SEPARATOR_NEWLINE | SEPARATOR_ESCAPED;
    if (d === Char.t) return 2 | SEPARATOR_ESCAPED;
  }
  return 0;
}

/** Reads the label of a `-----BEGIN label-----` line at 0; undefined unless it is one. */
export function readBeginLabel(text: Uint8Array, limit: number): { label: string; bodyStart: number } | undefined {
  if (!startsWithAt(text, 0, BEGIN_MARKER, limit)) return undefined;
  let i = BEGIN_MARKER.length;
  while (i < limit && i - BEGIN_MARKER.length < maximumLabelLength && isLabelChar(text[i])) i++;
  if (!startsWithAt(text, i, '-----', limit)) return undefined;
  const label = Buffer.from(text.subarray(BEGIN_MARKER.length, i)).toString('latin1').trim();
  return { label, bodyStart: i + 5 };
}

/**
 * Parses the armor whose `-----BEGIN` is at index 0 of `text`, reading no further than `limit`.
 * Returns undefined when the label holds no private key.
 */
export function readArmor(text: Uint8Array, limit: number): Armor | undefined {
  const begin = readBeginLabel(text, limit);
  if (!begin || !PRIVATE_LABELS.has(begin.label)) return undefined;
  const { label } = begin;
  const endLine = `-----END ${label}-----`;
  const isPgp = label.startsWith('PGP ');
  const headers: string[] = [];
  const bodyRuns: Array<[number, number]> = [];
  let escaped = false;
  let atLineStart = false;
  // A blank inside a line, between two runs, is prose ("-----BEGIN PRIVATE KEY----- not found
  // in ..."): base64 lines are indented or padded at their ends, never split by a space. Read
  // as body, a log line after a bare label cost a walk over kilobytes of words.
  let runOnLine = false;
  let blankAfterRun = false;
  let end = begin.bodyStart;
  let i = begin.bodyStart;

  while (i < limit) {
    const separator = separatorAt(text, i, limit);
    if (separator !== 0) {
      escaped ||= (separator & SEPARATOR_ESCAPED) !== 0;
      if ((separator & SEPARATOR_NEWLINE) !== 0) {
        atLineStart = true;
        runOnLine = blankAfterRun = false;
      } else if (runOnLine) blankAfterRun = true;
      i += separator & 3;
      continue;
    }
    if (blankAfterRun) break;
    const c = text[i];
    if (c === Char.Dash) {
      if (startsWithAt(text, i, endLine, limit)) return { label, headers, base64: joinRuns(text, bodyRuns), end: i + endLine.length, complete: true, escaped };
      break;
    }
    // Headers (Proc-Type, DEK-Info; Version, Comment in OpenPGP) are named with a capital and
    // few: lines of a log after a bare label ("2024-05-20T01:18:34Z INFO ...") are not read
    // as headers one after another for kilobytes.
    if (atLineStart && bodyRuns.length === 0 && headers.length < maximumHeaderLines && c >= 0x41 && c <= 0x5a) {
      const headerEnd = headerLineEnd(text, i, limit);
      if (headerEnd > 0) {
        headers.push(Buffer.from(text.subarray(i, headerEnd)).toString('latin1'));
        i = end = headerEnd;
        continue;
      }
    }
    if (!isBase64(c)) break;
    const runStart = i;
    // An OpenPGP armor ends its body with a `=XXXX` CRC-24 line: not part of the key bytes.
    const isChecksum = isPgp && atLineStart && c === Char.Equals;
    while (i < limit && isBase64(text[i])) i++;
    if (!isChecksum) bodyRuns.push([runStart, i]);
    end = i;
    atLineStart = false;
    runOnLine = true;
  }
  return { label, headers, base64: joinRuns(text, bodyRuns), end, complete: false, escaped };
}

/** End of a `Name: value` header line starting at i, or 0 when the line is not one. */
function headerLineEnd(text: Uint8Array, i: number, limit: number): number {
  let k = i;
  const stop = Math.min(limit, i + maximumHeaderLineLength);
  while (k < stop && ((text[k] >= 65 && text[k] <= 90) || (text[k] >= 97 && text[k] <= 122) || (text[k] >= 48 && text[k] <= 57) || text[k] === Char.Dash)) k++;
  if (k === i || k >= stop || text[k] !== Char.Colon) return 0;
  while (k < stop && text[k] >= 0x20 && text[k] < 0x7f && !(text[k] === Char.Backslash && (separatorAt(text, k, limit) & SEPARATOR_NEWLINE) !== 0)) k++;
  return k;
}

function joinRuns(text: Uint8Array, runs: Array<[number, number]>): string {
  const buffer = Buffer.from(text.buffer, text.byteOffset, text.length);
  return runs.map(([s, e]) => buffer.toString('latin1', s, e)).join('');
}

/**
 * Splits text at 0 into lines, accepting real and escaped line ends, stopping at `limit`,
 * at the first byte that is not printable text, or after `maximumLines`.
 */
export function readTextLines(text: Uint8Array, limit: number, maximumLines: number): { lines: string[]; starts: number[]; ends: number[]; escaped: boolean } {
  const lines: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  let escaped = false;
  let i = 0;
  let lineStart = 0;
  const buffer = Buffer.from(text.buffer, text.byteOffset, text.length);
  const push = (lineEnd: number) => {
    const raw = buffer.toString('latin1', lineStart, lineEnd);
    const trimmed = raw.trimStart();
    lines.push(trimmed.trimEnd());
    starts.push(lineStart + raw.length - trimmed.length);
    ends.push(lineEnd);
  };
  while (i < limit && lines.length < maximumLines) {
    const c = text[i];
    if (c === Char.Lf || c === Char.Cr) {
      if (i > lineStart) push(i);
      i += c === Char.Cr && text[i + 1] === Char.Lf ? 2 : 1;
      lineStart = i;
      continue;
    }
    if (c === Char.Backslash && i + 1 < limit && (text[i + 1] === Char.n || text[i + 1] === Char.r)) {
      escaped = true;
      if (i > lineStart) push(i);
      i += 2;
      if (text[i - 1] === Char.r && text[i] === Char.Backslash && text[i + 1] === Char.n) i += 2;
      lineStart = i;
      continue;
    }
    if (c < 0x20 && c !== Char.Tab) break;
    if (c >= 0x7f) break;
    i++;
  }
  if (i > lineStart && lines.length < maximumLines) push(i);
  return { lines, starts, ends, escaped };
}

const BASE64_CHAR = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=') BASE64_CHAR[c.charCodeAt(0)] = 1;

/**
 * A cheap look ahead, before any parsing or allocation: does the BEGIN line at `start` (in
 * characters of `step` bytes: 1 for ASCII, 2 for UTF-16LE) close within a label's length and
 * have at least `count` base64 characters after it? Bare labels in a library's read-only data,
 * and floods of them, stop here.
 */
export function armorBodyAhead(bytes: Uint8Array, start: number, limit: number, step: number, count: number): boolean {
  const at = (k: number) => (step === 2 && bytes[start + 2 * k + 1] !== 0 ? 0 : bytes[start + step * k]);
  const chars = Math.floor((limit - start) / step);
  // Find the five dashes that close the BEGIN line.
  let k = BEGIN_MARKER.length;
  const labelEnd = Math.min(chars, k + maximumLabelLength + 5);
  let dashes = 0;
  while (k < labelEnd && dashes < 5) dashes = at(k++) === Char.Dash ? dashes + 1 : 0;
  if (dashes < 5) return false;
  // Count body characters up to the next five dashes (an END line, or the next BEGIN of a flood).
  let seen = 0;
  dashes = 0;
  for (const stop = Math.min(chars, k + 4 * count); k < stop && seen < count; k++) {
    const c = at(k);
    if (c === Char.Dash) {
      if (++dashes === 5) return false;
      continue;
    }
    dashes = 0;
    if (BASE64_CHAR[c]) seen++;
    else if (c < 0x20 ? c !== Char.Lf && c !== Char.Cr && c !== Char.Tab : c >= 0x7f) return false;
  }
  return seen >= count;
}
