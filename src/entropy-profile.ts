// The per-file entropy profile of the JSON report (`summary.perFile[].entropy`): the entropy of
// every 4 KiB block of the file, as a histogram and as a line down-sampled to at most 1024
// points, so a reader can draw the dump's shape (zero pages at 0, text and code at 4 to 6,
// compressed or encrypted data and key pools near 8 bits/byte).
//
// Blocks are aligned to absolute file offsets (block k is bytes [4096·k, 4096·k + 4096), the
// last one shorter): a worker computes the blocks that START in its chunk's body, reading on
// into the margin (at least one block long when the profile is on), so every block is computed
// once, from the same bytes, whatever the chunk size and the number of workers. Values travel
// as integer millibits per byte, so sums and means are exact and do not depend on the order in
// which chunks come back.
//
// Down-sampling: point i is the mean of blocks [w·i, w·i + w), w the smallest power of two
// that gives at most 1024 points (so 513 to 1024 points for files over 4 MiB). w depends on
// the file's size alone, and the sums are kept per bucket of the current w, which doubles
// (merging pairs) as blocks beyond 1024·w arrive: memory stays 1024 buckets for any size,
// streams of unknown length included.
//
// Cost (bench/entropy-aes.mjs): the block entropies run at about 1 GB/s on the bench's dump-like
// data (zero blocks skipped by an OR of their words), a fifth to a third of a whole default scan
// per core, so the profile is computed only on request (`--entropy-profile`).
import { entropiesOfBlocks } from './detectors/entropy.js';

export const profileBlockSizeInBytes = 4096;
export const maximumProfilePoints = 1024;
/** Histogram bins of 0.5 bit/byte: [0, 0.5), [0.5, 1), ..., [7.5, 8]. */
export const histogramBinWidthInBits = 0.5;
const bins = 16;

/** What a worker returns for its chunk: block entropies in millibits/byte, from block `firstBlock` on. */
export interface ChunkEntropy {
  firstBlock: number;
  millibits: Uint16Array;
}

export interface EntropyProfile {
  blockSizeInBytes: number;
  /** Blocks in the file (the last one may be shorter than blockSizeInBytes). */
  blocks: number;
  /** Blocks per entropy bin: counts[i] = blocks with entropy in [0.5·i, 0.5·i + 0.5) bits/byte (the last bin includes 8). */
  histogram: { binWidthInBits: number; counts: number[] };
  /** Consecutive blocks per point (a power of two). */
  blocksPerPoint: number;
  /** Mean entropy (bits/byte, 3 decimals) of each run of blocksPerPoint blocks, in file order; at most 1024. */
  points: number[];
}

/**
 * Worker side: the entropies of the blocks starting in bytes[0..bodyLength), for a chunk at
 * absolute offset `offset`. bytes must reach one block past the body (or the input's end).
 */
export function chunkEntropy(bytes: Uint8Array, bodyLength: number, offset: number): ChunkEntropy {
  const size = profileBlockSizeInBytes;
  const firstBlock = Math.ceil(offset / size);
  const firstStart = firstBlock * size - offset;
  const values = entropiesOfBlocks(bytes, firstStart, bodyLength, bytes.length, size);
  const millibits = new Uint16Array(values.length);
  for (let k = 0; k < values.length; k++) millibits[k] = Math.round(1000 * values[k]);
  return { firstBlock, millibits };
}

/** Main-thread side: a file's chunks in any order, then the profile. */
export class EntropyProfileBuilder {
  private readonly counts = new Array<number>(bins).fill(0);
  private sums = new Float64Array(maximumProfilePoints);
  private blocksIn = new Uint32Array(maximumProfilePoints);
  private width = 1;
  private blocks = 0;

  add(chunk: ChunkEntropy): void {
    const { firstBlock, millibits } = chunk;
    if (millibits.length === 0) return;
    this.blocks = Math.max(this.blocks, firstBlock + millibits.length);
    while (Math.ceil(this.blocks / this.width) > maximumProfilePoints) this.widen();
    for (let k = 0; k < millibits.length; k++) {
      const m = millibits[k];
      this.counts[Math.min(bins - 1, Math.floor(m / (1000 * histogramBinWidthInBits)))]++;
      const bucket = Math.floor((firstBlock + k) / this.width);
      this.sums[bucket] += m;
      this.blocksIn[bucket]++;
    }
  }

  /** Doubles the bucket width: bucket i of the new width is buckets 2i and 2i+1 of the old. */
  private widen(): void {
    const sums = new Float64Array(maximumProfilePoints), blocksIn = new Uint32Array(maximumProfilePoints);
    for (let i = 0; i < maximumProfilePoints; i++) {
      sums[i >> 1] += this.sums[i];
      blocksIn[i >> 1] += this.blocksIn[i];
    }
    this.sums = sums;
    this.blocksIn = blocksIn;
    this.width *= 2;
  }

  /** The profile, or undefined when no block was seen. */
  finish(): EntropyProfile | undefined {
    if (this.blocks === 0) return undefined;
    const points: number[] = [];
    for (let i = 0; i < Math.ceil(this.blocks / this.width); i++) points.push(this.blocksIn[i] ? Math.round(this.sums[i] / this.blocksIn[i]) / 1000 : 0);
    return {
      blockSizeInBytes: profileBlockSizeInBytes,
      blocks: this.blocks,
      histogram: { binWidthInBits: histogramBinWidthInBits, counts: [...this.counts] },
      blocksPerPoint: this.width,
      points,
    };
  }
}
