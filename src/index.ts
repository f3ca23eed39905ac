// Library API.
export { scan, defaultChunkSizeInBytes, type ScanOptions, type ScanResult, type ScanRun } from './scan.js';
export { loadInventory, type Inventory, type KnownKey } from './keys/inventory.js';
export { readBaseline, writeBaseline } from './gate.js';
export { detectors } from './detectors/index.js';
export { spkiFingerprint } from './keys/fingerprint.js';
export type * from './types.js';
