// The file piscina loads in each worker thread: CommonJS on purpose. Piscina tries `require()`
// on its worker file first, and Node 20's require() of an ES module (require(esm)) can abort
// the whole process with an internal assertion (seen here: CreateRequiredModuleFacade). From a
// CommonJS entry the ES worker is only ever loaded with import().
import path = require('node:path');
import fs = require('node:fs');
import type { ChunkResult, ChunkTask } from './worker.js';

type Handler = (task: ChunkTask) => ChunkResult;
// Loaded as the thread starts, not at its first task: the main thread is still loading and
// reading then, and the two start-ups overlap.
// The bundle of worker.js and every module it imports (scripts/bundle.mjs), one file: a thread
// loaded its 47 modules in 67 ms, the bundle in 30 to 37 ms. worker.js itself without it, or
// when it is older than worker.js (tsc run alone after a build: the main thread would then run
// newer code than its workers).
const newer = (a: string, b: string) => {
  try {
    return fs.statSync(path.join(__dirname, a)).mtimeMs >= fs.statSync(path.join(__dirname, b)).mtimeMs;
  } catch {
    return false;
  }
};
const entry = newer('worker.bundle.js', 'worker.js') ? './worker.bundle.js' : './worker.js';
const handler: Promise<Handler> = (import(entry) as Promise<{ default: Handler }>).then((module) => module.default);
// A failed load is the first task's error, not an unhandled rejection of an idle thread.
handler.catch(() => {});

// A result whose buffer goes back by transfer, not by copy, is one piscina's worker side has
// marked movable. Piscina.move() would do it, but loading piscina's main module in every
// worker (its pool, histograms, timers) was a third of a worker's start-up; its worker side
// has already loaded the small module that marks values, so it is taken from there (the
// version is pinned; test/pool.test.ts checks that buffers come back transferred).
const { markMovable } = require(path.join(path.dirname(require.resolve('piscina')), 'common.js')) as { markMovable(value: object): void };

export = async function runTask(task: ChunkTask): Promise<unknown> {
  const result = (await handler)(task);
  if (!result.buffer) return result;
  const movable = {
    get [Symbol.for('Piscina.transferable')]() {
      return [result.buffer];
    },
    get [Symbol.for('Piscina.valueOf')]() {
      return result;
    },
  };
  markMovable(movable);
  return movable;
};
