// A strict DER reader (X.690 §10): definite lengths in their shortest form, INTEGERs as real
// encoders write them, children that fill their parent exactly, bounded depth and size. It
// never throws: anything that is not strict DER is `undefined`, which is how garbage in a
// dump stays quiet.

export const enum Tag {
  Integer = 0x02,
  BitString = 0x03,
  OctetString = 0x04,
  Null = 0x05,
  Oid = 0x06,
  Sequence = 0x30,
  Set = 0x31,
  Context0 = 0xa0,
  Context1 = 0xa1,
}

export interface Node {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the content. */
  end: number;
  /** For constructed tags (SEQUENCE, SET, [n] constructed): the children, exactly filling the content. */
  children?: Node[];
}

/** The largest structure the detectors parse: a PKCS#12 with a certificate chain stays under it. */
export const maximumDerLengthInBytes = 60 * 1024;
const maximumDepth = 10;
const maximumNodes = 4096;

/** Reads one TLV header at `at`; undefined unless it is strict DER and fits before `limit`. */
export function readHeader(bytes: Uint8Array, at: number, limit: number): { tag: number; contentStart: number; end: number } | undefined {
  if (at + 2 > limit) return undefined;
  const tag = bytes[at];
  if ((tag & 0x1f) === 0x1f) return undefined; // high tag numbers do not occur in key structures
  const first = bytes[at + 1];
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = at + 2;
  } else {
    const count = first & 0x7f;
    if (count === 0 || count > 3 || at + 2 + count > limit) return undefined; // indefinite, or over 16 MiB
    length = 0;
    for (let k = 0; k < count; k++) length = length * 256 + bytes[at + 2 + k];
    if (bytes[at + 2] === 0 || length < 0x80) return undefined; // not the shortest form
    contentStart = at + 2 + count;
  }
  const end = contentStart + length;
  if (length > maximumDerLengthInBytes || end > limit) return undefined;
  return { tag, contentStart, end };
}

/**
 * Parses the whole tree of the element at `at`, reading nothing past `limit`.
 * Constructed universal and context tags are descended; OCTET STRINGs are left opaque.
 */
export function readTree(bytes: Uint8Array, at: number, limit: number): Node | undefined {
  const budget = { nodes: 0 };
  return readNode(bytes, at, limit, 0, budget);
}

function readNode(bytes: Uint8Array, at: number, limit: number, depth: number, budget: { nodes: number }): Node | undefined {
  if (depth > maximumDepth || ++budget.nodes > maximumNodes) return undefined;
  const header = readHeader(bytes, at, limit);
  if (!header) return undefined;
  const { tag, contentStart, end } = header;
  if (tag === Tag.Integer && !integerIsMinimal(bytes, contentStart, end)) return undefined;
  if (!(tag & 0x20)) return { tag, start: at, contentStart, end };
  const children: Node[] = [];
  for (let p = contentStart; p < end; ) {
    const child = readNode(bytes, p, end, depth + 1, budget);
    if (!child) return undefined;
    children.push(child);
    p = child.end;
  }
  return { tag, start: at, contentStart, end, children };
}

function integerIsMinimal(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start < 1) return false;
  if (end - start === 1) return true;
  const a = bytes[start];
  const b = bytes[start + 1];
  return !((a === 0x00 && b < 0x80) || (a === 0xff && b >= 0x80));
}

/** The value of a non-negative INTEGER, or undefined when negative or not an INTEGER. */
export function unsignedInteger(bytes: Uint8Array, node: Node | undefined): bigint | undefined {
  if (!node || node.tag !== Tag.Integer) return undefined;
  if (bytes[node.contentStart] & 0x80) return undefined;
  let hex = '';
  for (let i = node.contentStart; i < node.end; i++) hex += HEX[bytes[i]];
  return BigInt('0x' + hex);
}

/** A small INTEGER (version fields), or undefined. */
export function smallInteger(bytes: Uint8Array, node: Node | undefined): number | undefined {
  if (!node || node.tag !== Tag.Integer || node.end - node.contentStart > 4) return undefined;
  const value = unsignedInteger(bytes, node);
  return value === undefined ? undefined : Number(value);
}

/** Dotted form of an OBJECT IDENTIFIER, or undefined. */
export function oid(bytes: Uint8Array, node: Node | undefined): string | undefined {
  if (!node || node.tag !== Tag.Oid || node.end - node.contentStart < 1 || node.end - node.contentStart > 32) return undefined;
  const arcs: number[] = [];
  let value = 0;
  for (let i = node.contentStart; i < node.end; i++) {
    const b = bytes[i];
    if (value === 0 && b === 0x80) return undefined; // non-minimal arc
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(value);
      value = 0;
    } else if (i === node.end - 1) return undefined;
  }
  const first = arcs[0] < 40 ? 0 : arcs[0] < 80 ? 1 : 2;
  return [first, arcs[0] - first * 40, ...arcs.slice(1)].join('.');
}

export function content(bytes: Uint8Array, node: Node): Uint8Array {
  return bytes.subarray(node.contentStart, node.end);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
