// The raw search's work in a worker thread: find the occurrences of public values in a chunk,
// or test the candidates of a window. Only offsets and indexes go back, never bytes.
import { buildPatternTable, occurrenceSearchWhileFilling, type OccurrenceSearch, type PatternTable } from './occurrences.js';
import { findInHprofArrays } from './hprof-arrays.js';
import { unpackPatterns, type PackedPatterns, type RawTarget } from './targets.js';
import { verifyCandidates, type RawMatch, type VerifyTask } from './verify.js';

export type RawTask =
  /** offset: of bytes[0]; the body (occurrences that start in it) begins at bodyStart, after a look-behind. */
  | { step: 'occurrences'; offset: number; bodyStart: number; setId: string; patterns: PackedPatterns; hprofTargets?: RawTarget[]; next?: OccurrencePiece[] }
  | ({ step: 'verify' } & VerifyTask);

/** A further chunk of an occurrence task: read and searched after the task's own, its occurrences reported with them. */
export interface OccurrencePiece {
  offset: number;
  bodyStart: number;
  length: number;
  bodyLength: number;
  zeros?: number[];
}

export interface RawResult {
  /** Absolute offsets. */
  occurrences?: Array<{ offset: number; pattern: number; encoded: boolean }>;
  /** Starts relative to the window (the chunk for an hprof's arrays). */
  matches?: RawMatch[];
}

const tables = new Map<string, PatternTable>();

/** The pattern table of an occurrences task, built once per pattern set and worker. */
export function tableFor(task: Extract<RawTask, { step: 'occurrences' }>): PatternTable {
  let table = tables.get(task.setId);
  if (!table) {
    if (tables.size >= 4) tables.delete(tables.keys().next().value!);
    table = buildPatternTable(unpackPatterns(task.patterns));
    tables.set(task.setId, table);
  }
  return table;
}

/** `search`: the occurrence search that probed the chunk while it was read, if one did. */
export function runRawTask(task: RawTask, bytes: Uint8Array, bodyLength: number, search?: OccurrenceSearch): RawResult {
  if (task.step === 'verify') return { matches: verifyCandidates(bytes, task) };
  const found = (search ?? occurrenceSearchWhileFilling(tableFor(task), bytes)).finish(task.bodyStart + bodyLength, bytes.length, task.bodyStart);
  const occurrences = found.map((o) => ({ offset: task.offset + o.start, pattern: o.pattern, encoded: o.encoded }));
  if (!task.hprofTargets) return { occurrences };
  return { occurrences, matches: findInHprofArrays(bytes, task.bodyStart, task.bodyStart + bodyLength, task.hprofTargets) };
}
