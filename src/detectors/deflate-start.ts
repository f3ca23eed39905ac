// Is this plausibly the start of a deflate stream (RFC 1951)? A cheap test in JS before the
// real decoder runs: a zlib or gzip header is four or five bytes, which random and binary data
// hold every few hundred KiB, and each call into node:zlib costs tens of microseconds. Checked:
//   stored block   LEN must be the ones' complement of NLEN (16 bits of check);
//   fixed block    the first symbols must decode, and no match may reach before the output's start;
//   dynamic block  HLIT/HDIST in range, the code-length code complete, the code lengths it
//                  codes in range, the literal/length code complete with an end-of-block code,
//                  the distance code complete or a single code (as zlib's inftrees.c requires);
//   BTYPE 3        reserved: never.

/** How many fixed-Huffman symbols are decoded before the start is taken as plausible. */
const FIXED_SYMBOLS_CHECKED = 16;

/** RFC 1951 3.2.5: base lengths and extra bits of length codes 257..285, base distances and extra bits of distance codes 0..29. */
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DISTANCE_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DISTANCE_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** RFC 1951 3.2.7: the order in which code-length code lengths are stored. */
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** Reads bits LSB-first from `bytes[start..end)`; past the end it returns undefined (not plausible yet: no verdict). */
class Bits {
  private bit = 0;
  constructor(private readonly bytes: Uint8Array, private position: number, private readonly end: number) {}
  /** `n` bits as a little-endian number (header fields, extra bits). */
  read(n: number): number | undefined {
    let value = 0;
    for (let i = 0; i < n; i++) {
      const b = this.one();
      if (b === undefined) return undefined;
      value |= b << i;
    }
    return value;
  }
  one(): number | undefined {
    if (this.position >= this.end) return undefined;
    const b = (this.bytes[this.position] >> this.bit) & 1;
    if (++this.bit === 8) {
      this.bit = 0;
      this.position++;
    }
    return b;
  }
  /** The next byte boundary (stored blocks). */
  align(): number {
    if (this.bit !== 0) {
      this.bit = 0;
      this.position++;
    }
    return this.position;
  }
  /** A Huffman code of `n` bits, most significant bit first (RFC 1951 3.1.1). */
  code(prefix: number, n: number): number | undefined {
    let value = prefix;
    for (let i = 0; i < n; i++) {
      const b = this.one();
      if (b === undefined) return undefined;
      value = (value << 1) | b;
    }
    return value;
  }
}

/** True when the deflate data at `start` (bounded by `end`) passes the first-block checks above. */
export function plausibleDeflateStart(bytes: Uint8Array, start: number, end: number): boolean {
  const bits = new Bits(bytes, start, end);
  const header = bits.read(3);
  if (header === undefined) return false;
  const type = header >> 1;
  if (type === 0) {
    const at = bits.align();
    if (at + 4 > end) return false;
    const length = bytes[at] | (bytes[at + 1] << 8);
    const complement = bytes[at + 2] | (bytes[at + 3] << 8);
    return length > 0 && (length ^ 0xffff) === complement;
  }
  if (type === 1) return fixedSymbolsDecode(bits);
  if (type === 2) return dynamicHeaderValid(bits);
  return false;
}

function fixedSymbolsDecode(bits: Bits): boolean {
  let produced = 0;
  for (let n = 0; n < FIXED_SYMBOLS_CHECKED; n++) {
    // RFC 1951 3.2.6: 7-bit codes 0..23 → 256..279; 8-bit 48..191 → 0..143, 192..199 → 280..287; 9-bit 400..511 → 144..255.
    const seven = bits.code(0, 7);
    if (seven === undefined) return produced > 0;
    let symbol: number;
    if (seven <= 23) symbol = 256 + seven;
    else {
      const eight = bits.code(seven, 1);
      if (eight === undefined) return produced > 0;
      if (eight >= 48 && eight <= 191) symbol = eight - 48;
      else if (eight >= 192 && eight <= 199) symbol = 280 + eight - 192;
      else {
        const nine = bits.code(eight, 1);
        if (nine === undefined) return produced > 0;
        symbol = 144 + nine - 400;
      }
    }
    if (symbol < 256) {
      produced++;
      continue;
    }
    // End of block: a stream whose first block is empty or nearly so is not worth a decoder call.
    if (symbol === 256) return produced >= 4;
    if (symbol > 285) return false;
    const lengthExtra = bits.read(LENGTH_EXTRA[symbol - 257]);
    const distanceCode = bits.code(0, 5);
    if (lengthExtra === undefined || distanceCode === undefined) return produced > 0;
    if (distanceCode > 29) return false;
    const distanceExtra = bits.read(DISTANCE_EXTRA[distanceCode]);
    if (distanceExtra === undefined) return produced > 0;
    if (DISTANCE_BASE[distanceCode] + distanceExtra > produced) return false;
    produced += LENGTH_BASE[symbol - 257] + lengthExtra;
  }
  return true;
}

function dynamicHeaderValid(bits: Bits): boolean {
  const literalCodes = bits.read(5);
  const distanceCodes = bits.read(5);
  const codeLengthCodes = bits.read(4);
  if (literalCodes === undefined || distanceCodes === undefined || codeLengthCodes === undefined) return false;
  if (literalCodes > 29 || distanceCodes > 29) return false;
  const lengths = new Array<number>(19).fill(0);
  for (let i = 0; i < codeLengthCodes + 4; i++) {
    const length = bits.read(3);
    if (length === undefined) return false;
    lengths[CODE_LENGTH_ORDER[i]] = length;
  }
  if (kraft(lengths, 7) !== 1 << 7) return false;
  // The literal/length and distance code lengths, coded with the code-length code (RFC 1951 3.2.7).
  const decode = canonicalDecoder(lengths);
  const all: number[] = [];
  const wanted = literalCodes + 257 + distanceCodes + 1;
  while (all.length < wanted) {
    const symbol = decode(bits);
    if (symbol === undefined) return false;
    if (symbol < 16) {
      all.push(symbol);
      continue;
    }
    if (symbol === 16 && all.length === 0) return false;
    const repeat = symbol === 16 ? bits.read(2) : symbol === 17 ? bits.read(3) : bits.read(7);
    if (repeat === undefined) return false;
    const count = (symbol === 16 ? 3 : symbol === 17 ? 3 : 11) + repeat;
    const value = symbol === 16 ? all[all.length - 1] : 0;
    if (all.length + count > wanted) return false;
    for (let i = 0; i < count; i++) all.push(value);
  }
  const literals = all.slice(0, literalCodes + 257);
  const distances = all.slice(literalCodes + 257);
  // zlib (inftrees.c): the literal/length code must be complete and hold end-of-block; the
  // distance code may be incomplete only with a single code.
  if (literals[256] === 0 || kraft(literals, 15) !== 1 << 15) return false;
  const distanceSum = kraft(distances, 15);
  const distanceCount = distances.filter((l) => l > 0).length;
  return distanceSum === 1 << 15 || distanceCount <= 1;
}

/** Kraft sum of code lengths in units of 2^-max: 2^max is a complete code, more is over-subscribed. */
function kraft(lengths: readonly number[], max: number): number {
  let sum = 0;
  for (const length of lengths) if (length > 0) sum += 1 << (max - length);
  return sum;
}

/** Decodes one symbol of a canonical Huffman code (RFC 1951 3.2.2) bit by bit: small codes, few calls. */
function canonicalDecoder(lengths: readonly number[]): (bits: Bits) => number | undefined {
  const maxLength = Math.max(...lengths);
  const count = new Array<number>(maxLength + 1).fill(0);
  for (const l of lengths) if (l > 0) count[l]++;
  const symbols = lengths.map((l, symbol) => ({ l, symbol })).filter((e) => e.l > 0).sort((a, b) => a.l - b.l || a.symbol - b.symbol).map((e) => e.symbol);
  return (bits) => {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let length = 1; length <= maxLength; length++) {
      const b = bits.one();
      if (b === undefined) return undefined;
      code |= b;
      if (code - first < count[length]) return symbols[index + code - first];
      index += count[length];
      first = (first + count[length]) << 1;
      code <<= 1;
    }
    return undefined;
  };
}
