// DER private-key structures at any byte offset (PKCS#1, PKCS#8 v1/v2, SEC1, traditional DSA,
// EncryptedPrivateKeyInfo, PKCS#12). Header bytes alone are far too common to report, so a
// cheap anchor (the version INTEGER `02 01 vv`, or a PBE algorithm OID) picks candidates and
// every candidate is parsed as strict DER and checked by its mathematics (src/keys/der-keys.ts).
import type { Detector, Match } from '../types.js';
import { identifyDerKey } from '../keys/der-keys.js';
import { maximumDerLengthInBytes, readHeader } from '../keys/der-reader.js';
import { redactedBinaryEvidence } from '../report/redact.js';
import { anchorHits, bytesAt, hitsBelow } from './anchors.js';
import { asBuffer } from './text-views.js';

const versionAnchor = Buffer.from([0x02, 0x01]);
/** Versions that open key structures: 0 (PKCS#1, PKCS#8 v1, DSA), 1 (PKCS#8 v2, SEC1, multi-prime), 3 (PFX). */
const keyVersions = new Set([0, 1, 3]);
/** 1.2.840.113549.1.5.x (PBES1, PBES2) and 1.2.840.113549.1.12.1.x (PKCS#12 PBE), as OID TLVs. */
const pbeAnchors = [Buffer.from('06092a864886f70d0105', 'hex'), Buffer.from('060a2a864886f70d010c01', 'hex')];
/** Both PBE OIDs share the PKCS arc 1.2.840.113549.1: searched once, each OID checked around the hit. */
const pkcsArc = Buffer.from('2a864886f70d01', 'hex');
const arcOffsetInPbeAnchor = 2;
/** SEQUENCE header sizes: 30 LL, 30 81 LL, 30 82 LL LL, 30 83 LL LL LL. */
const headerSizes = [2, 3, 4, 5];

function sequenceHeaderAt(bytes: Uint8Array, at: number, size: number): boolean {
  if (at < 0 || bytes[at] !== 0x30) return false;
  const first = bytes[at + 1];
  return size === 2 ? first < 0x80 : first === 0x80 + size - 2;
}

export const derDetector: Detector = {
  id: 'der',
  maxMatchLengthInBytes: maximumDerLengthInBytes + 5,
  anchors: [versionAnchor, pkcsArc],
  *scan(bytes, bodyLength, shared) {
    const buffer = asBuffer(bytes);
    const hits = anchorHits(buffer, [versionAnchor, pkcsArc], shared);
    const tried = new Set<number>();
    // A structure inside a validated key (PKCS#1 inside PKCS#8) would be merged into it
    // anyway; skipping it here saves validating the same key twice.
    let validatedUntil = -1;
    const candidate = (start: number): Match | undefined => {
      if (start < 0 || start >= bodyLength || tried.has(start)) return undefined;
      // Skipped only when it lies wholly inside the validated key: one that starts inside but
      // runs past it is another structure (and merge would not fold it).
      if (start < validatedUntil) {
        const header = readHeader(buffer, start, buffer.length);
        if (!header || header.end <= validatedUntil) return undefined;
      }
      tried.add(start);
      const key = identifyDerKey(buffer, start, buffer.length);
      if (!key) return undefined;
      if (key.severity === 'high') validatedUntil = Math.max(validatedUntil, start + key.length);
      return {
        start,
        length: key.length,
        detector: 'der',
        kind: key.kind,
        severity: key.severity,
        confidence: key.confidence,
        encoding: 'binary',
        evidence: redactedBinaryEvidence(key.description, key.length),
        ...(key.fingerprint ? { fingerprint: key.fingerprint } : {}),
        ...(key.note ? { note: key.note } : {}),
      };
    };
    for (const p of hitsBelow(hits, versionAnchor, bodyLength + 5)) {
      if (!keyVersions.has(buffer[p + 2])) continue;
      for (const size of headerSizes) {
        if (!sequenceHeaderAt(buffer, p - size, size)) continue;
        const match = candidate(p - size);
        if (match) yield match;
      }
    }
    // EncryptedPrivateKeyInfo opens with its AlgorithmIdentifier, not a version.
    for (const anchor of pbeAnchors) {
      for (const arc of hitsBelow(hits, pkcsArc, bodyLength + 9 + arcOffsetInPbeAnchor)) {
        const p = arc - arcOffsetInPbeAnchor;
        if (p < 0 || !bytesAt(buffer, anchor, p)) continue;
        for (const inner of [2, 3]) {
          if (!sequenceHeaderAt(buffer, p - inner, inner)) continue;
          for (const outer of headerSizes) {
            if (!sequenceHeaderAt(buffer, p - inner - outer, outer)) continue;
            const match = candidate(p - inner - outer);
            if (match) yield match;
          }
        }
      }
    }
  },
};
