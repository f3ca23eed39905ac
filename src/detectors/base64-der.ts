// DER private keys written as base64 or base64url without armor: in environment variables,
// config strings, secrets managers' payloads. A key's DER opens with a SEQUENCE header and its
// version, which base64 spells in a few fixed ways ("MII…", "MIG?AgE", "M??CAQ"); those anchor
// a decode, and the decoded bytes go through the same strict DER validation as binary keys.
import type { Detector, Encoding, Match } from '../types.js';
import { identifyDerKey } from '../keys/der-keys.js';
import { redactedEvidence } from '../report/redact.js';
import { decodeBase64Run, endOfEncodedBytes, startsBase64Run } from './base64-run.js';
import { asBuffer, ChunkText, indexesOfInText, narrowUtf16Window } from './text-views.js';

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

/** A key whose base64 starts at `start` of narrow text; length in characters. */
function keyAt(text: Uint8Array, start: number): { length: number; match: Omit<Match, 'start' | 'length' | 'encoding'> } | undefined {
  if (start < 0 || text[start] !== 0x4d /* M */ || !startsBase64Run(text, start)) return undefined;
  // "MII"/"MIG" (long-form lengths) or "M" + a short-form length digit + 2 chars + "CAQ".
  const second = text[start + 1];
  if (second === 0x49 ? text[start + 2] !== 0x49 && text[start + 2] !== 0x47 : text[start + 3] !== 0x43) return undefined;
  const limit = Math.min(text.length, start + maximumBase64Chars);
  const head = decodeBase64Run(text, start, limit, 6).bytes;
  if (head.length < 6 || head[0] !== 0x30) return undefined;
  const run = decodeBase64Run(text, start, limit, maximumDerBytes);
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
  *scan(bytes, bodyLength, shared) {
    const buffer = asBuffer(bytes);
    const text = shared ?? new ChunkText(bytes);
    const seen = new Set<number>();
    for (const { needle, back, encoding } of needles) {
      const unit = encoding === 'utf16le' ? 2 : 1;
      for (const at of indexesOfInText(buffer, needle, bodyLength + back * unit, text, encoding === 'utf16le' ? 'utf16le' : 'ascii')) {
        const start = at - back * unit;
        if (start < 0 || seen.has(start)) continue;
        let found;
        if (unit === 1) found = keyAt(buffer, start);
        else {
          const { text, origin } = narrowUtf16Window(buffer, start, 1, maximumBase64Chars);
          found = keyAt(text, (start - origin) / 2);
        }
        if (!found) continue;
        seen.add(start);
        yield { start, length: unit * found.length, encoding, ...found.match };
      }
    }
  },
};
