#!/usr/bin/env node
// The bin: everything testable lives in run.ts.
import { run } from './run.js';

process.exitCode = await run(process.argv);
