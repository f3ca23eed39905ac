// The worker pool and the buffers that travel to it. A fixed set of buffers bounds memory:
// a chunk can only be read when a buffer is free, so peak RSS does not grow with file size.
import { Piscina } from 'piscina';
import type { ChunkResult, ChunkTask } from './worker.js';

export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  private readonly waiting: Array<(buffer: ArrayBuffer) => void> = [];
  private created = 0;

  constructor(readonly bufferSizeInBytes: number, readonly capacity: number) {}

  /** Resolves when a buffer is free; allocates lazily up to capacity (small scans stay small). */
  acquire(): Promise<ArrayBuffer> {
    const buffer = this.free.pop();
    if (buffer) return Promise.resolve(buffer);
    if (this.created < this.capacity) {
      this.created++;
      return Promise.resolve(new ArrayBuffer(this.bufferSizeInBytes));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(buffer: ArrayBuffer): void {
    // Buffers of other sizes (a small file's own, src/input/chunker.ts) are not the pool's.
    if (buffer.byteLength !== this.bufferSizeInBytes) return;
    const next = this.waiting.shift();
    if (next) next(buffer);
    else this.free.push(buffer);
  }

  /** A buffer that did not come back (a worker died holding it) is replaced. */
  replaceLost(): void {
    this.release(new ArrayBuffer(this.bufferSizeInBytes));
  }
}

export class ChunkPool {
  private readonly piscina: Piscina<ChunkTask, ChunkResult>;

  constructor(threads: number) {
    this.piscina = adoptEarlyPool(threads) ?? createPiscina(threads);
  }

  run(task: ChunkTask, signal?: AbortSignal): Promise<ChunkResult> {
    return this.piscina.run(task, { transferList: task.buffer ? [task.buffer] : [], signal });
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}

function createPiscina(threads: number, allAtOnce = false): Piscina<ChunkTask, ChunkResult> {
  return new Piscina({
    filename: new URL('./worker-entry.cjs', import.meta.url).href,
    // One thread up front; piscina adds the others as chunks queue. A scan of one small file
    // (a gate on every crash) then never pays for starting threads it has no work for; a
    // large one would wait a thread's start-up (0.15 s) for the second.
    minThreads: allAtOnce ? threads : 1,
    maxThreads: threads,
    idleTimeout: 1000,
  });
}

let early: { threads: number; piscina: Piscina<ChunkTask, ChunkResult> } | undefined;

/**
 * Starts the first worker thread now, before the rest of the program is loaded: its start-up
 * (a Node.js environment, then every detector's module) ran after the main thread's, 0.15 s
 * of the 0.4 s a scan of one small file took. The next ChunkPool of as many threads takes it
 * over; a pool of another size, or none, and it is closed. With `allAtOnce` (a large input
 * is known to come) every thread starts now.
 */
export function startPoolEarly(threads: number, allAtOnce: boolean): void {
  early ??= { threads, piscina: createPiscina(threads, allAtOnce) };
}

function adoptEarlyPool(threads: number): Piscina<ChunkTask, ChunkResult> | undefined {
  const started = early;
  early = undefined;
  if (started?.threads === threads) return started.piscina;
  void started?.piscina.destroy();
  return undefined;
}

/** Closes an early pool no scan took over (a command that did not scan). */
export async function closeEarlyPool(): Promise<void> {
  const started = early;
  early = undefined;
  await started?.piscina.destroy();
}
