/** Reading YAML nodes: map entries, allowed keys, scalars of the right type, valid names. */
import { isAlias, isMap, isScalar, isSeq, type Node } from 'yaml';
import { at, locate, type FileCtx, type Issues, type Where } from './issues.js';

/** Messages, enums, pushes and entity types. */
export const TYPE_NAME = /^[A-Z][A-Za-z0-9]*$/;
/** Fields, routes and rpc messages. */
export const MEMBER_NAME = /^[a-z][A-Za-z0-9]*$/;
/** A route's `scene`, the keys of `rpc:` and `entities:`. */
export const SCENE_NAME = /^[a-z][A-Za-z0-9_]*$/;

export interface Entry {
  readonly key: string;
  readonly keyNode: Node;
  readonly value: Node | null;
}

/** `key:` or `key: ~`: an empty section. */
export const isEmpty = (node: Node | null): boolean => node === null || (isScalar(node) && node.value === null);

export const describe = (node: Node | null): string => {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return node.value === null ? 'nothing' : JSON.stringify(node.value);
  return 'an alias';
};

export const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

/** A definition and where it is, for the problems found later and for duplicates. */
export interface Defined<T> {
  readonly value: T;
  readonly where: Where;
}

/** Add `value` under `e.key`, or report a duplicate naming the first definition. */
export function define<T>(r: Reader, map: Map<string, Defined<T>>, e: Entry, path: string, kind: string, value: T): void {
  const prev = map.get(e.key);
  if (prev !== undefined) {
    r.fail(e.keyNode, path, `duplicate ${kind} "${e.key}" (first defined at ${locate(prev.where)})`);
    return;
  }
  map.set(e.key, { value, where: r.where(e.keyNode, path) });
}

/** The YAML-level reader: shapes, keys and scalar types. Semantic checks come after. */
export class Reader {
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
