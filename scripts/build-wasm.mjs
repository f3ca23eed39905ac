// Assembles wasm/*.wat into wasm/*.wasm (not committed: built like dist/, by `npm run build`).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import initWabt from 'wabt';

const folder = new URL('../wasm/', import.meta.url);
const wabt = await initWabt();
for (const name of readdirSync(folder).filter((n) => n.endsWith('.wat'))) {
  const module = wabt.parseWat(name, readFileSync(new URL(name, folder), 'utf8'), { simd: true });
  module.validate();
  writeFileSync(new URL(name.replace(/\.wat$/, '.wasm'), folder), module.toBinary({}).buffer);
  module.destroy();
}
