// The anchor search every detector starts from, done once per chunk for all of them.
//
// Detectors find candidates by fixed byte strings (`-----BEGIN`, `02 01`, `RSA`, `"kty"`, ...).
// Searched one needle at a time over a whole 8 MiB chunk, each needle streams the chunk from
// the L3 cache again: with two dozen needles that was two thirds of the scan's time. Searched
// block by block instead, every needle reads a block while it sits in L1/L2, and the chunk
// leaves memory once (measured on the bench's dump-like data: 1.95 → 1.18 ns/byte for 24
// needles with 32 KiB blocks).

/** Positions of each needle in one buffer, ascending; keyed by the needle objects asked for. */
export type AnchorHits = ReadonlyMap<Buffer, readonly number[]>;

/** Small enough that a block stays in L1/L2 while every needle reads it (16 to 64 KiB measured alike). */
const blockLength = 32 * 1024;

/**
 * Buffer.indexOf switches to a slower algorithm for needles longer than six bytes (measured:
 * about 1.7 GB/s against 4.5 GB/s on random bytes), so longer needles are searched by their
 * first six bytes and the rest is compared.
 */
const fastNeedleLength = 6;

/**
 * After a hit, the next few bytes are searched in JS before another native call: each
 * Buffer.indexOf call costs about half a microsecond, which a flood of anchors (a million
 * BEGIN lines, repeated structures) would pay per hit.
 */
const localWindowInBytes = 64;

/** Whether `needle` occurs at `at` of `haystack` (whole: false when it would run past the end). */
export function bytesAt(haystack: Uint8Array, needle: Uint8Array, at: number): boolean {
  if (at < 0 || at + needle.length > haystack.length) return false;
  for (let k = 0; k < needle.length; k++) if (haystack[at + k] !== needle[k]) return false;
  return true;
}

/** Every position in `buffer` where a whole needle occurs, per needle (equal needles share one search). */
export function findAnchors(buffer: Buffer, needles: readonly Buffer[]): Map<Buffer, number[]> {
  const distinct = new Map<string, { needle: Buffer; prefix: Buffer; hits: number[] }>();
  const result = new Map<Buffer, number[]>();
  for (const needle of needles) {
    if (needle.length === 0 || needle[0] === 0) throw new Error('an anchor must start with a non-zero byte');
    const key = needle.toString('hex');
    let entry = distinct.get(key);
    if (!entry) {
      entry = { needle, prefix: needle.subarray(0, fastNeedleLength), hits: [] };
      distinct.set(key, entry);
    }
    result.set(needle, entry.hits);
  }
  const searches = [...distinct.values()];
  for (const [from, to] of nonZeroRanges(buffer)) {
    for (let blockStart = from; blockStart < to; blockStart += blockLength) {
      const blockEnd = Math.min(to, blockStart + blockLength);
      for (const { needle, prefix, hits } of searches) searchBlock(buffer, needle, prefix, blockStart, blockEnd, hits);
    }
  }
  return result;
}

/**
 * Pages of zeros are most of a real core (60 to 90% of the cores we measured) and no anchor
 * starts in one: every anchor's first byte is non-zero (asserted in findAnchors). One compare
 * per page skips them for every needle at once. An anchor that starts in a non-zero page and
 * runs on into a zero page is still found: searchBlock reads a needle's length past its block.
 */
const pageLength = 4096;
const zeroPage = Buffer.alloc(pageLength);

/** [from, to) ranges covering every page of `buffer` that holds a non-zero byte, in order. */
export function nonZeroRanges(buffer: Buffer): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let open = -1;
  for (let page = 0; page < buffer.length; page += pageLength) {
    const end = Math.min(buffer.length, page + pageLength);
    // Most non-zero pages show it in their first bytes, without a native call.
    const zero = (buffer[page] | buffer[page + 1] | buffer[page + 2] | buffer[end - 1]) === 0 && buffer.compare(zeroPage, 0, end - page, page, end) === 0;
    if (zero && open !== -1) {
      ranges.push([open, page]);
      open = -1;
    } else if (!zero && open === -1) open = page;
  }
  if (open !== -1) ranges.push([open, buffer.length]);
  return ranges;
}

/** Appends the starts in [blockStart, blockEnd) of `needle` (whole, within buffer) to `hits`. */
function searchBlock(buffer: Buffer, needle: Buffer, prefix: Buffer, blockStart: number, blockEnd: number, hits: number[]): void {
  const lastStart = Math.min(blockEnd - 1, buffer.length - needle.length);
  if (lastStart < blockStart) return;
  // The view runs a prefix length past the block, so a needle straddling the border is found once.
  const view = buffer.subarray(blockStart, Math.min(buffer.length, blockEnd + prefix.length - 1));
  const first = prefix[0];
  let position = view.indexOf(prefix, 0);
  while (position !== -1) {
    const at = blockStart + position;
    if (at > lastStart) return;
    if (prefix.length === needle.length || bytesAt(buffer, needle, at)) hits.push(at);
    const stop = Math.min(lastStart, at + localWindowInBytes);
    let next = -1;
    for (let i = at + 1; i <= stop; i++) {
      if (buffer[i] === first && bytesAt(buffer, prefix, i)) {
        next = i;
        break;
      }
    }
    if (next !== -1) position = next - blockStart;
    else if (stop >= lastStart) return;
    else position = view.indexOf(prefix, stop + 1 - blockStart);
  }
}

/**
 * The hits a detector asked for: from the shared search when the worker ran one, else searched
 * here (a detector called on its own, as in tests).
 */
export function anchorHits(buffer: Buffer, needles: readonly Buffer[], shared: AnchorHits | undefined): AnchorHits {
  if (shared && needles.every((n) => shared.has(n))) return shared;
  return findAnchors(buffer, needles);
}

/** The hits of `needle` below `limit`, ascending. */
export function* hitsBelow(hits: AnchorHits, needle: Buffer, limit: number): Generator<number> {
  for (const at of hits.get(needle) ?? []) {
    if (at >= limit) return;
    yield at;
  }
}
