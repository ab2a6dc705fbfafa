/** Decoding cell frames (the layout of entities.ts), verified first; and the push codec built on both ends. */
import { ByteBuffer } from 'flatbuffers';
import { badPayload, verifyRoot, type TableShape } from './codec-runtime.js';
import { CellFrameWriter } from './cell-writer.js';
import { CELL_GONE, CELL_SLOTS, ENTITY_SLOTS, cellShape, checkEntityValue, type CellFrame, type EntityChange, type EntityFieldDef, type EntityValue, type SceneEntitiesDef } from './entities.js';
import { CodedError, ErrorCodes } from './errors.js';
import type { Codec } from './protocol.js';

function readScalar(bb: ByteBuffer, pos: number, field: EntityFieldDef): EntityValue {
  // Divided by the inverse: 1626 / 100 is 16.26 where 1626 * 0.01 is 16.259999….
  if (field.quantize !== null) return bb.readInt32(pos) / (1 / field.quantize);
  switch (field.type) {
    case 'bool':
      return bb.readInt8(pos) !== 0;
    case 'int8':
      return bb.readInt8(pos);
    case 'uint8':
      return bb.readUint8(pos);
    case 'int16':
      return bb.readInt16(pos);
    case 'uint16':
      return bb.readUint16(pos);
    case 'int32':
      return bb.readInt32(pos);
    case 'uint32':
      return bb.readUint32(pos);
    case 'float32':
      return bb.readFloat32(pos);
    case 'float64':
      return bb.readFloat64(pos);
    case 'string':
      return bb.__string(pos) as string;
  }
}

function readU32Vector(bb: ByteBuffer, table: number, slot: number): number[] {
  const o = bb.__offset(table, 4 + 2 * slot);
  if (o === 0) return [];
  const n = bb.__vector_len(table + o);
  const start = bb.__vector(table + o);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(bb.readUint32(start + 4 * i));
  return out;
}

/**
 * Decode a cell frame of `def`'s scene. Verifies the buffer first (bounds, strings).
 * @throws CodedError `SCH_ERR_BAD_PAYLOAD` on malformed bytes, or leaves and leave_to of different lengths.
 */
export function decodeCellFrame(def: SceneEntitiesDef, bytes: Uint8Array, shape: TableShape = cellShape(def)): CellFrame {
  verifyRoot(bytes, shape, def.pushName);
  const bb = new ByteBuffer(bytes);
  const root = bb.readInt32(0);
  const scalar = (slot: number, read: (pos: number) => number): number => {
    const o = bb.__offset(root, 4 + 2 * slot);
    return o === 0 ? 0 : read(root + o);
  };
  const leaves = readU32Vector(bb, root, 3);
  const leaveTo = readU32Vector(bb, root, 4);
  if (leaves.length !== leaveTo.length) throw badPayload(def.pushName, `${leaves.length} leaves but ${leaveTo.length} leave_to`);
  const entities: EntityChange[] = [];
  for (let t = 0; t < def.types.length; t++) {
    const type = def.types[t]!;
    const o = bb.__offset(root, 4 + 2 * (CELL_SLOTS + t));
    if (o === 0) continue;
    const n = bb.__vector_len(root + o);
    const start = bb.__vector(root + o);
    for (let i = 0; i < n; i++) {
      const table = bb.__indirect(start + 4 * i);
      const idAt = bb.__offset(table, 4);
      const enterAt = bb.__offset(table, 6);
      const values: Record<string, EntityValue> = {};
      for (let f = 0; f < type.fields.length; f++) {
        const field = type.fields[f]!;
        const at = bb.__offset(table, 4 + 2 * (ENTITY_SLOTS + f));
        if (at === 0) continue;
        values[field.name] = readScalar(bb, table + at, field);
      }
      const enter = enterAt !== 0 && bb.readInt8(table + enterAt) !== 0;
      if (enter) {
        const missing = type.fields.find((f) => !(f.name in values));
        if (missing !== undefined) throw badPayload(def.pushName, `${type.name} enters without field ${missing.name}`);
      }
      entities.push({ type: type.name, id: idAt === 0 ? 0 : bb.readUint32(table + idAt), enter, values });
    }
  }
  return {
    tick: scalar(0, (p) => bb.readUint32(p)),
    cellX: scalar(1, (p) => bb.readInt16(p)),
    cellY: scalar(2, (p) => bb.readInt16(p)),
    leaves,
    leaveTo,
    entities,
  };
}

/**
 * The push codec of a scene's cell frames (the generated protocol's `<Scene>Cell` push), for
 * tests and tools; the engine encodes with a {@link CellFrameWriter}.
 */
export function cellCodec(def: SceneEntitiesDef): Codec<CellFrame> {
  const shape = cellShape(def);
  const typeIndex = new Map(def.types.map((t, i) => [t.name, i]));
  return Object.freeze({
    name: def.pushName,
    encode(value: CellFrame): Uint8Array {
      const w = new CellFrameWriter(def);
      w.begin(value.tick, value.cellX, value.cellY);
      for (const e of value.entities) {
        const t = typeIndex.get(e.type);
        if (t === undefined) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `cannot encode ${def.pushName}: no entity type ${e.type} in scene ${def.scene}`);
        const fields = def.types[t]!.fields;
        let mask = 0;
        const values: EntityValue[] = [];
        for (let f = 0; f < fields.length; f++) {
          const v = e.values[fields[f]!.name];
          if (v === undefined) {
            if (e.enter) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `cannot encode ${def.pushName}: ${e.type} enters without field ${fields[f]!.name}`);
            values.push(0);
            continue;
          }
          values.push(checkEntityValue(e.type, fields[f]!, v));
          mask |= 1 << f;
        }
        w.entity(t, e.id, e.enter, mask, values);
      }
      if (value.leaves.length !== value.leaveTo.length) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `cannot encode ${def.pushName}: leaves and leaveTo differ in length`);
      for (let i = 0; i < value.leaves.length; i++) w.leave(value.leaves[i]!, value.leaveTo[i] ?? CELL_GONE);
      return w.finish();
    },
    decode: (bytes: Uint8Array): CellFrame => decodeCellFrame(def, bytes, shape),
  });
}
