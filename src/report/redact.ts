// Redaction in one place: evidence may show what kind of thing was found, never the key.

/** Characters of a body that are shown: the first four of any DER body are its SEQUENCE header. */
const shownBodyChars = 4;

/** `-----BEGIN RSA PRIVATE KEY----- MIIE…(1675 chars)`: the armor line, 4 body characters, a count. */
export function redactedEvidence(armorLine: string, body: string): string {
  return `${armorLine} ${body.slice(0, shownBodyChars)}…(${body.length} chars)`;
}

/** Evidence for binary structures: a description and a length, no bytes at all. */
export function redactedBinaryEvidence(description: string, lengthInBytes: number): string {
  return `${description} (${lengthInBytes} bytes)`;
}
