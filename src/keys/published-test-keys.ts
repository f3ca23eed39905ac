// Keys published in standards and documentation as examples. They end up compiled into
// binaries and test fixtures, and their "private" halves are public by design: a match is
// lowered to `low` and says so, never dropped silently. Fingerprints only (SPKI SHA-256), each
// computed from the published text and checked against the source's own values where it gives them.
import type { Finding } from '../types.js';
import type { Inventory } from './inventory.js';

export const PUBLISHED_TEST_KEYS: ReadonlyArray<readonly [fingerprint: string, name: string]> = [
  ['SHA256:srBDQM+u5hbsnCxi0mGyCOVLsZdJjfUujK3t4jrAul4', 'RFC 9500 testECCP256'],
  ['SHA256:xMEBBaC+DtTdM1RCjcOKm/7mTaFBzhbnXJTtonL53To', 'RFC 9500 testECCP384'],
  ['SHA256:rLG4Mn/vmV4kWP3148M7LcB0n+q9aolMub2p1wrAbCQ', 'RFC 9500 testECCP521'],
  ['SHA256:oekVYFTgT6yJmunydRMs3Ael28TqLCrTof/G4NJTaB8', 'RFC 8410 §10.3 Ed25519 example'],
  ['SHA256:BuP9j9opu2CrWVV95h7bCuzbIxE0vjDnW0Vfjht5L6k', 'RFC 8037 A.1 Ed25519 example'],
  ['SHA256:K9G7DESol8MKeqCZHN442AYv5EHeUNoPRoJTRPYC6Cc', 'RFC 7515 A.3 ES256 example'],
  ['SHA256:UblEzfpUTUwyc6pr81BiWn3VO7tqcXIydPU4sZogd2A', 'RFC 7517 A.2 EC example'],
];

export function publishedTestKeys(): Inventory {
  return new Map(PUBLISHED_TEST_KEYS.map(([fingerprint, name]) => [fingerprint, { id: name, source: 'published test keys' }]));
}

/** A published test key is informational: `low`, with a note naming where it was published. */
export function lowerPublishedTestKeys(findings: Finding[], testKeys: Inventory): Finding[] {
  return findings.map((finding) => {
    const known = finding.fingerprint && !finding.knownKey ? testKeys.get(finding.fingerprint) : undefined;
    if (!known) return finding;
    const note = `published test key (${known.id})`;
    return { ...finding, severity: 'low', note: finding.note ? `${note}; ${finding.note}` : note };
  });
}
