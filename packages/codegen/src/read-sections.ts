/**
 * Reading each protocol file's sections into raw definitions, checked one by one: names, shapes,
 * enum values, duplicates. Names are resolved across sections later, by `resolve`.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { ENUM_RANGE, ENUM_TYPES, type EnumModel, type EnumType } from './model.js';
import { RESERVED_MEMBER_NAMES, RESERVED_TYPE_NAMES, memberNameProblem, namespacePartProblem, typeNameProblem } from './reserved-words.js';
import { locate, type FileCtx, type Issues, type Where } from './issues.js';
import { readEntityScene, type RawSceneEntities } from './read-entities.js';
import { MEMBER_NAME, Reader, SCENE_NAME, TYPE_NAME, define, describe, isEmpty, join, type Defined, type Entry } from './yaml-reader.js';

export type { Defined } from './yaml-reader.js';

/** One protocol YAML file. */
export interface ProtocolSource {
  /** Path used in error messages (as the user gave it). */
  readonly path: string;
  /** Path written in generated headers: relative to the repository root, `/`-separated. */
  readonly displayPath: string;
  readonly text: string;
}

const NAMESPACE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const ENUM_VALUE = /^[A-Za-z][A-Za-z0-9_]*$/;

const TOP_KEYS = ['namespace', 'version', 'enums', 'messages', 'routes', 'pushes', 'rpc', 'entities'] as const;

export interface RawField {
  readonly name: string;
  /** `[T]` or `T`, whitespace trimmed. */
  readonly type: string;
  readonly doc: string | null;
  /** `deprecated: true`: kept in its slot on the wire, gone from the generated types. */
  readonly deprecated: boolean;
  readonly where: Where;
}

export interface RawMessage {
  readonly name: string;
  readonly fields: RawField[];
  readonly doc: string | null;
}

export interface RawRoute {
  readonly name: string;
  readonly id: number | null;
  readonly idWhere: Where;
  readonly scene: string | null;
  readonly request: Defined<string> | null;
  readonly response: Defined<string> | null;
  readonly idempotent: boolean;
  readonly doc: string | null;
}

export interface RawPush {
  readonly name: string;
  readonly id: number | null;
  readonly idWhere: Where;
  readonly message: Defined<string>;
  readonly doc: string | null;
}

export interface RawRpc {
  readonly target: string;
  readonly name: string;
  readonly request: Defined<string> | null;
  readonly response: Defined<string> | null;
  readonly doc: string | null;
}

export class Collected {
  namespace: Defined<string> | null = null;
  version: Defined<number> | null = null;
  readonly enums = new Map<string, Defined<EnumModel>>();
  readonly messages = new Map<string, Defined<RawMessage>>();
  readonly routes = new Map<string, Defined<RawRoute>>();
  readonly pushes = new Map<string, Defined<RawPush>>();
  /** Keyed `<target>.<name>`. */
  readonly rpc = new Map<string, Defined<RawRpc>>();
  /** Keyed by scene type. */
  readonly entities = new Map<string, Defined<RawSceneEntities>>();
}

export function readFile(src: ProtocolSource, issues: Issues, out: Collected): void {
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
  for (const e of section('rpc')) readRpcTarget(r, e, out);
  for (const e of section('entities')) readEntityScene(r, e, out.entities);
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
    let deprecated = false;
    let typeNode = f.value;
    if (isMap(f.value)) {
      const fe = r.keyed(r.entries(f.value, p) ?? [], ['type', 'doc', 'deprecated'], p);
      const t = r.require(fe, 'type', f.value, p);
      if (t === null) continue;
      doc = r.doc(fe, p);
      const d = fe.get('deprecated');
      deprecated = d === undefined ? false : (r.boolean(d, join(p, 'deprecated')) ?? false);
      typeNode = t.value;
    }
    if (typeNode === null || isEmpty(typeNode)) {
      r.fail(f.keyNode, p, 'missing type');
      continue;
    }
    const type = typeText(r, typeNode, p);
    if (type !== null) fields.push({ name: f.key, type, doc, deprecated, where: r.where(typeNode, p) });
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

/** `rpc: { <scene type>: { <message>: { request, response?, doc? } } }`. */
function readRpcTarget(r: Reader, e: Entry, out: Collected): void {
  const path = join('rpc', e.key);
  if (!SCENE_NAME.test(e.key)) {
    r.fail(e.keyNode, path, `"${e.key}" is not a valid scene type (lower-case start, letters, digits, _)`);
    return;
  }
  if (isEmpty(e.value)) return;
  for (const m of r.entries(e.value, path, e.keyNode) ?? []) {
    const mpath = join(path, m.key);
    if (!r.name(m, MEMBER_NAME, 'lowerCamelCase letters and digits', RESERVED_MEMBER_NAMES, mpath, memberNameProblem)) continue;
    const entries = r.entries(m.value, mpath, m.keyNode);
    if (entries === null) continue;
    const byKey = r.keyed(entries, ['request', 'response', 'doc'], mpath);
    const named = (x: Entry | null | undefined, key: string): Defined<string> | null => {
      if (x === null || x === undefined) return null;
      const value = r.string(x, join(mpath, key));
      return value === null ? null : { value, where: r.where(x.value, join(mpath, key)) };
    };
    const request = named(r.require(byKey, 'request', m.value, mpath), 'request');
    const keyed: Entry = { ...m, key: `${e.key}.${m.key}` };
    define(r, out.rpc, keyed, mpath, 'rpc message', { target: e.key, name: m.key, request, response: named(byKey.get('response'), 'response'), doc: r.doc(byKey, mpath) });
  }
}
