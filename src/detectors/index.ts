// The registry: one flat list of detectors (bulk_extractor's scanner list).
import type { Detector, DetectorId } from '../types.js';
import { aesDetector } from './aes.js';
import { base64DerDetector } from './base64-der.js';
import { entropyDetector } from './entropy.js';
import { derDetector } from './der.js';
import { createEmbeddedStreamsDetector } from './embedded-streams.js';
import { jwkDetector } from './jwk.js';
import { opensshDetector } from './openssh.js';
import { pgpDetector } from './pgp.js';
import { pemDetector } from './pem.js';
import { rawDetector } from './raw-keys.js';
import { windowsBlobDetector } from './windows-blob.js';

/** Outside the worker (tests, the library) it runs the default detectors on what it decompresses; the worker binds it to the enabled ones. */
const embeddedStreamsDetector = createEmbeddedStreamsDetector(() => detectorsById(undefined));

export const detectors: readonly Detector[] = [pemDetector, derDetector, windowsBlobDetector, jwkDetector, opensshDetector, base64DerDetector, pgpDetector, embeddedStreamsDetector, rawDetector, aesDetector, entropyDetector];

/**
 * Off unless asked for by name: AES key schedules (every OpenSSL process holds its random
 * generator's own AES keys, which would fail a gate on every dump), the entropy hint
 * (informational `low` findings, never a gate on their own, and a cost on every byte) and
 * embedded gzip/zlib streams (measured +22% CPU on the bench's dump-like file, over the 10% a
 * default detector may cost: five more anchors, four of them opening on the same byte).
 * `--detectors default,embedded` adds one to the default set.
 */
export const OPT_IN_DETECTORS: readonly DetectorId[] = ['aes', 'entropy', 'embedded'];

/** The default set: every detector not opt-in. */
export const DEFAULT_DETECTORS: readonly DetectorId[] = detectors.filter((d) => !OPT_IN_DETECTORS.includes(d.id)).map((d) => d.id);

export function detectorsById(ids: readonly DetectorId[] | undefined): Detector[] {
  if (!ids) return detectors.filter((d) => !OPT_IN_DETECTORS.includes(d.id));
  return detectors.filter((d) => ids.includes(d.id));
}

/** The enabled detectors as a worker runs them: the embedded-stream detector runs the other enabled ones on what it decompresses. */
export function runnableDetectors(ids: readonly DetectorId[] | undefined): Detector[] {
  const enabled = detectorsById(ids);
  if (!enabled.some((d) => d.id === 'embedded')) return enabled;
  const others = enabled.filter((d) => d.id !== 'embedded');
  return enabled.map((d) => (d.id === 'embedded' ? createEmbeddedStreamsDetector(others) : d));
}

/** The chunk margin must cover the longest match any enabled detector reports. */
export function requiredMarginInBytes(enabled: readonly Detector[]): number {
  return Math.max(0, ...enabled.map((d) => d.maxMatchLengthInBytes));
}
