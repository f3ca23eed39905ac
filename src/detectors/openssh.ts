// OpenSSH private keys outside their armor: the binary `openssh-key-v1\0` container as an agent
// or a library holds it after decoding, and its base64 (`b3BlbnNzaC1rZXktdjE…`) in config
// strings and environment variables. Parsed and validated as in the armor (src/keys/openssh.ts).
import type { Detector, Encoding, Match } from '../types.js';
import { OPENSSH_MAGIC } from '../keys/openssh.js';
import { judgeOpenssh } from '../keys/verdict.js';
import { redactedBinaryEvidence, redactedEvidence } from '../report/redact.js';
import { decodeBase64Run, endOfEncodedBytes } from './base64-run.js';
import { anchorHits, hitsBelow } from './anchors.js';
import { asBuffer, narrowUtf16Window } from './text-views.js';

/** The largest container read: an RSA-16384 key with its public half is about 6 KiB. */
const maximumContainerBytes = 16 * 1024;
const maximumBase64Chars = Math.ceil((Math.ceil(maximumContainerBytes / 3) * 4 * 21) / 20); // 5% for line breaks

const BASE64_MAGIC = 'b3BlbnNzaC1rZXktdjE';
const needles = {
  binary: OPENSSH_MAGIC,
  base64: Buffer.from(BASE64_MAGIC, 'latin1'),
  base64Utf16: Buffer.from(BASE64_MAGIC, 'utf16le'),
};

function verdictOf(container: Uint8Array): ReturnType<typeof judgeOpenssh> | undefined {
  try {
    return judgeOpenssh(container);
  } catch {
    return undefined; // not a complete container: a HardLimitError or node:crypto refusing it
  }
}

function toMatch(start: number, length: number, encoding: Encoding, evidence: string, verdict: NonNullable<ReturnType<typeof verdictOf>>): Match {
  const { length: _containerLength, ...rest } = verdict;
  return { start, length, detector: 'openssh', encoding, evidence, ...rest };
}

/** The base64 form at `start` of narrow text; returns its length in characters. */
function base64Match(text: Uint8Array, start: number): { length: number; verdict: NonNullable<ReturnType<typeof verdictOf>>; chars: number } | undefined {
  const limit = Math.min(text.length, start + maximumBase64Chars);
  const run = decodeBase64Run(text, start, limit, maximumContainerBytes);
  const verdict = verdictOf(run.bytes);
  if (!verdict) return undefined;
  const end = endOfEncodedBytes(text, start, limit, verdict.length);
  return { length: end - start, verdict, chars: Math.ceil((verdict.length * 4) / 3) };
}

export const opensshDetector: Detector = {
  id: 'openssh',
  maxMatchLengthInBytes: 2 * maximumBase64Chars,
  anchors: Object.values(needles),
  *scan(bytes, bodyLength, shared) {
    const buffer = asBuffer(bytes);
    const hits = anchorHits(buffer, Object.values(needles), shared);
    for (const start of hitsBelow(hits, needles.binary, bodyLength)) {
      const verdict = verdictOf(buffer.subarray(start, Math.min(buffer.length, start + maximumContainerBytes)));
      if (verdict) yield toMatch(start, verdict.length, 'binary', redactedBinaryEvidence('openssh-key-v1 container', verdict.length), verdict);
    }
    for (const start of hitsBelow(hits, needles.base64, bodyLength)) {
      const found = base64Match(buffer, start);
      if (found) yield toMatch(start, found.length, 'base64', redactedEvidence('openssh-key-v1 base64', BASE64_MAGIC.padEnd(found.chars, '.')), found.verdict);
    }
    for (const start of hitsBelow(hits, needles.base64Utf16, bodyLength)) {
      const { text, origin } = narrowUtf16Window(buffer, start, 1, maximumBase64Chars);
      const found = base64Match(text, (start - origin) / 2);
      if (found) yield toMatch(start, 2 * found.length, 'utf16le', redactedEvidence('openssh-key-v1 base64', BASE64_MAGIC.padEnd(found.chars, '.')), found.verdict);
    }
  },
};
