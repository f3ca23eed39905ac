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

  /**
   * The first page at or after `page` (and before `end`) that is a zero page (`zero`) or not:
   * eight pages at a time over whole bytes of the other kind (a byte that runs past `end` too:
   * its pages before `end` are of that kind). The raw search asks this for every chunk of the
   * file on the main thread, where a loop over each of a chunk's 2,048 pages was 7% of its time
   * in the raw pass, time the workers' next tasks wait for.
   */
  private next(page: number, end: number, zero: boolean): number {
    const skip = zero ? 0 : 0xff;
    while (page < end) {
      if ((page & 7) === 0 && (page >>> 3 < this.bits.length ? this.bits[page >>> 3] : 0) === skip) {
        page += 8;
        continue;
      }
      if (this.has(page) === zero) return page;
      page++;
    }
    return end;
  }

  /** Every byte of [from, to) lies in a zero page (an empty range: false). */
  covers(from: number, to: number): boolean {
    if (to <= from) return false;
    const end = Math.ceil(to / zeroPageInBytes);
    return this.next(Math.floor(from / zeroPageInBytes), end, false) >= end;
  }

  /**
   * The runs of zero pages inside [from, to), clipped to it, relative to `from`, as [start, end)
   * pairs, each at least `minimum` bytes long: what a worker fills instead of reading.
   */
  within(from: number, to: number, minimum = zeroPageInBytes): number[] {
    const out: number[] = [];
    const end = Math.ceil(to / zeroPageInBytes);
    for (let page = this.next(Math.floor(Math.max(0, from) / zeroPageInBytes), end, true); page < end; ) {
      const runEnd = this.next(page, end, false);
      const start = Math.max(from, page * zeroPageInBytes);
      const stop = Math.min(to, runEnd * zeroPageInBytes);
      if (stop - start >= minimum) out.push(start - from, stop - from);
      page = this.next(runEnd, end, true);
    }
    return out;
  }

  /** Bytes in zero pages (for tests and measurements). */
  get bytes(): number {
    let pages = 0;
    for (const byte of this.bits) for (let b = byte; b !== 0; b &= b - 1) pages++;
    return pages * zeroPageInBytes;
  }
}
