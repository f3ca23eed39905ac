// V8 heap snapshots (v8.writeHeapSnapshot, DevTools): JSON with top-level members "snapshot",
// "nodes", "edges", ..., "strings". Says which member holds a given file offset and, inside
// "strings", the index of the string element. One streaming pass over the file in bounded
// blocks, quote- and escape-aware, tracking only nesting depth (no JSON values are built);
// it stops as soon as every requested offset is passed. Garbage never throws: offsets the scan
// cannot place stay undescribed. I/O failures of `read` are rethrown (as ReadFailure).
import { Source, printable } from './bytes.js';
import type { ReadAt } from './layout.js';
import { usableOffsets, type OffsetDescription } from './hprof.js';

/** Read block size of the scan. */
export const V8_BLOCK_BYTES = 1024 * 1024;

/** Member names longer than this are cut (they label regions; V8's are all short). */
const MAX_KEY_CHARS = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/** Bytes that change the scanner's state outside strings: everything but JSON whitespace (shallow)... */
const SHALLOW = new Uint8Array(256).fill(1);
for (const c of [0x20, 0x0a, 0x0d, 0x09]) SHALLOW[c] = 0;
/** ...and, deeper inside a member's value, only quotes and brackets. */
const DEEP = new Uint8Array(256);
for (const c of '"[]{}') DEEP[c.charCodeAt(0)] = 1;

/**
 * Offsets are labelled lazily: `mark(pos, label)` says "from pos on, the label is `label`";
 * every offset before pos gets the label in force until then. The label in force may be
 * replaced before the next mark (a member's key is only known once it has been read).
 */
class Labeller {
  private k = 0;
  label: string | undefined;
  constructor(private readonly offsets: number[], private readonly out: Map<number, OffsetDescription>) {}

  get done(): boolean {
    return this.k >= this.offsets.length;
  }

  get next(): number {
    return this.offsets[this.k];
  }

  mark(pos: number, label: string | undefined): void {
    while (this.k < this.offsets.length && this.offsets[this.k] < pos) {
      const offset = this.offsets[this.k++];
      if (this.label !== undefined) this.out.set(offset, { region: this.label });
    }
    this.label = label;
  }
}

/**
 * For each offset: `strings[<index>]` when it lies in an element of the top-level "strings"
 * array (from its opening to its closing quote), else the name of the top-level member whose
 * key or value holds it (`nodes`, `edges`, `strings`, ...). Offsets outside every member stay
 * undescribed. No `address`.
 */
export async function describeV8SnapshotOffsets(read: ReadAt, fileSize: number, offsets: readonly number[]): Promise<Map<number, OffsetDescription>> {
  const out = new Map<number, OffsetDescription>();
  const sorted = usableOffsets(offsets, fileSize);
  if (sorted.length === 0) return out;
  const source = new Source(read, fileSize);
  const labels = new Labeller(sorted, out);

  // Scanner state, carried across blocks.
  let started = false; // saw the top-level '{'
  let depth = 0; // nesting depth; 1 = inside the top-level object
  let inString = false;
  let escaped = false;
  let expectKey = false; // at depth 1, the next string is a member name
  let inKey = false;
  let key = '';
  let member: string | undefined; // the member whose value is being read
  let inStrings = false; // inside the top-level "strings" array (depth 2)
  let expectElement = false; // in "strings": the next non-space byte starts an element
  let element = -1; // index of the current "strings" element
  let elementIsString = false;

  let pos = 0;
  const head = await source.bytes(0, 3);
  if (head.length === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) pos = 3;

  scan: while (pos < fileSize && !labels.done) {
    const block = await source.bytes(pos, V8_BLOCK_BYTES);
    if (block.length === 0) break;
    const base = pos;
    // Depth must be tracked through everything, so every byte up to the last offset is looked
    // at once; string bodies and number arrays are crossed with fast scans.
    const n = block.length;
    let nextBackslash = -1; // cached index of the next backslash in this block (n: none)
    let i = 0;
    while (i < n) {
      if (inString) {
        if (escaped) {
          escaped = false;
          if (inKey && key.length < MAX_KEY_CHARS) key += '?';
          i++;
          continue;
        }
        if (inKey) {
          const c = block[i];
          if (c === BACKSLASH) escaped = true;
          else if (c === QUOTE) {
            inString = false;
            inKey = false;
            member = printable(key);
            labels.label = member; // the key's bytes belong to its member
          } else if (key.length < MAX_KEY_CHARS) key += String.fromCharCode(c);
          i++;
          continue;
        }
        // A string body: jump to the next quote or backslash.
        if (nextBackslash < i) {
          nextBackslash = block.indexOf(BACKSLASH, i);
          if (nextBackslash < 0) nextBackslash = n;
        }
        let quote = block.indexOf(QUOTE, i);
        if (quote < 0) quote = n;
        if (nextBackslash < quote) {
          escaped = true;
          i = nextBackslash + 1;
          continue;
        }
        if (quote === n) break;
        inString = false;
        if (elementIsString && inStrings && depth === 2) {
          labels.mark(base + quote + 1, 'strings');
          elementIsString = false;
        }
        i = quote + 1;
        continue;
      }
      // Outside strings, only quotes and brackets matter deep inside values (and commas at the
      // top level or between "strings" elements): skip everything else.
      const table = depth === 1 || (inStrings && depth === 2) ? SHALLOW : DEEP;
      while (i < n && table[block[i]] === 0) i++;
      if (i === n) break;
      const c = block[i];
      const at = base + i;
      i++;
      if (!started) {
        if (c !== 0x7b) break scan; // not a JSON object
        started = true;
        depth = 1;
        expectKey = true;
        continue;
      }
      if (inStrings && depth === 2 && expectElement && c !== 0x5d) {
        expectElement = false;
        element++;
        if (c === QUOTE) {
          elementIsString = true;
          labels.mark(at, `strings[${element}]`);
        }
      }
      switch (c) {
        case QUOTE:
          inString = true;
          if (depth === 1 && expectKey) {
            expectKey = false;
            inKey = true;
            key = '';
            labels.mark(at, undefined);
          }
          break;
        case 0x7b: // {
        case 0x5b: // [
          depth++;
          if (depth === 2 && c === 0x5b && member === 'strings') {
            inStrings = true;
            expectElement = true;
            element = -1;
          }
          break;
        case 0x7d: // }
        case 0x5d: // ]
          depth--;
          if (depth === 1 && inStrings) inStrings = false;
          if (depth <= 0) {
            labels.mark(at, undefined); // the closing brace belongs to no member
            break scan;
          }
          break;
        case COMMA:
          if (depth === 1) {
            labels.mark(at, undefined);
            member = undefined;
            expectKey = true;
          } else if (inStrings && depth === 2) {
            expectElement = true;
          }
          break;
        default:
          break; // ':', numbers, literals
      }
    }
    pos = base + block.length;
  }
  // The file ends (or the scan stops) inside whatever was being read: a truncated snapshot's
  // last string element still holds its bytes.
  labels.mark(fileSize, undefined);
  return out;
}
