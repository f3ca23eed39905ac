// Format detection by content only (never by file name). Reads nothing: give it the first
// bytes of the file; SNIFF_BYTES are always enough.
import type { DumpFormat } from './layout.js';

/** How many leading bytes sniffFormat looks at (at most). */
export const SNIFF_BYTES = 4096;

function startsWith(head: Uint8Array, ascii: string, at = 0): boolean {
  if (head.length < at + ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (head[at + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

const ET_CORE = 4;

function isElfCore(head: Uint8Array): boolean {
  if (head.length < 18 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return false;
  const elfClass = head[4];
  const data = head[5];
  if ((elfClass !== 1 && elfClass !== 2) || (data !== 1 && data !== 2)) return false;
  const type = data === 1 ? head[16] | (head[17] << 8) : (head[16] << 8) | head[17];
  return type === ET_CORE;
}

const V8_SNAPSHOT = /^[ \t\r\n]*\{[ \t\r\n]*"snapshot"[ \t\r\n]*:/;

export function sniffFormat(head: Uint8Array): DumpFormat {
  if (isElfCore(head)) return 'elf-core';
  if (startsWith(head, 'MDMP')) return 'minidump';
  // Windows kernel (complete, kernel or bitmap) crash dumps: 'PAGE' + 'DU64' (64-bit) or 'DUMP' (32-bit).
  if (startsWith(head, 'PAGEDU64') || startsWith(head, 'PAGEDUMP')) return 'windows-kernel-dump';
  // Java hprof: 'JAVA PROFILE 1.0.1', '1.0.2' or '1.0.3', NUL-terminated.
  if (startsWith(head, 'JAVA PROFILE 1.0.')) return 'hprof';
  // V8 heap snapshot (v8.writeHeapSnapshot, DevTools): JSON whose first key is "snapshot".
  const bom = head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  // Decoded only when it opens like JSON: every file of a folder of small files passes here.
  let first = bom;
  while (first < head.length && (head[first] === 0x20 || head[first] === 0x09 || head[first] === 0x0a || head[first] === 0x0d)) first++;
  if (head[first] !== 0x7b) return 'raw';
  const text = Buffer.from(head.buffer, head.byteOffset + bom, Math.min(head.length - bom, 1024)).toString('latin1');
  if (V8_SNAPSHOT.test(text)) return 'v8-heap-snapshot';
  return 'raw';
}
