// gzip members and raw deflate (zip entries) through node:zlib, driven pull by pull: input is
// written in slices and each slice's output is handed on before the next is written; slices
// shrink as the data expands, so one slice's output stays near 4 MiB.
import { createGunzip, createInflateRaw, type Gunzip, type InflateRaw } from 'node:zlib';
import type { ByteReader } from './byte-reader.js';
import { DecodeError } from './limits.js';

/** Input is written in slices sized so that one slice's output stays near this (deflate expands at most ~1032:1). */
const OUTPUT_PER_SLICE_IN_BYTES = 4 * 1024 * 1024;
const MAX_SLICE_IN_BYTES = 64 * 1024;
const MIN_SLICE_IN_BYTES = 1024;
const OUTPUT_CHUNK_IN_BYTES = 64 * 1024;

export function gunzip(input: ByteReader): AsyncGenerator<Uint8Array> {
  return drive(createGunzip({ chunkSize: OUTPUT_CHUNK_IN_BYTES }), input, 'gzip');
}

export function inflateRaw(input: ByteReader): AsyncGenerator<Uint8Array> {
  return drive(createInflateRaw({ chunkSize: OUTPUT_CHUNK_IN_BYTES }), input, 'deflate');
}

async function* drive(z: Gunzip | InflateRaw, input: ByteReader, format: string): AsyncGenerator<Uint8Array> {
  const start = input.position;
  const out: Buffer[] = [];
  let failure: Error | undefined;
  let ended = false;
  let produced = 0;
  z.on('data', (piece: Buffer) => {
    produced += piece.length;
    out.push(piece);
  });
  z.on('error', (error: Error) => (failure ??= error));
  const endedPromise = new Promise<void>((resolve) => {
    z.once('end', () => ((ended = true), resolve()));
    z.once('close', () => resolve());
  });
  const fail = (error: Error): never => {
    const truncated = (error as { code?: string }).code === 'Z_BUF_ERROR';
    const what = truncated ? 'truncated' : 'corrupt';
    throw new DecodeError(format, `${format} data ${what}: ${error.message}`, start + z.bytesWritten);
  };
  try {
    for (;;) {
      // Read slice by slice, so input.position (the expansion ratio's denominator) is what zlib was given.
      const ratio = z.bytesWritten > 0 ? produced / z.bytesWritten : 1;
      const slice = await input.read(Math.max(MIN_SLICE_IN_BYTES, Math.min(MAX_SLICE_IN_BYTES, Math.floor(OUTPUT_PER_SLICE_IN_BYTES / Math.max(ratio, 1)))));
      if (slice.length === 0) break;
      await Promise.race([new Promise<void>((resolve) => z.write(slice, () => resolve())), endedPromise]);
      while (out.length > 0) yield out.shift()!;
      if (failure) fail(failure);
      if (ended) return;
    }
    z.end();
    await endedPromise;
    while (out.length > 0) yield out.shift()!;
    if (failure) fail(failure);
  } finally {
    z.destroy();
  }
}
