// The registry: one flat list of detectors (bulk_extractor's scanner list).
import type { Detector, DetectorId } from '../types.js';
import { pemDetector } from './pem.js';

export const detectors: readonly Detector[] = [pemDetector];

export function detectorsById(ids: readonly DetectorId[] | undefined): Detector[] {
  if (!ids) return [...detectors];
  return detectors.filter((d) => ids.includes(d.id));
}

/** The chunk margin must cover the longest match any enabled detector reports. */
export function requiredMarginInBytes(enabled: readonly Detector[]): number {
  return Math.max(0, ...enabled.map((d) => d.maxMatchLengthInBytes));
}
