#!/usr/bin/env node
// The bin: everything testable lives in run.ts.
import { run } from './run.js';

// A reader that stops early (`dumpguard scan … | head`) is not a failure of the scan.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

process.exitCode = await run(process.argv);
