#!/usr/bin/env node
// The bin: everything testable lives in run.ts.
import { statSync } from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import { closeEarlyPool, startPoolEarly } from './pool/pool.js';

// V8 optimizes a function once it has run a budget of bytecodes, anew in every worker thread
// (an isolate each): with the byte loops in WebAssembly, most of what reached the optimizing
// compiler at the default budget runs a few times per chunk, and compiling it cost 0.2-0.25
// CPU s of a 1 GiB scan (perf: a fifth of all CPU in TurboFan, on background threads that
// compete with the workers). Four times the budget leaves that work to the baseline compiler.
// Only for a large input: on a small one the same flag cost 0.1 CPU s more (a 5 MB flood of
// JWK anchors, whose per-hit functions were optimized later), where compiling costs little.
// Set before any worker starts: the flag is process-wide and read per isolate.
//
// A scan's first worker thread starts loading while the rest of the program does (run.ts is
// loaded after it, on purpose). The thread count is read from the arguments the way commander
// will; a guess that turns out wrong only costs a thread.
if (process.argv[2] === 'scan') {
  try {
    const large = process.argv.slice(3).some(isLargeFile);
    if (large) v8.setFlagsFromString(`--interrupt-budget=${4 * 66 * 1024}`);
    startPoolEarly(jobsOf(process.argv) ?? os.availableParallelism(), large);
  } catch {
    // A head start, never a requirement: the scan makes its own pool.
  }
}
const { run } = await import('./run.js');

// A reader that stops early (`dumpguard scan … | head`) is not a failure of the scan.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

try {
  process.exitCode = await run(process.argv);
} finally {
  await closeEarlyPool();
}

/** Large enough that every worker will have chunks to scan. */
function isLargeFile(arg: string): boolean {
  try {
    const stats = statSync(arg, { throwIfNoEntry: false });
    return stats?.isFile() === true && stats.size >= 64 * 1024 * 1024;
  } catch {
    return false;
  }
}

function jobsOf(argv: readonly string[]): number | undefined {
  for (let i = 3; i < argv.length; i++) {
    const inline = /^--jobs=(\d+)$/.exec(argv[i]);
    const value = inline ? inline[1] : (argv[i] === '--jobs' || argv[i] === '-j') && /^\d+$/.test(argv[i + 1] ?? '') ? argv[i + 1] : undefined;
    // Out of range is commander's to report; the head start is then for the default.
    if (value !== undefined) return Number(value) >= 1 && Number(value) <= 256 ? Number(value) : undefined;
  }
  return undefined;
}
