// What the raw-key tests compare: a finding's identity fields (no evidence, no note), and the
// bytes of a stream delivered in odd-sized pieces, as a pipe would.
import { Readable } from 'node:stream';

export interface Found {
  offset: number;
  length: number;
  detector: string;
  kind: string;
  encoding: string;
  severity: string;
  fingerprint?: string;
  inner?: string;
}

/** The raw detector's findings, reduced to what identifies them. */
export const rawOf = (findings: readonly Found[]) =>
  findings
    .filter((f) => f.detector === 'raw')
    .map((f) => ({ offset: f.offset, length: f.length, detector: f.detector, kind: f.kind, encoding: f.encoding, severity: f.severity, fingerprint: f.fingerprint, ...(f.inner !== undefined ? { inner: f.inner } : {}) }));

/** The bytes as a stream of odd-sized pieces (a pipe delivers whatever it has). */
export function piecesOf(bytes: Buffer, piece = 65_537): Readable {
  return Readable.from((function* () {
    for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece);
  })());
}
