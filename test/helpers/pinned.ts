import { pinChunkBuffer, unpinChunkBuffer } from '../../src/detectors/anchor-filter.js';

/** Runs `use` on a chunk buffer pinned in the SIMD module's memory, as a worker reads into it, and unpins it after. */
export function withPinnedChunk<T>(length: number, use: (view: Uint8Array) => T): T {
  const view = pinChunkBuffer(length);
  if (!view) throw new Error('no chunk buffer in the SIMD module (not built, or no WebAssembly SIMD)');
  try {
    return use(view);
  } finally {
    unpinChunkBuffer();
  }
}
