// PuTTY's .ppk format, versions 2 and 3 (PuTTY manual, appendix C): a text header, then the
// public blob and the private blob as base64 line groups.
import { HardLimitError } from './limits.js';
import { puttyPrivateKey, type SshPrivateKey } from './ssh-keys.js';

export type PuttyContents =
  | { encrypted: true; algorithm: string; encryption: string }
  | { encrypted: false; algorithm: string; key: SshPrivateKey };

const maximumBlobLines = 256;

/** `lines` are the file's lines starting with the `PuTTY-User-Key-File-N:` line. */
export function parsePuttyLines(lines: readonly string[]): PuttyContents {
  const fields = new Map<string, string>();
  const blobs = new Map<string, string>();
  let i = 0;
  const header = /^PuTTY-User-Key-File-([23]): *(\S+)$/.exec(lines[i++] ?? '');
  if (!header) throw new HardLimitError('ppk header');
  const algorithm = header[2];
  while (i < lines.length) {
    const m = /^([A-Za-z0-9-]+): *(.*)$/.exec(lines[i++]);
    if (!m) throw new HardLimitError('ppk field');
    const [, name, value] = m;
    if (name === 'Public-Lines' || name === 'Private-Lines') {
      const count = Number(value);
      if (!Number.isInteger(count) || count < 1 || count > maximumBlobLines || i + count > lines.length) {
        throw new HardLimitError('ppk line count');
      }
      blobs.set(name, lines.slice(i, i + count).join(''));
      i += count;
    } else {
      fields.set(name, value);
      if (name === 'Private-MAC' || name === 'Private-Hash') break;
    }
  }
  const encryption = fields.get('Encryption') ?? '';
  if (encryption !== 'none') return { encrypted: true, algorithm, encryption };
  const publicBlob = blobs.get('Public-Lines');
  const privateBlob = blobs.get('Private-Lines');
  if (!publicBlob || !privateBlob) throw new HardLimitError('ppk blobs missing');
  return {
    encrypted: false,
    algorithm,
    key: puttyPrivateKey(Buffer.from(publicBlob, 'base64'), Buffer.from(privateBlob, 'base64')),
  };
}
