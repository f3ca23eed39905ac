// The file piscina loads in each worker thread: CommonJS on purpose. Piscina tries `require()`
// on its worker file first, and Node 20's require() of an ES module (require(esm)) can abort
// the whole process with an internal assertion (seen here: CreateRequiredModuleFacade). From a
// CommonJS entry the ES worker is only ever loaded with import().
import type { ChunkTask } from './worker.js';

type Handler = (task: ChunkTask) => unknown;
let handler: Promise<Handler> | undefined;

export = async function runTask(task: ChunkTask): Promise<unknown> {
  handler ??= import('./worker.js').then((module) => module.default);
  return (await handler)(task);
};
