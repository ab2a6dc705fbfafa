/**
 * Entity replication on the wire: the cell frames a scene with entities (the protocol YAML's
 * `entities:` section) sends each tick, one per cell that changed, encoded once and fanned out
 * to every client whose area of interest holds the cell. Browser-safe.
 *
 * A cell frame is the FlatBuffers table `<Scene>Cell` of the generated `.fbs` (docs/aoi.md):
 *
 *   slot 0 `tick: uint32`, 1 `cell_x: int16`, 2 `cell_y: int16`,
 *   3 `leaves: [uint32]` (entity ids that left the cell), 4 `leave_to: [uint32]` (for each, the
 *   packed cell it went to, or {@link CELL_GONE} when it left the scene or was removed),
 *   5 + t: `[<Scene><Type>]`, the entities of type t that entered or changed.
 *
 * An entity is the table `<Scene><Type>`: slot 0 `id: uint32`, 1 `enter: bool` (every field is
 * present: the entity is new to the cell), 2 + f: field f, absent when it did not change.
 * Scalars are optional (`= null` in the .fbs); a quantised float is an `int32` holding
 * `round(value / quantize)`.
 *
 * This module encodes and decodes that layout from the protocol's {@link SceneEntitiesDef}, so
 * that the engine and the SDK share one implementation for every game.
 */
import { Builder, ByteBuffer, type Offset } from 'flatbuffers';
import { badPayload, verifyRoot, type FieldShape, type ScalarSize, type TableShape } from './codec-runtime.js';
import { CodedError, ErrorCodes } from './errors.js';
import type { Codec } from './protocol.js';

export type EntityFieldType = 'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64' | 'string';

export interface EntityFieldDef {
  readonly name: string;
  /** As declared; an enum field has its enum's integer type here. */
  readonly type: EntityFieldType;
  /** A float sent as `int32` `round(value / quantize)`; null: sent as `type`. */
  readonly quantize: number | null;
}

export interface EntityTypeDef {
  /** PascalCase, as in the YAML. */
  readonly name: string;
  /** The replicated fields in declaration order (their table slots are 2, 3, …); `x` and `y` are among them. */
  readonly fields: readonly EntityFieldDef[];
}

/** One scene type's entities: the YAML's `entities: <sceneType>:`. */
export interface SceneEntitiesDef {
  readonly scene: string;
  /** Push id (opcode) of the scene's cell frames. */
  readonly push: number;
  /** Name of the cell push (`<Scene>Cell`). */
  readonly pushName: string;
  /** In declaration order: the cell table's vector of type t is slot 5 + t. */
  readonly types: readonly EntityTypeDef[];
}

/** At most this many fields per entity type: a change mask is one u32. */
export const MAX_ENTITY_FIELDS = 30;
/** Cell coordinates are 0…MAX_CELL_COORD on each axis (int16, non-negative). */
export const MAX_CELL_COORD = 0x7fff;
/** `leave_to` of an entity that left the scene (or was removed), rather than moved to another cell. */
export const CELL_GONE = 0xffffffff;

/** The packed cell key of `leave_to` and of the core `EntityView` push: `cy << 16 | cx`. */
export function packCell(cx: number, cy: number): number {
  return ((cy << 16) | cx) >>> 0;
}

export function cellX(key: number): number {
  return key & 0xffff;
}

export function cellY(key: number): number {
  return key >>> 16;
}

/** A value of an entity field as scene code and the SDK see it. */
export type EntityValue = number | boolean | string;

/** One entity of a decoded cell frame. */
export interface EntityChange {
  /** The entity type's name. */
  readonly type: string;
  readonly id: number;
  /** All fields are present: the entity entered this cell (spawned, moved in, or a snapshot). */
  readonly enter: boolean;
  /** The fields present in the frame (all of them on enter), by name. */
  readonly values: Readonly<Record<string, EntityValue>>;
}

/** A decoded cell frame. */
export interface CellFrame {
  readonly tick: number;
  readonly cellX: number;
  readonly cellY: number;
  /** Entity ids that left the cell this tick. */
  readonly leaves: readonly number[];
  /** For each of `leaves`, the packed cell it moved to, or CELL_GONE. */
  readonly leaveTo: readonly number[];
  readonly entities: readonly EntityChange[];
}

const CELL_SLOTS = 5;
const ENTITY_SLOTS = 2;
const GONE_CELL = CELL_GONE;

function scalarSize(field: EntityFieldDef): ScalarSize | 0 {
  if (field.quantize !== null) return 4;
  switch (field.type) {
    case 'bool':
    case 'int8':
    case 'uint8':
      return 1;
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 4;
    case 'float64':
      return 8;
    case 'string':
      return 0;
  }
}

/** The verifier's view of a scene's cell table. */
export function cellShape(def: SceneEntitiesDef): TableShape {
  const types = def.types.map((t): TableShape => [['scalar', 4], ['scalar', 1], ...t.fields.map((f): FieldShape => (f.type === 'string' ? ['string'] : ['scalar', scalarSize(f) as ScalarSize]))]);
  return [['scalar', 4], ['scalar', 2], ['scalar', 2], ['vector', 4], ['vector', 4], ...types.map((shape): FieldShape => ['tables', () => shape])];
}

/** Range of each integer type: a value outside is refused rather than wrapped. */
const INT_RANGE: Readonly<Record<string, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

function badValue(type: string, field: EntityFieldDef, value: unknown, why: string): CodedError {
  return new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `entity ${type}.${field.name} (${field.type}): ${why}, got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value)}`);
}

/**
 * Check a value for a field before it is stored: what reaches the encoder always fits.
 * @throws CodedError `SCH_ERR_BAD_PAYLOAD` naming the entity type and field.
 */
export function checkEntityValue(type: string, field: EntityFieldDef, value: unknown): EntityValue {
  if (field.type === 'string') {
    if (typeof value !== 'string') throw badValue(type, field, value, 'not a string');
    return value;
  }
  if (field.type === 'bool') {
    if (typeof value !== 'boolean') throw badValue(type, field, value, 'not a boolean');
    return value;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badValue(type, field, value, 'not a finite number');
  if (field.quantize !== null) {
    const q = Math.round(value / field.quantize);
    if (q < -2147483648 || q > 2147483647) throw badValue(type, field, value, `out of range for quantize ${field.quantize}`);
    return value;
  }
  if (field.type === 'float32' && Math.abs(value) > 3.4028234663852886e38) throw badValue(type, field, value, 'out of float32 range');
  const range = INT_RANGE[field.type];
  if (range !== undefined && (!Number.isInteger(value) || value < range[0] || value > range[1])) throw badValue(type, field, value, `not an integer in ${range[0]}…${range[1]}`);
  return value;
}

/**
 * Builds cell frames, reusing one FlatBuffers builder. Per frame: `begin`, any number of
 * `entity` and `leave` calls, then `finish`, which returns a copy of the frame's bytes.
 * Values are taken as they are: check them with {@link checkEntityValue} when they are set.
 */
export class CellFrameWriter {
  readonly #def: SceneEntitiesDef;
  readonly #b = new Builder(1024);
  readonly #byType: Offset[][];
  #leaves: number[] = [];
  #leaveTo: number[] = [];
  #tick = 0;
  #cx = 0;
  #cy = 0;
  #entities = 0;

  constructor(def: SceneEntitiesDef) {
    this.#def = def;
    this.#byType = def.types.map(() => []);
    // Optional scalars: a present field is written even when it equals the type's default.
    this.#b.forceDefaults(true);
  }

  /** Entities and leaves added since `begin`. */
  get size(): number {
    return this.#entities + this.#leaves.length;
  }

  begin(tick: number, cx: number, cy: number): void {
    this.#b.clear();
    // clear() resets it.
    this.#b.forceDefaults(true);
    for (const list of this.#byType) list.length = 0;
    this.#leaves = [];
    this.#leaveTo = [];
    this.#entities = 0;
    this.#tick = tick >>> 0;
    this.#cx = cx;
    this.#cy = cy;
  }

  /**
   * Add an entity of type index `type`: the fields whose bit is set in `mask` (bit f = field f),
   * read from `values` (by field index). `enter`: every field is sent and the client treats it as new to the cell.
   */
  entity(type: number, id: number, enter: boolean, mask: number, values: readonly EntityValue[]): void {
    const b = this.#b;
    const fields = this.#def.types[type]!.fields;
    const strings: Offset[] = [];
    for (let f = 0; f < fields.length; f++) {
      strings.push(fields[f]!.type === 'string' && (mask & (1 << f)) !== 0 ? b.createString(values[f] as string) : 0);
    }
    b.startObject(ENTITY_SLOTS + fields.length);
    b.addFieldInt32(0, id, 0);
    if (enter) b.addFieldInt8(1, 1, 0);
    for (let f = 0; f < fields.length; f++) {
      if ((mask & (1 << f)) === 0) continue;
      const field = fields[f]!;
      const slot = ENTITY_SLOTS + f;
      const v = values[f]!;
      if (field.quantize !== null) {
        b.addFieldInt32(slot, Math.round((v as number) / field.quantize), 0);
        continue;
      }
      switch (field.type) {
        case 'string':
          b.addFieldOffset(slot, strings[f]!, 0);
          break;
        case 'bool':
          b.addFieldInt8(slot, v === true ? 1 : 0, 0);
          break;
        case 'int8':
        case 'uint8':
          b.addFieldInt8(slot, v as number, 0);
          break;
        case 'int16':
        case 'uint16':
          b.addFieldInt16(slot, v as number, 0);
          break;
        case 'int32':
        case 'uint32':
          b.addFieldInt32(slot, v as number, 0);
          break;
        case 'float32':
          b.addFieldFloat32(slot, v as number, 0);
          break;
        case 'float64':
          b.addFieldFloat64(slot, v as number, 0);
          break;
      }
    }
    this.#byType[type]!.push(b.endObject());
    this.#entities++;
  }

  /** Entity `id` left this cell for `to` (a packed cell), or left the scene (CELL_GONE). */
  leave(id: number, to: number): void {
    this.#leaves.push(id >>> 0);
    this.#leaveTo.push(to >>> 0);
  }

  finish(): Uint8Array {
    const b = this.#b;
    const vectors = this.#byType.map((list) => {
      if (list.length === 0) return 0;
      b.startVector(4, list.length, 4);
      for (let i = list.length - 1; i >= 0; i--) b.addOffset(list[i]!);
      return b.endVector();
    });
    const leaves = this.#leaves.length === 0 ? 0 : this.#u32Vector(this.#leaves);
    const leaveTo = this.#leaveTo.length === 0 ? 0 : this.#u32Vector(this.#leaveTo);
    b.startObject(CELL_SLOTS + vectors.length);
    b.addFieldInt32(0, this.#tick, 0);
    b.addFieldInt16(1, this.#cx, 0);
    b.addFieldInt16(2, this.#cy, 0);
    if (leaves !== 0) b.addFieldOffset(3, leaves, 0);
    if (leaveTo !== 0) b.addFieldOffset(4, leaveTo, 0);
    for (let t = 0; t < vectors.length; t++) if (vectors[t] !== 0) b.addFieldOffset(CELL_SLOTS + t, vectors[t]!, 0);
    b.finish(b.endObject());
    return b.asUint8Array().slice();
  }

  #u32Vector(values: readonly number[]): Offset {
    const b = this.#b;
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]! | 0);
    return b.endVector();
  }
}

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
      for (let i = 0; i < value.leaves.length; i++) w.leave(value.leaves[i]!, value.leaveTo[i] ?? GONE_CELL);
      return w.finish();
    },
    decode: (bytes: Uint8Array): CellFrame => decodeCellFrame(def, bytes, shape),
  });
}
