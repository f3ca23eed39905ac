// Property-based fuzzing of every detector in the registry (src/detectors/index.ts), in-process.
// For three input families — arbitrary bytes, a "token soup" of armor/JSON/base64/DER/blob
// fragments, and valid keys of every form damaged by byte flips, insertions, deletions,
// duplications and truncations — each detector must:
//   1. never throw (a throw in a worker is a detector failure: the gate fails closed, exit 2);
//   2. report only matches with 0 <= start < bodyLength and start + length <= bytes.length,
//      in every chunk it is given;
//   3. report the same findings (start/length/kind/severity/fingerprint) whatever the chunk
//      size (scanChunked, chunk >= 256, margin = the detector's maxMatchLengthInBytes), compared
//      after mergeFileFindings as the pipeline applies it per file: the der detector skips
//      structures inside a key it validated earlier in the SAME chunk (validatedUntil in
//      src/detectors/der.ts), so a PKCS#1 inside a PKCS#8 that a chunk boundary cuts is
//      reported by the next chunk; the merge folds it into its container, by design;
//   4. report the same findings, offsets + 65, after a 65-byte prefix of NULs (no text form
//      accepts NUL, so the prefix cannot extend a run).
// For the chunking check the input is followed by maxMatchLengthInBytes + 1 NUL bytes, so the
// chunk rule is exercised with its real margin (a shorter input would fit in one chunk's
// margin and never be cut); both sides of the comparison scan the same padded bytes.
//
// Budget: FUZZ_RUNS runs per property (default 200: a few seconds in `npm test`, with a fixed
// seed so CI is deterministic). `npm run fuzz` sets FUZZ_RUNS=20000 and a time-based seed;
// FUZZ_SEED=<n> replays a seed. fast-check prints the seed and the shrunk counterexample.
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { detectors } from '../../src/detectors/index.js';
import { mergeFileFindings } from '../../src/merge.js';
import type { Detector, Finding, Match } from '../../src/types.js';
import { scanChunked } from '../helpers/chunked.js';
import { keySamples, TOKENS } from './samples.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const LONG = RUNS > 200;
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : LONG ? Date.now() % 2 ** 31 : 0x0d06;
const SHIFT = 65;
const TIMEOUT = LONG ? 60 * 60_000 : 60_000;

// ---- the checks -------------------------------------------------------------------------

class BoundsError extends Error {}

/** detector.scan with the match bounds of the Detector contract asserted for every match. */
function checkedScan(detector: Detector, bytes: Uint8Array, bodyLength: number, before?: Uint8Array): Match[] {
  const out: Match[] = [];
  for (const m of detector.scan(bytes, bodyLength, undefined, before)) {
    const ok = Number.isInteger(m.start) && Number.isInteger(m.length) && m.start >= 0 && m.start < bodyLength && m.length > 0 && m.start + m.length <= bytes.length;
    if (!ok) throw new BoundsError(`${detector.id}: match ${m.start}+${m.length} outside bytes ${bytes.length} / body ${bodyLength} (${m.kind}, ${m.severity})`);
    out.push(m);
  }
  return out;
}

/** The same detector, with every scan bounds-checked (for scanChunked). */
function checked(detector: Detector): Detector {
  return {
    id: detector.id,
    maxMatchLengthInBytes: detector.maxMatchLengthInBytes,
    ...(detector.lookBehindInBytes ? { lookBehindInBytes: detector.lookBehindInBytes } : {}),
    scan: (bytes, bodyLength, _anchors, before) => checkedScan(detector, bytes, bodyLength, before),
  };
}

const project = (m: Match, start = m.start) => JSON.stringify([start, m.length, m.kind, m.severity, m.fingerprint ?? null]);
const asFinding = (m: Match & { offset: number }): Finding => ({ ...m, path: 'fuzz', offset: m.offset });
/** What the pipeline keeps of a file's matches: contained findings folded into their container. */
const merged = (ms: Array<Match & { offset: number }>) => mergeFileFindings(ms.map(asFinding)).map((f) => JSON.stringify([f.offset, f.length, f.kind, f.severity, f.fingerprint ?? null]));
const sorted = (xs: string[]) => [...xs].sort();

function concat(...parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts);
}

const stats = new Map<string, { runs: number; withMatches: number; matches: number }>();

function checkAll(detector: Detector, family: string, content: Uint8Array, chunkSize: number): void {
  const single = checkedScan(detector, content, content.length);
  const reference = sorted(single.map((m) => project(m)));

  const shifted = concat(Buffer.alloc(SHIFT), content);
  const afterShift = sorted(checkedScan(detector, shifted, shifted.length).map((m) => project(m, m.start - SHIFT)));
  expect(afterShift, `${detector.id}: findings move under a ${SHIFT}-byte NUL prefix`).toEqual(reference);

  const padded = concat(content, Buffer.alloc(detector.maxMatchLengthInBytes + 1));
  const wrapped = checked(detector);
  const whole = sorted(merged(scanChunked(wrapped, padded, padded.length)));
  const chunked = sorted(merged(scanChunked(wrapped, padded, chunkSize)));
  expect(chunked, `${detector.id}: findings differ with --chunk-size ${chunkSize}`).toEqual(whole);

  const key = `${detector.id} / ${family}`;
  const s = stats.get(key) ?? { runs: 0, withMatches: 0, matches: 0 };
  s.runs++;
  if (single.length) s.withMatches++;
  s.matches += single.length;
  stats.set(key, s);
}

// ---- the inputs -------------------------------------------------------------------------

const chunkSize = fc.integer({ min: 256, max: 4096 });

const randomBytes = fc.uint8Array({ maxLength: 8 * 1024 });

const base64Text = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'), minLength: 1, maxLength: 96 }).map((s) => Buffer.from(s, 'latin1'));
const widen = (b: Buffer) => Buffer.from(b.toString('latin1'), 'utf16le');
const tokenSoup = fc
  .tuple(fc.array(fc.oneof(fc.constantFrom(...TOKENS), base64Text, fc.uint8Array({ minLength: 1, maxLength: 12 }).map((u) => Buffer.from(u))), { maxLength: 300 }), fc.boolean())
  .map(([pieces, utf16]) => {
    const b = Buffer.concat(pieces);
    return utf16 ? widen(b) : b;
  });

type Mutation =
  | { type: 'flip'; at: number; xor: number }
  | { type: 'insert'; at: number; bytes: Uint8Array }
  | { type: 'delete'; at: number; count: number }
  | { type: 'duplicate'; at: number; count: number }
  | { type: 'truncate'; at: number };

const position = fc.nat({ max: 0x7fffffff });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('flip' as const), at: position, xor: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('insert' as const), at: position, bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.constantFrom(...TOKENS)) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('duplicate' as const), at: position, count: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('truncate' as const), at: position }) },
);

function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let b = input;
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.type) {
      case 'flip':
        b = Buffer.from(b);
        b[at] ^= m.xor;
        break;
      case 'insert':
        b = concat(b.subarray(0, at), m.bytes, b.subarray(at));
        break;
      case 'delete':
        b = concat(b.subarray(0, at), b.subarray(at + m.count));
        break;
      case 'duplicate':
        b = concat(b.subarray(0, at + m.count), b.subarray(at, at + m.count), b.subarray(at + m.count));
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

const filler = fc.oneof(
  fc.uint8Array({ maxLength: 1024 }).map((u) => Buffer.from(u)),
  fc.nat({ max: 1024 }).map((n) => Buffer.alloc(n)),
  fc.string({ maxLength: 256 }).map((s) => Buffer.from(s, 'utf8')),
  fc.constantFrom(Buffer.from('\n'), Buffer.from('"'), Buffer.from('x'), Buffer.from('{"a":'), Buffer.from('KEY=')),
);

const samples = keySamples();
const mutatedKeys = fc
  .record({
    before: filler,
    pieces: fc.array(fc.record({ sample: fc.constantFrom(...samples), mutations: fc.oneof(fc.constant([]), fc.array(mutation, { minLength: 1, maxLength: 2 }), fc.array(mutation, { maxLength: 8 })), gap: filler }), { minLength: 1, maxLength: 2 }),
  })
  .map(({ before, pieces }) => concat(before, ...pieces.flatMap((p) => [mutate(p.sample.bytes, p.mutations), p.gap])));

// Chunk boundaries placed exactly at (and one byte around) the first byte of each key piece:
// random chunk sizes almost never cut there, and that is where a detector that looks back
// (run starts, enclosing objects) sees a different left context in the chunk than in the file.
const base64Filler = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'), minLength: 256, maxLength: 1024 }).map((s) => Buffer.from(s, 'latin1'));
const longFiller = fc.oneof(
  base64Filler,
  fc.uint8Array({ minLength: 256, maxLength: 1024 }).map((u) => Buffer.from(u)),
  fc.integer({ min: 256, max: 1024 }).map((n) => Buffer.alloc(n)),
  fc.string({ minLength: 256, maxLength: 512 }).map((s) => Buffer.from(s.padEnd(256, ' '), 'utf8')),
);

interface AlignedCase {
  content: Buffer;
  chunk: number;
}

const alignedCases: fc.Arbitrary<AlignedCase> = fc
  .tuple(
    fc.array(fc.record({ before: longFiller, sample: fc.constantFrom(...samples), mutations: fc.oneof(fc.constant([]), fc.array(mutation, { maxLength: 2 })) }), { minLength: 1, maxLength: 2 }),
    longFiller,
    fc.nat(),
    fc.integer({ min: -1, max: 1 }),
  )
  .map(([pieces, after, pick, delta]) => {
    const parts: Buffer[] = [];
    const starts: number[] = [];
    let at = 0;
    for (const p of pieces) {
      const key = mutate(p.sample.bytes, p.mutations);
      parts.push(p.before, key);
      starts.push(at + p.before.length);
      at += p.before.length + key.length;
    }
    parts.push(after);
    return { content: concat(...parts), chunk: Math.max(256, starts[pick % starts.length] + delta) };
  });

/** A key whose first byte follows a base64 character, with the chunk boundary exactly there. */
function alignedExample(sampleName: string): [AlignedCase] {
  const sample = samples.find((s) => s.name === sampleName)!;
  return [{ content: concat(Buffer.alloc(256, 'x'), sample.bytes, Buffer.from('\n')), chunk: 256 }];
}

// KNOWN BUG (chunk variance, base64 and openssh detectors): a base64 key counts only where a
// base64 run STARTS (startsBase64Run in src/detectors/base64-run.ts: the previous character is
// not a base64 digit). At index 0 of a chunk there is no previous character, so a key that
// follows a base64 character in the file ("x…xMIGHAgEA…", "…Ab3BlbnNzaC1rZXktdjE…") is not
// found by a whole-file scan but IS found when a chunk boundary falls on its first character.
// Findings then depend on --chunk-size (repro: test/adversarial/chunk-variance.test.ts). Fix:
// give detectors the left context (e.g. the chunker passes a few bytes before the body, or
// scan() gets `bodyStart`), or drop the run-start requirement for the anchors (identifyDerKey
// / judgeOpenssh are strict enough that a mid-run decode of garbage does not validate; it
// also closes the evasion of hiding a base64 key behind one base64 character).
//
// KNOWN BUG (chunk variance, jwk detector, since 0e08f00 "Text detectors search only the
// chunk's text runs"): anchors are searched only inside text runs of >= 24 bytes
// (minimumTextRunInBytes, src/detectors/text-views.ts), and a run that began before the chunk
// is cut at the chunk's start. `{"kty":"EC","kid":"clé-1",…}` has 21 ASCII bytes before the
// `é`: preceded by text in the file, its run is long and the JWK is found; when a chunk starts
// at its `{`, the run is 21 bytes, dropped, and the JWK is lost (the previous chunk sees it
// start outside its body). Found by this property (seed 22238, FUZZ_RUNS=2000). Fix: do not
// drop short runs that touch the chunk's start or end (or search the anchors over the whole
// chunk and use the runs only to skip non-text regions longer than the longest needle).
const KNOWN_ALIGNED_BUGS: Partial<Record<string, [AlignedCase]>> = {
  base64: alignedExample('base64 DER PKCS#8 EC, bare'),
  openssh: alignedExample('OpenSSH container, base64 bare (Ed25519)'),
  jwk: alignedExample('JWK EC with a non-ASCII kid'),
};

const families: Array<[string, fc.Arbitrary<Uint8Array>]> = [
  ['arbitrary bytes', randomBytes],
  ['token soup', tokenSoup],
  ['mutated valid keys', mutatedKeys],
];

// ---- sanity: the seeds are real keys, and NUL padding is inert ---------------------------

// KNOWN BUG (since 0e08f00): a JWK whose "kty" lies in fewer than 24 ASCII bytes between
// non-text bytes (here: input start, then the `é` of "kid") is never searched — see
// KNOWN_ALIGNED_BUGS below and test/adversarial/chunk-variance.test.ts.
const KNOWN_MISSED_SEEDS = new Set(['JWK EC with a non-ASCII kid']);

test('a JWK with a non-ASCII "kid" at the start of the input is found (KNOWN BUG: short text run dropped)', () => {
  const sample = samples.find((s) => KNOWN_MISSED_SEEDS.has(s.name))!;
  expect(detectors.flatMap((d) => [...d.scan(sample.bytes, sample.bytes.length)]).map((m) => m.severity)).toContain('high');
});

test('every seed sample is found by some detector (the mutation fuzzer starts from real keys)', () => {
  for (const sample of samples.filter((s) => !KNOWN_MISSED_SEEDS.has(s.name))) {
    const found = detectors.flatMap((d) => [...d.scan(sample.bytes, sample.bytes.length)]);
    const expected = /ENCRYPTED|PuTTY/.test(sample.name) ? 'medium' : 'high';
    expect(found.map((m) => m.severity), sample.name).toContain(expected);
  }
});

test('NUL bytes alone are never a finding (the padding and the shift prefix are inert)', () => {
  const zeros = new Uint8Array(200_000);
  for (const d of detectors) expect([...d.scan(zeros, zeros.length)], d.id).toEqual([]);
});

// ---- the properties ----------------------------------------------------------------------

// Every detector, the opt-in entropy hint included (its runs at a chunk's start are judged with
// the look-behind the chunker hands over; scanChunked does the same).
const fuzzed = detectors;

describe.each(fuzzed.map((d) => [d.id, d] as const))('detector %s', (_id, detector) => {
  for (const [family, arbitrary] of families) {
    test(`${family}: never throws, matches inside the input, invariant under chunking and a ${SHIFT}-byte shift`, () => {
      fc.assert(
        fc.property(arbitrary, chunkSize, (content, size) => checkAll(detector, family, content, size)),
        { numRuns: RUNS, seed: SEED },
      );
    }, TIMEOUT);
  }

  const knownBug = KNOWN_ALIGNED_BUGS[detector.id];
  // The former known bugs stay as explicit examples, so they are checked on every run.
  test(`chunk boundaries at key starts: invariant under chunking`, () => {
    fc.assert(
      fc.property(alignedCases, ({ content, chunk }) => checkAll(detector, 'key-aligned chunk boundaries', content, chunk)),
      { numRuns: RUNS, seed: SEED, ...(knownBug ? { examples: [knownBug] } : {}) },
    );
  }, TIMEOUT);
});

afterAll(() => {
  if (!LONG && !process.env.FUZZ_STATS) return;
  const lines = [...stats].map(([k, s]) => `  ${k.padEnd(34)} runs ${s.runs}, inputs with findings ${s.withMatches}, findings ${s.matches}`);
  console.log(`fuzz: FUZZ_RUNS=${RUNS} seed=${SEED}\n${lines.join('\n')}`);
});
