// One finding per line, exactly the contract's field names; summary and errors go to stderr.
import type { Finding } from '../types.js';
import { orderedFinding } from './finding-fields.js';

export function jsonlLine(finding: Finding): string {
  return JSON.stringify(orderedFinding(finding)) + '\n';
}
