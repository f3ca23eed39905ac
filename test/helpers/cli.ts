// Runs the BUILT binary (dist/cli.js) as a child process, the way users and CI run it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const cliPath = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface CliResult {
  /** Exit code, or null when the child was killed by a signal (e.g. our timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
  stdoutText: string;
  stderrText: string;
  /** True when the child had to be killed because it outlived `timeoutMs`. */
  timedOut: boolean;
}

export interface CliOptions {
  /** Bytes written to the child's standard input, which is then closed. Without it stdin is closed at once. */
  stdin?: Buffer | string;
  /** Leave stdin open (a pipe) for the caller to drive through `child.stdin`. */
  keepStdinOpen?: boolean;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Kill the child (SIGKILL) after this long; default 15 s. */
  timeoutMs?: number;
  /** Another build's cli.js to run (a copy of dist/ laid out differently); default dist/cli.js. */
  cli?: string;
}

export interface RunningCli {
  child: ChildProcess;
  done: Promise<CliResult>;
}

export function spawnCli(args: readonly string[], options: CliOptions = {}): RunningCli {
  const cli = options.cli ?? cliPath;
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first with npx tsc -p tsconfig.json`);
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.DUMPGUARD_TEST_FAULT; // never inherit a failpoint from the outer environment
  Object.assign(env, options.env ?? {});
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: env as NodeJS.ProcessEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  // The child may exit before reading all of stdin (e.g. a usage error): ignore EPIPE.
  child.stdin!.on('error', () => {});
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  else if (!options.keepStdinOpen) child.stdin!.end();

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 15_000);

  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      const stderr = Buffer.concat(err);
      resolve({ code, signal, stdout, stderr, stdoutText: stdout.toString('utf8'), stderrText: stderr.toString('utf8'), timedOut });
    });
  });
  return { child, done };
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, options).done;
}

/** The lines of a JSONL stdout, parsed. */
export function jsonlFindings(result: CliResult): Array<Record<string, unknown>> {
  return result.stdoutText
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
