// The raw detector: private keys in a crypto library's own memory form (RSA primes, EC
// scalars, Ed25519/X25519 keys as raw integers), found through their public keys and
// confirmed by mathematics. Its per-chunk part only collects public keys (src/raw/collect.ts,
// called by the worker beside the detectors); the search itself is a second pass over the
// file (src/raw/search.ts). So `scan` reports nothing: the entry is here so that `--detectors`
// and the config can turn the raw search on and off like any detector.
import { publicStructureMarginInBytes, RAW_ANCHORS } from '../raw/collect.js';
import type { Detector } from '../types.js';

export const rawDetector: Detector = {
  id: 'raw',
  maxMatchLengthInBytes: publicStructureMarginInBytes,
  anchors: RAW_ANCHORS,
  scan: () => [],
};
