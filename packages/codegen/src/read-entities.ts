/**
 * Reading the `entities:` section: per scene type, the id of its cell push and its entity types
 * with their replicated fields. Field types, quantize and the generated names are checked
 * against the rest of the protocol by `resolve-entities`.
 */
import { isMap, isScalar, isSeq } from 'yaml';
import { MAX_ENTITY_FIELDS } from '@gos/schema';
import { cellVectorName, snakeCase } from './emit-fbs.js';
import type { Where } from './issues.js';
import { RESERVED_MEMBER_NAMES, RESERVED_TYPE_NAMES, memberNameProblem, typeNameProblem } from './reserved-words.js';
import { lower } from './ts-text.js';
import { MEMBER_NAME, SCENE_NAME, TYPE_NAME, define, describe, isEmpty, join, type Defined, type Entry, type Reader } from './yaml-reader.js';

/** The entity table's own slots, before the fields: `id: uint32`, `enter: bool`. */
const ENTITY_SLOT_NAMES: readonly string[] = ['id', 'enter'];

/**
 * Members of the cell table's TS class besides the vectors of entity types: its scalars, and
 * the `leaves`/`leave_to` vectors with the `<name>Length()` and `<name>Array()` flatc adds.
 */
const CELL_MEMBERS: readonly string[] = ['tick', 'cellX', 'cellY', 'leaves', 'leavesLength', 'leavesArray', 'leaveTo', 'leaveToLength', 'leaveToArray'];

export interface RawEntityField {
  readonly name: string;
  readonly type: string;
  readonly typeWhere: Where;
  readonly quantize: number | null;
  readonly quantizeWhere: Where;
  /** Send at most every this many ticks in the far band (docs/aoi.md); null: every tick. */
  readonly farEvery: number | null;
  readonly doc: string | null;
}

export interface RawEntityType {
  readonly name: string;
  readonly fields: readonly RawEntityField[];
  readonly doc: string | null;
  readonly where: Where;
}

export interface RawSceneEntities {
  readonly scene: string;
  readonly push: number | null;
  readonly pushWhere: Where;
  readonly types: readonly RawEntityType[];
  readonly doc: string | null;
}

/** `entities: { <scene type>: { push, doc?, types: { <Type>: { doc?, fields } } } }`. */
export function readEntityScene(r: Reader, e: Entry, out: Map<string, Defined<RawSceneEntities>>): void {
  const path = join('entities', e.key);
  if (!SCENE_NAME.test(e.key)) {
    r.fail(e.keyNode, path, `"${e.key}" is not a valid scene type (lower-case start, letters, digits, _)`);
    return;
  }
  const entries = r.entries(e.value, path, e.keyNode);
  if (entries === null) return;
  const byKey = r.keyed(entries, ['push', 'types', 'doc'], path);
  const pushEntry = r.require(byKey, 'push', e.value, path);
  const typesEntry = r.require(byKey, 'types', e.value, path);
  const types: RawEntityType[] = [];
  if (typesEntry !== null) {
    const tpath = join(path, 'types');
    const list = isEmpty(typesEntry.value) ? [] : r.entries(typesEntry.value, tpath, typesEntry.keyNode);
    if (list !== null && list.length === 0) r.fail(typesEntry.value ?? typesEntry.keyNode, tpath, 'a scene type in entities needs at least one entity type');
    for (const t of list ?? []) {
      const type = readType(r, t, join(tpath, t.key));
      if (type !== null) types.push(type);
    }
    checkCellMembers(r, types);
  }
  define(r, out, e, path, 'entities of scene type', {
    scene: e.key,
    push: pushEntry === null ? null : r.integer(pushEntry, join(path, 'push'), 0, Number.MAX_SAFE_INTEGER),
    pushWhere: r.where(pushEntry?.value ?? e.keyNode, join(path, 'push')),
    types,
    doc: r.doc(byKey, path),
  });
}

function readType(r: Reader, t: Entry, path: string): RawEntityType | null {
  if (!r.name(t, TYPE_NAME, 'PascalCase letters and digits', RESERVED_TYPE_NAMES, path, typeNameProblem)) return null;
  const entries = r.entries(t.value, path, t.keyNode);
  if (entries === null) return null;
  const byKey = r.keyed(entries, ['fields', 'doc'], path);
  const fieldsEntry = r.require(byKey, 'fields', t.value, path);
  if (fieldsEntry === null) return null;
  const fpath = join(path, 'fields');
  const list = isEmpty(fieldsEntry.value) ? [] : r.entries(fieldsEntry.value, fpath, fieldsEntry.keyNode);
  if (list === null) return null;
  const fields: RawEntityField[] = [];
  for (const f of list) {
    const field = readField(r, f, join(fpath, f.key));
    if (field !== null) fields.push(field);
  }
  const near = fieldsEntry.value ?? fieldsEntry.keyNode;
  if (list.length > MAX_ENTITY_FIELDS) r.fail(near, fpath, `${list.length} fields: an entity type has at most ${MAX_ENTITY_FIELDS} (its change mask is one u32)`);
  for (const axis of ['x', 'y']) {
    if (!list.some((f) => f.key === axis)) r.fail(near, fpath, `missing field "${axis}": every entity type has a position x, y, which places it in a cell`);
  }
  return { name: t.key, fields, doc: r.doc(byKey, path), where: r.where(t.keyNode, path) };
}

function readField(r: Reader, f: Entry, path: string): RawEntityField | null {
  if (!r.name(f, MEMBER_NAME, 'lowerCamelCase letters and digits', RESERVED_MEMBER_NAMES, path, memberNameProblem)) return null;
  if (ENTITY_SLOT_NAMES.includes(f.key)) {
    r.fail(f.keyNode, path, `"${f.key}" is taken: every entity table starts with ${ENTITY_SLOT_NAMES.join(' and ')}`);
    return null;
  }
  let typeNode = f.value;
  let doc: string | null = null;
  let quantize: number | null = null;
  let quantizeWhere = r.where(f.keyNode, path);
  let farEvery: number | null = null;
  if (isMap(f.value)) {
    const byKey = r.keyed(r.entries(f.value, path) ?? [], ['type', 'quantize', 'farEvery', 'doc'], path);
    const typeEntry = r.require(byKey, 'type', f.value, path);
    if (typeEntry === null) return null;
    typeNode = typeEntry.value;
    doc = r.doc(byKey, path);
    const q = byKey.get('quantize');
    if (q !== undefined) {
      quantizeWhere = r.where(q.value ?? q.keyNode, join(path, 'quantize'));
      quantize = positiveNumber(r, q, join(path, 'quantize'));
      if (quantize === null) return null;
    }
    const far = byKey.get('farEvery');
    if (far !== undefined) {
      farEvery = tickCount(r, far, join(path, 'farEvery'));
      if (farEvery === null) return null;
    }
  }
  if (typeNode === null || isEmpty(typeNode)) {
    r.fail(f.keyNode, path, 'missing type');
    return null;
  }
  if (isSeq(typeNode)) {
    r.fail(typeNode, path, 'arrays are not supported in entity fields');
    return null;
  }
  if (!isScalar(typeNode) || typeof typeNode.value !== 'string') {
    r.fail(typeNode, path, `expected a type name, got ${describe(typeNode)}`);
    return null;
  }
  return { name: f.key, type: typeNode.value.trim(), typeWhere: r.where(typeNode, path), quantize, quantizeWhere, farEvery, doc };
}

/** Most ticks between two sends of a field in the far band. */
export const MAX_FAR_EVERY = 255;

function tickCount(r: Reader, e: Entry, path: string): number | null {
  const v = isScalar(e.value) ? e.value.value : undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_FAR_EVERY) return v;
  r.fail(e.value ?? e.keyNode, path, `farEvery must be a whole number of ticks from 1 to ${MAX_FAR_EVERY}, got ${describe(e.value)}`);
  return null;
}

function positiveNumber(r: Reader, e: Entry, path: string): number | null {
  const v = isScalar(e.value) ? e.value.value : undefined;
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  r.fail(e.value ?? e.keyNode, path, `quantize must be a positive finite number, got ${describe(e.value)}`);
  return null;
}

/**
 * The cell table has a vector per entity type, named after it (`Avatar` → `avatar`): that name
 * and the `<name>Length()` flatc adds must not be taken, nor be a reserved member name.
 */
function checkCellMembers(r: Reader, types: readonly RawEntityType[]): void {
  const taken = new Map<string, string>(CELL_MEMBERS.map((m) => [m, snakeCase(m.replace(/(Length|Array)$/, ''))]));
  for (const t of types) {
    const vector = lower(t.name);
    const snake = cellVectorName(t.name);
    const problem = RESERVED_MEMBER_NAMES.has(vector) ? `"${vector}" is a reserved name` : memberNameProblem(vector);
    if (problem !== null) {
      r.issues.add(t.where, `the cell table's vector of this type would be named "${snake}": ${problem}`);
      continue;
    }
    for (const member of [vector, `${vector}Length`]) {
      const owner = taken.get(member);
      if (owner !== undefined) r.issues.add(t.where, `the cell table's vector of this type, "${snake}", clashes with "${owner}" (flatc names both "${member}")`);
    }
    taken.set(vector, snake);
    taken.set(`${vector}Length`, snake);
  }
}
