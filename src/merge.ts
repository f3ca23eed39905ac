// Merging a file's findings: sorted by offset, and a structure found inside another that is at
// least as severe (a PKCS#1 key inside its PKCS#8 wrapper, the base64 body inside a PEM armor)
// is one finding, the outer one. Done
// on the whole file's findings, not per chunk, so it does not depend on where chunks fall.
import type { Finding } from './types.js';
import { SEVERITIES } from './types.js';

const rank = (f: Finding) => SEVERITIES.length - SEVERITIES.indexOf(f.severity);

export function mergeFileFindings(findings: Finding[]): Finding[] {
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

function byOffset(a: Finding, b: Finding): number {
  return a.offset - b.offset || b.length - a.length || (a.detector < b.detector ? -1 : a.detector > b.detector ? 1 : 0);
}
