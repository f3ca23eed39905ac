// A bounded reader for one JSON object in narrow ASCII text, as plain JSON or as JSON held in a
// JSON string (quotes written `\"`). It collects the string members a key detector needs and
// skips everything else; it never throws and never reads past `limit`.

export interface JsonObjectRead {
  /** Index just past the closing brace. */
  end: number;
  /** String members; arrays of strings as arrays; nested objects as objects. */
  members: Map<string, JsonValue>;
}

export type JsonValue = string | JsonValue[] | Map<string, JsonValue> | null;

const maximumDepth = 8;
const maximumMembers = 256;
const maximumStringLength = 16 * 1024;

/** How quotes are written: `"` in plain JSON, `\"` inside a JSON string. */
export type QuoteStyle = 'plain' | 'escaped';

export function readJsonObject(text: Uint8Array, start: number, limit: number, style: QuoteStyle): JsonObjectRead | undefined {
  const reader = new Reader(text, limit, style);
  reader.position = start;
  const members = reader.object(0);
  return members ? { end: reader.position, members } : undefined;
}

class Reader {
  position = 0;
  constructor(private readonly text: Uint8Array, private readonly limit: number, private readonly style: QuoteStyle) {}

  private skipSpace(): void {
    const t = this.text;
    while (this.position < this.limit) {
      const c = t[this.position];
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.position++;
      else if (this.style === 'escaped' && c === 0x5c && 'nrt'.includes(String.fromCharCode(t[this.position + 1]))) this.position += 2;
      else return;
    }
  }

  private isQuote(): boolean {
    const t = this.text;
    const p = this.position;
    return this.style === 'plain' ? t[p] === 0x22 : t[p] === 0x5c && t[p + 1] === 0x22;
  }

  private quoteLength(): number {
    return this.style === 'plain' ? 1 : 2;
  }

  string(): string | undefined {
    if (!this.isQuote()) return undefined;
    this.position += this.quoteLength();
    const begin = this.position;
    const t = this.text;
    const stop = Math.min(this.limit, begin + maximumStringLength);
    while (this.position < stop) {
      const c = t[this.position];
      if (c < 0x20 || c === 0x7f) return undefined; // bytes >= 0x80: UTF-8 text, allowed in strings
      if (this.style === 'plain') {
        if (c === 0x22) break;
        if (c === 0x5c) this.position++; // an escape: skip the escaped character
      } else if (c === 0x5c) {
        const next = t[this.position + 1];
        if (next === 0x22) break;
        // `\\\"` is an escaped quote of the inner JSON: part of the string, not its end.
        if (next === 0x5c && t[this.position + 2] === 0x5c && t[this.position + 3] === 0x22) this.position += 2;
        this.position++;
      }
      this.position++;
    }
    if (this.position >= stop || !this.isQuote()) return undefined;
    const value = Buffer.from(t.buffer, t.byteOffset + begin, this.position - begin).toString('latin1');
    this.position += this.quoteLength();
    return value;
  }

  value(depth: number): JsonValue | undefined {
    this.skipSpace();
    const c = this.text[this.position];
    if (c === 0x7b) return this.object(depth + 1);
    if (c === 0x5b) return this.array(depth + 1);
    if (this.isQuote()) return this.string();
    // A number, true, false or null: the members a key detector needs are never these.
    const begin = this.position;
    while (this.position < this.limit && /[-+.0-9a-zA-Z]/.test(String.fromCharCode(this.text[this.position]))) this.position++;
    return this.position > begin ? null : undefined;
  }

  array(depth: number): JsonValue[] | undefined {
    if (depth > maximumDepth) return undefined;
    this.position++; // [
    const items: JsonValue[] = [];
    this.skipSpace();
    if (this.text[this.position] === 0x5d) {
      this.position++;
      return items;
    }
    while (this.position < this.limit && items.length < maximumMembers) {
      const item = this.value(depth);
      if (item === undefined) return undefined;
      items.push(item);
      this.skipSpace();
      const c = this.text[this.position++];
      if (c === 0x5d) return items;
      if (c !== 0x2c) return undefined;
    }
    return undefined;
  }

  object(depth: number): Map<string, JsonValue> | undefined {
    if (depth > maximumDepth || this.text[this.position] !== 0x7b) return undefined;
    this.position++; // {
    const members = new Map<string, JsonValue>();
    this.skipSpace();
    if (this.text[this.position] === 0x7d) {
      this.position++;
      return members;
    }
    while (this.position < this.limit && members.size < maximumMembers) {
      this.skipSpace();
      const name = this.string();
      if (name === undefined) return undefined;
      this.skipSpace();
      if (this.text[this.position++] !== 0x3a) return undefined;
      const value = this.value(depth);
      if (value === undefined) return undefined;
      members.set(name, value);
      this.skipSpace();
      const c = this.text[this.position++];
      if (c === 0x7d) return members;
      if (c !== 0x2c) return undefined;
    }
    return undefined;
  }
}
