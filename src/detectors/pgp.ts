// OpenPGP secret-key and secret-subkey packets (tags 5 and 7) in binary, as GnuPG, OpenPGP.js,
// Sequoia and others hold and export them (RFC 4880, RFC 6637, RFC 9580). Header octets are far
// too common to search for, so the scan looks for multi-octet patterns every packet of a kind
// contains, backs off to where the packet must start (v4: version octet 5 before the algorithm
// octet; v6: 9 before, past the public-material count; then each header form), and hands the
// candidate to the strict parser of src/keys/pgp.ts: the header length must cover the fields
// exactly, and unprotected secrets are checked against their checksum and their public key.
//
// Anchors (each shorter than 7 octets, so Buffer.indexOf stays on its fast memchr path; all of
// them are searched in the worker's shared blocked pass, src/detectors/anchors.ts):
// - RSA: the MPI of e = 65537 (`00 11 01 00 01`), which follows n in every key GnuPG, OpenPGP.js,
//   Sequoia and Bouncy Castle make; the modulus MPI is found by walking back over its possible
//   lengths (512 to 16384 bits). Keys with another public exponent are not found.
// - ECDSA / ECDH / EdDSA legacy: the curve OID after its length octet: P-256, P-384 / P-521 /
//   secp256k1 (`2b 81 04 00`), Ed25519 / Curve25519 legacy (`2b 06 01 04 01`), brainpool.
import type { Detector, Match } from '../types.js';
import { maximumPgpPacketLengthInBytes, readPgpSecretKeyPacket } from '../keys/pgp.js';
import { redactedBinaryEvidence } from '../report/redact.js';
import { anchorHits, hitsBelow } from './anchors.js';
import { asBuffer } from './text-views.js';

/** The longest packet header: new format with a 5-octet length. */
const maximumHeaderLength = 6;
/** v6 key packets have a 4-octet public-key material count after the algorithm octet. */
const v6CountLength = 4;
/** From the version octet to the algorithm octet: version and creation time. */
const versionToAlgorithm = 5;
const minimumModulusLength = 512 / 8;
const maximumModulusLength = 16384 / 8;

/** `00 11 01 00 01`, an MPI of 17 bits holding 65537; searched for without its leading zero. */
const rsaExponentAnchor = Buffer.from('11010001', 'hex');
/** The exponents of two packets are at least a 512-bit modulus MPI apart. */
const minimumExponentSpacing = minimumModulusLength + 2;
const curveAnchors = [
  Buffer.from('2a8648ce3d03', 'hex'), // 1.2.840.10045.3.x: P-256 (…01 07)
  Buffer.from('2b810400', 'hex'), // 1.3.132.0.x: P-384 (22), P-521 (23), secp256k1 (0a)
  Buffer.from('2b06010401', 'hex'), // 1.3.6.1.4.1.x: Ed25519 (11591.15.1), Curve25519 (3029.1.5.1)
  Buffer.from('2b2403030208', 'hex'), // 1.3.36.3.3.2.8.x: brainpoolP256r1/P384r1/P512r1
];
const pgpAnchors = [rsaExponentAnchor, ...curveAnchors];

/** How far past a packet's start an anchor can sit. */
const rsaReach = maximumHeaderLength + versionToAlgorithm + 1 + v6CountLength + 2 + maximumModulusLength + 1;
const curveReach = maximumHeaderLength + versionToAlgorithm + 1 + v6CountLength + 1;

/** Header octets that can precede the version octet at distance 2, 3, 5 and 6. */
function headerCouldEndAt(bytes: Buffer, start: number, size: number): boolean {
  const first = bytes[start];
  switch (size) {
    case 2: return first === 0x94 || first === 0x9c || ((first === 0xc5 || first === 0xc7) && bytes[start + 1] < 192);
    case 3: return first === 0x95 || first === 0x9d || ((first === 0xc5 || first === 0xc7) && bytes[start + 1] >= 192 && bytes[start + 1] < 224);
    case 5: return first === 0x96 || first === 0x9e;
    case 6: return (first === 0xc5 || first === 0xc7) && bytes[start + 1] === 0xff;
    default: return false;
  }
}
const headerSizes = [2, 3, 5, 6];

/**
 * Version-octet positions implied by an `e = 65537` anchor at `p`: walk back over the possible
 * modulus lengths for an MPI header whose bit count fits its length, preceded by an RSA
 * algorithm octet and a version octet (4) or a v6 public-material count and version octet (6).
 */
function rsaVersionPositions(bytes: Buffer, p: number, out: number[]): void {
  const exponentAt = p - 1;
  if (exponentAt < 0 || bytes[exponentAt] !== 0) return;
  // Two real exponents are a modulus MPI or more apart: a run of them closer than that (a table
  // of MPIs, crafted input) would cost a 2,000-step walk per anchor, so only the first is walked.
  // The window lies inside any packet that could start in this chunk, so chunking cannot change it.
  const window = bytes.subarray(Math.max(0, p - minimumExponentSpacing), p + rsaExponentAnchor.length - 1);
  if (window.lastIndexOf(rsaExponentAnchor) !== -1) return;
  for (let length = minimumModulusLength; length <= maximumModulusLength; length++) {
    const mpiAt = exponentAt - length - 2;
    if (mpiAt - 1 - versionToAlgorithm < 0) break;
    const bits = (bytes[mpiAt] << 8) | bytes[mpiAt + 1];
    if ((bits + 7) >> 3 !== length) continue;
    const top = bytes[mpiAt + 2];
    if (32 - Math.clz32(top) !== ((bits - 1) & 7) + 1) continue;
    const v4Algorithm = bytes[mpiAt - 1];
    if (v4Algorithm >= 1 && v4Algorithm <= 3 && bytes[mpiAt - 1 - versionToAlgorithm] === 4) out.push(mpiAt - 1 - versionToAlgorithm);
    const v6Algorithm = mpiAt - 1 - v6CountLength;
    if (v6Algorithm - versionToAlgorithm < 0) continue;
    if (bytes[v6Algorithm] >= 1 && bytes[v6Algorithm] <= 3 && bytes[v6Algorithm - versionToAlgorithm] === 6) out.push(v6Algorithm - versionToAlgorithm);
  }
}

/** A curve OID anchor at `p` (the first OID octet): the algorithm octet sits before its length octet. */
function curveVersionPositions(bytes: Buffer, p: number, out: number[]): void {
  const algorithmAt = p - 2;
  if (algorithmAt - versionToAlgorithm >= 0 && bytes[algorithmAt - versionToAlgorithm] === 4) out.push(algorithmAt - versionToAlgorithm);
  const v6 = algorithmAt - v6CountLength - versionToAlgorithm;
  if (v6 >= 0 && bytes[v6] === 6) out.push(v6);
}

export const pgpDetector: Detector = {
  id: 'pgp',
  maxMatchLengthInBytes: maximumPgpPacketLengthInBytes,
  anchors: pgpAnchors,
  *scan(bytes, bodyLength, shared) {
    const buffer = asBuffer(bytes);
    const tried = new Set<number>();
    const matches: Match[] = [];
    const versions: number[] = [];
    const tryVersions = () => {
      for (const version of versions) {
        for (const size of headerSizes) {
          const start = version - size;
          if (start < 0 || start >= bodyLength || tried.has(start) || !headerCouldEndAt(buffer, start, size)) continue;
          tried.add(start);
          const packet = readPgpSecretKeyPacket(buffer, start, start + maximumPgpPacketLengthInBytes);
          if (!packet) continue;
          matches.push({
            start,
            length: packet.length,
            detector: 'pgp',
            kind: packet.kind,
            severity: packet.severity,
            confidence: packet.confidence,
            encoding: 'binary',
            evidence: redactedBinaryEvidence(packet.description, packet.length),
            ...(packet.fingerprint ? { fingerprint: packet.fingerprint } : {}),
            ...(packet.note ? { note: packet.note } : {}),
          });
        }
      }
      versions.length = 0;
    };
    const anchors = [
      { needle: rsaExponentAnchor, limit: bodyLength + rsaReach, versionPositions: rsaVersionPositions },
      ...curveAnchors.map((needle) => ({ needle, limit: bodyLength + curveReach, versionPositions: curveVersionPositions })),
    ];
    const hits = anchorHits(buffer, pgpAnchors, shared);
    for (const { needle, limit, versionPositions } of anchors) {
      for (const p of hitsBelow(hits, needle, limit)) {
        versionPositions(buffer, p, versions);
        tryVersions();
      }
    }
    yield* matches.sort((a, b) => a.start - b.start);
  },
};
