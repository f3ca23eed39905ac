// Merging a file's findings: sorted by offset, and a structure found inside another that is at
// least as severe (a PKCS#1 key inside its PKCS#8 wrapper, the base64 body inside a PEM armor)
// is one finding, the outer one. Done
// on the whole file's findings, not per chunk, so it does not depend on where chunks fall.
import type { Finding } from './types.js';
import { SEVERITIES } from './types.js';

const rank = (f: Finding) => SEVERITIES.length - SEVERITIES.indexOf(f.severity);

export function mergeFileFindings(findings: Finding[]): Finding[] {
  // Keys inside embedded compressed streams (`inner`) were folded on their decompressed positions
  // by their detector, and all share their stream's offset and length: they fold into nothing here.
  const embedded = findings.filter((f) => f.inner !== undefined);
  if (embedded.length > 0) return [...mergeFileFindings(findings.filter((f) => f.inner === undefined)), ...withoutPlainCopies(embedded, findings)].sort(byOffset);
  const sorted = [...findings].sort(byOffset);
  const kept: Finding[] = [];
  // Outer candidates: sorted by start, longest first at equal start, so containers come first.
  for (const finding of sorted) {
    const container = kept.find(
      (outer) => outer !== finding && outer.offset <= finding.offset &&
        outer.offset + outer.length >= finding.offset + finding.length && rank(outer) >= rank(finding),
    );
    if (!container) kept.push(finding);
  }
  return kept;
}

/** A key readable as it is inside its stream (a stored deflate block) is the plain finding, not a second one. */
function withoutPlainCopies(embedded: Finding[], all: Finding[]): Finding[] {
  return embedded.filter((e) => !all.some((p) => p.inner === undefined && p.identity !== undefined && p.identity === e.identity && p.offset >= e.offset && p.offset < e.offset + e.length));
}

function byOffset(a: Finding, b: Finding): number {
  return a.offset - b.offset || b.length - a.length || (a.detector < b.detector ? -1 : a.detector > b.detector ? 1 : 0);
}
