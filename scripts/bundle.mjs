// Bundles the two entry points a scan starts from, after tsc: the CLI (dist/cli.js, replaced
// by its bundle) and a worker thread's module (dist/pool/worker.bundle.js, which
// dist/pool/worker-entry.cjs loads when it is there). Node 20 loads an ES module graph module
// by module (resolve, read, compile, link): the CLI's 86 modules took 100-130 ms before the
// first chunk could be read, a worker's 47 took 67 ms; one file each, 54 ms and 30-37 ms. The
// rest of dist/ (the library API, dist/index.js) stays a module a file.
// piscina stays outside the bundle: the CLI starts its first worker thread through it before
// anything else is loaded (src/cli.ts), and its worker side is loaded by piscina itself.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const dist = new URL('../dist/', import.meta.url);
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['piscina'],
  // CommonJS dependencies inside an ES bundle call require(): give them Node's.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
};
await build({ ...common, entryPoints: [new URL('cli.js', dist).pathname], outfile: new URL('cli.js', dist).pathname, allowOverwrite: true });
await build({ ...common, entryPoints: [new URL('pool/worker.js', dist).pathname], outfile: new URL('pool/worker.bundle.js', dist).pathname });
// The bin keeps its first line.
if (!readFileSync(new URL('cli.js', dist), 'utf8').startsWith('#!')) throw new Error('bundle.mjs: dist/cli.js lost its #! line');
