/** The validated protocol: what the YAML says, with every name resolved. */
import { INT_RANGE } from '@gos/schema';
import type { EntityFieldType } from '@gos/schema';

export const INT_TYPES = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'] as const;
export type IntType = (typeof INT_TYPES)[number];
export const SCALAR_TYPES = ['bool', ...INT_TYPES, 'float32', 'float64'] as const;
export type ScalarType = (typeof SCALAR_TYPES)[number];
/** Integer types an enum may have: 64-bit enums would need bigint members. */
export const ENUM_TYPES = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32'] as const;
export type EnumType = (typeof ENUM_TYPES)[number];

/** Bytes per scalar on the wire. */
export const SCALAR_BYTES: Readonly<Record<ScalarType, 1 | 2 | 4 | 8>> = {
  bool: 1,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  float32: 4,
  float64: 8,
};

/** Inclusive range of each enum type (the integer ranges of @gos/schema). */
export const ENUM_RANGE: Readonly<Record<EnumType, readonly [number, number]>> = INT_RANGE;

/** A type an array may hold. */
export type ElementType =
  | { readonly kind: 'scalar'; readonly scalar: ScalarType }
  | { readonly kind: 'string' }
  | { readonly kind: 'enum'; readonly name: string }
  | { readonly kind: 'message'; readonly name: string };

export type FieldType = ElementType | { readonly kind: 'bytes' } | { readonly kind: 'array'; readonly of: ElementType };

export interface FieldModel {
  readonly name: string;
  readonly type: FieldType;
  readonly doc: string | null;
  /**
   * `deprecated: true`: the field keeps its slot (FlatBuffers keys fields by position, so a
   * field is never removed) and is marked `(deprecated)` in the IDL; the generated types and
   * codecs leave it out, and frames from older senders that still carry it decode.
   */
  readonly deprecated: boolean;
}

export interface MessageModel {
  readonly name: string;
  readonly fields: readonly FieldModel[];
  readonly doc: string | null;
}

/** A message's fields the generated types and codecs carry: all but the deprecated ones. */
export function liveFields(msg: MessageModel): readonly FieldModel[] {
  return msg.fields.filter((f) => !f.deprecated);
}

export interface EnumModel {
  readonly name: string;
  readonly type: EnumType;
  /** In ascending value order (FlatBuffers requires it). */
  readonly values: readonly { readonly name: string; readonly value: number }[];
  readonly doc: string | null;
}

export interface RouteModel {
  readonly name: string;
  readonly id: number;
  readonly scene: string;
  readonly request: string;
  /** Null for fire-and-forget routes. */
  readonly response: string | null;
  /** `idempotent: true` in the YAML: the SDK may send it again after a retryable error. */
  readonly idempotent: boolean;
  readonly doc: string | null;
}

export interface PushModel {
  readonly name: string;
  readonly id: number;
  /** The payload's table: a message, or the `<Scene>Cell` table of an `entities:` scene. */
  readonly message: string;
  /** The scene type whose cell frames it carries (its `entities:` push); null for a message push. */
  readonly cellsOf: string | null;
  readonly doc: string | null;
}

/** A message between scenes (the YAML's `rpc:` section). */
export interface RpcModel {
  /** The scene type that handles it. */
  readonly target: string;
  readonly name: string;
  readonly request: string;
  /** Null for a cast. */
  readonly response: string | null;
  readonly doc: string | null;
}

/** Entity field types on the wire: no 64-bit integers (JS numbers), no bytes, arrays or tables. */
export const ENTITY_FIELD_TYPES: readonly EntityFieldType[] = ['bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'string'];

/** A replicated field of an entity type (the YAML's `entities:` section). */
export interface EntityFieldModel {
  readonly name: string;
  /** On the wire; an enum field has its enum's integer type. */
  readonly type: EntityFieldType;
  /** The enum the field was declared with, else null. */
  readonly enumName: string | null;
  /** A float sent as `int32` `round(value / quantize)`; else null. */
  readonly quantize: number | null;
  /** Sent at most every this many ticks in the far band (docs/aoi.md "Distance bands"); null: every tick. */
  readonly farEvery: number | null;
  readonly doc: string | null;
}

export interface EntityTypeModel {
  /** As in the YAML; the generated table and interface are `<Scene><Name>`. */
  readonly name: string;
  /** In declaration order: entity table slots 2, 3, … */
  readonly fields: readonly EntityFieldModel[];
  readonly doc: string | null;
}

/** One scene type's entities. */
export interface SceneEntitiesModel {
  readonly scene: string;
  /** Id of the cell push. */
  readonly push: number;
  /** The cell push and table: `<Scene>Cell`. */
  readonly pushName: string;
  readonly types: readonly EntityTypeModel[];
  readonly doc: string | null;
}

/** `world` → `World`: the prefix of a scene type's generated names. */
export const scenePrefix = (scene: string): string => scene.charAt(0).toUpperCase() + scene.slice(1);
/** The table and interface of an entity type: `WorldAvatar`. */
export const entityTypeName = (scene: string, type: string): string => `${scenePrefix(scene)}${type}`;
/** The cell table and push of a scene type: `WorldCell`. */
export const cellName = (scene: string): string => `${scenePrefix(scene)}Cell`;

export interface ProtocolModel {
  readonly namespace: string;
  readonly version: number;
  /** Input paths relative to the repository root, in the order given: they go in file headers. */
  readonly sources: readonly string[];
  /** Declaration order across the inputs. */
  readonly enums: readonly EnumModel[];
  readonly messages: readonly MessageModel[];
  readonly routes: readonly RouteModel[];
  /** Declaration order, then the cell push of each `entities:` scene. */
  readonly pushes: readonly PushModel[];
  /** In declaration order. */
  readonly rpc: readonly RpcModel[];
  /** In declaration order. */
  readonly entities: readonly SceneEntitiesModel[];
}

/** The framework's own protocol; only it may use the reserved ids. */
export const CORE_NAMESPACE = 'core';
/** Ids a game protocol may use for routes and pushes. */
export const GAME_ID_RANGE = [1, 65279] as const;
/** Ids reserved for the core protocol. */
export const CORE_ID_RANGE = [65280, 65535] as const;
