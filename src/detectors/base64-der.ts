// DER private keys written as base64 or base64url without armor: in environment variables,
// config strings, secrets managers' payloads. A key's DER opens with a SEQUENCE header and its
// version, which base64 spells in a few fixed ways ("MII…", "MIG?AgE", "M??CAQ"); those anchor
// a decode, and the decoded bytes go through the same strict DER validation as binary keys.
import type { Detector, Encoding, Match } from '../types.js';
import { identifyDerKey } from '../keys/der-keys.js';
import { redactedEvidence } from '../report/redact.js';
import { decodeBase64Run, endOfEncodedBytes } from './base64-run.js';
import { anchorHits } from './anchors.js';
import { asBuffer, narrowUtf16Window } from './text-views.js';

/** Keys are under 16 KiB; their base64 with line breaks stays under this many characters. */
const maximumDerBytes = 16 * 1024;
const maximumBase64Chars = 23 * 1024;

/** Where the run starts relative to each anchor: "MI" (of "MII"/"MIG") opens it; "CAQ" sits 3 characters in. */
const anchors = [
  { text: 'MI', back: 0 },
  { text: 'CAQ', back: 3 },
];

const needles = anchors.flatMap((a) => [
  { ...a, needle: Buffer.from(a.text, 'latin1'), encoding: 'base64' as Encoding },
  { ...a, needle: Buffer.from(a.text, 'utf16le'), encoding: 'utf16le' as Encoding },
]);

/** Bytes of the whole SEQUENCE whose first 6 bytes are `head`, when that is a key-sized DER header. */
function derLengthFromHead(head: Uint8Array): number | undefined {
  if (head.length < 6 || head[0] !== 0x30) return undefined;
  const first = head[1];
  let total: number;
  if (first < 0x80) total = 2 + first;
  else if (first === 0x81) total = 3 + head[2];
  else if (first === 0x82) total = 4 + ((head[2] << 8) | head[3]);
  else return undefined;
  return total <= maximumDerBytes ? total : undefined;
}

/** Characters of base64 that hold `bytes` bytes, with room for line breaks. */
const charsFor = (bytes: number) => Math.ceil((Math.ceil(bytes / 3) * 4 * 21) / 20) + 8;

/** A key whose base64 starts at `start` of narrow text; length in characters. */
function keyAt(text: Uint8Array, start: number): { length: number; match: Omit<Match, 'start' | 'length' | 'encoding'> } | undefined {
  // No "must start a run" rule: what precedes the key is not in every chunk (a chunk may start
  // at its first character), and one stray base64 character in front must not hide a key.
  if (start < 0 || text[start] !== 0x4d /* M */) return undefined;
  // "MII"/"MIG" (long-form lengths) or "M" + a short-form length digit + 2 chars + "CAQ".
  const second = text[start + 1];
  if (second === 0x49 ? text[start + 2] !== 0x49 && text[start + 2] !== 0x47 : text[start + 3] !== 0x43) return undefined;
  const limit = Math.min(text.length, start + maximumBase64Chars);
  const total = derLengthFromHead(decodeBase64Run(text, start, limit, 6).bytes);
  if (total === undefined) return undefined;
  // Decode only what the SEQUENCE header declares: random base64 that happens to read "MII…"
  // declares lengths past any key and stops here.
  const run = decodeBase64Run(text, start, limit, total);
  const key = identifyDerKey(run.bytes, 0, run.bytes.length);
  if (!key) return undefined;
  const end = endOfEncodedBytes(text, start, limit, key.length);
  const chars = Buffer.from(text.buffer, text.byteOffset + start, end - start).toString('latin1').replace(/[^A-Za-z0-9+/=_-]/g, '');
  return {
    length: end - start,
    match: {
      detector: 'base64',
      kind: key.kind,
      severity: key.severity,
      confidence: key.confidence,
      evidence: redactedEvidence(`base64 ${key.description}:`, chars),
      ...(key.fingerprint ? { fingerprint: key.fingerprint } : {}),
      ...(key.note ? { note: key.note } : {}),
    },
  };
}

export const base64DerDetector: Detector = {
  id: 'base64',
  maxMatchLengthInBytes: 2 * maximumBase64Chars,
  anchors: needles.map((n) => n.needle),
  *scan(bytes, bodyLength, shared) {
    const buffer = asBuffer(bytes);
    const hits = anchorHits(buffer, needles.map((n) => n.needle), shared);
    const seen = new Set<number>();
    // A key found inside another's base64 (SEC1 inside PKCS#8, when its offset falls on a
    // character boundary) is the same key: merge would fold it; skip decoding it twice.
    const found: Array<[number, number]> = [];
    const inside = (at: number) => found.some(([s, e]) => s <= at && at < e);
    for (const { needle, back, encoding } of needles) {
      const unit = encoding === 'utf16le' ? 2 : 1;
      for (const at of hits.get(needle) ?? []) {
        if (at - back * unit >= bodyLength) break;
        const start = at - back * unit;
        if (start < 0 || seen.has(start) || inside(start)) continue;
        let key;
        if (unit === 1) key = keyAt(buffer, start);
        else {
          // Narrow a few characters first; the whole window only for a key-sized DER header.
          const head = narrowUtf16Window(buffer, start, 0, 8);
          const total = derLengthFromHead(decodeBase64Run(head.text, 0, head.text.length, 6).bytes);
          if (total === undefined) continue;
          const { text, origin } = narrowUtf16Window(buffer, start, 0, Math.min(maximumBase64Chars, charsFor(total)));
          key = keyAt(text, (start - origin) / 2);
        }
        if (!key) continue;
        seen.add(start);
        found.push([start, start + unit * key.length]);
        yield { start, length: unit * key.length, encoding, ...key.match };
      }
    }
  },
};
