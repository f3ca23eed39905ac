// OpenPGP secret-key packets (RFC 4880 §5.5.3, RFC 9580): enough to tell a secret key from
// anything else and whether its secret part is protected by a passphrase.
import { HardLimitError } from './limits.js';

export interface PgpSecretKeyInfo {
  tag: 5 | 7;
  version: number;
  algorithm: number;
  /** S2K usage octet != 0: the secret material is encrypted. */
  protected: boolean;
}

const RSA = new Set([1, 2, 3]);

/** Reads the first packet of `bytes`; throws HardLimitError unless it is a secret-key packet. */
export function inspectPgpSecretKey(bytes: Uint8Array): PgpSecretKeyInfo {
  let p = 0;
  const need = (n: number) => {
    if (p + n > bytes.length) throw new HardLimitError('pgp packet past end');
  };
  need(1);
  const first = bytes[p++];
  if (!(first & 0x80)) throw new HardLimitError('pgp packet header');
  let tag: number;
  if (first & 0x40) {
    tag = first & 0x3f;
    need(1);
    const l0 = bytes[p++];
    if (l0 >= 192 && l0 < 224) p += 1;
    else if (l0 === 255) p += 4;
    else if (l0 >= 224) throw new HardLimitError('pgp partial length on a key packet');
  } else {
    tag = (first >> 2) & 0x0f;
    const lengthType = first & 3;
    if (lengthType === 3) throw new HardLimitError('pgp indeterminate length');
    p += [1, 2, 4][lengthType];
  }
  if (tag !== 5 && tag !== 7) throw new HardLimitError('not a pgp secret key packet');
  need(6);
  const version = bytes[p++];
  if (version < 3 || version > 6) throw new HardLimitError('pgp key version');
  p += 4; // creation time
  if (version === 3) p += 2; // validity days
  need(1);
  const algorithm = bytes[p++];
  if (version >= 5) p += 4; // public key material octet count
  const mpi = () => {
    need(2);
    const bits = (bytes[p] << 8) | bytes[p + 1];
    p += 2 + Math.ceil(bits / 8);
  };
  const oid = () => {
    need(1);
    const length = bytes[p++];
    if (length === 0 || length === 0xff) throw new HardLimitError('pgp curve oid');
    p += length;
  };
  if (RSA.has(algorithm)) { mpi(); mpi(); }
  else if (algorithm === 17) { mpi(); mpi(); mpi(); mpi(); }
  else if (algorithm === 16 || algorithm === 20) { mpi(); mpi(); mpi(); }
  else if (algorithm === 19 || algorithm === 22) { oid(); mpi(); }
  else if (algorithm === 18) { oid(); mpi(); need(1); p += 1 + bytes[p]; }
  else if (algorithm === 25 || algorithm === 26) p += 32;
  else if (algorithm === 27 || algorithm === 28) p += 57;
  else throw new HardLimitError('pgp public key algorithm');
  need(1);
  const s2kUsage = bytes[p];
  return { tag, version, algorithm, protected: s2kUsage !== 0 };
}
