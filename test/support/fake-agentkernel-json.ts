// Request-body decoding for the fake agentkernel, shaped like the real server's: agentkernel parses
// bodies with serde_json into Rust structs and answers `400 {"success":false,"error":"Invalid JSON: <serde
// message>"}`. The gateway forwards (or refuses) such bodies, so the fake reproduces serde's wording for
// the common cases: syntax errors, a missing field, a wrong type, a duplicate field, out-of-range
// integers, each with serde's "at line L column C" position. Unknown fields are ignored, like serde.

export type FieldType =
  | { kind: 'string' }
  | { kind: 'bool' }
  | { kind: 'u32' }
  | { kind: 'u64' }
  | { kind: 'strings' } // Vec<String>
  | { kind: 'stringMap' } // HashMap<String, String>
  | { kind: 'json' } // serde_json::Value
  | { kind: 'structs'; struct: StructSpec }; // Vec<SomeStruct>

export interface FieldSpec {
  type: FieldType;
  /** Rust `Option<T>`: missing or null is None. */
  optional?: boolean;
  /** `#[serde(default)]` or a default fn: missing is the default (null is still a type error). */
  default?: unknown;
}

export interface StructSpec {
  name: string;
  fields: Record<string, FieldSpec>;
}

export class BodyError extends Error {}

type Node =
  | { kind: 'object'; entries: [string, Node, number][]; end: number } // [key, value, key's end]
  | { kind: 'array'; items: Node[]; end: number }
  | { kind: 'string'; value: string; end: number }
  | { kind: 'number'; raw: string; end: number }
  | { kind: 'bool'; value: boolean; end: number }
  | { kind: 'null'; end: number };

/** serde_json positions: 1-based line, column = bytes since the last newline of the last byte read. */
function at(text: string, offset: number): string {
  const before = text.slice(0, Math.max(offset + 1, 0));
  const lastNl = before.lastIndexOf('\n');
  const line = before.split('\n').length;
  const column = Buffer.byteLength(before.slice(lastNl + 1));
  return `at line ${line} column ${column}`;
}

class Parser {
  i = 0;
  constructor(readonly text: string) {}

  fail(msg: string, offset = this.i): never {
    throw new BodyError(`${msg} ${at(this.text, offset)}`);
  }

  ws(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i])) this.i++;
  }

  eof(what: string): never {
    return this.fail(`EOF while parsing ${what}`, this.text.length - 1);
  }

  value(): Node {
    this.ws();
    if (this.i >= this.text.length) this.eof('a value');
    const c = this.text[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const [word, node] of [
      ['true', { kind: 'bool', value: true }],
      ['false', { kind: 'bool', value: false }],
      ['null', { kind: 'null' }],
    ] as const) {
      if (c === word[0]) {
        for (let k = 0; k < word.length; k++, this.i++) {
          if (this.i >= this.text.length) this.eof('a value');
          if (this.text[this.i] !== word[k]) this.fail('expected ident');
        }
        return { ...node, end: this.i - 1 } as Node;
      }
    }
    return this.fail('expected value');
  }

  object(): Node {
    this.i++;
    const entries: [string, Node, number][] = [];
    this.ws();
    if (this.text[this.i] === '}') return { kind: 'object', entries, end: this.i++ };
    for (;;) {
      this.ws();
      if (this.i >= this.text.length) this.eof('an object');
      if (this.text[this.i] !== '"') this.fail('key must be a string');
      const keyNode = this.string() as { value: string; end: number };
      this.ws();
      if (this.i >= this.text.length) this.eof('an object');
      if (this.text[this.i] !== ':') this.fail('expected `:`');
      this.i++;
      entries.push([keyNode.value, this.value(), keyNode.end]);
      this.ws();
      if (this.i >= this.text.length) this.eof('an object');
      const sep = this.text[this.i];
      if (sep === '}') return { kind: 'object', entries, end: this.i++ };
      if (sep !== ',') this.fail('expected `,` or `}`');
      this.i++;
    }
  }

  array(): Node {
    this.i++;
    const items: Node[] = [];
    this.ws();
    if (this.i >= this.text.length) this.eof('a list');
    if (this.text[this.i] === ']') return { kind: 'array', items, end: this.i++ };
    for (;;) {
      items.push(this.value());
      this.ws();
      if (this.i >= this.text.length) this.eof('a list');
      const sep = this.text[this.i];
      if (sep === ']') return { kind: 'array', items, end: this.i++ };
      if (sep !== ',') this.fail('expected `,` or `]`');
      this.i++;
    }
  }

  string(): Node {
    const start = this.i++;
    for (;;) {
      if (this.i >= this.text.length) this.eof('a string');
      const c = this.text[this.i];
      if (c === '"') break;
      if (c === '\\') this.i++;
      else if (c.charCodeAt(0) < 0x20) this.fail('control character (\\u0000-\\u001F) found while parsing a string');
      this.i++;
    }
    const raw = this.text.slice(start, this.i + 1);
    let value: string;
    try {
      value = JSON.parse(raw);
    } catch {
      this.fail('invalid escape');
    }
    return { kind: 'string', value, end: this.i++ };
  }

  number(): Node {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.i));
    if (!m) this.fail('invalid number');
    this.i += m[0].length;
    return { kind: 'number', raw: m[0], end: this.i - 1 };
  }
}

function parseDocument(text: string): Node {
  const p = new Parser(text);
  const node = p.value();
  p.ws();
  if (p.i < text.length) p.fail('trailing characters');
  return node;
}

/** How serde's `Unexpected` renders a JSON value in "invalid type: ..." messages. */
function unexpected(node: Node): string {
  switch (node.kind) {
    case 'string':
      return `string ${JSON.stringify(node.value)}`;
    case 'number': {
      if (/[.eE]/.test(node.raw)) {
        const f = Number(node.raw);
        return `floating point \`${Number.isInteger(f) ? f.toFixed(1) : String(f)}\``;
      }
      return `integer \`${node.raw}\``;
    }
    case 'bool':
      return `boolean \`${node.value}\``;
    case 'null':
      return 'null';
    case 'array':
      return 'sequence';
    case 'object':
      return 'map';
  }
}

function expected(type: FieldType): string {
  switch (type.kind) {
    case 'string':
      return 'a string';
    case 'bool':
      return 'a boolean';
    case 'u32':
    case 'u64':
      return type.kind;
    case 'strings':
    case 'structs':
      return 'a sequence';
    case 'stringMap':
      return 'a map';
    case 'json':
      return 'any valid JSON value';
  }
}

const MAX = { u32: 2n ** 32n - 1n, u64: 2n ** 64n - 1n };

class Decoder {
  constructor(readonly text: string) {}

  fail(msg: string, node: { end: number }): never {
    throw new BodyError(`${msg} ${at(this.text, node.end)}`);
  }

  typeError(node: Node, type: FieldType): never {
    return this.fail(`invalid type: ${unexpected(node)}, expected ${expected(type)}`, node);
  }

  value(node: Node, type: FieldType): unknown {
    switch (type.kind) {
      case 'json':
        return toPlain(node);
      case 'string':
        if (node.kind !== 'string') this.typeError(node, type);
        return node.value;
      case 'bool':
        if (node.kind !== 'bool') this.typeError(node, type);
        return node.value;
      case 'u32':
      case 'u64': {
        if (node.kind !== 'number' || /[.eE]/.test(node.raw)) this.typeError(node, type);
        const n = BigInt(node.raw);
        if (n < 0n || n > MAX[type.kind]) this.fail(`invalid value: integer \`${node.raw}\`, expected ${type.kind}`, node);
        return Number(n);
      }
      case 'strings':
        if (node.kind !== 'array') this.typeError(node, type);
        return node.items.map((item) => this.value(item, { kind: 'string' }));
      case 'structs':
        if (node.kind !== 'array') this.typeError(node, type);
        return node.items.map((item) => this.struct(item, type.struct));
      case 'stringMap': {
        if (node.kind !== 'object') this.typeError(node, type);
        const out: Record<string, string> = {};
        for (const [k, v] of node.entries) out[k] = this.value(v, { kind: 'string' }) as string;
        return out;
      }
    }
  }

  struct(node: Node, spec: StructSpec): Record<string, unknown> {
    if (node.kind === 'array') return this.structFromSeq(node, spec);
    if (node.kind !== 'object') this.fail(`invalid type: ${unexpected(node)}, expected struct ${spec.name}`, node);
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    for (const [key, value, keyEnd] of node.entries) {
      const field = spec.fields[key];
      if (!field) continue;
      if (seen.has(key)) this.fail(`duplicate field \`${key}\``, { end: keyEnd });
      seen.add(key);
      out[key] = field.optional && value.kind === 'null' ? undefined : this.value(value, field.type);
    }
    for (const [key, field] of Object.entries(spec.fields)) {
      if (seen.has(key)) continue;
      if (field.default !== undefined) out[key] = structuredClone(field.default);
      else if (!field.optional) this.fail(`missing field \`${key}\``, node);
    }
    return out;
  }

  /** serde's derived structs also accept a JSON array, one element per field in declaration order. */
  private structFromSeq(node: Extract<Node, { kind: 'array' }>, spec: StructSpec): Record<string, unknown> {
    const fields = Object.entries(spec.fields);
    const out: Record<string, unknown> = {};
    fields.forEach(([key, field], i) => {
      const item = node.items[i];
      if (item) out[key] = field.optional && item.kind === 'null' ? undefined : this.value(item, field.type);
      else if (field.default !== undefined) out[key] = structuredClone(field.default);
      else this.fail(`invalid length ${i}, expected struct ${spec.name} with ${fields.length} elements`, node);
    });
    return out;
  }
}

function toPlain(node: Node): unknown {
  switch (node.kind) {
    case 'object':
      return Object.fromEntries(node.entries.map(([k, v]) => [k, toPlain(v)]));
    case 'array':
      return node.items.map(toPlain);
    case 'number':
      return Number(node.raw);
    case 'null':
      return null;
    default:
      return node.value;
  }
}

/** Decodes `text` into `spec` the way serde_json does, or throws BodyError with serde's message. */
export function decodeBody<T>(text: string, spec: StructSpec): T {
  return new Decoder(text).struct(parseDocument(text), spec) as T;
}

/** Plain JSON parse for recording what reached the fake (undefined when the body is not JSON). */
export function parseLoosely(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
