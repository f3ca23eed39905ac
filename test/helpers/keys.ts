// Test keys generated at test time with node:crypto (never used anywhere else), and the
// fingerprint computed independently of src/ so tests check the implementation, not echo it.
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface TestKey {
  name: string;
  privateKey: KeyObject;
  /** `SHA256:` + unpadded base64 of SHA-256 over the SPKI DER. */
  fingerprint: string;
}

export function fingerprintOf(key: KeyObject): string {
  const spki = (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' });
  return 'SHA256:' + createHash('sha256').update(spki).digest('base64').replace(/=+$/, '');
}

function make(name: string, pair: { privateKey: KeyObject }): TestKey {
  return { name, privateKey: pair.privateKey, fingerprint: fingerprintOf(pair.privateKey) };
}

let cache: Record<string, TestKey> | undefined;

/** One key of each type, generated once per test file. */
export function testKeys(): Record<'rsa' | 'ec' | 'ed25519' | 'x25519' | 'ed448' | 'x448' | 'dsa', TestKey> {
  cache ??= {
    rsa: make('rsa', generateKeyPairSync('rsa', { modulusLength: 2048 })),
    ec: make('ec', generateKeyPairSync('ec', { namedCurve: 'P-256' })),
    ed25519: make('ed25519', generateKeyPairSync('ed25519')),
    x25519: make('x25519', generateKeyPairSync('x25519')),
    ed448: make('ed448', generateKeyPairSync('ed448')),
    x448: make('x448', generateKeyPairSync('x448')),
    dsa: make('dsa', generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 })),
  };
  return cache as ReturnType<typeof testKeys>;
}

export function pkcs8Pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** Ways memory holds a PEM text. */
export function asCrlf(pem: string): string {
  return pem.replace(/\n/g, '\r\n');
}
export function withoutFinalNewline(pem: string): string {
  return pem.replace(/\n$/, '');
}
export function indented(pem: string, indent = '    '): string {
  return pem.split('\n').map((l) => (l ? indent + l : l)).join('\n').trimStart();
}
export function jsonEscaped(pem: string, newline = '\\n'): string {
  return pem.replace(/\n/g, newline);
}
export function utf16le(text: string): Buffer {
  return Buffer.from(text, 'utf16le');
}

/** Deterministic filler bytes (xorshift32), so tests are reproducible. */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
