// Progress on stderr for long runs: bytes done of the bytes known so far, MB/s, ETA, the current
// file, findings so far. Redrawn in place a few times a second; never written to stdout.
import type { Writable } from 'node:stream';

const redrawIntervalInMs = 250;

export class Progress {
  private doneBytes = 0;
  private totalBytes = 0;
  private findings = 0;
  private current = '';
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly out: Writable) {}

  fileStarted(path: string, sizeInBytes: number | undefined): void {
    this.current = path;
    this.totalBytes += sizeInBytes ?? 0;
    this.draw();
  }

  bytesScanned(bytes: number): void {
    this.doneBytes += bytes;
    this.draw();
  }

  findingsReported(count: number): void {
    this.findings += count;
    this.draw();
  }

  /** Clears the line so the summary starts clean. */
  stop(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
  }

  private draw(): void {
    const now = Date.now();
    if (now - this.lastDraw < redrawIntervalInMs) return;
    this.lastDraw = now;
    this.drawn = true;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = this.doneBytes / 1e6 / seconds;
    const total = Math.max(this.totalBytes, this.doneBytes);
    const eta = rate > 0 && total > this.doneBytes ? `ETA ${Math.ceil((total - this.doneBytes) / 1e6 / rate)}s` : '';
    const percent = total > 0 ? `${((100 * this.doneBytes) / total).toFixed(1)}%` : '';
    const file = this.current.length > 40 ? '…' + this.current.slice(-39) : this.current;
    this.out.write(`\r\x1b[K${formatBytes(this.doneBytes)} / ${formatBytes(total)} ${percent}  ${rate.toFixed(0)} MB/s  ${eta}  ${file}  findings ${this.findings}`);
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(0)} kB`;
}
