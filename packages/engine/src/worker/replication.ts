/**
 * Entity replication of one scene (docs/aoi.md), on its worker thread. Scene code spawns
 * entities and sets their fields; at the end of each tick {@link SceneReplication.flush}
 * places every changed entity in its cell and writes, once per cell, a frame of what entered,
 * changed and left it (CELLS, fanned out by the gateways' per-cell topics), then its views
 * (scene-views.ts) tell each player whose viewpoint moved far enough which cells to hear now.
 * Cells nobody hears cost nothing to encode.
 *
 * A record that cannot be written (the scene's queue to the main thread is full) is not lost
 * silently: the players whose views it carried start again from a reset view at the next tick.
 */
import { CELL_GONE, CellFrameWriter, CodedError, ErrorCodes, cellX, cellY, checkEntityValue, farCell, type Logger, type Protocol, type SceneEntitiesDef } from '@gos/schema';
import type { Entity, SceneDefinition, SceneEntities } from '../api.js';
import { CellRecords, FromScene } from '../records.js';
import { CellTable } from './cell-table.js';
import { EntityRecord, dueAt, typeInfos, type EntityOwner, type GridCell, type PlayerRef, type TypeInfo } from './entity-record.js';
import { InterestGrid, resolveInterest, type ResolvedInterest } from './interest-grid.js';
import { SceneViews, type ReplicationOut } from './scene-views.js';

export { MAX_FOCUS, type ReplicationOut } from './scene-views.js';

/** A removed entity's id is given again only this many ticks after its leave went out. */
const ID_QUARANTINE_TICKS = 20;

export interface ReplicationDeps {
  readonly sceneId: string;
  readonly out: ReplicationOut;
  readonly logger: Logger;
  /** Whether the player is in the scene now (a viewpoint is only for a present player). */
  readonly present: (playerId: string) => boolean;
}

/**
 * The replication of a scene of `type`, or null when the protocol declares no entities for it.
 * @throws CodedError `OPT_ERR_INVALID` when it does and the scene type has no `interest`, or a bad one
 */
export function replicationFor(protocol: Protocol, type: string, def: SceneDefinition, deps: ReplicationDeps): SceneReplication | null {
  const entities = protocol.entities?.[type];
  if (entities === undefined) return null;
  if (def.interest === undefined) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `scene type ${type} has entities in the protocol: its definition needs interest { cellSize, width, height } (docs/aoi.md)`);
  return new SceneReplication(entities, resolveInterest(def.interest), deps);
}

export class SceneReplication implements SceneEntities, EntityOwner {
  readonly #d: ReplicationDeps;
  readonly #grid: InterestGrid;
  readonly #types: ReadonlyMap<string, TypeInfo>;
  readonly #writer: CellFrameWriter;
  /** Opcode of the scene's cell push. */
  readonly #push: number;
  readonly #entities = new Map<number, EntityRecord>();
  /** Changed, spawned or removed since they were last sent (each once: `queued`), the longest waiting first. */
  #dirty: EntityRecord[] = [];
  readonly #cells = new CellTable();
  readonly #views: SceneViews;
  /** Ids freed, in order, with the tick their leave went out. */
  readonly #freed: { id: number; tick: number }[] = [];
  readonly #records = new CellRecords();
  /** Cells heard far whose far band waits for some of their members' banded changes. */
  readonly #farCells = new Set<GridCell>();
  /** Whether any entity type has fields with `farEvery` (without, a far band would save nothing: `nearRadius` is ignored). */
  readonly #banded: boolean;
  /** Whether some banded field is due this tick (set at each flush). */
  #anyDue = false;
  /** The members whose banded fields a far frame sends (kept across cells and ticks). */
  readonly #served: EntityRecord[] = [];
  #nextId = 1;
  #tick = 0;

  constructor(def: SceneEntitiesDef, interest: ResolvedInterest, deps: ReplicationDeps) {
    this.#d = deps;
    this.#types = typeInfos(def.types);
    this.#banded = [...this.#types.values()].some((t) => t.banded !== 0);
    if (!this.#banded && interest.nearRadius !== Number.POSITIVE_INFINITY) {
      deps.logger.warn({ sceneId: deps.sceneId, nearRadius: interest.nearRadius }, 'interest.nearRadius is set but no entity field has farEvery (protocol YAML): no far band');
      interest = Object.freeze({ ...interest, nearRadius: Number.POSITIVE_INFINITY });
    }
    this.#grid = new InterestGrid(interest);
    this.#writer = new CellFrameWriter(def);
    this.#push = def.push;
    this.#views = new SceneViews({ sceneId: deps.sceneId, grid: this.#grid, cells: this.#cells, out: deps.out, logger: deps.logger, snapshot: (tick, cell) => this.#snapshot(tick, cell) });
  }

  get size(): number {
    return this.#entities.size;
  }

  /** Cells held (those with entities or viewers): for tests. */
  get cellsHeld(): number {
    return this.#cells.size;
  }

  values(): IterableIterator<Entity> {
    return this.#entities.values();
  }

  get(id: number): Entity | undefined {
    return this.#entities.get(id);
  }

  of(player: { readonly id: string }): Entity | undefined {
    return this.#views.entityOf(player.id);
  }

  spawn<V extends object>(type: string, values: V, options?: { readonly player?: { readonly id: string } }): Entity<V> {
    const info = this.#types.get(type);
    if (info === undefined) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `scene ${this.#d.sceneId} has no entity type ${type} (its protocol's entities: are ${[...this.#types.keys()].join(', ')})`);
    const player = options?.player as PlayerRef | undefined;
    if (player !== undefined) {
      if (!this.#d.present(player.id)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `player ${player.id} is not in scene ${this.#d.sceneId}: no viewpoint for it`);
      if (this.#views.has(player.id)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `player ${player.id} has a viewpoint entity already`);
    }
    const given = values as Record<string, unknown>;
    for (const name of Object.keys(given)) {
      if (!info.fieldIndex.has(name)) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `entity type ${type} has no field ${name}`);
    }
    const v = info.def.fields.map((f) => {
      if (!(f.name in given)) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `entity ${type} spawned without field ${f.name}`);
      return checkEntityValue(type, f, given[f.name]);
    });
    const e = new EntityRecord(this, this.#newId(), info, v);
    this.#entities.set(e.id, e);
    this.#queue(e);
    if (player !== undefined) this.#views.add(player, e);
    return e as unknown as Entity<V>;
  }

  #newId(): number {
    const oldest = this.#freed[0];
    if (oldest !== undefined && oldest.tick + ID_QUARANTINE_TICKS <= this.#tick) {
      this.#freed.shift();
      return oldest.id;
    }
    return this.#nextId++;
  }

  /** From an entity's `set`. */
  changed(e: EntityRecord, mask: number): void {
    e.mask |= mask;
    this.#queue(e);
  }

  #queue(e: EntityRecord): void {
    if (e.queued) return;
    e.queued = true;
    this.#dirty.push(e);
  }

  /** From an entity's `remove`: its leave goes out at the next flush. */
  remove(e: EntityRecord): void {
    if (!e.alive) return;
    e.alive = false;
    this.#entities.delete(e.id);
    this.#queue(e);
    this.#views.removed(e);
  }

  /** The player left the scene: its gateway dropped its cell topics; its viewpoint entity goes. */
  playerLeft(playerId: string): void {
    const viewpoint = this.#views.playerLeft(playerId);
    if (viewpoint !== undefined) this.remove(viewpoint);
  }

  /** The player came back on a new connection (its sid is the new one): a reset view, from snapshots. */
  playerRejoined(playerId: string): void {
    this.#views.playerRejoined(playerId);
  }

  focus(player: { readonly id: string }, entity: Entity): void {
    const target = this.#entities.get(entity.id);
    if (target === undefined || target !== entity) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `entity ${entity.id} is not in scene ${this.#d.sceneId} (removed?)`);
    this.#views.focus(player.id, target);
  }

  unfocus(player: { readonly id: string }, entity: Entity): void {
    const target = this.#entities.get(entity.id);
    if (target !== undefined && target === entity) this.#views.unfocus(player.id, target);
  }

  /** End of a tick: send what changed, cell by cell, then the viewers' new cells. */
  flush(tick: number): void {
    this.#tick = tick;
    const cells = this.#cells;
    const views = this.#views;
    cells.begin(tick);
    const cap = this.#grid.o.maxChangesPerCell;
    const list = this.#dirty;
    /** Changes over a cell's cap: they wait, keeping their place. */
    const waiting: EntityRecord[] = [];
    this.#dirty = waiting;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      const home = e.home;
      if (!e.alive) {
        if (home !== null) {
          cells.leave(home, e.id, CELL_GONE);
          home.members.delete(e);
          if (e.farPending !== 0) forgetFar(home, e);
          e.home = null;
          e.cell = -1;
        }
        this.#freed.push({ id: e.id, tick });
        e.queued = false;
        continue;
      }
      views.changed(e);
      const key = this.#grid.cellOf(e.x, e.y);
      if (home === null || key !== e.cell) {
        if (home !== null) {
          cells.leave(home, e.id, key);
          home.members.delete(e);
          // Its enter into the new cell carries every field, in both bands.
          if (e.farPending !== 0) forgetFar(home, e);
        }
        const cell = cells.touch(cells.cell(key));
        cell.members.add(e);
        cell.enters[cell.nEnters++] = e;
        e.home = cell;
        e.cell = key;
        views.crossed(e);
        e.mask = 0;
        e.queued = false;
        continue;
      }
      // Nobody hears the cell: a snapshot will carry the values when someone does.
      if (e.mask === 0 || home.heard + home.heardFar <= 0) {
        e.mask = 0;
        e.queued = false;
        continue;
      }
      const cell = cells.touch(home);
      if (cell.nUpdates >= cap) {
        waiting.push(e);
        continue;
      }
      cell.updates[cell.nUpdates] = e;
      cell.masks[cell.nUpdates] = e.mask;
      cell.nUpdates++;
      // Its banded changes wait for their turn in the far band (sent with this tick's frame if due).
      const banded = e.mask & e.info.banded;
      if (banded !== 0 && cell.heardFar > 0) {
        if (e.farPending === 0) cell.farWaiting.add(e);
        e.farPending |= banded;
        this.#farCells.add(cell);
      }
      e.mask = 0;
      e.queued = false;
    }
    this.#anyDue = false;
    if (this.#farCells.size > 0) this.#touchFarDue(tick);
    this.#sendCells(tick);
    cells.end();
    views.send(tick);
  }

  /** A tick where some banded field is due: the cells whose far band waits for one are in this tick's pass. */
  #touchFarDue(tick: number): void {
    let due = false;
    for (const info of this.#types.values()) if (dueAt(info, tick) !== 0) due = true;
    this.#anyDue = due;
    if (!due) return;
    for (const cell of this.#farCells) {
      if (cell.farWaiting.size === 0 || cell.heardFar <= 0) this.#farCells.delete(cell);
      else this.#cells.touch(cell);
    }
  }

  #sendCells(tick: number): void {
    const w = this.#writer;
    const records = this.#records;
    try {
      for (const t of this.#cells.touched) {
        const cell = t.key;
        // (A cell touched only for its far band's turn has nothing for the near one.)
        if (t.heard > 0 && t.nEnters + t.nUpdates + t.nLeaves > 0) {
          w.begin(tick, cellX(cell), cellY(cell));
          for (let i = 0; i < t.nEnters; i++) {
            const e = t.enters[i]!;
            w.entity(e.info.index, e.id, true, e.info.fullMask, e.v);
          }
          for (let i = 0; i < t.nUpdates; i++) {
            const e = t.updates[i]!;
            w.entity(e.info.index, e.id, false, t.masks[i]!, e.v);
          }
          for (let i = 0; i < t.nLeaves; i++) w.leave(t.leaves[i]!, t.leaveTo[i]!);
          const full = records.add(cell, this.#push, w.finishView());
          if (full !== null) this.#d.out(FromScene.CELLS, 0, full);
        }
        if (t.heardFar > 0) {
          const full = this.#farFrame(t, tick);
          if (full !== null) this.#d.out(FromScene.CELLS, 0, full);
        }
      }
      const last = records.take();
      if (last !== null) this.#d.out(FromScene.CELLS, 0, last);
    } catch (err) {
      records.clear();
      // This tick's changes did not go out: every player starts again from a reset view.
      this.#d.logger.error({ err, sceneId: this.#d.sceneId }, 'cannot write cell frames; every view is reset');
      this.#views.resetAll();
    }
  }

  /**
   * The cell's frame for its far band (its FAR_CELL topic): what entered and left, as in the
   * near band; changes of fields without `farEvery`; and the banded fields whose turn it is
   * (`tick` a multiple of their `farEvery`) of members that changed them since they were last
   * sent there: the longest waiting first, within the cell's cap of changes a tick (less the
   * entries the other changes take); a member served goes to the back of the queue. Returns a
   * full record, if adding the frame cut one.
   */
  #farFrame(t: GridCell, tick: number): Uint8Array | null {
    const served = this.#served;
    served.length = 0;
    if (this.#anyDue) {
      let room = this.#grid.o.maxChangesPerCell;
      for (let i = 0; i < t.nUpdates; i++) if ((t.masks[i]! & ~t.updates[i]!.info.banded) !== 0) room--;
      for (const e of t.farWaiting) {
        if (room <= 0) break;
        if ((e.farPending & dueAt(e.info, tick)) === 0) continue;
        e.farServed = tick;
        served.push(e);
        room--;
      }
    }
    const w = this.#writer;
    const cell = t.key;
    w.begin(tick, cellX(cell), cellY(cell));
    let n = t.nEnters + t.nLeaves;
    for (let i = 0; i < t.nEnters; i++) {
      const e = t.enters[i]!;
      w.entity(e.info.index, e.id, true, e.info.fullMask, e.v);
    }
    for (let i = 0; i < t.nUpdates; i++) {
      const e = t.updates[i]!;
      const mask = (t.masks[i]! & ~e.info.banded) | (e.farServed === tick ? takeDue(e, tick) : 0);
      if (mask === 0) continue;
      w.entity(e.info.index, e.id, false, mask, e.v);
      n++;
    }
    for (const e of served) {
      // Not among this tick's changes: an entry of its own.
      if (e.farServed === tick) {
        w.entity(e.info.index, e.id, false, takeDue(e, tick), e.v);
        n++;
      }
      t.farWaiting.delete(e);
      if (e.farPending !== 0) t.farWaiting.add(e);
    }
    for (let i = 0; i < t.nLeaves; i++) w.leave(t.leaves[i]!, t.leaveTo[i]!);
    if (n === 0) return null;
    return this.#records.add(farCell(cell), this.#push, w.finishView());
  }

  /** Every entity of a cell, as entering it; null for an empty cell. */
  #snapshot(tick: number, cell: number): Uint8Array | null {
    const members = this.#cells.get(cell)?.members;
    if (members === undefined || members.size === 0) return null;
    const w = this.#writer;
    w.begin(tick, cellX(cell), cellY(cell));
    for (const e of members) w.entity(e.info.index, e.id, true, e.info.fullMask, e.v);
    return w.finishPush(this.#push);
  }
}

/** `e` leaves `cell` (moved, removed): its banded changes not sent to the cell's far band are moot. */
function forgetFar(cell: GridCell, e: EntityRecord): void {
  cell.farWaiting.delete(e);
  e.farPending = 0;
}

/** The due banded fields of `e` at `tick`, now sent: taken from its pending ones. */
function takeDue(e: EntityRecord, tick: number): number {
  const due = e.farPending & dueAt(e.info, tick);
  e.farPending &= ~due;
  e.farServed = -1;
  return due;
}
