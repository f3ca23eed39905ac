// One document: { version, findings, summary, errors }.
import type { Finding, Summary } from '../types.js';
import { orderedFinding } from './finding-fields.js';

export const REPORT_VERSION = 1;

export function jsonReport(findings: readonly Finding[], summary: Summary, toolVersion: string): string {
  const { errors, ...rest } = summary;
  return JSON.stringify({ version: REPORT_VERSION, tool: { name: 'dumpguard', version: toolVersion }, findings: findings.map(orderedFinding), summary: rest, errors }, null, 2) + '\n';
}
