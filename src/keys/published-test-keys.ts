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
  // The RSA keys `openssl speed` compiles in (OpenSSL apps/testrsa.h): in the data segment of
  // every openssl executable, so in every core of an openssl command (read from such a core).
  ['SHA256:cFUGbuOWnCXWbBuJHCUug9tlOuaDTNYOSSUKSvc6l/4', 'OpenSSL apps/testrsa.h test_rsa_512'],
  ['SHA256:DqfK+d0H/Xn+Is6177vX1ERdIx6S7hvzsqAi6v+wBJU', 'OpenSSL apps/testrsa.h test_rsa_1024'],
  ['SHA256:pv3CxtB6qHfjrDYMLOXvtpq33OL9jfPBvOBWSxcRS8I', 'OpenSSL apps/testrsa.h test_rsa_2048'],
  ['SHA256:AeZ+ViRLQ7Zo4rmml9qq/PtQH6eN4vzEqjK9rm3ZSvY', 'OpenSSL apps/testrsa.h test_rsa_3072'],
  ['SHA256:ra3DJGu0gwVRxtoUPXRicnlnvaUwWa5vFSMjsKumlZU', 'OpenSSL apps/testrsa.h test_rsa_4096'],
  ['SHA256:0tjH0d4eEY6BDBXrf42VYKQz4VzVXqxSqt6B1mac8TM', 'OpenSSL apps/testrsa.h test_rsa_7680'],
  ['SHA256:zr9ZpGXM2cQqf39qeJzHQdQ8rLxQJYftHF8PTkRfHDk', 'OpenSSL apps/testrsa.h test_rsa_15360'],
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
