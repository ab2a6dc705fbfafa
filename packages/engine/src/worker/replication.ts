/**
 * Entity replication of one scene (docs/aoi.md), on its worker thread. Scene code spawns
 * entities and sets their fields; at the end of each tick {@link SceneReplication.flush}
 * places every changed entity in its cell and writes, once per cell, a frame of what entered,
 * changed and left it (CELLS, fanned out by the gateways' per-cell topics), then tells each
 * player whose viewpoint entered another cell which cells to hear now (INTEREST, with a
 * snapshot of each cell it starts hearing). Cells nobody hears cost nothing to encode.
 */
import { CELL_GONE, CellFrameWriter, CodedError, CORE_PUSH, EntityViewCodec, ErrorCodes, FrameKind, cellX, cellY, checkEntityValue, encodeFrame, type EntityTypeDef, type EntityValue, type SceneEntitiesDef } from '@gos/schema';
import type { Entity, SceneEntities } from '../api.js';
import { FromScene, encodeEntityFrames } from '../records.js';
import { InterestGrid, type ResolvedInterest } from './interest-grid.js';

/** Where the replication writes its records (the scene's outbox). */
export type ReplicationOut = (type: typeof FromScene.CELLS | typeof FromScene.INTEREST, sid: number, payload: Uint8Array) => void;

/** What it needs to know of a player (a RuntimePlayer). */
interface PlayerRef {
  readonly id: string;
  readonly sid: number;
}

interface TypeInfo {
  readonly index: number;
  readonly def: EntityTypeDef;
  readonly fieldIndex: ReadonlyMap<string, number>;
  readonly x: number;
  readonly y: number;
  readonly fullMask: number;
}

class EntityRecord implements Entity {
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
  readonly #owner: SceneReplication;

  constructor(owner: SceneReplication, id: number, info: TypeInfo, values: EntityValue[]) {
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

interface Viewer {
  readonly player: PlayerRef;
  readonly entity: EntityRecord;
  /** The cells it hears. */
  readonly cells: Set<number>;
}

/** One cell's changes of a tick. */
interface Touch {
  readonly enters: EntityRecord[];
  readonly updates: EntityRecord[];
  readonly masks: number[];
  readonly leaves: number[];
  readonly leaveTo: number[];
}

export class SceneReplication implements SceneEntities {
  readonly #sceneId: string;
  readonly #grid: InterestGrid;
  readonly #types: ReadonlyMap<string, TypeInfo>;
  readonly #writer: CellFrameWriter;
  /** Opcode of the scene's cell push. */
  readonly #push: number;
  readonly #out: ReplicationOut;
  readonly #entities = new Map<number, EntityRecord>();
  /** Changed, spawned or removed since they were last sent, the longest waiting first. */
  readonly #dirty = new Set<EntityRecord>();
  readonly #members = new Map<number, Set<EntityRecord>>();
  /** How many viewers hear each cell. */
  readonly #heard = new Map<number, number>();
  readonly #viewers = new Map<string, Viewer>();
  /** Viewers whose cells must be worked out again at the next flush. */
  readonly #look = new Set<Viewer>();
  readonly #freeIds: number[] = [];
  #nextId = 1;

  constructor(def: SceneEntitiesDef, interest: ResolvedInterest, sceneId: string, out: ReplicationOut) {
    this.#sceneId = sceneId;
    this.#grid = new InterestGrid(interest);
    this.#writer = new CellFrameWriter(def);
    this.#push = def.push;
    this.#out = out;
    this.#types = new Map(
      def.types.map((t, index) => {
        const fieldIndex = new Map(t.fields.map((f, i) => [f.name, i]));
        return [t.name, { index, def: t, fieldIndex, x: fieldIndex.get('x')!, y: fieldIndex.get('y')!, fullMask: 2 ** t.fields.length - 1 }];
      }),
    );
  }

  get size(): number {
    return this.#entities.size;
  }

  values(): IterableIterator<Entity> {
    return this.#entities.values();
  }

  get(id: number): Entity | undefined {
    return this.#entities.get(id);
  }

  of(player: { readonly id: string }): Entity | undefined {
    return this.#viewers.get(player.id)?.entity;
  }

  spawn<V extends object>(type: string, values: V, options?: { readonly player?: { readonly id: string } }): Entity<V> {
    const info = this.#types.get(type);
    if (info === undefined) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `scene ${this.#sceneId} has no entity type ${type} (its protocol's entities: are ${[...this.#types.keys()].join(', ')})`);
    const player = options?.player as PlayerRef | undefined;
    if (player !== undefined && this.#viewers.has(player.id)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `player ${player.id} has a viewpoint entity already`);
    const given = values as Record<string, unknown>;
    for (const name of Object.keys(given)) {
      if (!info.fieldIndex.has(name)) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `entity type ${type} has no field ${name}`);
    }
    const v = info.def.fields.map((f) => {
      if (!(f.name in given)) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `entity ${type} spawned without field ${f.name}`);
      return checkEntityValue(type, f, given[f.name]);
    });
    const id = this.#freeIds.pop() ?? this.#nextId++;
    const e = new EntityRecord(this, id, info, v);
    this.#entities.set(id, e);
    this.#dirty.add(e);
    if (player !== undefined) {
      e.viewer = player;
      const viewer: Viewer = { player, entity: e, cells: new Set() };
      this.#viewers.set(player.id, viewer);
      this.#look.add(viewer);
    }
    return e as unknown as Entity<V>;
  }

  /** From an entity's `set`. */
  changed(e: EntityRecord, mask: number): void {
    e.mask |= mask;
    this.#dirty.add(e);
  }

  /** From an entity's `remove`: its leave goes out at the next flush. */
  remove(e: EntityRecord): void {
    if (!e.alive) return;
    e.alive = false;
    this.#entities.delete(e.id);
    this.#dirty.add(e);
    if (e.viewer === null) return;
    const viewer = this.#viewers.get(e.viewer.id);
    e.viewer = null;
    if (viewer === undefined) return;
    this.#viewers.delete(viewer.player.id);
    this.#look.delete(viewer);
    // A player that stays without a viewpoint hears nothing more.
    if (viewer.cells.size > 0) this.#sendView(viewer.player.sid, [], [...viewer.cells]);
    this.#unhear(viewer.cells);
  }

  /** The player left the scene: its gateway dropped its cell topics; its viewpoint entity goes. */
  playerLeft(playerId: string): void {
    const viewer = this.#viewers.get(playerId);
    if (viewer === undefined) return;
    this.#viewers.delete(playerId);
    this.#look.delete(viewer);
    this.#unhear(viewer.cells);
    viewer.entity.viewer = null;
    this.remove(viewer.entity);
  }

  /** The player came back on a new connection (`player.sid` is the new one): it hears its cells again from a snapshot. */
  playerRejoined(playerId: string): void {
    const viewer = this.#viewers.get(playerId);
    if (viewer === undefined) return;
    this.#unhear(viewer.cells);
    viewer.cells.clear();
    this.#look.add(viewer);
  }

  #unhear(cells: Iterable<number>): void {
    for (const cell of cells) {
      const n = (this.#heard.get(cell) ?? 0) - 1;
      if (n > 0) this.#heard.set(cell, n);
      else this.#heard.delete(cell);
    }
  }

  /** End of a tick: send what changed, cell by cell, then the viewers' new cells. */
  flush(tick: number): void {
    const touched = new Map<number, Touch>();
    const touch = (cell: number): Touch => {
      let t = touched.get(cell);
      if (t === undefined) {
        t = { enters: [], updates: [], masks: [], leaves: [], leaveTo: [] };
        touched.set(cell, t);
      }
      return t;
    };
    const freed: number[] = [];
    const cap = this.#grid.o.maxChangesPerCell;
    for (const e of this.#dirty) {
      if (!e.alive) {
        if (e.cell >= 0) {
          const t = touch(e.cell);
          t.leaves.push(e.id);
          t.leaveTo.push(CELL_GONE);
          this.#members.get(e.cell)?.delete(e);
        }
        freed.push(e.id);
        this.#dirty.delete(e);
        continue;
      }
      const cell = this.#grid.cellOf(e.x, e.y);
      if (cell !== e.cell) {
        if (e.cell >= 0) {
          const t = touch(e.cell);
          t.leaves.push(e.id);
          t.leaveTo.push(cell);
          this.#members.get(e.cell)?.delete(e);
        }
        let members = this.#members.get(cell);
        if (members === undefined) this.#members.set(cell, (members = new Set()));
        members.add(e);
        touch(cell).enters.push(e);
        e.cell = cell;
        e.mask = 0;
        this.#dirty.delete(e);
        if (e.viewer !== null) {
          const viewer = this.#viewers.get(e.viewer.id);
          if (viewer !== undefined) this.#look.add(viewer);
        }
        continue;
      }
      // Nobody hears the cell: a snapshot will carry the values when someone does.
      if (e.mask === 0 || !this.#heard.has(cell)) {
        e.mask = 0;
        this.#dirty.delete(e);
        continue;
      }
      const t = touch(cell);
      if (t.updates.length >= cap) continue; // waits for a later tick, keeping its place
      t.updates.push(e);
      t.masks.push(e.mask);
      e.mask = 0;
      this.#dirty.delete(e);
    }
    this.#sendCells(tick, touched);
    // Ids are reused only once their leave is out.
    for (const id of freed) this.#freeIds.push(id);
    if (this.#look.size > 0) this.#sendViews(tick);
  }

  #sendCells(tick: number, touched: ReadonlyMap<number, Touch>): void {
    const cells: number[] = [];
    const frames: Uint8Array[] = [];
    const w = this.#writer;
    for (const [cell, t] of touched) {
      if (!this.#heard.has(cell)) continue;
      w.begin(tick, cellX(cell), cellY(cell));
      for (const e of t.enters) w.entity(e.info.index, e.id, true, e.info.fullMask, e.v);
      for (let i = 0; i < t.updates.length; i++) {
        const e = t.updates[i]!;
        w.entity(e.info.index, e.id, false, t.masks[i]!, e.v);
      }
      for (let i = 0; i < t.leaves.length; i++) w.leave(t.leaves[i]!, t.leaveTo[i]!);
      cells.push(cell);
      frames.push(encodeFrame(FrameKind.PUSH, this.#push, 0, w.finish()));
    }
    if (frames.length > 0) this.#out(FromScene.CELLS, 0, encodeEntityFrames({ add: cells, remove: [], frames }));
  }

  #sendViews(tick: number): void {
    const snapshots = new Map<number, Uint8Array | null>();
    for (const viewer of this.#look) {
      const e = viewer.entity;
      const change = this.#grid.view(e.x, e.y, viewer.cells);
      if (change === null) continue;
      for (const cell of change.add) {
        viewer.cells.add(cell);
        this.#heard.set(cell, (this.#heard.get(cell) ?? 0) + 1);
      }
      for (const cell of change.remove) viewer.cells.delete(cell);
      this.#unhear(change.remove);
      const frames = [];
      for (const cell of change.add) {
        let snapshot = snapshots.get(cell);
        if (snapshot === undefined) snapshots.set(cell, (snapshot = this.#snapshot(tick, cell)));
        if (snapshot !== null) frames.push(snapshot);
      }
      this.#sendView(viewer.player.sid, change.add, change.remove, frames);
    }
    this.#look.clear();
  }

  /** Every entity of a cell, as entering it; null for an empty cell. */
  #snapshot(tick: number, cell: number): Uint8Array | null {
    const members = this.#members.get(cell);
    if (members === undefined || members.size === 0) return null;
    const w = this.#writer;
    w.begin(tick, cellX(cell), cellY(cell));
    for (const e of members) w.entity(e.info.index, e.id, true, e.info.fullMask, e.v);
    return encodeFrame(FrameKind.PUSH, this.#push, 0, w.finish());
  }

  #sendView(sid: number, add: readonly number[], remove: readonly number[], snapshots: readonly Uint8Array[] = []): void {
    const view = encodeFrame(FrameKind.PUSH, CORE_PUSH.EntityView, 0, EntityViewCodec.encode({ sceneId: this.#sceneId, cellSize: this.#grid.o.cellSize, add: [...add], remove: [...remove] }));
    this.#out(FromScene.INTEREST, sid, encodeEntityFrames({ add, remove, frames: [view, ...snapshots] }));
  }
}
