// Library API.
export { scan, defaultChunkSizeInBytes, type ScanOptions, type ScanResult } from './scan.js';
export { detectors } from './detectors/index.js';
export { spkiFingerprint } from './keys/fingerprint.js';
export type * from './types.js';
