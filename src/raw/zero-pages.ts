// The 4 KiB pages of an input known to be all zeros, one bit each: what the first pass saw
// (the anchor filter's page map, whole zero chunks) and a spool's holes. The raw search's
// second pass fills them instead of reading them again: no public value is all zeros, so no
// occurrence and no candidate lies wholly inside them, and a window that reaches into them
// holds the same bytes either way. Most of a real core is zero pages, scattered one by one
// between data pages, so whole-chunk knowledge alone left the second pass reading them all.
// A bit per page: 20 GB of input is 610 KiB here, whatever the pattern of its zeros.

export const zeroPageInBytes = 4096;

export class ZeroPages {
  private bits = new Uint8Array(64);

  /**
   * Bytes [from, to) are zeros: marks the pages wholly inside. A file's short last page is never
   * marked (the file may have grown since): the raw search reads those few bytes.
   */
  add(from: number, to: number): void {
    const first = Math.ceil(from / zeroPageInBytes);
    const last = Math.floor(to / zeroPageInBytes);
    if (last <= first) return;
    if (last > this.bits.length * 8) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, Math.ceil(last / 8)));
      grown.set(this.bits);
      this.bits = grown;
    }
    for (let page = first; page < last; page++) this.bits[page >>> 3] |= 1 << (page & 7);
  }

  /** The [start, end) pairs of `runs`, relative to `offset`, are zeros. */
  addRuns(offset: number, runs: readonly number[]): void {
    for (let i = 0; i + 1 < runs.length; i += 2) this.add(offset + runs[i], offset + runs[i + 1]);
  }

  private has(page: number): boolean {
    return page < this.bits.length * 8 && (this.bits[page >>> 3] & (1 << (page & 7))) !== 0;
  }

  /** Every byte of [from, to) lies in a zero page (an empty range: false). */
  covers(from: number, to: number): boolean {
    if (to <= from) return false;
    for (let page = Math.floor(from / zeroPageInBytes); page * zeroPageInBytes < to; page++) if (!this.has(page)) return false;
    return true;
  }

  /**
   * The runs of zero pages inside [from, to), clipped to it, relative to `from`, as [start, end)
   * pairs, each at least `minimum` bytes long: what a worker fills instead of reading.
   */
  within(from: number, to: number, minimum = zeroPageInBytes): number[] {
    const out: number[] = [];
    let run = -1;
    const close = (at: number) => {
      const start = Math.max(from, run);
      const end = Math.min(to, at);
      if (end - start >= minimum) out.push(start - from, end - from);
      run = -1;
    };
    for (let page = Math.floor(Math.max(0, from) / zeroPageInBytes); page * zeroPageInBytes < to; page++) {
      if (this.has(page)) {
        if (run < 0) run = page * zeroPageInBytes;
      } else if (run >= 0) close(page * zeroPageInBytes);
    }
    if (run >= 0) close(to);
    return out;
  }

  /** Bytes in zero pages (for tests and measurements). */
  get bytes(): number {
    let pages = 0;
    for (const byte of this.bits) for (let b = byte; b !== 0; b &= b - 1) pages++;
    return pages * zeroPageInBytes;
  }
}
