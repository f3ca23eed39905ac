// dumpguard.config.json: a team's standing settings. Found in the working directory or named
// with --config; flags given on the command line win over it.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { detectors, OPT_IN_DETECTORS } from './detectors/index.js';
import { UsageError, describeError } from './errors.js';
import { allowlistFrom, type AllowlistEntry } from './gate.js';
import type { DetectorId, Severity } from './types.js';
import { SEVERITIES } from './types.js';

export const CONFIG_FILE_NAME = 'dumpguard.config.json';

export interface Config {
  include?: string[];
  exclude?: string[];
  failOn?: Severity | 'none';
  /** Detectors switched on or off by id; unlisted ones keep their default (on, but aes and entropy off). */
  detectors?: Partial<Record<DetectorId, boolean>>;
  allowlist?: Map<string, AllowlistEntry>;
  knownKeys?: string[];
  baseline?: string;
  /** Where the file was: relative paths inside it are relative to this folder. */
  source?: string;
}

const KNOWN_FIELDS = new Set(['include', 'exclude', 'failOn', 'detectors', 'allowlist', 'knownKeys', 'baseline']);

/** The config named by --config, else ./dumpguard.config.json when present, else nothing. */
export async function loadConfig(explicit: string | undefined, cwd = process.cwd()): Promise<Config> {
  const file = explicit ?? path.join(cwd, CONFIG_FILE_NAME);
  if (!explicit && !existsSync(file)) return {};
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read config ${file}: ${describeError(error)}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`config ${file}: expected a JSON object`);
  const unknown = Object.keys(raw).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length) throw new UsageError(`config ${file}: unknown field(s) ${unknown.join(', ')} (known: ${[...KNOWN_FIELDS].join(', ')})`);
  const base = path.dirname(path.resolve(file));
  const strings = (name: string): string[] | undefined => {
    const v = raw[name];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new UsageError(`config ${file}: "${name}" must be an array of strings`);
    return v as string[];
  };
  const config: Config = { source: file };
  config.include = strings('include');
  config.exclude = strings('exclude');
  config.knownKeys = strings('knownKeys')?.map((k) => path.resolve(base, k));
  if (raw.failOn !== undefined) {
    if (!([...SEVERITIES, 'none'] as unknown[]).includes(raw.failOn)) throw new UsageError(`config ${file}: "failOn" must be one of ${SEVERITIES.join(', ')}, none`);
    config.failOn = raw.failOn as Severity | 'none';
  }
  if (raw.detectors !== undefined) {
    const known = detectors.map((d) => d.id as string);
    const entries = Object.entries(raw.detectors as Record<string, unknown>);
    for (const [id, on] of entries) {
      if (!known.includes(id) || typeof on !== 'boolean') throw new UsageError(`config ${file}: "detectors" maps known detector ids (${known.join(', ')}) to true or false; got ${id}: ${JSON.stringify(on)}`);
    }
    config.detectors = Object.fromEntries(entries) as Config['detectors'];
  }
  if (raw.allowlist !== undefined) {
    if (!Array.isArray(raw.allowlist)) throw new UsageError(`config ${file}: "allowlist" must be an array of { fingerprint, reason }`);
    config.allowlist = allowlistFrom(raw.allowlist, `config ${file}`);
  }
  if (raw.baseline !== undefined) {
    if (typeof raw.baseline !== 'string') throw new UsageError(`config ${file}: "baseline" must be a path`);
    config.baseline = path.resolve(base, raw.baseline);
  }
  return config;
}

/** The detectors a config leaves on. */
export function enabledDetectors(config: Config): DetectorId[] | undefined {
  if (!config.detectors) return undefined;
  return detectors.map((d) => d.id).filter((id) => config.detectors![id] ?? !OPT_IN_DETECTORS.includes(id));
}
