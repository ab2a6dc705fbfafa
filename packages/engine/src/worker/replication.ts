/**
 * Entity replication of one scene (docs/aoi.md), on its worker thread. Scene code spawns
 * entities and sets their fields; at the end of each tick {@link SceneReplication.flush}
 * places every changed entity in its cell and writes, once per cell, a frame of what entered,
 * changed and left it (CELLS, fanned out by the gateways' per-cell topics), then tells each
 * player whose viewpoint moved far enough which cells to hear now (INTEREST, with a snapshot of
 * each cell it starts hearing). Cells nobody hears cost nothing to encode.
 *
 * A record that cannot be written (the scene's queue to the main thread is full) is not lost
 * silently: the players whose views it carried start again from a reset view at the next tick.
 */
import { CELL_GONE, CellFrameWriter, CodedError, CORE_PUSH, EntityViewCodec, ErrorCodes, FrameKind, cellX, cellY, checkEntityValue, encodeFrame, type Logger, type Protocol, type SceneEntitiesDef } from '@gos/schema';
import type { Entity, SceneDefinition, SceneEntities } from '../api.js';
import { CellRecords, FromScene, chunkFrames as chunks, encodeEntityFrames } from '../records.js';
import { EntityRecord, typeInfos, type EntityOwner, type GridCell, type PlayerRef, type TypeInfo } from './entity-record.js';
import { InterestGrid, resolveInterest, type ResolvedInterest, type ViewChange } from './interest-grid.js';

/** Where the replication writes its records (the scene's outbox); throws when it cannot. */
export type ReplicationOut = (type: typeof FromScene.CELLS | typeof FromScene.INTEREST, sid: number, payload: Uint8Array) => void;

/** A removed entity's id is given again only this many ticks after its leave went out. */
const ID_QUARANTINE_TICKS = 20;

/** Most entities one player may focus on (scene.entities.focus): each may add a cell to its view. */
export const MAX_FOCUS = 32;

interface Viewer {
  readonly player: PlayerRef;
  readonly entity: EntityRecord;
  /** The cells it hears. */
  readonly cells: Set<number>;
  /** Where its view was last worked out. */
  x: number;
  y: number;
  /** Its next view resets the client (a new connection, a lost record): forget everything first. */
  reset: boolean;
  /** Entities it focuses on: their cells are heard wherever they are, beyond maxCells. */
  readonly focus: Set<EntityRecord>;
}

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
  /** The cells that hold entities or are heard, by key. */
  readonly #cells = new Map<number, GridCell>();
  readonly #viewers = new Map<string, Viewer>();
  /** Viewers whose cells must be worked out again at the next flush. */
  readonly #look = new Set<Viewer>();
  /** Players that lost their viewpoint but stay: told to hear nothing at the next flush. */
  readonly #blind = new Map<string, { player: PlayerRef; cells: number[] }>();
  /** Ids freed, in order, with the tick their leave went out. */
  readonly #freed: { id: number; tick: number }[] = [];
  /** Who focuses on an entity (scene.entities.focus). */
  readonly #focusers = new Map<EntityRecord, Set<Viewer>>();
  /** The cells changed this tick, in the order they were first changed. */
  readonly #touched: GridCell[] = [];
  readonly #records = new CellRecords();
  #nextId = 1;
  #tick = 0;

  constructor(def: SceneEntitiesDef, interest: ResolvedInterest, deps: ReplicationDeps) {
    this.#d = deps;
    this.#grid = new InterestGrid(interest);
    this.#writer = new CellFrameWriter(def);
    this.#push = def.push;
    this.#types = typeInfos(def.types);
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
    return this.#viewers.get(player.id)?.entity;
  }

  spawn<V extends object>(type: string, values: V, options?: { readonly player?: { readonly id: string } }): Entity<V> {
    const info = this.#types.get(type);
    if (info === undefined) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `scene ${this.#d.sceneId} has no entity type ${type} (its protocol's entities: are ${[...this.#types.keys()].join(', ')})`);
    const player = options?.player as PlayerRef | undefined;
    if (player !== undefined) {
      if (!this.#d.present(player.id)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `player ${player.id} is not in scene ${this.#d.sceneId}: no viewpoint for it`);
      if (this.#viewers.has(player.id)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `player ${player.id} has a viewpoint entity already`);
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
    if (player !== undefined) {
      e.viewer = player;
      const viewer: Viewer = { player, entity: e, cells: new Set(), x: Number.NaN, y: Number.NaN, reset: true, focus: new Set() };
      this.#viewers.set(player.id, viewer);
      this.#blind.delete(player.id);
      this.#look.add(viewer);
    }
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
    const focusers = this.#focusers.get(e);
    if (focusers !== undefined) for (const viewer of [...focusers]) this.#unfocus(viewer, e);
    if (e.viewer === null) return;
    const viewer = this.#viewers.get(e.viewer.id);
    e.viewer = null;
    if (viewer === undefined) return;
    this.#dropViewer(viewer);
    // A player that stays without a viewpoint hears nothing more (told after this tick's cells).
    if (viewer.cells.size > 0) this.#blind.set(viewer.player.id, { player: viewer.player, cells: [...viewer.cells] });
  }

  /** The player left the scene: its gateway dropped its cell topics; its viewpoint entity goes. */
  playerLeft(playerId: string): void {
    this.#blind.delete(playerId);
    const viewer = this.#viewers.get(playerId);
    if (viewer === undefined) return;
    this.#dropViewer(viewer);
    viewer.entity.viewer = null;
    this.remove(viewer.entity);
  }

  /** The player came back on a new connection (its sid is the new one): a reset view, from snapshots. */
  playerRejoined(playerId: string): void {
    const viewer = this.#viewers.get(playerId);
    if (viewer === undefined) return;
    viewer.reset = true;
    this.#look.add(viewer);
  }

  #dropViewer(viewer: Viewer): void {
    this.#viewers.delete(viewer.player.id);
    this.#look.delete(viewer);
    this.#unhear(viewer.cells);
    for (const target of viewer.focus) this.#unfocus(viewer, target);
  }

  focus(player: { readonly id: string }, entity: Entity): void {
    const viewer = this.#viewers.get(player.id);
    if (viewer === undefined) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `player ${player.id} has no viewpoint entity in scene ${this.#d.sceneId}: nothing to focus from`);
    const target = this.#entities.get(entity.id);
    if (target === undefined || target !== entity) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `entity ${entity.id} is not in scene ${this.#d.sceneId} (removed?)`);
    if (target === viewer.entity || viewer.focus.has(target)) return;
    if (viewer.focus.size >= MAX_FOCUS) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `player ${player.id} focuses on ${MAX_FOCUS} entities already (unfocus one first)`);
    viewer.focus.add(target);
    let focusers = this.#focusers.get(target);
    if (focusers === undefined) this.#focusers.set(target, (focusers = new Set()));
    focusers.add(viewer);
    this.#look.add(viewer);
  }

  unfocus(player: { readonly id: string }, entity: Entity): void {
    const viewer = this.#viewers.get(player.id);
    const target = this.#entities.get(entity.id);
    if (viewer === undefined || target !== entity || !viewer.focus.has(target)) return;
    this.#unfocus(viewer, target);
  }

  #unfocus(viewer: Viewer, target: EntityRecord): void {
    viewer.focus.delete(target);
    const focusers = this.#focusers.get(target);
    focusers?.delete(viewer);
    if (focusers?.size === 0) this.#focusers.delete(target);
    this.#look.add(viewer);
  }

  #unhear(cells: Iterable<number>): void {
    for (const key of cells) {
      const cell = this.#cells.get(key);
      if (cell === undefined) continue;
      cell.heard--;
      this.#forgetIfIdle(cell);
    }
  }

  #cell(key: number): GridCell {
    let cell = this.#cells.get(key);
    if (cell === undefined) {
      cell = { key, members: new Set(), heard: 0, tick: -1, enters: [], nEnters: 0, updates: [], masks: [], nUpdates: 0, leaves: [], leaveTo: [], nLeaves: 0 };
      this.#cells.set(key, cell);
    }
    return cell;
  }

  /** A cell nobody hears and nothing is in is not kept (never during a flush's cell pass: see flush). */
  #forgetIfIdle(cell: GridCell): void {
    if (cell.heard <= 0 && cell.members.size === 0) this.#cells.delete(cell.key);
  }

  /** The cell's change lists for this tick (emptied on first use in the tick). */
  #touch(cell: GridCell): GridCell {
    if (cell.tick !== this.#tick) {
      cell.tick = this.#tick;
      cell.nEnters = cell.nUpdates = cell.nLeaves = 0;
      this.#touched.push(cell);
    }
    return cell;
  }

  #leave(cell: GridCell, id: number, to: number): void {
    this.#touch(cell);
    cell.leaves[cell.nLeaves] = id;
    cell.leaveTo[cell.nLeaves] = to;
    cell.nLeaves++;
  }

  /** End of a tick: send what changed, cell by cell, then the viewers' new cells. */
  flush(tick: number): void {
    this.#tick = tick;
    const moved: Viewer[] = [];
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
          this.#leave(home, e.id, CELL_GONE);
          home.members.delete(e);
          e.home = null;
          e.cell = -1;
        }
        this.#freed.push({ id: e.id, tick });
        e.queued = false;
        continue;
      }
      if (e.viewer !== null) {
        const viewer = this.#viewers.get(e.viewer.id);
        if (viewer !== undefined) moved.push(viewer);
      }
      const key = this.#grid.cellOf(e.x, e.y);
      if (home === null || key !== e.cell) {
        if (home !== null) {
          this.#leave(home, e.id, key);
          home.members.delete(e);
        }
        const cell = this.#touch(this.#cell(key));
        cell.members.add(e);
        cell.enters[cell.nEnters++] = e;
        e.home = cell;
        e.cell = key;
        // Whoever focuses on it hears its new cell from this tick's views on.
        if (this.#focusers.size > 0) {
          const focusers = this.#focusers.get(e);
          if (focusers !== undefined) for (const viewer of focusers) this.#look.add(viewer);
        }
        e.mask = 0;
        e.queued = false;
        continue;
      }
      // Nobody hears the cell: a snapshot will carry the values when someone does.
      if (e.mask === 0 || home.heard <= 0) {
        e.mask = 0;
        e.queued = false;
        continue;
      }
      const cell = this.#touch(home);
      if (cell.nUpdates >= cap) {
        waiting.push(e);
        continue;
      }
      cell.updates[cell.nUpdates] = e;
      cell.masks[cell.nUpdates] = e.mask;
      cell.nUpdates++;
      e.mask = 0;
      e.queued = false;
    }
    const touched = this.#touched;
    this.#sendCells(tick, touched);
    for (const cell of touched) this.#forgetIfIdle(cell);
    touched.length = 0;
    // A view is worked out again once the viewpoint went half the hysteresis from where it was last.
    const far = this.#grid.o.hysteresis / 2;
    for (const viewer of moved) {
      const e = viewer.entity;
      if (!(Math.abs(e.x - viewer.x) <= far && Math.abs(e.y - viewer.y) <= far)) this.#look.add(viewer);
    }
    if (this.#blind.size > 0) this.#sendBlind();
    if (this.#look.size > 0) this.#sendViews(tick);
  }

  #sendCells(tick: number, touched: readonly GridCell[]): void {
    const w = this.#writer;
    const records = this.#records;
    try {
      for (const t of touched) {
        if (t.heard <= 0) continue;
        const cell = t.key;
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
      const last = records.take();
      if (last !== null) this.#d.out(FromScene.CELLS, 0, last);
    } catch (err) {
      records.clear();
      // This tick's changes did not go out: every player starts again from a reset view.
      this.#d.logger.error({ err, sceneId: this.#d.sceneId }, 'cannot write cell frames; every view is reset');
      for (const viewer of this.#viewers.values()) {
        viewer.reset = true;
        this.#look.add(viewer);
      }
    }
  }

  #sendBlind(): void {
    for (const [id, { player, cells }] of this.#blind) {
      if (this.#write(player.sid, [], cells, [this.#viewFrame([], cells, false)], false)) this.#blind.delete(id);
    }
  }

  #sendViews(tick: number): void {
    const snapshots = new Map<number, Uint8Array | null>();
    for (const viewer of this.#look) {
      const e = viewer.entity;
      const reset = viewer.reset;
      const change = this.#view(viewer, reset);
      if (change === null) {
        viewer.x = e.x;
        viewer.y = e.y;
        this.#look.delete(viewer);
        continue;
      }
      const frames = [this.#viewFrame(change.add, change.remove, reset)];
      for (const cell of change.add) {
        let snapshot = snapshots.get(cell);
        if (snapshot === undefined) snapshots.set(cell, (snapshot = this.#snapshot(tick, cell)));
        if (snapshot !== null) frames.push(snapshot);
      }
      // Not written: tried again at the next flush, as a reset.
      if (!this.#write(viewer.player.sid, change.add, change.remove, frames, reset)) {
        viewer.reset = true;
        continue;
      }
      if (reset) {
        this.#unhear(viewer.cells);
        viewer.cells.clear();
      }
      for (const cell of change.add) {
        viewer.cells.add(cell);
        this.#cell(cell).heard++;
      }
      for (const cell of change.remove) viewer.cells.delete(cell);
      this.#unhear(change.remove);
      viewer.x = e.x;
      viewer.y = e.y;
      viewer.reset = false;
      this.#look.delete(viewer);
    }
  }

  /**
   * The cells a viewer should hear now against those it hears (none on a reset): the grid's
   * view of its viewpoint, plus the cells of the entities it focuses on, kept beyond maxCells.
   */
  #view(viewer: Viewer, reset: boolean): ViewChange | null {
    const e = viewer.entity;
    const heard: ReadonlySet<number> = reset ? new Set() : viewer.cells;
    const change = this.#grid.view(e.x, e.y, heard);
    if (viewer.focus.size === 0) return change;
    const focused = new Set<number>();
    for (const target of viewer.focus) if (target.cell >= 0) focused.add(target.cell);
    // The viewpoint's cells nearest first, then the focused ones it does not hear yet; a focused cell is never dropped.
    const add = [...(change?.add ?? [])];
    const remove = (change?.remove ?? []).filter((cell) => !focused.has(cell));
    for (const cell of focused) if (!heard.has(cell) && !add.includes(cell)) add.push(cell);
    return add.length === 0 && remove.length === 0 ? null : { add, remove };
  }

  /** Write one player's view change, split in records of bounded size; false when it could not be. */
  #write(sid: number, add: readonly number[], remove: readonly number[], frames: readonly Uint8Array[], reset: boolean): boolean {
    try {
      let first = true;
      for (const chunk of chunks(frames)) {
        this.#d.out(FromScene.INTEREST, sid, encodeEntityFrames({ reset: first && reset, add: first ? add : [], remove: first ? remove : [], frames: frames.slice(chunk.from, chunk.to) }));
        first = false;
      }
      return true;
    } catch (err) {
      this.#d.logger.warn({ err, sceneId: this.#d.sceneId, sid }, 'cannot write a view; it is reset at the next tick');
      return false;
    }
  }

  #viewFrame(add: readonly number[], remove: readonly number[], reset: boolean): Uint8Array {
    return encodeFrame(FrameKind.PUSH, CORE_PUSH.EntityView, 0, EntityViewCodec.encode({ sceneId: this.#d.sceneId, cellSize: this.#grid.o.cellSize, add: [...add], remove: [...remove], reset }));
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
