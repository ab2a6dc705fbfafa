/**
 * Protocol YAML → {@link ProtocolModel}. Every problem found is reported with its file, 1-based
 * line and column, and the path of the offending key (`messages.MoveReq.fields.x`), all at once.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { CodedError, ErrorCodes } from '../errors.js';
import {
  CORE_ID_RANGE,
  CORE_NAMESPACE,
  ENUM_RANGE,
  ENUM_TYPES,
  GAME_ID_RANGE,
  SCALAR_TYPES,
  type ElementType,
  type EnumModel,
  type EnumType,
  type FieldModel,
  type FieldType,
  type MessageModel,
  type ProtocolModel,
  type PushModel,
  type RouteModel,
  type ScalarType,
} from './model.js';
import { RESERVED_MEMBER_NAMES, RESERVED_TYPE_NAMES, memberNameProblem, namespacePartProblem, typeNameProblem } from './reserved-words.js';

/** One protocol YAML file. */
export interface ProtocolSource {
  /** Path used in error messages (as the user gave it). */
  readonly path: string;
  /** Path written in generated headers: relative to the repository root, `/`-separated. */
  readonly displayPath: string;
  readonly text: string;
}

const NAMESPACE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const TYPE_NAME = /^[A-Z][A-Za-z0-9]*$/;
const MEMBER_NAME = /^[a-z][A-Za-z0-9]*$/;
const ENUM_VALUE = /^[A-Za-z][A-Za-z0-9_]*$/;
const SCENE_NAME = /^[a-z][A-Za-z0-9_]*$/;

const TOP_KEYS = ['namespace', 'version', 'enums', 'messages', 'routes', 'pushes'] as const;

interface FileCtx {
  readonly path: string;
  readonly lc: LineCounter;
}

interface Where {
  readonly file: FileCtx;
  readonly node: Node | null;
  readonly path: string;
}

interface Entry {
  readonly key: string;
  readonly keyNode: Node;
  readonly value: Node | null;
}

class Issues {
  readonly #list: { readonly file: string; readonly offset: number; readonly text: string }[] = [];

  add(where: Where, message: string): void {
    const text = `${locate(where)}: ${where.path === '' ? '' : `${where.path}: `}${message}`;
    this.#list.push({ file: where.file.path, offset: where.node?.range?.[0] ?? 0, text });
  }

  /** A problem the YAML parser found, already located. */
  addAt(file: string, offset: number, text: string): void {
    this.#list.push({ file, offset, text });
  }

  /** @throws CodedError `SCH_ERR_BAD_YAML` listing every problem in file and line order. */
  throwIfAny(): void {
    const n = this.#list.length;
    if (n === 0) return;
    const sorted = [...this.#list].sort((a, b) => (a.file === b.file ? a.offset - b.offset : a.file < b.file ? -1 : 1));
    throw new CodedError(ErrorCodes.SCH_ERR_BAD_YAML, `${n} problem${n === 1 ? '' : 's'} in protocol YAML:\n  ${sorted.map((i) => i.text).join('\n  ')}`);
  }
}

function locate(where: Where): string {
  const offset = where.node?.range?.[0] ?? 0;
  const { line, col } = where.file.lc.linePos(offset);
  return `${where.file.path}:${line}:${col}`;
}

function at(file: FileCtx, node: Node | null, path: string): Where {
  return { file, node, path };
}

/** `key:` or `key: ~`: an empty section. */
const isEmpty = (node: Node | null): boolean => node === null || (isScalar(node) && node.value === null);

const describe = (node: Node | null): string => {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return node.value === null ? 'nothing' : JSON.stringify(node.value);
  return 'an alias';
};

/** The YAML-level reader: shapes, keys and scalar types. Semantic checks come after. */
class Reader {
  constructor(
    readonly file: FileCtx,
    readonly issues: Issues,
  ) {}

  where(node: Node | null, path: string): Where {
    return at(this.file, node, path);
  }

  fail(node: Node | null, path: string, message: string): void {
    this.issues.add(this.where(node, path), message);
  }

  /** Entries of a map, or null (reported) when `node` is not one. `near` locates a missing value. */
  entries(node: Node | null, path: string, near: Node | null = null): Entry[] | null {
    if (isAlias(node)) {
      this.fail(node, path, 'anchors and aliases are not supported');
      return null;
    }
    if (!isMap(node)) {
      this.fail(node ?? near, path, `expected a map, got ${describe(node)}`);
      return null;
    }
    const out: Entry[] = [];
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const value = (pair.value ?? null) as Node | null;
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
        this.fail(keyNode, path, `keys must be strings, got ${describe(keyNode)}`);
        continue;
      }
      out.push({ key: keyNode.value, keyNode, value });
    }
    return out;
  }

  /** Report keys not in `allowed`; return the entries by key. */
  keyed(entries: Entry[], allowed: readonly string[], path: string): Map<string, Entry> {
    const byKey = new Map<string, Entry>();
    for (const e of entries) {
      if (!allowed.includes(e.key)) {
        this.fail(e.keyNode, join(path, e.key), `unknown key "${e.key}" (expected one of: ${allowed.join(', ')})`);
        continue;
      }
      byKey.set(e.key, e);
    }
    return byKey;
  }

  require(byKey: Map<string, Entry>, key: string, parent: Node | null, path: string): Entry | null {
    const e = byKey.get(key);
    if (e === undefined) this.fail(parent, join(path, key), `missing required key "${key}"`);
    return e ?? null;
  }

  string(e: Entry, path: string): string | null {
    if (isScalar(e.value) && typeof e.value.value === 'string') return e.value.value;
    this.fail(e.value ?? e.keyNode, path, `expected a string, got ${describe(e.value)}`);
    return null;
  }

  boolean(e: Entry, path: string): boolean | null {
    if (isScalar(e.value) && typeof e.value.value === 'boolean') return e.value.value;
    this.fail(e.value ?? e.keyNode, path, `expected true or false, got ${describe(e.value)}`);
    return null;
  }

  integer(e: Entry, path: string, min: number, max: number): number | null {
    const v = isScalar(e.value) ? e.value.value : undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.fail(e.value ?? e.keyNode, path, `expected an integer, got ${describe(e.value)}`);
      return null;
    }
    if (v < min || v > max) {
      this.fail(e.value, path, `${v} is out of range ${min}..${max}`);
      return null;
    }
    return v;
  }

  /** Check a name's shape, then the generated TypeScript's reserved names, then flatc's other languages. */
  name(e: Entry, pattern: RegExp, rule: string, reserved: ReadonlySet<string>, path: string, inOtherLanguages: (name: string) => string | null): boolean {
    if (!pattern.test(e.key)) {
      this.fail(e.keyNode, path, `"${e.key}" is not a valid name (${rule})`);
      return false;
    }
    if (reserved.has(e.key)) {
      this.fail(e.keyNode, path, `"${e.key}" is a reserved name`);
      return false;
    }
    const problem = inOtherLanguages(e.key);
    if (problem !== null) {
      this.fail(e.keyNode, path, problem);
      return false;
    }
    return true;
  }

  doc(byKey: Map<string, Entry>, path: string): string | null {
    const e = byKey.get('doc');
    return e === undefined ? null : this.string(e, join(path, 'doc'));
  }
}

/** The generated protocol's interface name: `demo` → `DemoProtocol`, `my.game` → `MyGameProtocol`. */
export function protocolTypeName(namespace: string): string {
  const pascal = namespace
    .split(/[._]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
  return `${pascal}Protocol`;
}

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

interface Defined<T> {
  readonly value: T;
  readonly where: Where;
}

interface RawField {
  readonly name: string;
  /** `[T]` or `T`, whitespace trimmed. */
  readonly type: string;
  readonly doc: string | null;
  readonly where: Where;
}

interface RawMessage {
  readonly name: string;
  readonly fields: RawField[];
  readonly doc: string | null;
}

interface RawRoute {
  readonly name: string;
  readonly id: number | null;
  readonly idWhere: Where;
  readonly scene: string | null;
  readonly request: Defined<string> | null;
  readonly response: Defined<string> | null;
  readonly idempotent: boolean;
  readonly doc: string | null;
}

interface RawPush {
  readonly name: string;
  readonly id: number | null;
  readonly idWhere: Where;
  readonly message: Defined<string>;
  readonly doc: string | null;
}

class Collected {
  namespace: Defined<string> | null = null;
  version: Defined<number> | null = null;
  readonly enums = new Map<string, Defined<EnumModel>>();
  readonly messages = new Map<string, Defined<RawMessage>>();
  readonly routes = new Map<string, Defined<RawRoute>>();
  readonly pushes = new Map<string, Defined<RawPush>>();
}

function readFile(src: ProtocolSource, issues: Issues, out: Collected): void {
  const lc = new LineCounter();
  const file: FileCtx = { path: src.path, lc };
  const doc = parseDocument(src.text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const { line, col } = lc.linePos(err.pos[0]);
      issues.addAt(src.path, err.pos[0], `${src.path}:${line}:${col}: ${err.message.split('\n')[0] ?? err.code}`);
    }
    return;
  }
  const r = new Reader(file, issues);
  const root = doc.contents as Node | null;
  const top = r.entries(root, '');
  if (top === null) return;
  const byKey = r.keyed(top, TOP_KEYS, '');

  const ns = r.require(byKey, 'namespace', root, '');
  if (ns !== null) {
    const value = r.string(ns, 'namespace');
    const reservedPart = value === null ? null : value.split('.').map(namespacePartProblem).find((p) => p !== null);
    if (value !== null && !NAMESPACE.test(value)) r.fail(ns.value, 'namespace', `"${value}" is not a valid namespace (lower-case words separated by dots)`);
    else if (reservedPart !== null && reservedPart !== undefined) r.fail(ns.value, 'namespace', reservedPart);
    else if (value !== null) agree(r, out, 'namespace', { value, where: r.where(ns.value, 'namespace') });
  }
  const version = r.require(byKey, 'version', root, '');
  if (version !== null) {
    const value = r.integer(version, 'version', 1, 2147483647);
    if (value !== null) agree(r, out, 'version', { value, where: r.where(version.value, 'version') });
  }
  const section = (key: string): Entry[] => {
    const e = byKey.get(key);
    if (e === undefined || isEmpty(e.value)) return [];
    return r.entries(e.value, key, e.keyNode) ?? [];
  };
  for (const e of section('enums')) readEnum(r, e, out);
  for (const e of section('messages')) readMessage(r, e, out);
  for (const e of section('routes')) readRoute(r, e, out);
  for (const e of section('pushes')) readPush(r, e, out);
}

/** Several input files make one protocol: their namespace and version must agree. */
function agree<K extends 'namespace' | 'version'>(r: Reader, out: Collected, key: K, def: NonNullable<Collected[K]>): void {
  const prev = out[key];
  if (prev === null) {
    out[key] = def;
  } else if (prev.value !== def.value) {
    r.issues.add(def.where, `${JSON.stringify(def.value)} differs from ${JSON.stringify(prev.value)} at ${locate(prev.where)}`);
  }
}

function define<T>(r: Reader, map: Map<string, Defined<T>>, e: Entry, path: string, kind: string, value: T): void {
  const prev = map.get(e.key);
  if (prev !== undefined) {
    r.fail(e.keyNode, path, `duplicate ${kind} "${e.key}" (first defined at ${locate(prev.where)})`);
    return;
  }
  map.set(e.key, { value, where: r.where(e.keyNode, path) });
}

function readEnum(r: Reader, e: Entry, out: Collected): void {
  const path = join('enums', e.key);
  if (!r.name(e, TYPE_NAME, 'PascalCase letters and digits', RESERVED_TYPE_NAMES, path, typeNameProblem)) return;
  const entries = r.entries(e.value, path, e.keyNode);
  if (entries === null) return;
  const byKey = r.keyed(entries, ['type', 'values', 'doc'], path);
  let type: EnumType = 'uint8';
  const typeEntry = byKey.get('type');
  if (typeEntry !== undefined) {
    const t = r.string(typeEntry, join(path, 'type'));
    if (t !== null && !(ENUM_TYPES as readonly string[]).includes(t)) {
      r.fail(typeEntry.value, join(path, 'type'), `enum type must be one of ${ENUM_TYPES.join(', ')}, got "${t}"`);
      return;
    }
    if (t !== null) type = t as EnumType;
  }
  const valuesEntry = r.require(byKey, 'values', e.value, path);
  if (valuesEntry === null) return;
  const vpath = join(path, 'values');
  const [min, max] = ENUM_RANGE[type];
  const values: { name: string; value: number; node: Node | null }[] = [];
  if (isSeq(valuesEntry.value)) {
    valuesEntry.value.items.forEach((item, i) => {
      const node = item as Node | null;
      if (isScalar(node) && typeof node.value === 'string') values.push({ name: node.value, value: i, node });
      else r.fail(node, join(vpath, String(i)), `expected a value name, got ${describe(node)}`);
    });
  } else {
    for (const v of r.entries(valuesEntry.value, vpath, valuesEntry.keyNode) ?? []) {
      const n = r.integer(v, join(vpath, v.key), min, max);
      if (n !== null) values.push({ name: v.key, value: n, node: v.keyNode });
    }
  }
  const seenNames = new Set<string>();
  const seenValues = new Map<number, string>();
  for (const v of values) {
    const p = join(vpath, v.name);
    if (!ENUM_VALUE.test(v.name)) r.fail(v.node, p, `"${v.name}" is not a valid enum value name (letters, digits, _)`);
    else if (memberNameProblem(v.name) !== null) r.fail(v.node, p, memberNameProblem(v.name)!);
    else if (seenNames.has(v.name)) r.fail(v.node, p, `duplicate enum value "${v.name}"`);
    else if (v.value < min || v.value > max) r.fail(v.node, p, `${v.value} is out of range ${min}..${max} of ${type}`);
    else if (seenValues.has(v.value)) r.fail(v.node, p, `value ${v.value} already used by "${seenValues.get(v.value)}"`);
    seenNames.add(v.name);
    seenValues.set(v.value, v.name);
  }
  if (values.length === 0) r.fail(valuesEntry.value, vpath, 'an enum needs at least one value');
  else if (!seenValues.has(0)) r.fail(valuesEntry.value, vpath, 'an enum needs a value 0: it is the default on the wire');
  const sorted = values.map(({ name, value }) => ({ name, value })).sort((a, b) => a.value - b.value);
  define(r, out.enums, e, path, 'enum', { name: e.key, type, values: sorted, doc: r.doc(byKey, path) });
}

function readMessage(r: Reader, e: Entry, out: Collected): void {
  const path = join('messages', e.key);
  if (!r.name(e, TYPE_NAME, 'PascalCase letters and digits', RESERVED_TYPE_NAMES, path, typeNameProblem)) return;
  if (e.key.endsWith('Codec')) r.fail(e.keyNode, path, 'message names may not end in "Codec" (the generated codecs are named <Message>Codec)');
  const entries = r.entries(e.value, path, e.keyNode);
  if (entries === null) return;
  const byKey = r.keyed(entries, ['fields', 'doc'], path);
  const fieldsEntry = r.require(byKey, 'fields', e.value, path);
  const fields: RawField[] = [];
  const fpath = join(path, 'fields');
  const fieldEntries = fieldsEntry === null || isEmpty(fieldsEntry.value) ? [] : (r.entries(fieldsEntry.value, fpath, fieldsEntry.keyNode) ?? []);
  for (const f of fieldEntries) {
    const p = join(fpath, f.key);
    if (!r.name(f, MEMBER_NAME, 'lowerCamelCase letters and digits', RESERVED_MEMBER_NAMES, p, memberNameProblem)) continue;
    let doc: string | null = null;
    let typeNode = f.value;
    if (isMap(f.value)) {
      const fe = r.keyed(r.entries(f.value, p) ?? [], ['type', 'doc'], p);
      const t = r.require(fe, 'type', f.value, p);
      if (t === null) continue;
      doc = r.doc(fe, p);
      typeNode = t.value;
    }
    if (typeNode === null || isEmpty(typeNode)) {
      r.fail(f.keyNode, p, 'missing type');
      continue;
    }
    const type = typeText(r, typeNode, p);
    if (type !== null) fields.push({ name: f.key, type, doc, where: r.where(typeNode, p) });
  }
  define(r, out.messages, e, path, 'message', { name: e.key, fields, doc: r.doc(byKey, path) });
}

/** A field type as written: `T`, `"[T]"`, or the flow list `[T]`. */
function typeText(r: Reader, node: Node, path: string): string | null {
  if (isSeq(node) && node.items.length === 1) {
    const inner = typeText(r, node.items[0] as Node, path);
    return inner === null ? null : `[${inner}]`;
  }
  if (isScalar(node) && typeof node.value === 'string') {
    const t = node.value.trim();
    const inner = /^\[\s*(.*?)\s*\]$/.exec(t);
    return inner === null ? t : `[${inner[1] ?? ''}]`;
  }
  r.fail(node, path, `expected a type name, got ${describe(node)}`);
  return null;
}

function readRoute(r: Reader, e: Entry, out: Collected): void {
  const path = join('routes', e.key);
  if (!r.name(e, MEMBER_NAME, 'lowerCamelCase letters and digits', RESERVED_MEMBER_NAMES, path, memberNameProblem)) return;
  const entries = r.entries(e.value, path, e.keyNode);
  if (entries === null) return;
  const byKey = r.keyed(entries, ['id', 'scene', 'request', 'response', 'idempotent', 'doc'], path);
  const idEntry = r.require(byKey, 'id', e.value, path);
  const sceneEntry = r.require(byKey, 'scene', e.value, path);
  const requestEntry = r.require(byKey, 'request', e.value, path);
  const responseEntry = byKey.get('response');
  const idempotentEntry = byKey.get('idempotent');
  const named = (x: Entry | null | undefined, key: string): Defined<string> | null => {
    if (x === null || x === undefined) return null;
    const value = r.string(x, join(path, key));
    return value === null ? null : { value, where: r.where(x.value, join(path, key)) };
  };
  let scene: string | null = null;
  if (sceneEntry !== null) {
    scene = r.string(sceneEntry, join(path, 'scene'));
    if (scene !== null && !SCENE_NAME.test(scene)) {
      r.fail(sceneEntry.value, join(path, 'scene'), `"${scene}" is not a valid scene type (lower-case start, letters, digits, _)`);
      scene = null;
    }
  }
  define(r, out.routes, e, path, 'route', {
    name: e.key,
    id: idEntry === null ? null : r.integer(idEntry, join(path, 'id'), 0, Number.MAX_SAFE_INTEGER),
    idWhere: r.where(idEntry?.value ?? e.keyNode, join(path, 'id')),
    scene,
    request: named(requestEntry, 'request'),
    response: named(responseEntry, 'response'),
    idempotent: idempotentEntry === undefined ? false : (r.boolean(idempotentEntry, join(path, 'idempotent')) ?? false),
    doc: r.doc(byKey, path),
  });
}

function readPush(r: Reader, e: Entry, out: Collected): void {
  const path = join('pushes', e.key);
  // A push name is a value of the PushId enum in flatc's output, not a type.
  if (!r.name(e, TYPE_NAME, 'PascalCase letters and digits', RESERVED_TYPE_NAMES, path, memberNameProblem)) return;
  const entries = r.entries(e.value, path, e.keyNode);
  if (entries === null) return;
  const byKey = r.keyed(entries, ['id', 'message', 'doc'], path);
  const idEntry = r.require(byKey, 'id', e.value, path);
  const messageEntry = byKey.get('message');
  const message = messageEntry === undefined ? e.key : r.string(messageEntry, join(path, 'message'));
  if (message === null) return;
  define(r, out.pushes, e, path, 'push', {
    name: e.key,
    id: idEntry === null ? null : r.integer(idEntry, join(path, 'id'), 0, Number.MAX_SAFE_INTEGER),
    idWhere: r.where(idEntry?.value ?? e.keyNode, join(path, 'id')),
    message: { value: message, where: r.where(messageEntry?.value ?? e.keyNode, messageEntry === undefined ? path : join(path, 'message')) },
    doc: r.doc(byKey, path),
  });
}

/** Resolve names and check what spans sections: types, ids, recursion. */
function resolve(c: Collected, sources: readonly ProtocolSource[], issues: Issues): ProtocolModel | null {
  if (c.namespace === null || c.version === null) return null;
  const namespace = c.namespace.value;
  const protocolType = protocolTypeName(namespace);
  const taken = c.messages.get(protocolType)?.where ?? c.enums.get(protocolType)?.where;
  if (taken !== undefined) issues.add(taken, `"${protocolType}" is reserved: it names the generated protocol type`);
  for (const [name, def] of c.enums) {
    if (c.messages.has(name)) issues.add(c.messages.get(name)!.where, `"${name}" is already an enum (defined at ${locate(def.where)})`);
  }

  const element = (name: string, where: Where): ElementType | null => {
    if ((SCALAR_TYPES as readonly string[]).includes(name)) return { kind: 'scalar', scalar: name as ScalarType };
    if (name === 'string') return { kind: 'string' };
    if (c.enums.has(name)) return { kind: 'enum', name };
    if (c.messages.has(name)) return { kind: 'message', name };
    if (name === 'bytes') issues.add(where, 'arrays of bytes are not supported (FlatBuffers has no nested vectors)');
    else if (name.startsWith('[')) issues.add(where, 'arrays of arrays are not supported (FlatBuffers has no nested vectors)');
    else issues.add(where, `unknown type "${name}"`);
    return null;
  };
  const fieldType = (text: string, where: Where): FieldType | null => {
    if (text === 'bytes') return { kind: 'bytes' };
    if (text.startsWith('[')) {
      const of = element(text.slice(1, -1), where);
      return of === null ? null : { kind: 'array', of };
    }
    return element(text, where);
  };

  const messages: MessageModel[] = [];
  for (const { value: raw } of c.messages.values()) {
    const fields: FieldModel[] = [];
    for (const f of raw.fields) {
      const type = fieldType(f.type, f.where);
      if (type !== null) fields.push({ name: f.name, type, doc: f.doc });
    }
    // flatc adds `<name>Length()` and `<name>Array()` accessors next to a vector's own.
    const names = new Set(fields.map((f) => f.name));
    for (const f of fields) {
      if (f.type.kind !== 'array' && f.type.kind !== 'bytes') continue;
      for (const extra of [`${f.name}Length`, `${f.name}Array`]) {
        const clash = raw.fields.find((x) => x.name === extra);
        if (names.has(extra) && clash !== undefined) issues.add(clash.where, `field name "${extra}" clashes with the accessors FlatBuffers generates for "${f.name}"`);
      }
    }
    messages.push({ name: raw.name, fields, doc: raw.doc });
  }
  checkRecursion(messages, c, issues);

  const message = (ref: Defined<string>): string | null => {
    if (c.messages.has(ref.value)) return ref.value;
    issues.add(ref.where, c.enums.has(ref.value) ? `"${ref.value}" is an enum, not a message` : `unknown message "${ref.value}"`);
    return null;
  };
  const [lo, hi] = namespace === CORE_NAMESPACE ? CORE_ID_RANGE : GAME_ID_RANGE;
  const ids = new Map<number, Where>();
  const checkId = (id: number | null, where: Where): id is number => {
    if (id === null) return false;
    if (id < lo || id > hi) {
      const why = namespace === CORE_NAMESPACE ? 'the core protocol uses the reserved range' : `${CORE_ID_RANGE[0]}..${CORE_ID_RANGE[1]} are reserved for the core protocol`;
      issues.add(where, `id ${id} is out of range ${lo}..${hi} (${why})`);
      return false;
    }
    const prev = ids.get(id);
    if (prev !== undefined) {
      issues.add(where, `duplicate id ${id} (already used by ${prev.path.replace(/\.id$/, '')} at ${locate(prev)})`);
      return false;
    }
    ids.set(id, where);
    return true;
  };

  const routes: RouteModel[] = [];
  for (const { value: raw } of c.routes.values()) {
    const request = raw.request === null ? null : message(raw.request);
    const response = raw.response === null ? null : message(raw.response);
    if (checkId(raw.id, raw.idWhere) && raw.scene !== null && request !== null && (raw.response === null || response !== null)) {
      routes.push({ name: raw.name, id: raw.id, scene: raw.scene, request, response, idempotent: raw.idempotent, doc: raw.doc });
    }
  }
  const pushes: PushModel[] = [];
  for (const { value: raw } of c.pushes.values()) {
    const msg = message(raw.message);
    if (checkId(raw.id, raw.idWhere) && msg !== null) pushes.push({ name: raw.name, id: raw.id, message: msg, doc: raw.doc });
  }
  return {
    namespace,
    version: c.version.value,
    sources: sources.map((s) => s.displayPath),
    enums: [...c.enums.values()].map((d) => d.value),
    messages,
    routes,
    pushes,
  };
}

/**
 * Decode always returns a full object, so a message cannot contain itself through plain
 * (non-array) message fields: its default value would be infinite.
 */
function checkRecursion(messages: readonly MessageModel[], c: Collected, issues: Issues): void {
  const byName = new Map(messages.map((m) => [m.name, m]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      const where = c.messages.get(name)!.where;
      issues.add(where, `messages contain themselves through non-array fields (${cycle.join(' → ')}); use an array field`);
      return;
    }
    state.set(name, 'visiting');
    for (const f of byName.get(name)?.fields ?? []) {
      if (f.type.kind === 'message') visit(f.type.name, [...trail, name]);
    }
    state.set(name, 'done');
  };
  for (const m of messages) visit(m.name, []);
}

/**
 * Parse and validate protocol YAML files into one protocol.
 * @throws CodedError `SCH_ERR_BAD_YAML` listing every problem as `file:line:col: path: message`.
 */
export function parseProtocol(sources: readonly ProtocolSource[]): ProtocolModel {
  const issues = new Issues();
  if (sources.length === 0) throw new CodedError(ErrorCodes.SCH_ERR_BAD_YAML, 'no protocol YAML files given');
  const collected = new Collected();
  for (const src of sources) readFile(src, issues, collected);
  const model = resolve(collected, sources, issues);
  issues.throwIfAny();
  if (model === null) throw new CodedError(ErrorCodes.SCH_ERR_BAD_YAML, 'protocol YAML has no namespace or version');
  return model;
}
