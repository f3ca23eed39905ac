// The worker pool and the buffers that travel to it. A fixed set of buffers bounds memory:
// a chunk can only be read when a buffer is free, so peak RSS does not grow with file size.
import { Piscina } from 'piscina';
import { packageRoot } from '../package-root.js';
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

/**
 * Tasks a thread holds at once: the one it runs and the next, so that it starts the next as soon
 * as it is done instead of waiting for the main thread to hear of it and send another (a round
 * trip of 0.3 to 0.6 ms on this VM, against tasks of 1 to 8 ms: the raw search's workers waited
 * 25% of its pass). Measured, 8 alternating runs on the bench's raw-keys file: the raw pass 202
 * -> 176 ms (medians), the first pass 699 -> 685 ms.
 */
export const tasksPerThread = 2;

export class ChunkPool {
  private readonly piscina: Piscina<ChunkTask, ChunkResult> | undefined;
  /** Tasks given to threads and not settled: at most `perThread` a thread. */
  private running = 0;
  /** The tasks waiting for a thread, in the order given. */
  private readonly waiting: Array<() => void> = [];

  /** `runOnThread`: how a task is run on a thread (tests give their own; default piscina's). */
  constructor(
    private readonly threads: number,
    private readonly runOnThread?: (task: ChunkTask) => Promise<ChunkResult>,
    private readonly perThread = tasksPerThread,
  ) {
    this.piscina = runOnThread ? undefined : (adoptEarlyPool(threads) ?? createPiscina(threads));
  }

  /**
   * Runs the task on the next thread with room, tasks in the order given. Piscina's own queue did
   * not keep that order for tasks with an AbortSignal (one that found every thread busy went to
   * a "skip queue" served before the older tasks of the main queue): a chunk of the raw search
   * started 100 ms after its neighbours, and every test planned after it waited. So tasks wait
   * here, and the signal is handled here: on abort every task of it is rejected at once (one
   * still running is ended with its thread when the pool closes).
   */
  run(task: ChunkTask, signal?: AbortSignal): Promise<ChunkResult> {
    return new Promise<ChunkResult>((resolve, reject) => {
      const aborted = () => {
        const at = this.waiting.indexOf(start);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(Object.assign(new Error('The task has been aborted'), { name: 'AbortError' }));
      };
      const start = () => {
        // Aborted after it left the queue: the next one goes instead.
        if (signal?.aborted) return void this.waiting.shift()?.();
        this.running++;
        (this.runOnThread ?? ((t: ChunkTask) => this.piscina!.run(t, { transferList: t.buffer ? [t.buffer] : [] })))(task)
          .then(resolve, reject)
          .finally(() => {
            signal?.removeEventListener('abort', aborted);
            this.running--;
            this.waiting.shift()?.();
          });
      };
      if (signal?.aborted) return aborted();
      signal?.addEventListener('abort', aborted, { once: true });
      if (this.running < this.threads * this.perThread && this.waiting.length === 0) start();
      else this.waiting.push(start);
    });
  }

  async close(): Promise<void> {
    await this.piscina?.destroy();
  }
}

function createPiscina(threads: number, allAtOnce = false): Piscina<ChunkTask, ChunkResult> {
  const pool: Piscina<ChunkTask, ChunkResult> = new Piscina({
    filename: new URL('dist/pool/worker-entry.cjs', packageRoot).href,
    // One thread up front; piscina adds the others as chunks queue. A scan of one small file
    // (a gate on every crash) then never pays for starting threads it has no work for; a
    // large one would wait a thread's start-up (0.15 s) for the second.
    minThreads: allAtOnce ? threads : 1,
    maxThreads: threads,
    idleTimeout: 1000,
    concurrentTasksPerWorker: tasksPerThread,
    // An idle thread first (a starting one counts); a second task on a busy thread only once
    // every thread has started: until then piscina queues it and starts another thread.
    loadBalancer: (_task, workers) => {
      let least: (typeof workers)[number] | null = null;
      for (const worker of workers) {
        if (worker.currentUsage === 0) return worker;
        if (worker.currentUsage < tasksPerThread && (least === null || worker.currentUsage < least.currentUsage)) least = worker;
      }
      return pool.threads.length < threads ? null : least;
    },
  });
  return pool;
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
