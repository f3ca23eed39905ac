// One document: { version, findings, summary, errors }.
import type { Finding, Summary } from '../types.js';
import { orderedFinding } from './finding-fields.js';

export const REPORT_VERSION = 1;

export function jsonReport(findings: readonly Finding[], summary: Summary, toolVersion: string): string {
  const { errors, ...rest } = summary;
  // `complete: false`: interrupted or not read whole, so the findings may not be all there are.
  const complete = !summary.interrupted && errors.length === 0;
  return JSON.stringify({ version: REPORT_VERSION, tool: { name: 'dumpguard', version: toolVersion }, complete, findings: findings.map(orderedFinding), summary: rest, errors }, null, 2) + '\n';
}
