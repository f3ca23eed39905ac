// Turns the paths a user named into the inputs to scan, in a deterministic order: files under
// folders recursively (sorted by name, byte order), include/exclude globs on the path relative
// to the named folder, special files skipped and counted, symlink loops detected.
import { lstat, opendir, readFile, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { Minimatch } from 'minimatch';
import { describeError } from '../errors.js';
import type { ScanError, Skipped } from '../types.js';

export type InputSource =
  | { kind: 'file'; path: string }
  /** Read sequentially: standard input ('-'), a FIFO or a block device named by the user. */
  | { kind: 'stream'; path: string };

export interface EnumerateOptions {
  include?: readonly string[];
  exclude?: readonly string[];
  followSymlinks?: boolean;
}

export interface EnumerateEvents {
  skipped(entry: Skipped): void;
  error(entry: ScanError): void;
}

export async function* enumerateInputs(paths: readonly string[], options: EnumerateOptions, events: EnumerateEvents): AsyncGenerator<InputSource> {
  const globs = {
    include: (options.include ?? []).map((g) => new Minimatch(g, { dot: true, matchBase: true })),
    exclude: (options.exclude ?? []).map((g) => new Minimatch(g, { dot: true, matchBase: true })),
  };
  const wanted = (relative: string) =>
    (globs.include.length === 0 || globs.include.some((m) => m.match(relative))) && !globs.exclude.some((m) => m.match(relative));
  // Identity (dev:ino) of every folder and file taken, so nothing is walked or scanned twice.
  const seen = new Set<string>();

  for (const named of paths) {
    if (named === '-') {
      yield { kind: 'stream', path: '-' };
      continue;
    }
    let info: Stats;
    try {
      info = await stat(named);
    } catch (error) {
      events.error({ path: named, message: `cannot read: ${describeError(error)}` });
      continue;
    }
    if ((info.isDirectory() || info.isFile()) && seen.has(identity(info))) {
      events.skipped({ path: named, reason: 'same file or folder already scanned through another path' });
      continue;
    }
    if (info.isDirectory()) {
      seen.add(identity(info));
      yield* walk(named, '', { ...options, wanted, seen }, events);
    } else if (info.isFile()) {
      seen.add(identity(info));
      yield { kind: 'file', path: named };
    } else if (info.isFIFO() || info.isBlockDevice()) {
      yield { kind: 'stream', path: named };
    } else {
      events.error({ path: named, message: `not a file, folder, FIFO or block device (${typeName(info)}): not scanned` });
    }
  }
}

interface WalkContext extends EnumerateOptions {
  wanted(relative: string): boolean;
  seen: Set<string>;
}

export const IGNORE_FILE_NAME = '.dumpguardignore';

/** A folder's .dumpguardignore: minimatch patterns of paths below it to skip (# comments). */
interface IgnoreRules {
  base: string;
  file: string;
  /** In file order; `!pattern` re-includes what an earlier line excluded (gitignore style). */
  patterns: Array<{ matcher: Minimatch; negated: boolean }>;
}

async function readIgnoreFile(folder: string, relative: string): Promise<IgnoreRules | undefined> {
  const file = path.join(folder, IGNORE_FILE_NAME);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined; // none here
  }
  const patterns = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  return {
    base: relative,
    file,
    patterns: patterns.map((line) => {
      const negated = line.startsWith('!');
      const pattern = (negated ? line.slice(1) : line).replace(/\/$/, '/**');
      return { matcher: new Minimatch(pattern, { dot: true, matchBase: true }), negated };
    }),
  };
}

/** The ignore file whose last matching line excludes `relative`; outer files first, later lines win. */
function ignoredBy(rules: readonly IgnoreRules[], relative: string): IgnoreRules | undefined {
  let decided: IgnoreRules | undefined;
  for (const r of rules) {
    const below = r.base ? (relative.startsWith(r.base + '/') ? relative.slice(r.base.length + 1) : undefined) : relative;
    if (below === undefined) continue;
    for (const { matcher, negated } of r.patterns) if (matcher.match(below)) decided = negated ? undefined : r;
  }
  return decided;
}

async function* walk(folder: string, relative: string, context: WalkContext, events: EnumerateEvents, inherited: readonly IgnoreRules[] = []): AsyncGenerator<InputSource> {
  const own = await readIgnoreFile(folder, relative);
  const ignores = own ? [...inherited, own] : inherited;
  let names: string[];
  try {
    const entries: string[] = [];
    for await (const entry of await opendir(folder)) entries.push(entry.name);
    names = entries.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (error) {
    events.error({ path: folder, message: `cannot list folder: ${describeError(error)}` });
    return;
  }
  for (const name of names) {
    const full = path.join(folder, name);
    const rel = relative ? `${relative}/${name}` : name;
    const ignoredHere = ignoredBy(ignores, rel);
    if (ignoredHere) {
      events.skipped({ path: full, reason: `ignored by ${ignoredHere.file}` });
      continue;
    }
    let info: Stats;
    try {
      info = await lstat(full);
      if (info.isSymbolicLink()) {
        if (!context.followSymlinks) {
          events.skipped({ path: full, reason: 'symbolic link (use --follow-symlinks to follow)' });
          continue;
        }
        info = await stat(full);
      }
    } catch (error) {
      events.error({ path: full, message: `cannot read: ${describeError(error)}` });
      continue;
    }
    if (info.isDirectory()) {
      if (context.seen.has(identity(info))) {
        const target = await realpath(full).catch(() => '?');
        events.skipped({ path: full, reason: `symbolic link loop or folder already walked (${target})` });
        continue;
      }
      context.seen.add(identity(info));
      yield* walk(full, rel, context, events, ignores);
    } else if (info.isFile()) {
      if (!context.wanted(rel)) continue;
      if (context.seen.has(identity(info))) {
        events.skipped({ path: full, reason: 'same file already scanned through another path' });
        continue;
      }
      context.seen.add(identity(info));
      yield { kind: 'file', path: full };
    } else if (context.wanted(rel)) {
      events.skipped({ path: full, reason: `${typeName(info)} (not a regular file)` });
    }
  }
}

function identity(info: Stats): string {
  return `${info.dev}:${info.ino}`;
}

function typeName(info: Stats): string {
  if (info.isFIFO()) return 'FIFO';
  if (info.isSocket()) return 'socket';
  if (info.isCharacterDevice()) return 'character device';
  if (info.isBlockDevice()) return 'block device';
  return 'special file';
}
