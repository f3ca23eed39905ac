// The `dumpguard` program: parse arguments, run a scan, write the report, return the exit code.
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import os from 'node:os';
import type { Writable } from 'node:stream';
import { Command, CommanderError, Option } from 'commander';
import { DumpguardError, describeError, UsageError } from './errors.js';
import { jsonReport } from './report/json.js';
import { jsonlLine } from './report/jsonl.js';
import { sarifReport } from './report/sarif.js';
import { textFinding, textSummary } from './report/text.js';
import { infoOfFile } from './input/containers/describe.js';
import { scan } from './scan.js';
import { CONFIG_FILE_NAME, enabledDetectors, loadConfig } from './config.js';
import { readBaseline, writeBaseline, type AllowlistEntry } from './gate.js';
import { Progress } from './report/progress.js';
import { writeScrubbedCopy } from './scrub.js';
import { DEFAULT_DETECTORS, detectors, OPT_IN_DETECTORS } from './detectors/index.js';
import type { DetectorId, Finding, ScanError, Severity, Summary } from './types.js';
import { SEVERITIES } from './types.js';
import { packageRoot } from './package-root.js';

export const version: string = JSON.parse(readFileSync(new URL('package.json', packageRoot), 'utf8')).version;

export interface RunIo {
  stdout: Writable;
  stderr: Writable;
}

const EXAMPLES = `
Examples:
  Gate one dump before it leaves production (exit 0 clean, 1 keys found, 2 not fully read):
    $ dumpguard scan /var/crash/core.4121 && upload /var/crash/core.4121
    $ cat core.4121 | dumpguard scan - --format jsonl

  Audit a folder of debug storage, machine-readable, only cores and minidumps:
    $ dumpguard scan /mnt/debug --include '*.core' --include '*.dmp' --exclude 'tmp/**' \\
        --format json --output audit.json

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above --fail-on,
2 an operational error (unreadable input, bad usage, worker failure): fails closed.`;

export function parseSize(value: string): number {
  const m = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(value.trim());
  if (!m) throw new UsageError(`invalid size '${value}' (use e.g. 64k, 8m, 1g)`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

function parseRatio(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1) throw new UsageError(`--max-expansion-ratio must be a number of at least 1, got '${value}'`);
  return n;
}

function parseJobs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`--jobs must be an integer from 1 to 256, got '${value}'`);
  return n;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function parseDetectors(value: string): DetectorId[] {
  const known = detectors.map((d) => d.id);
  // `default` stands for the default set, so `default,embedded` adds an opt-in detector to it.
  const ids = value.split(',').map((id) => id.trim()).filter(Boolean).flatMap((id): string[] => (id === 'default' ? [...DEFAULT_DETECTORS] : [id]));
  const unknown = ids.filter((id) => !known.includes(id as DetectorId));
  if (ids.length === 0 || unknown.length) throw new UsageError(`unknown detector '${unknown.join(',') || value}' (known: default, ${known.join(', ')})`);
  return [...new Set(ids)] as DetectorId[];
}

export function exitCodeFor(findings: readonly Finding[], summary: Summary, failOn: Severity | 'none'): number {
  if (summary.errors.length > 0 || summary.interrupted) return 2;
  if (failOn === 'none') return 0;
  const threshold = SEVERITIES.indexOf(failOn);
  return findings.some((f) => SEVERITIES.indexOf(f.severity) <= threshold) ? 1 : 0;
}

function errorLine(error: ScanError): string {
  return `dumpguard: error: ${error.path}${error.offset !== undefined ? ` @${error.offset}` : ''}: ${error.message}\n`;
}

/** Runs the program over argv (as process.argv: node, script, args...). Never calls process.exit. */
export async function run(argv: readonly string[], io: RunIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let exitCode = 0;
  const program = new Command('dumpguard')
    .description('Find private-key material in crash dumps, core files, heap dumps and snapshots, and gate them.')
    .version(version)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText('after', EXAMPLES);

  program
    .command('scan')
    .description('scan files, folders or standard input (-) for private keys')
    .argument('<paths...>', 'files, folders, FIFOs, or - for standard input')
    .addOption(new Option('--format <format>', 'report format').choices(['text', 'json', 'jsonl', 'sarif']).default('text'))
    .option('-o, --output <file>', 'write the report to FILE instead of standard output')
    .addOption(new Option('--fail-on <severity>', 'lowest severity that fails the gate').choices(['critical', 'high', 'medium', 'low', 'none']).default('medium'))
    .option('-j, --jobs <n>', 'worker threads', parseJobs, os.availableParallelism())
    .option('--chunk-size <size>', 'bytes per chunk (64k, 8m, 1g)', parseSize)
    .option('--include <glob>', 'scan only files matching GLOB under a folder (repeatable)', collect, [])
    .option('--exclude <glob>', 'skip files matching GLOB under a folder (repeatable)', collect, [])
    .option('--follow-symlinks', 'follow symbolic links while walking folders (loops are detected)', false)
    .option('--known-keys <file>', 'public keys of your own (JWKS, PEM, certificates, OpenSSH .pub, fingerprints): a match is critical (repeatable)', collect, [])
    .option('--test-keys <file>', 'fingerprints (or public keys) of test keys of your own: lowered to low like the shipped published test keys (repeatable)', collect, [])
    .option('--strict', 'a dump truncated against its own headers is an error (exit 2), not a warning', false)
    .option('--max-decompressed-size <size>', 'compressed files and archives: stop a stream past SIZE decompressed bytes (default 64g)', parseSize)
    .option('--max-expansion-ratio <n>', 'compressed files and archives: stop a stream that expands more than N:1 (default 1000)', parseRatio)
    .option('--allow-partial', 'a stream stopped by a limit, or corrupt, truncated or unsupported compressed content, is a warning, not an error (exit 2)', false)
    .option('--deep', 'raw keys (detector raw): also through self-signed CA roots, RSA primes tested over the whole file, wider neighbourhoods; slow', false)
    .option('--entropy-profile', 'add each file\'s entropy profile (4 KiB block histogram, down-sampled line) to the json report\'s summary.perFile[].entropy', false)
    .option('--detectors <list>', `comma-separated detectors to run (default: ${DEFAULT_DETECTORS.join(',')}; opt-in: ${OPT_IN_DETECTORS.join(',')}; 'default,embedded' adds one)`, parseDetectors)
    .option('--config <file>', `settings file (default: ./${CONFIG_FILE_NAME} when present); flags win over it`)
    .option('--baseline <file>', 'suppress findings already accepted in this baseline (by key identity)')
    .option('--write-baseline <file>', 'record the findings of this scan as the accepted baseline')
    .option('--progress', 'show progress on stderr (default: when stderr is a terminal)')
    .option('--no-progress', 'never show progress')
    .addHelpText('after', EXAMPLES)
    .action(async (paths: string[], opts, command: Command) => {
      const config = await loadConfig(opts.config);
      // A flag the user typed wins; a flag left at its default yields to the config file.
      const typed = (name: string) => command.getOptionValueSource(name) === 'cli';
      exitCode = await runScan(paths, {
        ...opts,
        failOn: typed('failOn') ? opts.failOn : config.failOn ?? opts.failOn,
        include: typed('include') ? opts.include : config.include ?? opts.include,
        exclude: typed('exclude') ? opts.exclude : config.exclude ?? opts.exclude,
        detectors: opts.detectors ?? enabledDetectors(config),
        knownKeys: typed('knownKeys') ? opts.knownKeys : [...(config.knownKeys ?? []), ...opts.knownKeys],
        baseline: opts.baseline ?? config.baseline,
        allowlist: config.allowlist,
      }, io);
    });

  program
    .command('info')
    .description('show what a dump is: its format, facts (pid, command, OS), region table, modules and threads')
    .argument('<files...>', 'dump files')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (files: string[], opts: { format: 'text' | 'json' }) => {
      exitCode = await runInfo(files, opts.format, io);
    });

  program
    .command('scrub')
    .description('write a copy of a dump with every key at or above --fail-on overwritten in place (same size), then rescan the copy')
    .argument('<input>', 'the dump to scrub (never modified)')
    .requiredOption('-o, --output <file>', 'where to write the scrubbed copy')
    .addOption(new Option('--fail-on <severity>', 'lowest severity that is scrubbed').choices(['critical', 'high', 'medium', 'low']).default('medium'))
    .option('-j, --jobs <n>', 'worker threads', parseJobs, os.availableParallelism())
    .option('--chunk-size <size>', 'bytes per chunk (64k, 8m, 1g)', parseSize)
    .option('--known-keys <file>', 'public keys of your own (see scan --help) (repeatable)', collect, [])
    .addHelpText('after', '\nExample:\n  $ dumpguard scrub core.4121 -o core.4121.scrubbed && upload core.4121.scrubbed\n')
    .action(async (input: string, opts) => {
      exitCode = await runScrub(input, opts, io);
    });

  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2; // --help and --version exit 0; usage errors fail closed
    }
    io.stderr.write(`dumpguard: ${describeError(error)}\n`);
    return error instanceof DumpguardError ? error.exitCode : 2;
  }
  return exitCode;
}

interface ScanCliOptions {
  format: 'text' | 'json' | 'jsonl' | 'sarif';
  output?: string;
  failOn: Severity | 'none';
  jobs: number;
  chunkSize?: number;
  include: string[];
  exclude: string[];
  followSymlinks: boolean;
  detectors?: DetectorId[];
  knownKeys: string[];
  testKeys: string[];
  strict: boolean;
  maxDecompressedSize?: number;
  maxExpansionRatio?: number;
  allowPartial: boolean;
  deep: boolean;
  entropyProfile: boolean;
  baseline?: string;
  writeBaseline?: string;
  progress?: boolean;
  allowlist?: Map<string, AllowlistEntry>;
}

/**
 * Opens the report file before the scan, so an unwritable path fails closed at once; a write
 * that fails later (a full disk) is kept and reported when the report is closed.
 */
async function openOutput(file: string): Promise<WriteStream & { failure?: Error }> {
  const stream: WriteStream & { failure?: Error } = createWriteStream(file);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error) => reject(new UsageError(`cannot write the report to ${file}: ${describeError(error)}`)));
  });
  stream.on('error', (error) => (stream.failure ??= error));
  return stream;
}

async function closeOutput(stream: WriteStream & { failure?: Error }, file: string): Promise<void> {
  // Writes fail after the fact (a full disk): wait until the file is really closed, then look.
  if (!stream.destroyed) stream.end();
  await finished(stream).catch((error: Error) => (stream.failure ??= error));
  if (stream.failure) throw new UsageError(`cannot write the report to ${file}: ${describeError(stream.failure)}`);
}

async function runScan(paths: string[], opts: ScanCliOptions, io: RunIo): Promise<number> {
  const out = opts.output ? await openOutput(opts.output) : io.stdout;
  const abort = new AbortController();
  // Interrupted: the pool is stopped, the report so far is written (marked incomplete), and the
  // exit code is the shell's for the signal: 130 for SIGINT, 143 for SIGTERM.
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    signalled ??= signal;
    io.stderr.write(`dumpguard: interrupted (${signal}), stopping the scan; the report will be incomplete\n`);
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const showProgress = opts.progress ?? (io.stderr as NodeJS.WriteStream).isTTY === true;
  const progress = showProgress ? new Progress(io.stderr) : undefined;
  const baseline = opts.baseline ? await readBaseline(opts.baseline) : undefined;
  try {
    const { findings, summary, suppressed } = await scan(paths, {
      gate: { baseline, allowlist: opts.allowlist },
      onFileStart: (path, size) => progress?.fileStarted(path, size),
      onBytesScanned: (bytes) => progress?.bytesScanned(bytes),
      jobs: opts.jobs,
      chunkSizeInBytes: opts.chunkSize,
      include: opts.include,
      exclude: opts.exclude,
      followSymlinks: opts.followSymlinks,
      detectors: opts.detectors,
      knownKeys: opts.knownKeys,
      testKeys: opts.testKeys,
      strict: opts.strict,
      maxDecompressedSizeInBytes: opts.maxDecompressedSize,
      maxExpansionRatio: opts.maxExpansionRatio,
      allowPartial: opts.allowPartial,
      deep: opts.deep,
      entropyProfile: opts.entropyProfile,
      signal: abort.signal,
      onError: (error) => io.stderr.write(errorLine(error)),
      onFileDone: (_path, fileFindings) => {
        progress?.findingsReported(fileFindings.length);
        if (opts.format === 'jsonl') for (const f of fileFindings) out.write(jsonlLine(f));
        if (opts.format === 'text') for (const f of fileFindings) out.write(textFinding(f));
      },
    });
    progress?.stop();
    if (opts.writeBaseline) {
      // Accepted findings stay accepted: a baseline refreshed under itself keeps what it suppressed.
      const entries = await writeBaseline(opts.writeBaseline, [...findings, ...suppressed]);
      io.stderr.write(`dumpguard: wrote ${entries} baseline entr${entries === 1 ? 'y' : 'ies'} to ${opts.writeBaseline}\n`);
    }
    if (opts.format === 'json') out.write(jsonReport(findings, summary, version));
    if (opts.format === 'sarif') out.write(sarifReport(findings, summary, version));
    if (opts.format === 'text') out.write(textSummary(summary));
    else io.stderr.write(textSummary(summary));
    if (signalled) return signalled === 'SIGINT' ? 130 : 143;
    return exitCodeFor(findings, summary, opts.failOn);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (out !== io.stdout) await closeOutput(out as WriteStream, opts.output!);
  }
}

interface ScrubCliOptions {
  output: string;
  failOn: Severity;
  jobs: number;
  chunkSize?: number;
  knownKeys: string[];
}

/** Scan, overwrite what was found in a copy, and prove the copy clean by scanning it again. */
async function runScrub(input: string, opts: ScrubCliOptions, io: RunIo): Promise<number> {
  const info = await stat(input).catch((error) => {
    throw new UsageError(`cannot read ${input}: ${describeError(error)}`);
  });
  if (!info.isFile()) throw new UsageError(`${input} is not a regular file: scrub needs a file it can read twice`);
  // Scrubbing is not in a hurry: it also removes keys inside embedded gzip/zlib streams (opt-in for scan).
  const detectors: DetectorId[] = [...DEFAULT_DETECTORS, 'embedded'];
  const options = { jobs: opts.jobs, chunkSizeInBytes: opts.chunkSize, knownKeys: opts.knownKeys, detectors, onError: (error: ScanError) => io.stderr.write(errorLine(error)) };
  const before = await scan([input], options);
  if (before.summary.errors.length > 0) {
    io.stderr.write(`dumpguard: ${input} could not be read whole; nothing written\n`);
    return 2;
  }
  const threshold = SEVERITIES.indexOf(opts.failOn);
  const toScrub = before.findings.filter((f) => SEVERITIES.indexOf(f.severity) <= threshold);
  await writeScrubbedCopy(input, opts.output, toScrub);
  for (const f of toScrub) io.stdout.write(`scrubbed ${textFinding(f)}`);
  const after = await scan([opts.output], options);
  const left = after.findings.filter((f) => SEVERITIES.indexOf(f.severity) <= threshold);
  for (const f of left) io.stdout.write(`STILL PRESENT ${textFinding(f)}`);
  io.stderr.write(`scrubbed ${toScrub.length} finding(s) into ${opts.output}; rescan: ${left.length} at or above ${opts.failOn}\n`);
  if (after.summary.errors.length > 0) return 2;
  return left.length > 0 ? 1 : 0;
}

/** `dumpguard info`: the dump's own map (through any compression or archive), as text or JSON (addresses as hex strings). */
async function runInfo(files: string[], format: 'text' | 'json', io: RunIo): Promise<number> {
  let failed = false;
  const documents: unknown[] = [];
  for (const file of files) {
    try {
      // A compressed file or an archive: the container chain to each content, and its layout.
      const { lines, document } = await infoOfFile(file);
      if (format === 'text') io.stdout.write([`${file}:`, ...lines.map((l) => `  ${l}`)].join('\n') + '\n');
      else documents.push(document);
    } catch (error) {
      failed = true;
      io.stderr.write(`dumpguard: error: ${file}: cannot read: ${describeError(error)}\n`);
    }
  }
  if (format === 'json') {
    io.stdout.write(JSON.stringify(documents, (_key, value) => (typeof value === 'bigint' ? `0x${value.toString(16)}` : value), 2) + '\n');
  }
  return failed ? 2 : 0;
}
