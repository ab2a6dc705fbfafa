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
 * This module holds the types and the checks; cell-writer.ts encodes that layout and
 * cell-reader.ts decodes it, from the protocol's {@link SceneEntitiesDef}, so that the engine
 * and the SDK share one implementation for every game.
 */
import type { FieldShape, ScalarSize, TableShape } from './codec-runtime.js';
import { CodedError, ErrorCodes } from './errors.js';

export type EntityFieldType = 'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64' | 'string';

export interface EntityFieldDef {
  readonly name: string;
  /** As declared; an enum field has its enum's integer type here. */
  readonly type: EntityFieldType;
  /** A float sent as `int32` `round(value / quantize)`; null: sent as `type`. */
  readonly quantize: number | null;
  /**
   * Its send rate in the far band (docs/aoi.md "Distance bands"): clients that hear the entity's
   * cell beyond the scene's `interest.nearRadius` get its changes at most every `farEvery` ticks
   * (the latest value); absent: every tick, like the near band.
   */
  readonly farEvery?: number;
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
/**
 * Set on a packed cell key between engine and gateway (never toward a client): the cell's far
 * band, its own topic (docs/aoi.md "Distance bands"). Bit 15 of `cy`, which MAX_CELL_COORD leaves free.
 */
export const FAR_CELL = 0x80000000;

/** The far band's key of a cell. */
export function farCell(key: number): number {
  return (key | FAR_CELL) >>> 0;
}

/** Whether a key (engine ↔ gateway) names a cell's far band. */
export function isFarCell(key: number): boolean {
  return key >= FAR_CELL && key !== CELL_GONE;
}

/** The packed cell key of `leave_to` and of the core `EntityView` push: `cy << 16 | cx`. */
export function packCell(cx: number, cy: number): number {
  return ((cy << 16) | cx) >>> 0;
}

export function cellX(key: number): number {
  return key & 0xffff;
}

/** The row of a packed cell (the far band's bit dropped). */
export function cellY(key: number): number {
  return (key >>> 16) & MAX_CELL_COORD;
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

/** Slots of a cell table before its per-type vectors, and of an entity table before its fields. */
export const CELL_SLOTS = 5;
export const ENTITY_SLOTS = 2;

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

/** Inclusive range of each integer type up to 32 bits: a value outside is refused rather than wrapped. */
export const INT_RANGE: Readonly<Record<'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32', readonly [number, number]>> = {
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
  const range = (INT_RANGE as Readonly<Record<string, readonly [number, number] | undefined>>)[field.type];
  if (range !== undefined && (!Number.isInteger(value) || value < range[0] || value > range[1])) throw badValue(type, field, value, `not an integer in ${range[0]}…${range[1]}`);
  return value;
}
