// SARIF 2.1.0 (OASIS, errata01): one run, one rule per key kind found, one result per finding.
// Dumps are binary: a location is a byte range (region.byteOffset/byteLength), never a line.
// The output is a pure function of its arguments (no clock, no random ids), so it golden-tests.
import { createHash } from 'node:crypto';
import type { Finding, KeyKind, ScanError, Severity, Skipped, Summary } from '../types.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
export const SARIF_VERSION = '2.1.0';
export const INFORMATION_URI = 'https://github.com/dumpguard/dumpguard';

/** The artifact URI of standard input ('-'), which has no name of its own. */
export const STDIN_URI = 'stdin';

/** partialFingerprints key of a finding whose key has an SPKI fingerprint: identity from content. */
export const KEY_FINGERPRINT_ID = 'keyFingerprint/v1';
/**
 * partialFingerprints key when no fingerprint is derivable (encrypted, truncated, entropy-only):
 * `${kind}:${detector}:${sha256hex(path)}:${offset}`, where the path is hashed together with
 * `inner` (`path + '\0' + inner`) for findings inside decompressed content. It is stable across
 * runs over the same file and deliberately a different key from `keyFingerprint/v1`, so the two
 * kinds of identity never match each other.
 */
export const LOCATION_FINGERPRINT_ID = 'dumpguardLocation/v1';

type Level = 'error' | 'warning' | 'note';

const levelOfSeverity: Record<Severity, Level> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
};

interface RuleText {
  short: string;
  full: string;
  level: Level;
}

const ruleTexts: Record<KeyKind, RuleText> = {
  'rsa-private-key': { short: 'RSA private key', full: 'An RSA private key (PKCS#1, PKCS#8 or a raw structure) that parsed and is consistent.', level: 'error' },
  'ec-private-key': { short: 'EC private key', full: 'An elliptic-curve private key (SEC 1 or PKCS#8).', level: 'error' },
  'ed25519-private-key': { short: 'Ed25519 private key', full: 'An Ed25519 signing private key.', level: 'error' },
  'ed448-private-key': { short: 'Ed448 private key', full: 'An Ed448 signing private key.', level: 'error' },
  'x25519-private-key': { short: 'X25519 private key', full: 'An X25519 key-agreement private key.', level: 'error' },
  'x448-private-key': { short: 'X448 private key', full: 'An X448 key-agreement private key.', level: 'error' },
  'dsa-private-key': { short: 'DSA private key', full: 'A DSA private key.', level: 'error' },
  'encrypted-private-key': { short: 'Encrypted private key', full: 'A password-encrypted private key (e.g. PKCS#8 EncryptedPrivateKeyInfo): its content cannot be verified, and its protection is only as strong as the password.', level: 'warning' },
  'openssh-private-key': { short: 'OpenSSH private key', full: 'A private key in the OpenSSH key format.', level: 'error' },
  'pgp-private-key': { short: 'PGP private key', full: 'An OpenPGP secret key block.', level: 'error' },
  'putty-private-key': { short: 'PuTTY private key', full: 'A private key in the PuTTY (PPK) format.', level: 'error' },
  'private-key': { short: 'Private key', full: 'Private-key material of a type that could not be determined more precisely.', level: 'error' },
  'pkcs12': { short: 'PKCS#12 key store', full: 'A PKCS#12 (PFX) key store, which usually holds a private key.', level: 'error' },
  'jwk-private-key': { short: 'JWK private key', full: 'A JSON Web Key (RFC 7517) with private members.', level: 'error' },
  'jwk-symmetric-key': { short: 'JWK symmetric key', full: 'A JSON Web Key of type "oct" (RFC 7518): a shared secret key for HMAC or encryption.', level: 'error' },
  'high-entropy': { short: 'High-entropy region', full: 'Key-sized bytes with the entropy of key material but no recognised key structure (informational).', level: 'note' },
  'aes-key-schedule': { short: 'AES key schedule in a dump', full: 'An expanded AES key schedule (encryption or decryption form): the AES key it was expanded from is in the dump.', level: 'error' },
};

const rotateAndScrub =
  'Treat the key as compromised: rotate it (revoke it and issue a new one) and find out where else the dump was copied. ' +
  'Do not share the dump as it is: `dumpguard scrub` writes a scrubbed copy with the key material overwritten; the original stays untouched and should be deleted.';
const remediation =
  `${rotateAndScrub} The fingerprint (SHA-256 of the public key) identifies the key in your inventory; the report never contains the key itself.`;

function helpOf(kind: KeyKind): string {
  if (kind === 'high-entropy') return `Informational: check what the bytes at this offset are. If they are key material, the advice for keys applies. ${remediation}`;
  if (kind === 'jwk-symmetric-key') return `${rotateAndScrub} A symmetric key has no public half, so it has no fingerprint; the report never contains the key itself.`;
  if (kind === 'encrypted-private-key') return `The key is encrypted, but a dump often holds its password too, and offline guessing is unlimited. ${remediation}`;
  return remediation;
}

/** `rsa-private-key` → `RsaPrivateKey`, `pkcs12` → `Pkcs12`. */
function pascalCase(kind: string): string {
  return kind.split('-').map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Lone surrogates would make encodeURIComponent throw; file names never need them. */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

function encodeSegments(path: string): string {
  return path.split('/').map((segment) => encodeURIComponent(segment)).join('/');
}

/**
 * The SARIF artifact URI of a path as the user named it: backslashes become forward slashes,
 * each segment is percent-encoded, so the result is a valid URI reference. Relative paths stay
 * relative references (relative to the directory dumpguard ran in); absolute paths become
 * `file:` URIs; '-' (standard input) becomes `stdin`.
 */
export function artifactUri(path: string): string {
  if (path === '-') return STDIN_URI;
  const slashed = wellFormed(path).replace(/\\/g, '/');
  const drive = /^([A-Za-z]):\/(.*)$/s.exec(slashed);
  if (drive) return `file:///${drive[1]}:/${encodeSegments(drive[2])}`;
  if (slashed.startsWith('//')) {
    const [host, ...rest] = slashed.slice(2).split('/');
    return `file://${encodeURIComponent(host)}/${encodeSegments(rest.join('/'))}`;
  }
  if (slashed.startsWith('/')) return `file://${encodeSegments(slashed)}`;
  return encodeSegments(slashed);
}

function stdinDescription(path: string): { description: { text: string } } | undefined {
  return path === '-' ? { description: { text: 'standard input (named "-" on the command line)' } } : undefined;
}

/** Stable identity of a finding for result matching across runs (see the two *_ID constants). */
export function partialFingerprints(finding: Finding): Record<string, string> {
  if (finding.fingerprint !== undefined) return { [KEY_FINGERPRINT_ID]: finding.fingerprint };
  const where = finding.inner !== undefined ? `${finding.path}\0${finding.inner}` : finding.path;
  return { [LOCATION_FINGERPRINT_ID]: `${finding.kind}:${finding.detector}:${sha256Hex(where)}:${finding.offset}` };
}

/** `0x7f3a…` → a number when it is exact in a double (SARIF's absoluteAddress is an integer). */
function absoluteAddress(address: string): number | undefined {
  const text = address.trim();
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) return undefined;
  const value = BigInt(text);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}

/** Drops undefined members so optional fields are left out rather than written as null. */
function defined<T extends Record<string, unknown>>(object: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) if (value !== undefined) out[key] = value;
  return out as T;
}

function resultMessage(f: Finding): string {
  const parts = [
    `${f.kind} (${f.severity}) at byte offset ${f.offset} (0x${f.offset.toString(16)}), ${f.length} bytes`,
    `found by the ${f.detector} detector in ${f.encoding} encoding`,
    f.fingerprint !== undefined ? `fingerprint ${f.fingerprint}` : 'no fingerprint (public key not derivable)',
  ];
  if (f.address !== undefined) parts.push(`address ${f.address}${f.region !== undefined ? ` in ${f.region}` : ''}`);
  else if (f.region !== undefined) parts.push(`region ${f.region}`);
  if (f.knownKey !== undefined) parts.push(`known key ${f.knownKey.id} (${f.knownKey.source})`);
  if (f.inner !== undefined) parts.push(`inside ${f.inner}`);
  if (f.path === '-') parts.push('read from standard input');
  if (f.note !== undefined) parts.push(f.note);
  return `${parts.join('; ')}. Evidence (redacted): ${f.evidence}`;
}

function notificationText(entry: { path: string; offset?: number }, what: string): string {
  const at = entry.offset !== undefined ? ` at byte offset ${entry.offset}` : '';
  return `${entry.path === '-' ? 'standard input' : entry.path}${at}: ${what}`;
}

function notificationLocation(path: string, offset: number | undefined, artifactIndex: Map<string, number>) {
  const index = artifactIndex.get(path);
  return [{
    physicalLocation: defined({
      artifactLocation: defined({ uri: artifactUri(path), index }),
      region: offset !== undefined ? { byteOffset: offset } : undefined,
    }),
  }];
}

export function sarifReport(findings: readonly Finding[], summary: Summary, toolVersion: string): string {
  // Artifacts: every scanned file, then any path a finding names that the summary does not.
  const artifactIndex = new Map<string, number>();
  const artifacts: Record<string, unknown>[] = [];
  const addArtifact = (path: string, length: number | undefined, findingCount: number | undefined) => {
    if (artifactIndex.has(path)) return;
    artifactIndex.set(path, artifacts.length);
    artifacts.push(defined({
      location: defined({ uri: artifactUri(path), ...stdinDescription(path) }),
      length,
      roles: ['analysisTarget'],
      properties: findingCount !== undefined ? { findings: findingCount } : undefined,
    }));
  };
  for (const file of summary.perFile) addArtifact(file.path, file.bytes, file.findings);
  for (const finding of findings) addArtifact(finding.path, undefined, undefined);

  // Rules: one per kind that occurs, in order of first occurrence.
  const ruleIndex = new Map<KeyKind, number>();
  const rules: Record<string, unknown>[] = [];
  for (const { kind } of findings) {
    if (ruleIndex.has(kind)) continue;
    ruleIndex.set(kind, rules.length);
    const text = ruleTexts[kind];
    rules.push({
      id: kind,
      name: pascalCase(kind),
      shortDescription: { text: `${text.short} in a dump` },
      fullDescription: { text: `${text.full} Found in a crash dump, core file, heap dump or snapshot, where anyone who can read the file can take it.` },
      help: { text: helpOf(kind), markdown: helpOf(kind) },
      helpUri: INFORMATION_URI,
      defaultConfiguration: { level: text.level },
      properties: { tags: ['security', 'secret', 'private-key'] },
    });
  }

  const results = findings.map((f) => {
    const address = f.address !== undefined ? absoluteAddress(f.address) : undefined;
    return defined({
      ruleId: f.kind,
      ruleIndex: ruleIndex.get(f.kind),
      level: levelOfSeverity[f.severity],
      message: { text: resultMessage(f) },
      locations: [{
        physicalLocation: defined({
          artifactLocation: { uri: artifactUri(f.path), index: artifactIndex.get(f.path), ...stdinDescription(f.path) },
          region: { byteOffset: f.offset, byteLength: f.length },
          // The memory address and region a file offset maps to (core files, minidumps): SARIF's
          // address object is made for this. absoluteAddress only when exact in a double; the
          // address string itself is always in properties.
          address: f.address !== undefined || f.region !== undefined
            ? defined({ absoluteAddress: address, length: address !== undefined ? f.length : undefined, name: f.region })
            : undefined,
        }),
      }],
      partialFingerprints: partialFingerprints(f),
      properties: defined({
        severity: f.severity,
        confidence: f.confidence,
        detector: f.detector,
        encoding: f.encoding,
        kind: f.kind,
        fingerprint: f.fingerprint,
        address: f.address,
        region: f.region,
        knownKey: f.knownKey,
        inner: f.inner,
        note: f.note,
      }),
    });
  });

  const notification = (level: Level, id: string, text: string, path: string, offset?: number) => ({
    level,
    descriptor: { id },
    message: { text },
    locations: notificationLocation(path, offset, artifactIndex),
  });
  const notifications = [
    ...summary.errors.map((e: ScanError) => notification('error', 'scan-error', notificationText(e, e.message), e.path, e.offset)),
    ...summary.warnings.map((w: Skipped) => notification('warning', 'warning', notificationText(w, w.reason), w.path)),
    ...summary.skipped.map((s: Skipped) => notification('note', 'skipped', notificationText(s, `skipped: ${s.reason}`), s.path)),
  ];
  const interrupted = summary.interrupted
    ? [{ level: 'error', descriptor: { id: 'interrupted' }, message: { text: 'interrupted: the scan did not finish, so not every input was read whole' } }]
    : [];

  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: SARIF_VERSION,
    runs: [{
      tool: {
        driver: { name: 'dumpguard', version: toolVersion, informationUri: INFORMATION_URI, rules },
      },
      invocations: [{
        executionSuccessful: summary.errors.length === 0 && !summary.interrupted,
        toolExecutionNotifications: [...notifications, ...interrupted],
        properties: {
          files: summary.files,
          bytes: summary.bytes,
          seconds: summary.seconds,
          megabytesPerSecond: summary.megabytesPerSecond,
          findingsBySeverity: summary.findingsBySeverity,
          peakRssBytes: summary.peakRssBytes,
          interrupted: summary.interrupted,
        },
      }],
      artifacts,
      results,
    }],
  };
  return JSON.stringify(log, null, 2) + '\n';
}
