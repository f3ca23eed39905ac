// Limits against decompression bombs and hostile containers, and the errors that stop a stream.

/** A stream (or archive entry) stops after this many decompressed bytes (--max-decompressed-size). */
export const DEFAULT_MAX_DECOMPRESSED_SIZE_IN_BYTES = 64 * 1024 ** 3;
/**
 * A stream stops when its decompressed bytes exceed this many times its compressed bytes
 * (--max-expansion-ratio); so does a file whose decompressed bytes, all streams and entries
 * together, exceed this many times its size (overlapping zip entries). Sparse core dumps
 * compress well (zero pages): 1000:1 leaves them room; deflate cannot exceed ~1032:1.
 */
export const DEFAULT_MAX_EXPANSION_RATIO = 1000;
/** The ratio applies once a stream (or file) has produced this much: small inputs may expand freely. */
export const EXPANSION_RATIO_GRACE_IN_BYTES = 64 * 1024 * 1024;
/** Containers inside containers: a .tar.gz is 2, a zip of .zst files is 2. Deeper ones are scanned raw and reported. */
export const MAX_CONTAINER_DEPTH = 4;
/** The largest zstd window accepted (the reference decoder's default limit, windowLogMax 27). */
export const MAX_ZSTD_WINDOW_IN_BYTES = 128 * 1024 * 1024;

export interface ContainerLimits {
  maxDecompressedSizeInBytes: number;
  maxExpansionRatio: number;
  maxDepth: number;
}

export const DEFAULT_CONTAINER_LIMITS: ContainerLimits = {
  maxDecompressedSizeInBytes: DEFAULT_MAX_DECOMPRESSED_SIZE_IN_BYTES,
  maxExpansionRatio: DEFAULT_MAX_EXPANSION_RATIO,
  maxDepth: MAX_CONTAINER_DEPTH,
};

/**
 * Compressed data that does not decode: corrupt, truncated, or a feature this decoder lacks.
 * `at` is how far the decoder's input was consumed when it stopped, relative to the stream start.
 */
export class DecodeError extends Error {
  /** The stream whose decoder failed (set as the error leaves that decoder). */
  owner?: object;
  constructor(readonly format: string, message: string, readonly at?: number) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** A limit stopped a stream (or a whole file) before its end. */
export class LimitStop extends Error {
  constructor(readonly owner: object, message: string) {
    super(message);
    this.name = 'LimitStop';
  }
}
