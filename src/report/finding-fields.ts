import type { Finding } from '../types.js';

/** The finding contract's field names, in the order DESIGN.md lists them. */
export const FINDING_FIELDS = [
  'path', 'offset', 'length', 'detector', 'kind', 'severity', 'confidence', 'encoding',
  'fingerprint', 'address', 'region', 'evidence', 'knownKey', 'inner', 'note',
] as const satisfies ReadonlyArray<keyof Finding>;

/** A finding with its fields in contract order and absent optional fields left out. */
export function orderedFinding(finding: Finding): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of FINDING_FIELDS) if (finding[field] !== undefined) out[field] = finding[field];
  return out;
}
