// xz through xz-decompress (xz-embedded compiled to WebAssembly), pulled one output buffer
// (64 KiB) at a time. The package lets one xz stream decode at a time in the process (it
// serialises its decoder contexts), so an xz stream inside another xz stream cannot be decoded
// here: the walker reports that instead of waiting for itself.
import type { ByteReader } from './byte-reader.js';
import { DecodeError } from './limits.js';

/**
 * Loaded on the first xz stream: importing xz-decompress compiles its WebAssembly, which cost
 * 0.2 s of every scan's start-up (an SRE gate runs on many small files) when it was static.
 */
let decoder: Promise<{ XzReadableStream: typeof import('xz-decompress').XzReadableStream }> | undefined;
// A CommonJS package: its exports arrive as the default export of the ES namespace.
const xzDecompress = () => (decoder ??= import('xz-decompress').then((m) => m.default));

// xz-embedded's result codes (xz.h), as the package reports them: 'get_next_output failed with error code N'.
const XZ_ERRORS: Record<string, string> = {
  '2': 'unsupported integrity check',
  '3': 'out of memory',
  '4': 'memory limit reached (dictionary too large)',
  '5': 'not an xz stream',
  '6': 'unsupported options',
  '7': 'corrupt',
  '8': 'truncated',
};

export async function* unxz(input: ByteReader): AsyncGenerator<Uint8Array> {
  const start = input.position;
  // 64 KiB at a time (the decoder's input buffer): input.position stays close to what was decoded.
  const source = (async function* () {
    for (;;) {
      const piece = await input.read(64 * 1024);
      if (piece.length === 0) return;
      yield piece;
    }
  })();
  let pending: Promise<unknown> | undefined;
  let inputFailure: unknown;
  const compressed = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = source.next();
        pending = next;
        let result: IteratorResult<Uint8Array, void>;
        try {
          result = await next;
        } catch (error) {
          inputFailure = error;
          throw error;
        }
        if (result.done) controller.close();
        else controller.enqueue(result.value);
      },
      async cancel() {
        await pending?.catch(() => undefined);
        await source.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
  const { XzReadableStream } = await xzDecompress();
  const reader = new XzReadableStream(compressed).getReader();
  let settled = false;
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        settled = true;
        if (inputFailure !== undefined) throw inputFailure;
        const message = error instanceof Error ? error.message : String(error);
        const code = /error code (\d+)/.exec(message)?.[1];
        // The package fails with a TypeError when the input ends before the first byte of output.
        const reason = code ? XZ_ERRORS[code] ?? `error code ${code}` : error instanceof TypeError ? 'truncated' : message;
        throw new DecodeError('xz', `xz data ${reason} (after ${input.position - start} compressed bytes)`, input.position);
      }
      if (result.done) {
        settled = true;
        // xz-embedded decodes one stream; bytes after it (concatenated streams) would go unscanned.
        if (!(await input.atEnd())) {
          throw new DecodeError('xz', `xz data after the end of the first xz stream (concatenated streams are not supported) at compressed offset ${input.position - start}`, input.position);
        }
        return;
      }
      if (result.value.length > 0) yield result.value;
    }
  } finally {
    if (!settled) await reader.cancel().catch(() => undefined);
  }
}
