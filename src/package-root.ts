// Where the package's own files are (package.json, wasm/, dist/pool/worker-entry.cjs), found
// from this module's place: dist/ when compiled a module a file, the bundle's folder when
// bundled (scripts/bundle.mjs: every module of a bundle has the bundle's import.meta.url),
// src/ under the tests. A path relative to each module would differ between the two builds.
import { existsSync } from 'node:fs';

function findRoot(from: URL): URL {
  for (let dir = from, up = 0; up < 4; up++, dir = new URL('..', dir)) if (existsSync(new URL('package.json', dir))) return dir;
  return new URL('..', from);
}

export const packageRoot: URL = findRoot(new URL('.', import.meta.url));
