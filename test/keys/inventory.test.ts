import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { applyInventory, loadInventory, parseInventory } from '../../src/keys/inventory.js';
import type { Finding } from '../../src/types.js';
import { fingerprintOf, pkcs8Pem, testKeys } from '../helpers/keys.js';

const keys = testKeys();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dumpguard-inventory-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('inventory formats', () => {
  test('a JWKS as an OpenID provider publishes it: each key by its kid', () => {
    const jwks = {
      keys: [
        { ...createPublicKey(keys.rsa.privateKey).export({ format: 'jwk' }), kid: 'rsa-2026', use: 'sig', alg: 'RS256' },
        { ...createPublicKey(keys.ec.privateKey).export({ format: 'jwk' }), kid: 'ec-2026', use: 'sig', alg: 'ES256' },
        { kty: 'oct', k: 'c2VjcmV0c2VjcmV0c2VjcmV0', kid: 'hmac' },
      ],
    };
    expect(parseInventory(Buffer.from(JSON.stringify(jwks)), 'jwks.json')).toEqual([
      [keys.rsa.fingerprint, { id: 'rsa-2026', source: 'jwks.json' }],
      [keys.ec.fingerprint, { id: 'ec-2026', source: 'jwks.json' }],
    ]);
  });

  test('PEM public keys and a certificate (by subject CN)', () => {
    const keyFile = path.join(tmp, 'k.pem');
    writeFileSync(keyFile, pkcs8Pem(keys.ec.privateKey));
    const certificate = execFileSync('openssl', ['req', '-x509', '-key', keyFile, '-subj', '/O=Example/CN=signing.example.com', '-days', '1']).toString();
    const pem = [createPublicKey(keys.ed25519.privateKey).export({ type: 'spki', format: 'pem' }), createPublicKey(keys.rsa.privateKey).export({ type: 'pkcs1', format: 'pem' }), certificate].join('\n');
    expect(parseInventory(Buffer.from(pem), 'keys.pem')).toEqual([
      [keys.ed25519.fingerprint, { id: 'public key 1', source: 'keys.pem' }],
      [keys.rsa.fingerprint, { id: 'rsa public key 2', source: 'keys.pem' }],
      [keys.ec.fingerprint, { id: 'signing.example.com', source: 'keys.pem' }],
    ]);
    const der = execFileSync('openssl', ['x509', '-outform', 'DER'], { input: certificate });
    expect(parseInventory(der, 'cert.der')).toEqual([[keys.ec.fingerprint, { id: 'signing.example.com', source: 'cert.der' }]]);
  });

  test('OpenSSH public keys by comment, and a fingerprint list', () => {
    const lines: string[] = [];
    const expected: Array<[string, { id: string; source: string }]> = [];
    for (const [type, bits] of [['ed25519', []], ['rsa', ['-b', '2048']], ['ecdsa', ['-b', '256']]] as const) {
      const file = path.join(tmp, `id_${type}`);
      execFileSync('ssh-keygen', ['-q', '-t', type, ...bits, '-N', '', '-C', `ops@${type}`, '-f', file]);
      lines.push(readFileSync(`${file}.pub`, 'utf8').trim());
      // Independently of src/: Ed25519's SPKI is a fixed prefix and the key's last 32 bytes; ssh-keygen converts the rest.
      const blob = Buffer.from(lines.at(-1)!.split(' ')[1], 'base64');
      const spki = type === 'ed25519'
        ? createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), blob.subarray(blob.length - 32)]), format: 'der', type: 'spki' })
        : createPublicKey(execFileSync('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', `${file}.pub`]).toString());
      expected.push([fingerprintOf(spki), { id: `ops@${type}`, source: 'authorized_keys' }]);
    }
    const parsed = parseInventory(Buffer.from(lines.join('\n') + '\n'), 'authorized_keys');
    expect(parsed).toEqual(expected);
    expect(parseInventory(Buffer.from(`# ours\n${keys.rsa.fingerprint} prod signing key\n`), 'fps.txt')).toEqual([[keys.rsa.fingerprint, { id: 'prod signing key', source: 'fps.txt' }]]);
  });
});

describe('applying the inventory', () => {
  const finding = (fingerprint: string | undefined, severity: Finding['severity']): Finding => ({
    path: 'core', offset: 10, length: 100, detector: 'der', kind: 'rsa-private-key', severity, confidence: 0.99, encoding: 'binary', evidence: 'x', ...(fingerprint ? { fingerprint } : {}),
  });

  test('a listed key is critical and names its entry; others are unchanged', async () => {
    const file = path.join(tmp, 'inventory.txt');
    writeFileSync(file, `${keys.rsa.fingerprint} prod-signing\n`);
    const inventory = await loadInventory([file]);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(applyInventory([finding(keys.rsa.fingerprint, 'high'), finding(fingerprintOf(other), 'high'), finding(undefined, 'medium')], inventory)).toEqual([
      { ...finding(keys.rsa.fingerprint, 'high'), severity: 'critical', knownKey: { id: 'prod-signing', source: 'inventory.txt' } },
      finding(fingerprintOf(other), 'high'),
      finding(undefined, 'medium'),
    ]);
  });

  test('an unreadable or empty inventory is a usage error (exit 2), never an empty inventory', async () => {
    await expect(loadInventory([path.join(tmp, 'missing.json')])).rejects.toMatchObject({ exitCode: 2 });
    const empty = path.join(tmp, 'empty.txt');
    writeFileSync(empty, '# nothing here\n');
    await expect(loadInventory([empty])).rejects.toThrow(/no public keys/);
  });
});
