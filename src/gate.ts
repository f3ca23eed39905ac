// The gate's memory: a baseline of accepted findings and an allowlist of fingerprints, both by
// key identity (fingerprint, else a digest of the matched bytes), never by position, so a key
// that moves within a dump or shows up in the next dump of the same service stays suppressed.
import { readFile, writeFile } from 'node:fs/promises';
import { UsageError, describeError } from './errors.js';
import type { Finding } from './types.js';

export const BASELINE_VERSION = 1;

export interface BaselineEntry {
  identity: string;
  kind: string;
  detector: string;
  /** Where it was when the baseline was written, for people reading the file. */
  seenAt: string;
}

export interface AllowlistEntry {
  fingerprint: string;
  reason: string;
}

export interface GateRules {
  baseline?: ReadonlyMap<string, BaselineEntry>;
  allowlist?: ReadonlyMap<string, AllowlistEntry>;
}

/** Tracks what the rules suppressed over a whole scan, for the summary. */
export class Gate {
  readonly suppressed = { baseline: 0, allowlist: 0 };
  /** The findings suppressed, kept so a refreshed baseline still holds what it accepted. */
  readonly suppressedFindings: Finding[] = [];
  private readonly matchedBaseline = new Set<string>();

  constructor(private readonly rules: GateRules) {}

  /** The findings that still count; suppressed ones are counted, never dropped silently. */
  filter(findings: readonly Finding[]): Finding[] {
    return findings.filter((finding) => {
      const identity = finding.identity;
      if (identity && this.rules.allowlist?.has(identity)) {
        this.suppressed.allowlist++;
        this.suppressedFindings.push(finding);
        return false;
      }
      if (identity && this.rules.baseline?.has(identity)) {
        this.suppressed.baseline++;
        this.matchedBaseline.add(identity);
        this.suppressedFindings.push(finding);
        return false;
      }
      return true;
    });
  }

  /** Baseline entries no finding matched: the key is gone or the entry is wrong. */
  staleBaselineEntries(): string[] {
    return [...(this.rules.baseline?.values() ?? [])].filter((e) => !this.matchedBaseline.has(e.identity)).map((e) => `${e.identity} (${e.kind}, ${e.seenAt})`);
  }
}

export async function readBaseline(file: string): Promise<Map<string, BaselineEntry>> {
  let document: { version?: number; entries?: BaselineEntry[] };
  try {
    document = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read --baseline ${file}: ${describeError(error)}`);
  }
  if (document.version !== BASELINE_VERSION || !Array.isArray(document.entries)) {
    throw new UsageError(`--baseline ${file}: not a dumpguard baseline (version ${BASELINE_VERSION})`);
  }
  return new Map(document.entries.filter((e) => typeof e?.identity === 'string').map((e) => [e.identity, e]));
}

/** One entry per distinct identity; findings without any identity cannot be baselined. */
export async function writeBaseline(file: string, findings: readonly Finding[]): Promise<number> {
  const entries = new Map<string, BaselineEntry>();
  for (const f of findings) {
    if (!f.identity || entries.has(f.identity)) continue;
    entries.set(f.identity, { identity: f.identity, kind: f.kind, detector: f.detector, seenAt: `${f.path}@${f.offset}` });
  }
  const sorted = [...entries.values()].sort((a, b) => (a.identity < b.identity ? -1 : 1));
  try {
    await writeFile(file, JSON.stringify({ version: BASELINE_VERSION, entries: sorted }, null, 2) + '\n');
  } catch (error) {
    throw new UsageError(`cannot write --write-baseline ${file}: ${describeError(error)}`);
  }
  return sorted.length;
}

export function allowlistFrom(entries: readonly unknown[], source: string): Map<string, AllowlistEntry> {
  const out = new Map<string, AllowlistEntry>();
  entries.forEach((entry, index) => {
    const e = entry as Partial<AllowlistEntry>;
    if (typeof e?.fingerprint !== 'string' || !e.fingerprint) throw new UsageError(`${source}: allowlist entry ${index + 1} has no fingerprint`);
    if (typeof e.reason !== 'string' || !e.reason.trim()) throw new UsageError(`${source}: allowlist entry ${index + 1} (${e.fingerprint}) has no reason: every suppression must say why`);
    out.set(e.fingerprint, { fingerprint: e.fingerprint, reason: e.reason });
  });
  return out;
}
