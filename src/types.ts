// Plain data at the boundaries: what flows from reader to workers to reporters.
import type { AnchorHits } from './detectors/anchors.js';
import type { EntropyProfile } from './entropy-profile.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

export type DetectorId = 'pem' | 'der' | 'windows-blob' | 'jwk' | 'openssh' | 'base64' | 'pgp' | 'entropy' | 'aes' | 'embedded' | 'raw';

export type KeyKind =
  | 'rsa-private-key'
  | 'ec-private-key'
  | 'ed25519-private-key'
  | 'ed448-private-key'
  | 'x25519-private-key'
  | 'x448-private-key'
  | 'dsa-private-key'
  | 'encrypted-private-key'
  | 'openssh-private-key'
  | 'pgp-private-key'
  | 'putty-private-key'
  | 'private-key'
  | 'pkcs12'
  | 'jwk-private-key'
  | 'jwk-symmetric-key'
  | 'high-entropy'
  | 'aes-key-schedule';

export type Encoding = 'binary' | 'ascii' | 'utf16le' | 'json-escaped' | 'base64'
  /** Raw integers (detector raw): big-endian, little-endian limbs, LE 32-bit words in big-endian order (src/raw/targets.ts). */
  | 'raw-be' | 'raw-le' | 'raw-words';

/** A slice of an input: `bytes` = body + margin; only matches starting in the body belong to it. */
export interface Chunk {
  readonly path: string;
  /** Absolute offset in the input of bytes[0]. */
  readonly offset: number;
  readonly bodyLength: number;
  readonly bytes: Uint8Array;
}

/**
 * What a detector reports, relative to the chunk. Everything here has already been
 * validated and redacted inside the worker: raw key bytes never leave it.
 */
export interface Match {
  readonly start: number;
  readonly length: number;
  readonly detector: DetectorId;
  readonly kind: KeyKind;
  readonly severity: Severity;
  readonly confidence: number;
  readonly encoding: Encoding;
  readonly evidence: string;
  readonly fingerprint?: string;
  readonly note?: string;
  /**
   * For matches without a fingerprint: a digest of the matched bytes (computed in the worker,
   * SHA-256, truncated), so a baseline can recognise the same encrypted or damaged key anywhere.
   */
  readonly contentId?: string;
  /** For a key inside a compressed stream embedded in the chunk (then `start`/`length` are the stream's): where inside, e.g. `GZIP-512`. */
  readonly inner?: string;
}

export interface Detector {
  readonly id: DetectorId;
  /** The longest match this detector can report; the chunk margin must be at least this. */
  readonly maxMatchLengthInBytes: number;
  /**
   * The fixed byte strings this detector finds its candidates by. The worker searches every
   * enabled detector's anchors in one blocked pass per chunk (src/detectors/anchors.ts) and
   * hands the hits to `scan`; a detector called without them searches its own.
   */
  readonly anchors?: readonly Buffer[];
  /**
   * Bytes before the chunk this detector reads (the entropy hint judges a run by its
   * surroundings on both sides); the chunker hands them over as `before` of `scan`.
   */
  readonly lookBehindInBytes?: number;
  /**
   * Pure: reports matches whose start is < bodyLength, reading on into the margin (and, with
   * `lookBehindInBytes`, back into `before`: the bytes just before bytes[0], empty at the
   * input's start). Never throws on garbage. `zeroPages`: [start, end) byte pairs, sorted, of
   * whole 4 KiB pages of `bytes` known to be all zeros (the anchor filter's page map); a word
   * pass may leave them out where zeros decide nothing. Absent when unknown.
   */
  scan(bytes: Uint8Array, bodyLength: number, anchors?: AnchorHits, before?: Uint8Array, zeroPages?: readonly number[]): Iterable<Match>;
}

/** The finding contract of DESIGN.md: every output format is built from this shape. */
export interface Finding {
  path: string;
  offset: number;
  length: number;
  detector: DetectorId;
  kind: KeyKind;
  severity: Severity;
  confidence: number;
  encoding: Encoding;
  fingerprint?: string;
  address?: string;
  region?: string;
  evidence: string;
  knownKey?: { id: string; source: string };
  inner?: string;
  note?: string;
  /** Identity for baselines and allowlists, not part of the reports: the fingerprint, else the content digest. */
  identity?: string;
}

export interface ScanError {
  path: string;
  /** Byte offset where the problem was met, when there is one. */
  offset?: number;
  message: string;
}

export interface Skipped {
  path: string;
  reason: string;
}

export interface FileSummary {
  path: string;
  /** Bytes read from the input (for a compressed container: its compressed bytes). */
  bytes: number;
  /** Bytes of the input every detector ran over: equal to `bytes` unless a range was skipped. */
  scannedBytes: number;
  /** Ranges of the input not scanned, with the reason (a worker or detector failure). */
  skippedRanges: Array<{ from: number; to: number; reason: string }>;
  findings: number;
  /** What the content says the file is: 'elf-core', 'minidump', ..., 'raw'. */
  format?: string;
  /** pid, command, os, cpu, ... as the dump's headers state them. */
  facts?: Record<string, string | number>;
  /** With --entropy-profile: block entropy histogram and down-sampled line (src/entropy-profile.ts). */
  entropy?: EntropyProfile;
}

export interface Summary {
  files: number;
  bytes: number;
  seconds: number;
  megabytesPerSecond: number;
  findingsBySeverity: Record<Severity, number>;
  skipped: Skipped[];
  warnings: Skipped[];
  errors: ScanError[];
  perFile: FileSummary[];
  peakRssBytes: number;
  interrupted: boolean;
  /** Findings the gate suppressed: already in the baseline, or allowlisted in the config (with its reason). */
  suppressed?: { baseline: number; allowlist: number };
  /** Baseline entries that matched nothing in this scan: stale, worth removing. */
  staleBaselineEntries?: string[];
}
