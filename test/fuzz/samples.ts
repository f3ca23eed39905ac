// Valid private keys in every form the detectors handle, generated at test time with
// node:crypto and built byte by byte where node:crypto has no exporter (OpenSSH container,
// Windows blobs, PuTTY-shaped text). They seed the mutation fuzzers: each is a known-good
// input whose damaged copies must never crash a detector or move a finding.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { cngEccPrivateBlob, cngRsaPrivateBlob, cryptoApiPrivateKeyBlob, ecIntegers, rsaIntegers } from '../helpers/windows-blobs.js';

export interface Sample {
  name: string;
  bytes: Buffer;
}

function sshString(value: Buffer | string): Buffer {
  const body = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

function mpint(value: Buffer): Buffer {
  let v = value;
  while (v.length > 1 && v[0] === 0 && !(v[1] & 0x80)) v = v.subarray(1);
  if (v[0] & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return sshString(v);
}

/** An unencrypted `openssh-key-v1\0` container (OpenSSH PROTOCOL.key) holding one key. */
function opensshContainer(publicBlob: Buffer, privateFields: Buffer[]): Buffer {
  const check = 0x5eed1234;
  let section = Buffer.concat([u32(check), u32(check), ...privateFields, sshString('fuzz')]);
  const padding: number[] = [];
  for (let i = 1; (section.length + padding.length) % 8 !== 0; i++) padding.push(i);
  section = Buffer.concat([section, Buffer.from(padding)]);
  return Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(Buffer.alloc(0)),
    u32(1),
    sshString(publicBlob),
    sshString(section),
  ]);
}

function opensshEd25519(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const pub = Buffer.from(jwk.x!, 'base64url');
  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  return opensshContainer(publicBlob, [sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub]))]);
}

function opensshEcdsaP256(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const type = 'ecdsa-sha2-nistp256';
  const publicBlob = Buffer.concat([sshString(type), sshString('nistp256'), sshString(point)]);
  return opensshContainer(publicBlob, [sshString(type), sshString('nistp256'), sshString(point), mpint(Buffer.from(jwk.d!, 'base64url'))]);
}

function wrap(text: string, width: number, newline = '\n'): string {
  return (text.match(new RegExp(`.{1,${width}}`, 'g')) ?? []).join(newline);
}

function armor(label: string, body: Buffer, width = 64): string {
  return `-----BEGIN ${label}-----\n${wrap(body.toString('base64'), width)}\n-----END ${label}-----\n`;
}

// OpenPGP v4 secret-key packets (RFC 4880 §5.5.3), unprotected, with the two-octet checksum.
function pgpMpi(value: Buffer): Buffer {
  let i = 0;
  while (i < value.length && value[i] === 0) i++;
  const v = value.subarray(i);
  const bits = v.length === 0 ? 0 : 8 * (v.length - 1) + (32 - Math.clz32(v[0]));
  return Buffer.concat([Buffer.from([bits >> 8, bits & 0xff]), v]);
}

function pgpSecretKeyPacket(algorithm: number, publicFields: Buffer, secretFields: Buffer, newFormat: boolean): Buffer {
  let sum = 0;
  for (const b of secretFields) sum += b;
  const body = Buffer.concat([Buffer.from([4, 0x6b, 0x0b, 0x12, 0x00, algorithm]), publicFields, Buffer.from([0]), secretFields, Buffer.from([(sum >> 8) & 0xff, sum & 0xff])]);
  const n = body.length;
  const header = newFormat
    ? n < 192 ? [0xc5, n] : [0xc5, ((n - 192) >> 8) + 192, (n - 192) & 0xff]
    : [0x95, n >> 8, n & 0xff]; // old format, tag 5, two-octet length
  return Buffer.concat([Buffer.from(header), body]);
}

function pgpEcdsaP256(key: KeyObject, newFormat: boolean): Buffer {
  const jwk = key.export({ format: 'jwk' });
  const oid = Buffer.from('2a8648ce3d030107', 'hex');
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  return pgpSecretKeyPacket(19, Buffer.concat([Buffer.from([oid.length]), oid, pgpMpi(point)]), pgpMpi(Buffer.from(jwk.d!, 'base64url')), newFormat);
}

function pgpRsa(key: KeyObject, newFormat: boolean): Buffer {
  const jwk = key.export({ format: 'jwk' });
  const b = (v: string | undefined) => Buffer.from(v!, 'base64url');
  const big = (x: Buffer) => BigInt('0x' + x.toString('hex'));
  const bytes = (v: bigint) => Buffer.from(v.toString(16).padStart(2 * Math.ceil(v.toString(16).length / 2), '0'), 'hex');
  let [p, q] = [big(b(jwk.p)), big(b(jwk.q))];
  if (p > q) [p, q] = [q, p]; // OpenPGP: p < q, u = p^-1 mod q
  let [r0, r1, s0, s1] = [p % q, q, 1n, 0n];
  while (r1 !== 0n) {
    const k = r0 / r1;
    [r0, r1] = [r1, r0 - k * r1];
    [s0, s1] = [s1, s0 - k * s1];
  }
  const u = ((s0 % q) + q) % q;
  return pgpSecretKeyPacket(1, Buffer.concat([pgpMpi(b(jwk.n)), pgpMpi(b(jwk.e))]), Buffer.concat([pgpMpi(b(jwk.d)), pgpMpi(bytes(p)), pgpMpi(bytes(q)), pgpMpi(bytes(u))]), newFormat);
}

let cache: Sample[] | undefined;

/** One sample per form; RSA keys are 1024-bit so that validating mutated copies stays cheap. */
export function keySamples(): Sample[] {
  if (cache) return cache;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const ed25519 = generateKeyPairSync('ed25519').privateKey;
  const der = (key: KeyObject, type: 'pkcs1' | 'pkcs8' | 'sec1') => key.export({ type, format: 'der' }) as Buffer;
  const pem = (key: KeyObject, type: 'pkcs1' | 'pkcs8' | 'sec1') => key.export({ type, format: 'pem' }) as string;
  const encryptedPem = rsa.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'fuzz' }) as string;
  const jwkOf = (key: KeyObject, extra: Record<string, string> = {}) => JSON.stringify({ ...key.export({ format: 'jwk' }), ...extra });
  const rsaJwk = jwkOf(rsa, { kid: 'fuzz-rsa' });
  const ecJwk = jwkOf(ec);
  const okpJwk = jwkOf(ed25519);
  const octJwk = JSON.stringify({ kty: 'oct', k: Buffer.from('0123456789abcdef0123456789abcdef').toString('base64url'), alg: 'HS256' });
  const sshEd = opensshEd25519(ed25519);
  const sshEc = opensshEcdsaP256(ec);
  // PuTTY-shaped text (v3 header, unencrypted): its blobs are the OpenSSH public blob and
  // random bytes, so it parses as far as the key and then fails: a `medium` shape.
  const putty = [
    'PuTTY-User-Key-File-3: ssh-ed25519',
    'Encryption: none',
    'Comment: fuzz',
    'Public-Lines: 2',
    ...wrap(Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.from(ed25519.export({ format: 'jwk' }).x!, 'base64url'))]).toString('base64'), 64).split('\n'),
    'Private-Lines: 1',
    Buffer.from(der(ed25519, 'pkcs8').subarray(-36)).toString('base64'),
    'Private-MAC: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    '',
  ].join('\n');

  cache = [
    { name: 'PEM PKCS#8 RSA', bytes: Buffer.from(pem(rsa, 'pkcs8')) },
    { name: 'PEM PKCS#1 RSA', bytes: Buffer.from(pem(rsa, 'pkcs1')) },
    { name: 'PEM SEC1 EC', bytes: Buffer.from(pem(ec, 'sec1')) },
    { name: 'PEM PKCS#8 Ed25519', bytes: Buffer.from(pem(ed25519, 'pkcs8')) },
    { name: 'PEM ENCRYPTED PRIVATE KEY', bytes: Buffer.from(encryptedPem) },
    { name: 'PEM PKCS#8 EC, CRLF', bytes: Buffer.from(pem(ec, 'pkcs8').replace(/\n/g, '\r\n')) },
    { name: 'PEM PKCS#8 EC, json-escaped', bytes: Buffer.from(JSON.stringify({ key: pem(ec, 'pkcs8') })) },
    { name: 'PEM PKCS#8 EC, UTF-16LE', bytes: Buffer.from(pem(ec, 'pkcs8'), 'utf16le') },
    { name: 'PEM OPENSSH PRIVATE KEY', bytes: Buffer.from(armor('OPENSSH PRIVATE KEY', sshEd, 70)) },
    { name: 'PuTTY v3 shape', bytes: Buffer.from(putty) },
    { name: 'DER PKCS#8 RSA', bytes: der(rsa, 'pkcs8') },
    { name: 'DER PKCS#1 RSA', bytes: der(rsa, 'pkcs1') },
    { name: 'DER SEC1 EC', bytes: der(ec, 'sec1') },
    { name: 'DER PKCS#8 Ed25519', bytes: der(ed25519, 'pkcs8') },
    { name: 'JWK RSA', bytes: Buffer.from(rsaJwk) },
    { name: 'JWK EC', bytes: Buffer.from(ecJwk) },
    { name: 'JWK EC with a non-ASCII kid', bytes: Buffer.from(JSON.stringify({ kty: 'EC', kid: 'clé-1', ...ec.export({ format: 'jwk' }) }), 'utf8') },
    { name: 'JWK OKP in a JWKS', bytes: Buffer.from(`{"keys":[${okpJwk},${octJwk}]}`) },
    { name: 'JWK EC, escaped in a JSON string', bytes: Buffer.from(JSON.stringify({ jwk: ecJwk })) },
    { name: 'JWK EC, UTF-16LE', bytes: Buffer.from(ecJwk, 'utf16le') },
    { name: 'OpenSSH container, binary (Ed25519)', bytes: sshEd },
    { name: 'OpenSSH container, base64 (ECDSA P-256)', bytes: Buffer.from(`KEY=${sshEc.toString('base64')}\n`) },
    { name: 'OpenSSH container, base64 UTF-16LE', bytes: Buffer.from(sshEd.toString('base64'), 'utf16le') },
    { name: 'base64 DER PKCS#8 EC, one line', bytes: Buffer.from(`"${der(ec, 'pkcs8').toString('base64')}"`) },
    { name: 'base64 DER PKCS#8 EC, bare', bytes: Buffer.from(der(ec, 'pkcs8').toString('base64')) },
    { name: 'OpenSSH container, base64 bare (Ed25519)', bytes: Buffer.from(sshEd.toString('base64')) },
    { name: 'base64 DER PKCS#1 RSA, wrapped', bytes: Buffer.from(wrap(der(rsa, 'pkcs1').toString('base64'), 64) + '\n') },
    { name: 'base64 DER PKCS#8 Ed25519, UTF-16LE', bytes: Buffer.from(der(ed25519, 'pkcs8').toString('base64'), 'utf16le') },
    { name: 'CNG BCRYPT_RSAFULLPRIVATE_BLOB', bytes: cngRsaPrivateBlob(rsaIntegers(rsa), true) },
    { name: 'CNG BCRYPT_RSAPRIVATE_BLOB', bytes: cngRsaPrivateBlob(rsaIntegers(rsa), false) },
    { name: 'CNG BCRYPT_ECCPRIVATE_BLOB', bytes: cngEccPrivateBlob(ecIntegers(ec), 'ECDSA') },
    { name: 'CryptoAPI PRIVATEKEYBLOB', bytes: cryptoApiPrivateKeyBlob(rsaIntegers(rsa)) },
    { name: 'OpenPGP v4 secret key, ECDSA P-256, new format', bytes: pgpEcdsaP256(ec, true) },
    { name: 'OpenPGP v4 secret key, RSA, old format', bytes: pgpRsa(rsa, false) },
    { name: 'PEM PGP PRIVATE KEY BLOCK', bytes: Buffer.from(armor('PGP PRIVATE KEY BLOCK', pgpEcdsaP256(ec, false)).replace('-----\n', '-----\nVersion: fuzz\n\n')) },
  ];
  return cache;
}

/**
 * Tokens that steer random text into the detectors' deeper paths: armor lines, JSON
 * structure, base64 anchors, blob magics, DER headers, line ends real and escaped.
 */
export const TOKENS: readonly Buffer[] = [
  '-----BEGIN ', '-----END ', 'PRIVATE KEY-----', 'RSA PRIVATE KEY-----', 'OPENSSH PRIVATE KEY-----', 'ENCRYPTED ', 'PGP PRIVATE KEY BLOCK-----',
  'Proc-Type: 4,ENCRYPTED', 'PuTTY-User-Key-File-2: ssh-rsa', 'Private-Lines: 1', 'Private-MAC: ab',
  '\n', '\r\n', '\\n', '\\r\\n', ' ', '\t', '=', '==',
  '{', '}', '[', ']', ':', ',', '"', '\\"', '"kty"', '\\"kty\\"', '"RSA"', '"EC"', '"OKP"', '"oct"', '"d"', '"k"', '"n"', '"e"', '"x"', '"crv"', '"P-256"', '"Ed25519"', '"oth"',
  'MII', 'MIG', 'MIIE', 'CAQ', 'MC4CAQAwBQYDK2VwBCIEI', 'b3BlbnNzaC1rZXktdjE', 'AAAA', 'QUJDREVGR0g',
  'RSA2', 'RSA3', 'ECS2', 'ECK2', 'ECS6',
].map((t) => Buffer.from(t, 'latin1')).concat([
  Buffer.from('openssh-key-v1\0', 'latin1'),
  Buffer.from([0x30, 0x82, 0x01, 0x00]), Buffer.from([0x30, 0x81, 0x80]), Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
  Buffer.from([0x02, 0x01, 0x00]), Buffer.from([0x02, 0x01, 0x01]), Buffer.from([0x04, 0x20]), Buffer.from([0xa0, 0x0a]),
  Buffer.from('06092a864886f70d0101010500', 'hex'), Buffer.from('06092a864886f70d01050d', 'hex'),
  Buffer.from([0x07, 0x02, 0x00, 0x00, 0x00, 0xa4, 0x00, 0x00]), Buffer.from([0x00]), Buffer.from([0xff]), Buffer.from([0x00, 0xd8]),
]);
