// The shipped samples and their expected findings (samples/*.expected.jsonl, written by
// samples/make-samples.sh): the README's first command prints exactly these.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { runCli } from './helpers/cli.js';

const root = new URL('..', import.meta.url).pathname;

describe('shipped samples', () => {
  test.each(['core-holdkey-pem.core', 'core-holdkey-der.core'])('%s: the expected findings, line for line', async (core) => {
    const expected = readFileSync(`${root}samples/${core}.expected.jsonl`, 'utf8');
    const run = await runCli(['scan', `samples/${core}`, '--format', 'jsonl', '--jobs', '1'], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stdoutText).toBe(expected);
    const offsets = JSON.parse(readFileSync(`${root}samples/offsets.json`, 'utf8'))[core];
    expect(expected.trim().split('\n').map((l) => JSON.parse(l).offset)).toEqual(Object.values(offsets).flat().sort((a, b) => (a as number) - (b as number)));
  });
});
