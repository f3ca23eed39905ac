// The chunk pool's own queue (src/pool/pool.ts): tasks start in the order given, at most
// tasksPerThread a thread (one in the tests of the queue's order), whatever order they finish in; an abort rejects every task of its signal at once, and the
// queue goes on with the others.
import { describe, expect, test } from 'vitest';
import { ChunkPool, tasksPerThread } from '../src/pool/pool.js';
import type { ChunkResult, ChunkTask } from '../src/pool/worker.js';

/** A fake thread runner: records each task's start (by its length, used as an id), settled by the test. */
function fakeThreads() {
  const started: number[] = [];
  const pending = new Map<number, { resolve(r: ChunkResult): void; reject(e: unknown): void }>();
  let running = 0;
  let mostRunning = 0;
  const run = (task: ChunkTask) =>
    new Promise<ChunkResult>((resolve, reject) => {
      started.push(task.length);
      mostRunning = Math.max(mostRunning, ++running);
      const done = () => running--;
      pending.set(task.length, { resolve: (r) => (done(), resolve(r)), reject: (e) => (done(), reject(e)) });
    });
  const result = (id: number): ChunkResult => ({ length: id, bodyLength: id, matches: [], failures: [] });
  return { run, started, pending, result, mostRunning: () => mostRunning };
}
const task = (id: number): ChunkTask => ({ length: id, bodyLength: id, detectorIds: [] });
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('ChunkPool', () => {
  test('by default a thread holds its next task while it runs one: two a thread, in order', async () => {
    expect(tasksPerThread).toBe(2);
    const threads = fakeThreads();
    const pool = new ChunkPool(2, threads.run);
    const results = Array.from({ length: 9 }, (_, i) => pool.run(task(i + 1)));
    await settle();
    expect(threads.started).toEqual([1, 2, 3, 4]);
    for (const id of [3, 1, 2]) {
      threads.pending.get(id)!.resolve(threads.result(id));
      await settle();
    }
    expect(threads.started).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const id of [4, 5, 6, 7, 8, 9]) {
      threads.pending.get(id)!.resolve(threads.result(id));
      await settle();
    }
    expect(threads.mostRunning()).toBe(4);
    expect((await Promise.all(results)).map((r) => r.length)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('tasks start in the order given, at most one a thread, whatever order they finish in', async () => {
    const threads = fakeThreads();
    const pool = new ChunkPool(2, threads.run, 1);
    const results = Array.from({ length: 10 }, (_, i) => pool.run(task(i + 1)));
    await settle();
    expect(threads.started).toEqual([1, 2]);
    // Finish the later one first, each time.
    for (let round = 0; round < 5; round++) {
      const [a, b] = threads.started.slice(-2);
      threads.pending.get(b)!.resolve(threads.result(b));
      await settle();
      threads.pending.get(a)!.resolve(threads.result(a));
      await settle();
    }
    expect(threads.started).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(threads.mostRunning()).toBe(2);
    expect((await Promise.all(results)).map((r) => r.length)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test('an abort rejects the running and the waiting tasks of its signal at once; the others go on in order', async () => {
    const threads = fakeThreads();
    const pool = new ChunkPool(2, threads.run, 1);
    const abort = new AbortController();
    const mine = [1, 2, 4, 5].map((id) => pool.run(task(id), abort.signal).then(() => 'done', (e: Error) => e.name));
    const other = pool.run(task(3)).then((r) => r.length);
    const later = pool.run(task(6)).then((r) => r.length);
    await settle();
    expect(threads.started).toEqual([1, 2]);
    abort.abort();
    expect(await Promise.all(mine)).toEqual(['AbortError', 'AbortError', 'AbortError', 'AbortError']);
    // The aborted tasks still on a thread hold it until they end; then the others start, in order.
    threads.pending.get(1)!.resolve(threads.result(1));
    await settle();
    expect(threads.started).toEqual([1, 2, 3]);
    threads.pending.get(2)!.resolve(threads.result(2));
    await settle();
    expect(threads.started).toEqual([1, 2, 3, 6]);
    threads.pending.get(3)!.resolve(threads.result(3));
    threads.pending.get(6)!.resolve(threads.result(6));
    expect(await Promise.all([other, later])).toEqual([3, 6]);
    // A task given an aborted signal never starts.
    expect(await pool.run(task(7), abort.signal).then(() => 'done', (e: Error) => e.name)).toBe('AbortError');
    expect(threads.started).not.toContain(7);
  });

  test('a failed task rejects with its error and the next waiting task starts', async () => {
    const threads = fakeThreads();
    const pool = new ChunkPool(1, threads.run, 1);
    const failed = pool.run(task(1)).catch((e: Error) => e.message);
    const next = pool.run(task(2)).then((r) => r.length);
    await settle();
    threads.pending.get(1)!.reject(new Error('worker died'));
    await settle();
    threads.pending.get(2)!.resolve(threads.result(2));
    expect(await failed).toBe('worker died');
    expect(await next).toBe(2);
    expect(threads.started).toEqual([1, 2]);
  });
});
