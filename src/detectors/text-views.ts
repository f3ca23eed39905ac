// Text as memory holds it: plain ASCII, or UTF-16LE (Windows strings). Text detectors parse a
// narrow ASCII view and scale positions back, so one parser serves both encodings.

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

/**
 * Buffer.indexOf switches to a slower algorithm for needles longer than six bytes (measured:
 * about 1.7 GB/s against 4.5 GB/s on random bytes), so longer needles are searched by their
 * first six bytes and the rest is compared.
 */
const fastNeedleLength = 6;

/** Every start < bodyLength of `needle` in `haystack`, in order. */
export function* indexesOf(haystack: Buffer, needle: Buffer, bodyLength: number): Generator<number> {
  const prefix = needle.length > fastNeedleLength ? needle.subarray(0, fastNeedleLength) : needle;
  let position = haystack.indexOf(prefix, 0);
  while (position !== -1 && position < bodyLength) {
    if (prefix === needle) yield position;
    else if (position + needle.length <= haystack.length && haystack.compare(needle, 0, needle.length, position, position + needle.length) === 0) yield position;
    position = haystack.indexOf(prefix, position + 1);
  }
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

/** [start, end) of a run of text in a chunk's bytes. */
export type TextRun = readonly [start: number, end: number];

/**
 * Every key in a text form (an armor, a JWK, base64) lies inside a run of text at least this
 * long (the shortest, a JWK with an 8-byte `k`, is 31 characters); shorter runs are dropped, so
 * which runs exist never depends on where a chunk starts.
 */
export const minimumTextRunInBytes = 24;
/** Samples of 8 bytes every this many bytes find every run of stride + 7 bytes or more. */
const sampleStride = 16;

/** 1 for printable ASCII, tab, CR and LF: a table, because this runs for every sample of every chunk. */
const TEXT = new Uint8Array(256);
for (let c = 0x20; c < 0x7f; c++) TEXT[c] = 1;
TEXT[0x09] = TEXT[0x0a] = TEXT[0x0d] = 1;

/**
 * What the text detectors share about one chunk: where its ASCII and UTF-16LE text is.
 * Computed once per chunk (lazily) and handed to each detector, so the costly anchor searches
 * run over the text only, not over the zeros, code and random bytes that make up most dumps.
 */
export class ChunkText {
  private ascii?: TextRun[];
  private utf16?: TextRun[];

  constructor(private readonly bytes: Uint8Array) {}

  runs(encoding: 'ascii' | 'utf16le'): readonly TextRun[] {
    if (encoding === 'ascii') return (this.ascii ??= asciiRuns(this.bytes));
    return (this.utf16 ??= utf16Runs(this.bytes));
  }
}

function asciiRuns(b: Uint8Array): TextRun[] {
  const runs: TextRun[] = [];
  const n = b.length;
  const T = TEXT;
  let p = 0;
  while (p + 8 <= n) {
    // Cheapest rejection first: most samples land in zeros, code or random bytes.
    if ((T[b[p]] & T[b[p + 7]] & T[b[p + 3]] & T[b[p + 1]] & T[b[p + 2]] & T[b[p + 4]] & T[b[p + 5]] & T[b[p + 6]]) === 0) {
      p += sampleStride;
      continue;
    }
    let start = p;
    const floor = runs.length ? runs[runs.length - 1][1] : 0;
    while (start > floor && T[b[start - 1]] === 1) start--;
    let end = p + 8;
    while (end < n && T[b[end]] === 1) end++;
    if (end - start >= minimumTextRunInBytes) runs.push([start, end]);
    p = end + 1;
  }
  return runs;
}

const isUnit = (b: Uint8Array, i: number) => b[i + 1] === 0 && TEXT[b[i]] === 1;

function utf16Runs(b: Uint8Array): TextRun[] {
  const runs: TextRun[] = [];
  const n = b.length;
  const T = TEXT;
  let p = 0;
  while (p + 9 <= n) {
    // A UTF-16LE ASCII run has a zero in every other byte: reject on that first.
    if ((b[p + 1] !== 0 || b[p + 3] !== 0 || T[b[p]] === 0) && (b[p + 2] !== 0 || b[p + 4] !== 0 || T[b[p + 1]] === 0)) {
      p += sampleStride;
      continue;
    }
    const aligned = isUnit(b, p) && isUnit(b, p + 2) && isUnit(b, p + 4) && isUnit(b, p + 6) ? p : isUnit(b, p + 1) && isUnit(b, p + 3) && isUnit(b, p + 5) && isUnit(b, p + 7) ? p + 1 : -1;
    if (aligned < 0) {
      p += sampleStride;
      continue;
    }
    let start = aligned;
    const floor = runs.length ? runs[runs.length - 1][1] : 0;
    while (start - 2 >= floor && isUnit(b, start - 2)) start -= 2;
    let end = aligned + 8;
    while (end + 1 < n && isUnit(b, end)) end += 2;
    if (end - start >= minimumTextRunInBytes) runs.push([start, end]);
    p = end + 1;
  }
  return runs;
}

/** Starts of `needle` (< limit) that lie inside the chunk's text runs of that encoding. */
export function* indexesOfInText(haystack: Buffer, needle: Buffer, limit: number, text: ChunkText, encoding: 'ascii' | 'utf16le'): Generator<number> {
  for (const [start, end] of text.runs(encoding)) {
    if (start >= limit) return;
    const run = haystack.subarray(start, end);
    for (const at of indexesOf(run, needle, Math.min(end, limit) - start)) yield start + at;
  }
}
