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
  /** The fields with `farEvery` (docs/aoi.md "Distance bands"): thinned in the far band. */
  readonly banded: number;
  /** Each field's `farEvery`, 0 for none. */
  readonly farEvery: readonly number[];
  /** The banded fields due in the far band at tick `dueTick` (worked out once a tick). */
  dueTick: number;
  due: number;
}

export function typeInfos(types: readonly EntityTypeDef[]): Map<string, TypeInfo> {
  return new Map(
    types.map((t, index) => {
      const fieldIndex = new Map(t.fields.map((f, i) => [f.name, i]));
      const farEvery = t.fields.map((f) => {
        const every = f.farEvery ?? 0;
        if (f.farEvery !== undefined && !(Number.isInteger(every) && every >= 1 && every <= 255)) {
          throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `entity ${t.name} field ${f.name}: farEvery must be a whole number of ticks from 1 to 255, got ${String(f.farEvery)}`);
        }
        return every;
      });
      const banded = farEvery.reduce((m, every, i) => (every > 1 ? m | (1 << i) : m), 0);
      const info: TypeInfo = { index, def: t, fieldIndex, x: fieldIndex.get('x')!, y: fieldIndex.get('y')!, fullMask: 2 ** t.fields.length - 1, banded, farEvery, dueTick: -1, due: 0 };
      return [t.name, info];
    }),
  );
}

/** The banded fields of a type that the far band sends at `tick`: those whose `farEvery` divides it. */
export function dueAt(info: TypeInfo, tick: number): number {
  if (info.dueTick === tick) return info.due;
  let due = 0;
  const every = info.farEvery;
  for (let i = 0; i < every.length; i++) if (every[i]! > 1 && tick % every[i]! === 0) due |= 1 << i;
  info.dueTick = tick;
  info.due = due;
  return due;
}

/**
 * A cell of the grid that holds entities or is heard (its replication keeps one while either is
 * true), with this tick's changes in it: the lists are counted, not emptied, between ticks.
 */
export interface GridCell {
  readonly key: number;
  readonly members: Set<EntityRecord>;
  /** Viewers that hear it in their near band (every change, every tick). */
  heard: number;
  /** Viewers that hear it in their far band (its topic with FAR_CELL). */
  heardFar: number;
  /** Members whose banded changes the far band has not had yet (`farPending`); kept only while it is heard far. */
  readonly farWaiting: Set<EntityRecord>;
  /** The tick the change lists are of: lists of an older tick count as empty. */
  tick: number;
  readonly enters: EntityRecord[];
  nEnters: number;
  readonly updates: EntityRecord[];
  readonly masks: number[];
  nUpdates: number;
  readonly leaves: number[];
  readonly leaveTo: number[];
  nLeaves: number;
}

/** The side of the replication an entity talks to. */
export interface EntityOwner {
  changed(e: EntityRecord, mask: number): void;
  remove(e: EntityRecord): void;
}

/** What EntityRecord.set checks values into, kept between calls (one scene per thread, no await inside). */
const scratch = { busy: false, fields: [] as number[], values: [] as EntityValue[] };

export class EntityRecord implements Entity {
  readonly id: number;
  readonly info: TypeInfo;
  readonly v: EntityValue[];
  /** The cell it was last placed in (its key, and the cell), -1 and null before its first tick. */
  cell = -1;
  home: GridCell | null = null;
  /** Fields changed and not sent yet. */
  mask = 0;
  /** Banded fields changed and not sent yet to its cell's far band. */
  farPending = 0;
  /** The tick whose far frame sends its due banded fields (set while that frame is written). */
  farServed = -1;
  alive = true;
  /** In its replication's dirty list. */
  queued = false;
  /** The player whose viewpoint it is. */
  viewer: PlayerRef | null = null;
  readonly #owner: EntityOwner;
  /** `values` as last built; dropped by a change. */
  #values: Readonly<Record<string, EntityValue>> | null = null;

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
    if (this.#values !== null) return this.#values;
    const out: Record<string, EntityValue> = {};
    const fields = this.info.def.fields;
    for (let i = 0; i < fields.length; i++) out[fields[i]!.name] = this.v[i]!;
    return (this.#values = Object.freeze(out));
  }

  /** @throws CodedError `SCH_ERR_BAD_PAYLOAD` for a field its type does not have */
  get(field: string): EntityValue {
    const f = this.info.fieldIndex.get(field);
    if (f === undefined) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `entity type ${this.info.def.name} has no field ${field}`);
    return this.v[f]!;
  }

  get x(): number {
    return this.v[this.info.x] as number;
  }

  get y(): number {
    return this.v[this.info.y] as number;
  }

  set(values: Partial<Record<string, EntityValue>>): void {
    if (!this.alive) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `entity ${this.id} (${this.type}) was removed`);
    if (typeof values !== 'object' || values === null) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `entity ${this.type}: set takes an object of fields`);
    const { def, fieldIndex } = this.info;
    // Each value read once and checked, all of them before anything changes: a bad one changes
    // nothing. Into arrays kept between calls (a set per entity per tick is the hot path of a
    // busy map); a getter among the values that sets another entity gets arrays of its own.
    const nested = scratch.busy;
    const fields = nested ? [] : scratch.fields;
    const checked = nested ? [] : scratch.values;
    let n = 0;
    let mask = 0;
    scratch.busy = true;
    try {
      for (const name in values) {
        if (!Object.hasOwn(values, name)) continue;
        const f = fieldIndex.get(name);
        if (f === undefined) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `entity type ${def.name} has no field ${name}`);
        fields[n] = f;
        checked[n] = checkEntityValue(def.name, def.fields[f]!, values[name]);
        n++;
      }
      for (let i = 0; i < n; i++) {
        const f = fields[i]!;
        if (this.v[f] === checked[i]) continue;
        this.v[f] = checked[i]!;
        mask |= 1 << f;
      }
    } finally {
      if (!nested) scratch.busy = false;
    }
    if (mask === 0) return;
    this.#values = null;
    this.#owner.changed(this, mask);
  }

  remove(): void {
    this.#owner.remove(this);
  }
}
