/**
 * One replicated entity on its scene's thread (docs/aoi.md): its values in field order, the
 * fields changed since they were last sent, and the cell it was last placed in. Its owner (the
 * scene's replication) hears of every change.
 */
import { CodedError, ErrorCodes, checkEntityValue, type EntityTypeDef, type EntityValue } from '@gos/schema';
import type { Entity } from '../api.js';

/** What the replication knows of a player (a RuntimePlayer: its sid follows a reconnect). */
export interface PlayerRef {
  readonly id: string;
  readonly sid: number;
}

/** An entity type, resolved once per scene. */
export interface TypeInfo {
  readonly index: number;
  readonly def: EntityTypeDef;
  readonly fieldIndex: ReadonlyMap<string, number>;
  readonly x: number;
  readonly y: number;
  readonly fullMask: number;
}

export function typeInfos(types: readonly EntityTypeDef[]): Map<string, TypeInfo> {
  return new Map(
    types.map((t, index) => {
      const fieldIndex = new Map(t.fields.map((f, i) => [f.name, i]));
      return [t.name, { index, def: t, fieldIndex, x: fieldIndex.get('x')!, y: fieldIndex.get('y')!, fullMask: 2 ** t.fields.length - 1 }];
    }),
  );
}

/** The side of the replication an entity talks to. */
export interface EntityOwner {
  changed(e: EntityRecord, mask: number): void;
  remove(e: EntityRecord): void;
}

export class EntityRecord implements Entity {
  readonly id: number;
  readonly info: TypeInfo;
  readonly v: EntityValue[];
  /** The cell it was last placed in, -1 before its first tick. */
  cell = -1;
  /** Fields changed and not sent yet. */
  mask = 0;
  alive = true;
  /** The player whose viewpoint it is. */
  viewer: PlayerRef | null = null;
  readonly #owner: EntityOwner;

  constructor(owner: EntityOwner, id: number, info: TypeInfo, values: EntityValue[]) {
    this.#owner = owner;
    this.id = id;
    this.info = info;
    this.v = values;
  }

  get type(): string {
    return this.info.def.name;
  }

  get values(): Readonly<Record<string, EntityValue>> {
    const out: Record<string, EntityValue> = {};
    this.info.def.fields.forEach((f, i) => (out[f.name] = this.v[i]!));
    return Object.freeze(out);
  }

  get x(): number {
    return this.v[this.info.x] as number;
  }

  get y(): number {
    return this.v[this.info.y] as number;
  }

  set(values: Partial<Record<string, EntityValue>>): void {
    if (!this.alive) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `entity ${this.id} (${this.type}) was removed`);
    const { def, fieldIndex } = this.info;
    // Checked first: a bad value changes nothing.
    const changes: [number, EntityValue][] = [];
    for (const [name, value] of Object.entries(values)) {
      const f = fieldIndex.get(name);
      if (f === undefined) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `entity type ${def.name} has no field ${name}`);
      changes.push([f, checkEntityValue(def.name, def.fields[f]!, value)]);
    }
    let mask = 0;
    for (const [f, value] of changes) {
      if (this.v[f] === value) continue;
      this.v[f] = value;
      mask |= 1 << f;
    }
    if (mask !== 0) this.#owner.changed(this, mask);
  }

  remove(): void {
    this.#owner.remove(this);
  }
}
