// Verdicts shared by the text detectors: a parsed key object -> kind, severity, fingerprint.
import type { Match, Severity } from '../types.js';
import { describePrivateKey } from './describe.js';
import { parseOpensshKeyV1 } from './openssh.js';
import type { SshPrivateKey } from './ssh-keys.js';

export type Verdict = Pick<Match, 'kind' | 'severity' | 'confidence' | 'fingerprint' | 'note'>;

/** An `openssh-key-v1` container: encrypted → medium; otherwise its first key, validated. */
export function judgeOpenssh(der: Uint8Array): Verdict & { length: number } {
  const contents = parseOpensshKeyV1(der);
  if (contents.encrypted) {
    return { kind: 'encrypted-private-key', severity: 'medium', confidence: 0.9, note: `OpenSSH key encrypted with ${contents.cipher}`, length: contents.length };
  }
  const verdict = { ...judgeKey(contents.keys[0]), length: contents.length };
  return contents.problem ? { ...verdict, severity: 'medium', confidence: 0.6, note: contents.problem } : verdict;
}

/** Validated key → high with its fingerprint; parts that disagree → medium. */
export function judgeKey(parsed: SshPrivateKey): Verdict {
  const description = describePrivateKey(parsed.key);
  const problem = parsed.problem ?? description.problem;
  const severity: Severity = problem ? 'medium' : 'high';
  return {
    kind: description.kind,
    severity,
    confidence: problem ? 0.6 : 0.99,
    fingerprint: description.fingerprint,
    ...(problem ? { note: problem } : {}),
  };
}

