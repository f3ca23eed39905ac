// A temporary folder for one test file, removed after it, and `put` to write files into it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

export function tempTree(prefix: string): { root: string; put(relative: string, data: Buffer | string): string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  return {
    root,
    put(relative, data) {
      const full = path.join(root, relative);
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, data);
      return full;
    },
  };
}
