/**
 * The generated module's part for the protocol's `entities:` section: an interface per entity
 * type, `EntityMap` and `ENTITIES` (the runtime descriptors @gos/schema's cell frame codec
 * reads). Both are emitted, empty, for a protocol without entities, so code can always import them.
 * The cell pushes join the pushes table in emit-ts, with {@link pushCodec} and {@link pushPayload}.
 */
import { entityTypeName, type EntityFieldModel, type ProtocolModel, type PushModel } from './model.js';
import { jsdoc, str } from './ts-text.js';

function tsType(f: EntityFieldModel): string {
  if (f.enumName !== null) return f.enumName;
  if (f.type === 'string') return 'string';
  return f.type === 'bool' ? 'boolean' : 'number';
}

function fieldDoc(f: EntityFieldModel): string | null {
  const notes: string[] = [];
  if (f.quantize !== null) notes.push(`Sent as a multiple of ${f.quantize}.`);
  if (f.farEvery !== null) notes.push(`Beyond the scene's near radius, sent at most every ${f.farEvery} ticks.`);
  if (notes.length === 0) return f.doc;
  return f.doc === null ? notes.join(' ') : `${f.doc.trim()}\n${notes.join(' ')}`;
}

/** The type of `ENTITIES`: exact, so that `ENTITIES.world` needs no check. */
export function entitiesType(m: ProtocolModel): string {
  if (m.entities.length === 0) return 'Readonly<Record<string, rt.SceneEntitiesDef>>';
  return `{ ${m.entities.map((s) => `readonly ${s.scene}: rt.SceneEntitiesDef`).join('; ')} }`;
}

/** A push's payload type: its message, or a decoded cell frame. */
export function pushPayload(p: PushModel): string {
  return p.cellsOf === null ? p.message : 'rt.CellFrame';
}

/** A push's codec: its message's, or the cell frame codec of its scene type's entities. */
export function pushCodec(p: PushModel): string {
  return p.cellsOf === null ? `${p.message}Codec` : `rt.cellCodec(ENTITIES.${p.cellsOf})`;
}

/** Entity interfaces, `EntityMap` and `ENTITIES`; they go before the pushes table, which uses ENTITIES. */
export function emitEntities(m: ProtocolModel): string[] {
  const out: string[] = [];
  const line = (...ls: string[]): void => void out.push(...ls);
  for (const scene of m.entities) {
    for (const t of scene.types) {
      line(...jsdoc(t.doc, ''), `export interface ${entityTypeName(scene.scene, t.name)} {`);
      for (const f of t.fields) line(...jsdoc(fieldDoc(f), '  '), `  ${f.name}: ${tsType(f)};`);
      line('}', '');
    }
  }
  line('/** Entity types by scene type, then by name: the values scene code sets and the SDK replicates. */');
  if (m.entities.length === 0) {
    line('export interface EntityMap {}', '');
  } else {
    line('export interface EntityMap {');
    for (const scene of m.entities) line(`  ${scene.scene}: { ${scene.types.map((t) => `${t.name}: ${entityTypeName(scene.scene, t.name)}`).join('; ')} };`);
    line('}', '');
  }
  line("/** Replicated entities by scene type (the YAML's `entities:`): what encodes and decodes their cell frames (docs/aoi.md). */");
  if (m.entities.length === 0) {
    line(`export const ENTITIES: ${entitiesType(m)} = Object.freeze({});`, '');
    return out;
  }
  line(`export const ENTITIES: ${entitiesType(m)} = Object.freeze({`);
  for (const scene of m.entities) {
    line(...jsdoc(scene.doc, '  '), `  ${scene.scene}: Object.freeze({`, `    scene: ${str(scene.scene)},`, `    push: ${scene.push},`, `    pushName: ${str(scene.pushName)},`, '    types: Object.freeze([');
    for (const t of scene.types) {
      line(`      Object.freeze({`, `        name: ${str(t.name)},`, '        fields: Object.freeze([');
      for (const f of t.fields) {
        const far = f.farEvery === null ? '' : `, farEvery: ${f.farEvery}`;
        line(`          Object.freeze({ name: ${str(f.name)}, type: ${str(f.type)}, quantize: ${f.quantize === null ? 'null' : String(f.quantize)}${far} }),`);
      }
      line('        ]),', '      }),');
    }
    line('    ]),', '  }),');
  }
  line('});', '');
  return out;
}
