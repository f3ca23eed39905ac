// For people: one line per finding, then a summary.
import type { Finding, Summary } from '../types.js';
import { SEVERITIES } from '../types.js';

export function textFinding(f: Finding): string {
  const where = `${f.path}:0x${f.offset.toString(16)} (${f.offset})`;
  const address = f.address ? ` @${f.address}${f.region ? ` ${f.region}` : ''}` : '';
  const parts = [
    `${where}${address}`,
    `len ${f.length}`,
    f.severity.toUpperCase(),
    f.kind,
    `[${f.detector}/${f.encoding}]`,
    f.fingerprint ?? 'no-fingerprint',
    f.evidence,
  ];
  if (f.knownKey) parts.push(`known key ${f.knownKey.id} (${f.knownKey.source})`);
  if (f.inner) parts.push(`inside ${f.inner}`);
  if (f.note) parts.push(`— ${f.note}`);
  return parts.join('  ') + '\n';
}

export function textSummary(summary: Summary): string {
  const lines: string[] = [];
  const severities = SEVERITIES.map((s) => `${s} ${summary.findingsBySeverity[s]}`).join(', ');
  const total = SEVERITIES.reduce((n, s) => n + summary.findingsBySeverity[s], 0);
  lines.push(
    `scanned ${summary.files} file(s), ${summary.bytes} bytes in ${summary.seconds.toFixed(2)} s (${summary.megabytesPerSecond.toFixed(1)} MB/s)`,
    `findings: ${total} (${severities})`,
    `skipped: ${summary.skipped.length}`,
  );
  for (const s of summary.skipped) lines.push(`  skipped ${s.path}: ${s.reason}`);
  for (const w of summary.warnings) lines.push(`  warning ${w.path}: ${w.reason}`);
  if (summary.suppressed && summary.suppressed.baseline + summary.suppressed.allowlist > 0) {
    lines.push(`suppressed: ${summary.suppressed.baseline} by the baseline, ${summary.suppressed.allowlist} allowlisted`);
  }
  for (const stale of summary.staleBaselineEntries ?? []) lines.push(`  stale baseline entry (matched nothing): ${stale}`);
  lines.push(`errors: ${summary.errors.length}`);
  for (const e of summary.errors) lines.push(`  error ${e.path}${e.offset !== undefined ? ` @${e.offset}` : ''}: ${e.message}`);
  if (summary.interrupted) lines.push('interrupted: the scan did not finish');
  return lines.join('\n') + '\n';
}
