// OpenSSH's private key container, `openssh-key-v1\0` (OpenSSH PROTOCOL.key).
import { HardLimitError } from './limits.js';
import { readOpensshPrivateFields, type SshPrivateKey } from './ssh-keys.js';
import { SshReader } from './ssh-wire.js';

export const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
const maximumKeysPerContainer = 16;

export type OpensshContents = (
  | { encrypted: true; cipher: string; keyTypes: string[] }
  | { encrypted: false; keys: SshPrivateKey[]; problem?: string }
) & { /** Bytes the container spans, from the magic to the end of its private section. */ length: number };

/** Parses a whole container; throws HardLimitError when the bytes are not one. */
export function parseOpensshKeyV1(bytes: Uint8Array): OpensshContents {
  if (bytes.length < OPENSSH_MAGIC.length || !OPENSSH_MAGIC.equals(bytes.subarray(0, OPENSSH_MAGIC.length))) {
    throw new HardLimitError('not openssh-key-v1');
  }
  const r = new SshReader(bytes);
  r.skip(OPENSSH_MAGIC.length);
  const cipher = r.text(64);
  const kdf = r.text(64);
  r.string(1024); // kdf options
  const count = r.uint32();
  if (count < 1 || count > maximumKeysPerContainer) throw new HardLimitError('openssh key count');
  const keyTypes: string[] = [];
  const publicBlobs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const blob = r.string();
    publicBlobs.push(blob);
    keyTypes.push(new SshReader(blob).text());
  }
  const privateSection = r.string(64 * 1024);
  const length = bytes.length - r.remaining;
  if (cipher !== 'none' || kdf !== 'none') return { encrypted: true, cipher, keyTypes, length };

  const p = new SshReader(privateSection);
  const check1 = p.uint32();
  const check2 = p.uint32();
  const keys: SshPrivateKey[] = [];
  for (let i = 0; i < count; i++) {
    const type = p.text();
    if (type !== keyTypes[i]) throw new HardLimitError('openssh private key type differs from public');
    keys.push(readOpensshPrivateFields(type, p));
    p.string(4096); // comment
  }
  const problem = check1 !== check2 ? 'check integers differ' : undefined;
  return problem ? { encrypted: false, keys, problem, length } : { encrypted: false, keys, length };
}
