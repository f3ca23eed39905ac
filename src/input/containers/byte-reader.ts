// Pull-based reading of a byte stream given as pieces: exact reads for headers, and sub-streams
// of a known length for the bodies. Nothing is read ahead beyond what a caller asked for, so the
// pipeline of decoders stays backpressured and memory stays bounded. Pieces must not be reused
// by their producer after they were handed on (every producer here allocates fresh ones).

export class ByteReader {
  private readonly pieces: Uint8Array[] = [];
  private buffered = 0;
  private ended = false;
  /** Bytes consumed so far (read, skipped or taken). */
  position = 0;
  private readonly iterator: AsyncIterator<Uint8Array>;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Pulls one more piece; false at the end of the stream. */
  private async more(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.iterator.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    if (next.value.length > 0) {
      this.pieces.push(next.value);
      this.buffered += next.value.length;
    }
    return true;
  }

  /** Buffers at least n bytes, or all that is left; returns how many are buffered (at most n). */
  async fill(n: number): Promise<number> {
    while (this.buffered < n && (await this.more()));
    return Math.min(n, this.buffered);
  }

  /** True when nothing is buffered and the stream has ended. */
  async atEnd(): Promise<boolean> {
    return (await this.fill(1)) === 0;
  }

  /** The next min(n, buffered) bytes without consuming them (call fill first). */
  peek(n: number): Uint8Array {
    const want = Math.min(n, this.buffered);
    if (this.pieces.length > 0 && this.pieces[0].length >= want) return this.pieces[0].subarray(0, want);
    const out = new Uint8Array(want);
    let filled = 0;
    for (const piece of this.pieces) {
      if (filled === want) break;
      const n2 = Math.min(piece.length, want - filled);
      out.set(piece.subarray(0, n2), filled);
      filled += n2;
    }
    return out;
  }

  /** Consumes exactly n bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Uint8Array> {
    const have = await this.fill(n);
    const out = this.peek(have);
    this.drop(have);
    return out;
  }

  /** Skips n bytes (fewer at the end of the stream); returns how many were skipped. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n) {
      if (this.buffered === 0 && !(await this.more())) break;
      const k = Math.min(this.buffered, n - skipped);
      this.drop(k);
      skipped += k;
    }
    return skipped;
  }

  /** The next n bytes (fewer at the end of the stream) as pieces, consumed as they are pulled. */
  async *take(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.more())) return;
      const piece = this.pieces[0];
      const k = Math.min(piece.length, left);
      const out = piece.subarray(0, k);
      this.drop(k);
      left -= k;
      yield out;
    }
  }

  /** Everything that is left, as pieces. */
  async *rest(): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.buffered === 0 && !(await this.more())) return;
      const piece = this.pieces[0];
      this.drop(piece.length);
      yield piece;
    }
  }

  /** Stops the source (its producers' finally blocks run). */
  async close(): Promise<void> {
    this.pieces.length = 0;
    this.buffered = 0;
    if (!this.ended) {
      this.ended = true;
      await this.iterator.return?.();
    }
  }

  private drop(n: number): void {
    this.position += n;
    this.buffered -= n;
    while (n > 0) {
      const first = this.pieces[0];
      if (first.length <= n) {
        this.pieces.shift();
        n -= first.length;
      } else {
        this.pieces[0] = first.subarray(n);
        n = 0;
      }
    }
  }
}
