/** Resolving the collected definitions into a {@link ProtocolModel}: what spans sections. */
import {
  CORE_ID_RANGE,
  CORE_NAMESPACE,
  GAME_ID_RANGE,
  SCALAR_TYPES,
  type ElementType,
  type FieldModel,
  type FieldType,
  type MessageModel,
  type ProtocolModel,
  type PushModel,
  type RouteModel,
  type RpcModel,
  type ScalarType,
} from './model.js';
import { locate, type Issues, type Where } from './issues.js';
import type { Collected, Defined, ProtocolSource } from './read-sections.js';
import { resolveEntities } from './resolve-entities.js';

/** The generated protocol's interface name: `demo` → `DemoProtocol`, `my.game` → `MyGameProtocol`. */
export function protocolTypeName(namespace: string): string {
  const pascal = namespace
    .split(/[._]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
  return `${pascal}Protocol`;
}

/** Resolve names and check what spans sections: types, ids, recursion. */
export function resolve(c: Collected, sources: readonly ProtocolSource[], issues: Issues): ProtocolModel | null {
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
      if (type !== null) fields.push({ name: f.name, type, doc: f.doc, deprecated: f.deprecated });
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
    if (checkId(raw.id, raw.idWhere) && msg !== null) pushes.push({ name: raw.name, id: raw.id, message: msg, cellsOf: null, doc: raw.doc });
  }
  const entities = resolveEntities(c, protocolType, checkId, issues);
  pushes.push(...entities.pushes);
  const rpc: RpcModel[] = [];
  for (const { value: raw } of c.rpc.values()) {
    const request = raw.request === null ? null : message(raw.request);
    const response = raw.response === null ? null : message(raw.response);
    if (request !== null && (raw.response === null || response !== null)) rpc.push({ target: raw.target, name: raw.name, request, response, doc: raw.doc });
  }
  return {
    namespace,
    version: c.version.value,
    sources: sources.map((s) => s.displayPath),
    enums: [...c.enums.values()].map((d) => d.value),
    messages,
    routes,
    pushes,
    rpc,
    entities: entities.entities,
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
