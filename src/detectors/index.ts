// The registry: one flat list of detectors (bulk_extractor's scanner list).
import type { Detector, DetectorId } from '../types.js';
import { base64DerDetector } from './base64-der.js';
import { derDetector } from './der.js';
import { jwkDetector } from './jwk.js';
import { opensshDetector } from './openssh.js';
import { pgpDetector } from './pgp.js';
import { pemDetector } from './pem.js';
import { windowsBlobDetector } from './windows-blob.js';

export const detectors: readonly Detector[] = [pemDetector, derDetector, windowsBlobDetector, jwkDetector, opensshDetector, base64DerDetector, pgpDetector];

export function detectorsById(ids: readonly DetectorId[] | undefined): Detector[] {
  if (!ids) return [...detectors];
  return detectors.filter((d) => ids.includes(d.id));
}

/** The chunk margin must cover the longest match any enabled detector reports. */
export function requiredMarginInBytes(enabled: readonly Detector[]): number {
  return Math.max(0, ...enabled.map((d) => d.maxMatchLengthInBytes));
}
