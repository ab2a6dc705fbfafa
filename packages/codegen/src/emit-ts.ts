/**
 * {@link ProtocolModel} → the generated `protocol.ts`: plain interfaces, one codec per message
 * (flatc's builders to encode, flatc's accessors to decode, after {@link verifyRoot}), the
 * route/push table, typed scene handlers and a typed request API.
 */
import { liveFields, SCALAR_BYTES, type ElementType, type EnumModel, type FieldModel, type FieldType, type MessageModel, type ProtocolModel, type RouteModel } from './model.js';
import { header } from './emit-fbs.js';
import { emitEntities, pushCodec, pushPayload } from './emit-entities.js';
import { emitRpc, rpcTargets } from './emit-rpc.js';
import { jsdoc, lower, str, upper } from './ts-text.js';
import { protocolTypeName } from './parse.js';

export interface EmitTsOptions {
  /** Module specifier of the codec runtime (`@gos/schema` or a relative path to codec-runtime.js). */
  readonly runtimeImport: string;
  /** Module specifier of flatc's output, relative to protocol.ts. */
  readonly flatcImport: string;
}

class Emitter {
  readonly #m: ProtocolModel;
  readonly #enums: Map<string, EnumModel>;
  readonly #o: EmitTsOptions;
  readonly #out: string[] = [];
  /** Messages used as a plain nested field: they need an `empty<Name>()` default. */
  readonly #needsEmpty = new Set<string>();

  constructor(model: ProtocolModel, options: EmitTsOptions) {
    this.#m = model;
    this.#o = options;
    this.#enums = new Map(model.enums.map((e) => [e.name, e]));
    for (const m of model.messages) for (const f of liveFields(m)) if (f.type.kind === 'message') this.#needsEmpty.add(f.type.name);
  }

  #line(...lines: string[]): void {
    this.#out.push(...lines);
  }

  emit(): string {
    const m = this.#m;
    this.#line(
      header(m),
      '/* eslint-disable */',
      "import type { Builder, Offset } from 'flatbuffers';",
      `import * as rt from ${str(this.#o.runtimeImport)};`,
      `import * as fb from ${str(this.#o.flatcImport)};`,
      '',
    );
    for (const e of m.enums) this.#enum(e);
    for (const msg of m.messages) this.#interface(msg);
    for (const msg of m.messages) this.#codec(msg);
    this.#line(...emitEntities(m));
    this.#protocol();
    this.#pushMap();
    if (m.routes.length > 0) {
      this.#sceneHandlers();
      this.#api();
    }
    if (m.rpc.length > 0) this.#line(...emitRpc(m));
    return `${this.#out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
  }

  #enum(e: EnumModel): void {
    this.#line(...jsdoc(e.doc, ''), `export const ${e.name} = {`);
    for (const v of e.values) this.#line(`  ${v.name}: ${v.value},`);
    this.#line(
      '} as const;',
      `export type ${e.name} = (typeof ${e.name})[keyof typeof ${e.name}];`,
      `const ${lower(e.name)}Values: readonly ${e.name}[] = Object.values(${e.name});`,
      '',
    );
  }

  #tsType(t: FieldType): string {
    switch (t.kind) {
      case 'bytes':
        return 'Uint8Array';
      case 'array': {
        const of = this.#tsType(t.of);
        return `${of}[]`;
      }
      case 'scalar':
        if (t.scalar === 'bool') return 'boolean';
        return t.scalar === 'int64' || t.scalar === 'uint64' ? 'bigint' : 'number';
      case 'string':
        return 'string';
      case 'enum':
      case 'message':
        return t.name;
    }
  }

  #interface(msg: MessageModel): void {
    this.#line(...jsdoc(msg.doc, ''));
    const fields = liveFields(msg);
    if (fields.length === 0) {
      this.#line(`export type ${msg.name} = Record<string, never>;`, '');
      return;
    }
    this.#line(`export interface ${msg.name} {`);
    for (const f of fields) this.#line(...jsdoc(f.doc, '  '), `  ${f.name}: ${this.#tsType(f.type)};`);
    this.#line('}', '');
  }

  #shape(t: FieldType): string {
    switch (t.kind) {
      case 'bytes':
        return "['vector', 1]";
      case 'scalar':
        return `['scalar', ${SCALAR_BYTES[t.scalar]}]`;
      case 'enum':
        return `['scalar', ${this.#enumBytes(t.name)}]`;
      case 'string':
        return "['string']";
      case 'message':
        return `['table', () => ${lower(t.name)}Shape]`;
      case 'array':
        switch (t.of.kind) {
          case 'scalar':
            return `['vector', ${SCALAR_BYTES[t.of.scalar]}]`;
          case 'enum':
            return `['vector', ${this.#enumBytes(t.of.name)}]`;
          case 'string':
            return "['strings']";
          case 'message':
            return `['tables', () => ${lower(t.of.name)}Shape]`;
        }
    }
  }

  #enumBytes(name: string): number {
    return SCALAR_BYTES[this.#enums.get(name)!.type];
  }

  #codec(msg: MessageModel): void {
    const n = msg.name;
    const l = lower(n);
    const fbc = `fb.${n}`;
    // The verifier's view of the table, in vtable (= declaration) order: deprecated fields too,
    // which older senders may still write.
    this.#line(`const ${l}Shape: rt.TableShape = [${msg.fields.map((f) => this.#shape(f.type)).join(', ')}];`, '');
    const fields = liveFields(msg);

    // Encode: strings, vectors and sub-tables must be built before the table is started.
    const local = (f: FieldModel): string => `o${upper(f.name)}`;
    this.#line(`function build${n}(b: Builder, ${fields.length === 0 ? '_v' : 'v'}: ${n}): Offset {`);
    for (const f of fields) {
      const pre = this.#prebuild(f, n);
      if (pre !== null) this.#line(`  const ${local(f)} = ${pre};`);
    }
    this.#line(`  ${fbc}.start${n}(b);`);
    for (const f of fields) {
      const value = this.#prebuild(f, n) === null ? `v.${f.name}` : local(f);
      this.#line(`  ${fbc}.add${upper(f.name)}(b, ${value});`);
    }
    this.#line(`  return ${fbc}.end${n}(b);`, '}', '');

    // Decode: plain object out of flatc's accessors; absent fields take their defaults.
    const param = fields.length === 0 ? '_t' : 't';
    this.#line(`function read${n}(${param}: ${fbc}): ${n} {`);
    if (fields.length === 0) {
      this.#line('  return {};');
    } else {
      this.#line('  return {');
      for (const f of fields) this.#line(`    ${f.name}: ${this.#read(f, n)},`);
      this.#line('  };');
    }
    this.#line('}', '');

    if (this.#needsEmpty.has(n)) {
      this.#line(`function empty${n}(): ${n} {`);
      if (fields.length === 0) this.#line('  return {};');
      else {
        this.#line('  return {');
        for (const f of fields) this.#line(`    ${f.name}: ${this.#empty(f.type)},`);
        this.#line('  };');
      }
      this.#line('}', '');
    }

    this.#line(
      ...jsdoc(`Encode and decode ${n}. Decode throws \`SCH_ERR_BAD_PAYLOAD\` on malformed bytes.`, ''),
      `export const ${n}Codec: rt.Codec<${n}> = rt.tableCodec(${str(n)}, ${l}Shape, build${n}, (bb) => read${n}(${fbc}.getRootAs${n}(bb)));`,
      '',
    );
  }

  /** The expression building a field's out-of-line part, or null for inline scalars. */
  #prebuild(f: FieldModel, msg: string): string | null {
    const v = `v.${f.name}`;
    const t = f.type;
    switch (t.kind) {
      case 'scalar':
      case 'enum':
        return null;
      case 'string':
        return `b.createString(${v})`;
      case 'bytes':
        return `b.createByteVector(${v})`;
      case 'message':
        return `build${t.name}(b, ${v})`;
      case 'array': {
        const create = `fb.${msg}.create${upper(f.name)}Vector`;
        switch (t.of.kind) {
          case 'scalar':
          case 'enum':
            return `${create}(b, ${v})`;
          case 'string':
            return `${create}(b, ${v}.map((s) => b.createString(s)))`;
          case 'message':
            return `${create}(b, ${v}.map((m) => build${t.of.name}(b, m)))`;
        }
      }
    }
  }

  #read(f: FieldModel, msg: string): string {
    const get = `t.${f.name}`;
    const t = f.type;
    switch (t.kind) {
      case 'scalar':
        return `${get}()`;
      case 'enum':
        return `rt.enumMember(${get}(), ${lower(t.name)}Values, ${str(t.name)})`;
      case 'string':
        return `${get}() ?? ''`;
      case 'bytes':
        return `${get}Array()?.slice() ?? new Uint8Array(0)`;
      case 'message':
        return `rt.nested(${get}(), read${t.name}, empty${t.name})`;
      case 'array':
        return `rt.readList(${get}Length(), (i) => ${this.#readElement(t.of, `${get}(i)`, msg)})`;
    }
  }

  #readElement(t: ElementType, get: string, msg: string): string {
    switch (t.kind) {
      case 'scalar':
        if (t.scalar === 'bool') return `${get} ?? false`;
        return t.scalar === 'int64' || t.scalar === 'uint64' ? `${get} ?? 0n` : `${get} ?? 0`;
      case 'string':
        return `${get} ?? ''`;
      case 'enum':
        return `rt.enumMember(${get} ?? 0, ${lower(t.name)}Values, ${str(t.name)})`;
      case 'message':
        return `read${t.name}(rt.present(${get}, ${str(msg)}))`;
    }
  }

  #empty(t: FieldType): string {
    switch (t.kind) {
      case 'scalar':
        if (t.scalar === 'bool') return 'false';
        return t.scalar === 'int64' || t.scalar === 'uint64' ? '0n' : '0';
      case 'enum':
        return '0'; // every enum has a 0 member: the wire default
      case 'string':
        return "''";
      case 'bytes':
        return 'new Uint8Array(0)';
      case 'array':
        return '[]';
      case 'message':
        return `empty${t.name}()`;
    }
  }

  #protocol(): void {
    const m = this.#m;
    const type = protocolTypeName(m.namespace);
    const block = (open: string, lines: string[], close: string): void => {
      if (lines.length === 0) this.#line(`${open}${close.trimStart()}`);
      else this.#line(open, ...lines, close);
    };
    this.#line('/** Route ids: the opcode of REQUEST, RESPONSE and ERROR frames. */');
    block('export const ROUTE = {', m.routes.map((r) => `  ${r.name}: ${r.id},`), '} as const;');
    this.#line('', '/** Push ids: the opcode of PUSH frames. */');
    block('export const PUSH = {', m.pushes.map((p) => `  ${p.name}: ${p.id},`), '} as const;');
    this.#line('');

    this.#line(`/** The \`${m.namespace}\` protocol with its exact route and push types. */`, `export interface ${type} extends rt.Protocol {`);
    if (m.routes.length === 0) this.#line('  readonly routes: Record<never, never>;');
    else block('  readonly routes: {', m.routes.flatMap((r) => [...jsdoc(r.doc, '    '), `    readonly ${r.name}: rt.RouteDef<${r.request}, ${r.response ?? 'void'}>;`]), '  };');
    if (m.pushes.length === 0) this.#line('  readonly pushes: Record<never, never>;');
    else block('  readonly pushes: {', m.pushes.flatMap((p) => [...jsdoc(p.doc, '    '), `    readonly ${p.name}: rt.PushDef<${pushPayload(p)}>;`]), '  };');
    if (m.rpc.length > 0) {
      block(
        '  readonly rpc: {',
        rpcTargets(this.#m).flatMap(([target, msgs]) => [`    readonly ${target}: {`, ...msgs.flatMap((r) => [...jsdoc(r.doc, '      '), `      readonly ${r.name}: rt.RpcDef<${r.request}, ${r.response ?? 'void'}>;`]), '    };']),
        '  };',
      );
    }
    if (m.entities.length > 0) this.#line('  readonly entities: typeof ENTITIES;');
    this.#line('}', '');

    const routeLines = m.routes.map((r) => {
      const res = r.response === null ? 'null' : `${r.response}Codec`;
      return `  ${r.name}: Object.freeze({ id: ROUTE.${r.name}, name: ${str(r.name)}, scene: ${str(r.scene)}, request: ${r.request}Codec, response: ${res}, idempotent: ${r.idempotent} }),`;
    });
    block(`const routes: ${type}['routes'] = Object.freeze({`, routeLines, '});');
    this.#line('');
    const pushLines = m.pushes.map((p) => `  ${p.name}: Object.freeze({ id: PUSH.${p.name}, name: ${str(p.name)}, codec: ${pushCodec(p)} }),`);
    block(`const pushes: ${type}['pushes'] = Object.freeze({`, pushLines, '});');
    this.#line('');

    if (m.rpc.length > 0) {
      const rpcLines = rpcTargets(this.#m).flatMap(([target, msgs]) => [
        `  ${target}: Object.freeze({`,
        ...msgs.map((r) => `    ${r.name}: Object.freeze({ name: ${str(r.name)}, target: ${str(target)}, request: ${r.request}Codec, response: ${r.response === null ? 'null' : `${r.response}Codec`} }),`),
        '  }),',
      ]);
      block(`const rpc: ${type}['rpc'] = Object.freeze({`, rpcLines, '});');
      this.#line('');
    }
    const byId = (entries: string[]): string => (entries.length === 0 ? '' : `[\n    ${entries.join(',\n    ')},\n  ]`);
    this.#line(
      `/** The \`${m.namespace}\` protocol, version ${m.version}: give it to the gateway, the engine and the client. */`,
      `export const protocol: ${type} = Object.freeze({`,
      `  namespace: ${str(m.namespace)},`,
      `  version: ${m.version},`,
      '  routes,',
      '  pushes,',
      `  routeById: new Map<number, rt.RouteDef>(${byId(m.routes.map((r) => `[ROUTE.${r.name}, routes.${r.name}]`))}),`,
      `  pushById: new Map<number, rt.PushDef>(${byId(m.pushes.map((p) => `[PUSH.${p.name}, pushes.${p.name}]`))}),`,
      ...(m.rpc.length > 0 ? ['  rpc,'] : []),
      ...(m.entities.length > 0 ? ['  entities: ENTITIES,'] : []),
      '});',
      '',
    );
  }

  #pushMap(): void {
    const pushes = this.#m.pushes;
    this.#line('/** Push name → payload type: the engine\'s `send`/`broadcast` and the client\'s `onPush` key on it. */');
    if (pushes.length === 0) {
      this.#line('export type PushMap = Record<never, never>;', '');
      return;
    }
    this.#line('export type PushMap = {');
    for (const p of pushes) this.#line(`  ${p.name}: ${pushPayload(p)};`);
    this.#line('};', '');
  }

  #sceneHandlers(): void {
    const scenes = new Map<string, RouteModel[]>();
    for (const r of this.#m.routes) scenes.set(r.scene, [...(scenes.get(r.scene) ?? []), r]);
    this.#line(
      '/**',
      ' * Request handlers each scene type must provide, generic over the handler context. Return the',
      ' * response (nothing for fire-and-forget routes); throw a CodedError to answer with an ERROR frame.',
      ' */',
      'export interface SceneHandlers<Ctx> {',
    );
    for (const [scene, routes] of [...scenes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      this.#line(`  ${scene}: {`);
      for (const r of routes) {
        const res = r.response === null ? 'void' : r.response;
        this.#line(...jsdoc(r.doc, '    '), `    ${r.name}(ctx: Ctx, req: ${r.request}): ${res} | Promise<${res}>;`);
      }
      this.#line('  };');
    }
    this.#line('}', '');
  }

  #api(): void {
    this.#line(
      'export interface RequestOptions {',
      '  /** Reject with the client\'s timeout error after this long. */',
      '  readonly timeoutMs?: number;',
      '}',
      '',
      '/** What {@link createApi} needs: the client SDK\'s `GameClient` fits. */',
      'export interface ApiClient {',
      '  request(route: rt.RouteDef, payload: unknown, opts?: RequestOptions): Promise<unknown>;',
      '}',
      '',
      '/** One typed method per route; fire-and-forget routes resolve when the server acknowledges. */',
      'export interface Api {',
    );
    for (const r of this.#m.routes) {
      this.#line(...jsdoc(r.doc, '  '), `  ${r.name}(req: ${r.request}, opts?: RequestOptions): Promise<${r.response ?? 'void'}>;`);
    }
    this.#line('}', '', '/** Typed request helpers over a client: `createApi(client).move({ seq, x, y })`. */', 'export function createApi(client: ApiClient): Api {', '  return Object.freeze({');
    for (const r of this.#m.routes) {
      const sig = `(req: ${r.request}, opts?: RequestOptions)`;
      if (r.response === null) {
        this.#line(`    ${r.name}: async ${sig}: Promise<void> => {`, `      await client.request(routes.${r.name}, req, opts);`, '    },');
      } else {
        this.#line(`    ${r.name}: ${sig} => client.request(routes.${r.name}, req, opts) as Promise<${r.response}>,`);
      }
    }
    this.#line('  });', '}', '');
  }
}

export function emitTs(model: ProtocolModel, options: EmitTsOptions): string {
  return new Emitter(model, options).emit();
}
