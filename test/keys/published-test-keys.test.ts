import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { scan } from '../../dist/index.js';
import { PUBLISHED_TEST_KEYS } from '../../src/keys/published-test-keys.js';
import { fingerprintOf, pkcs8Pem, pseudoRandomBytes, testKeys } from '../helpers/keys.js';

// RFC 9500 §2.3 testECCP256: a PUBLISHED TEST KEY (public by design, like the EICAR test file).
const RFC9500_P256 = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIObLW92AqkWunJXowVR2Z5/+yVPBaFHnEedDk5WJxk/BoAoGCCqGSM49
AwEHoUQDQgAEQiVI+I+3gv+17KN0RFLHKh5Vj71vc75eSOkyMsxFxbFsTNEMTLjV
uKFxOelIgsiZJXKZNCX0FBmrfpCkKklCcg==
-----END EC PRIVATE KEY-----
`;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dumpguard-testkeys-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('published test keys', () => {
  test('the shipped list names RFC 9500 testECCP256 by the fingerprint RFC 9500 implies', () => {
    // RFC 9500 lists the key; its SPKI SHA-256 is b2b04340…0ba5e (as other projects quote it).
    expect(Buffer.from('b2b04340cfaee616ec9c2c62d261b208e54bb197498df52e8cadede23ac0ba5e', 'hex').toString('base64').replace(/=+$/, '')).toBe(
      PUBLISHED_TEST_KEYS.find(([, name]) => name === 'RFC 9500 testECCP256')![0].slice(7),
    );
    expect(fingerprintOf(createPrivateKey(RFC9500_P256))).toBe(PUBLISHED_TEST_KEYS[0][0]);
  });

  test('a published test key in a dump is low with a note; a real key beside it stays high', async () => {
    const real = testKeys().ed25519;
    const file = path.join(tmp, 'dump.bin');
    const prefix = pseudoRandomBytes(100, 5);
    const middle = Buffer.alloc(50);
    writeFileSync(file, Buffer.concat([prefix, Buffer.from([0]), Buffer.from(RFC9500_P256), middle, Buffer.from(pkcs8Pem(real.privateKey)), Buffer.alloc(10)]));
    const { findings } = await scan([file], { jobs: 1 });
    expect(findings.map((f) => [f.offset, f.severity, f.fingerprint, f.note])).toEqual([
      [101, 'low', PUBLISHED_TEST_KEYS[0][0], 'published test key (RFC 9500 testECCP256)'],
      [101 + RFC9500_P256.length + 50, 'high', real.fingerprint, undefined],
    ]);
  });

  test('--test-keys adds a team\'s own test keys', async () => {
    const own = testKeys().ec;
    const list = path.join(tmp, 'our-test-keys.txt');
    writeFileSync(list, `${own.fingerprint} integration-test signing key\n`);
    const file = path.join(tmp, 'ours.bin');
    writeFileSync(file, Buffer.from(pkcs8Pem(own.privateKey)));
    const { findings } = await scan([file], { jobs: 1, testKeys: [list] });
    expect(findings.map((f) => [f.severity, f.note])).toEqual([['low', 'published test key (integration-test signing key)']]);
  });
});
