/**
 * The players' views of one scene's entity replication (docs/aoi.md): each player's viewpoint,
 * the cells it hears and the entities it focuses on, and the records that tell its gateway which
 * cells to hear (INTEREST: an EntityView push, then a snapshot of each cell it starts hearing).
 */
import { CodedError, CORE_PUSH, EntityViewCodec, ErrorCodes, FrameKind, encodeFrame, farCell, type Logger } from '@gos/schema';
import { FromScene, chunkFrames as chunks, encodeEntityFrames } from '../records.js';
import type { CellTable } from './cell-table.js';
import type { EntityRecord, PlayerRef } from './entity-record.js';
import type { InterestGrid, ViewChange } from './interest-grid.js';

/** Where the replication writes its records (the scene's outbox); throws when it cannot. */
export type ReplicationOut = (type: typeof FromScene.CELLS | typeof FromScene.INTEREST, sid: number, payload: Uint8Array) => void;

/** Most entities one player may focus on (scene.entities.focus): each may add a cell to its view. */
export const MAX_FOCUS = 32;

interface Viewer {
  readonly player: PlayerRef;
  readonly entity: EntityRecord;
  /** The cells it hears. */
  readonly cells: Set<number>;
  /** Those of `cells` it hears in its far band (docs/aoi.md "Distance bands"); empty without `nearRadius`. */
  readonly far: Set<number>;
  /** Where its view was last worked out. */
  x: number;
  y: number;
  /** Its next view resets the client (a new connection, a lost record): forget everything first. */
  reset: boolean;
  /** Entities it focuses on: their cells are heard wherever they are, beyond maxCells. */
  readonly focus: Set<EntityRecord>;
}

export interface ViewsDeps {
  readonly sceneId: string;
  readonly grid: InterestGrid;
  readonly cells: CellTable;
  readonly out: ReplicationOut;
  readonly logger: Logger;
  /** Every entity of a cell as entering it (a whole PUSH frame), or null for an empty cell. */
  readonly snapshot: (tick: number, cell: number) => Uint8Array | null;
}

export class SceneViews {
  readonly #d: ViewsDeps;
  readonly #viewers = new Map<string, Viewer>();
  /** Viewers whose cells must be worked out again at the next send. */
  readonly #look = new Set<Viewer>();
  /** Viewpoints that moved this tick: looked at again once they went far enough. */
  readonly #moved: Viewer[] = [];
  /** Players that lost their viewpoint but stay: told to hear nothing at the next send. */
  readonly #blind = new Map<string, { player: PlayerRef; cells: number[]; topics: number[] }>();
  /** Who focuses on an entity. */
  readonly #focusers = new Map<EntityRecord, Set<Viewer>>();

  constructor(deps: ViewsDeps) {
    this.#d = deps;
  }

  has(playerId: string): boolean {
    return this.#viewers.has(playerId);
  }

  /** The player's viewpoint entity. */
  entityOf(playerId: string): EntityRecord | undefined {
    return this.#viewers.get(playerId)?.entity;
  }

  /** `entity` is the player's new viewpoint: its first view resets the client. */
  add(player: PlayerRef, entity: EntityRecord): void {
    entity.viewer = player;
    const viewer: Viewer = { player, entity, cells: new Set(), far: new Set(), x: Number.NaN, y: Number.NaN, reset: true, focus: new Set() };
    this.#viewers.set(player.id, viewer);
    this.#blind.delete(player.id);
    this.#look.add(viewer);
  }

  /** An entity was removed: focus on it ends; if it was a viewpoint, its player (who stays) hears nothing more. */
  removed(e: EntityRecord): void {
    const focusers = this.#focusers.get(e);
    if (focusers !== undefined) for (const viewer of [...focusers]) this.#unfocus(viewer, e);
    if (e.viewer === null) return;
    const viewer = this.#viewers.get(e.viewer.id);
    e.viewer = null;
    if (viewer === undefined) return;
    this.#drop(viewer);
    // Told after this tick's cells.
    if (viewer.cells.size > 0) this.#blind.set(viewer.player.id, { player: viewer.player, cells: [...viewer.cells], topics: topicsOf(viewer, viewer.cells) });
  }

  /** The player left the scene (its gateway dropped its cell topics): returns its viewpoint entity, to remove. */
  playerLeft(playerId: string): EntityRecord | undefined {
    this.#blind.delete(playerId);
    const viewer = this.#viewers.get(playerId);
    if (viewer === undefined) return undefined;
    this.#drop(viewer);
    viewer.entity.viewer = null;
    return viewer.entity;
  }

  /** The player came back on a new connection (its sid is the new one): a reset view, from snapshots. */
  playerRejoined(playerId: string): void {
    const viewer = this.#viewers.get(playerId);
    if (viewer === undefined) return;
    viewer.reset = true;
    this.#look.add(viewer);
  }

  /** @throws CodedError `OPT_ERR_INVALID` for a player without a viewpoint, or past MAX_FOCUS */
  focus(playerId: string, target: EntityRecord): void {
    const viewer = this.#viewers.get(playerId);
    if (viewer === undefined) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `player ${playerId} has no viewpoint entity in scene ${this.#d.sceneId}: nothing to focus from`);
    if (target === viewer.entity || viewer.focus.has(target)) return;
    if (viewer.focus.size >= MAX_FOCUS) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `player ${playerId} focuses on ${MAX_FOCUS} entities already (unfocus one first)`);
    viewer.focus.add(target);
    let focusers = this.#focusers.get(target);
    if (focusers === undefined) this.#focusers.set(target, (focusers = new Set()));
    focusers.add(viewer);
    this.#look.add(viewer);
  }

  unfocus(playerId: string, target: EntityRecord): void {
    const viewer = this.#viewers.get(playerId);
    if (viewer !== undefined && viewer.focus.has(target)) this.#unfocus(viewer, target);
  }

  #unfocus(viewer: Viewer, target: EntityRecord): void {
    viewer.focus.delete(target);
    const focusers = this.#focusers.get(target);
    focusers?.delete(viewer);
    if (focusers?.size === 0) this.#focusers.delete(target);
    this.#look.add(viewer);
  }

  #drop(viewer: Viewer): void {
    this.#viewers.delete(viewer.player.id);
    this.#d.cells.unhear(viewer.cells, viewer.far);
    for (const target of viewer.focus) this.#unfocus(viewer, target);
    // After the unfocusing, which asks for the view to be worked out again: a dropped viewer has none.
    this.#look.delete(viewer);
  }

  /** From the tick's cell pass: `e` changed; if it is a viewpoint, its view may need working out again. */
  changed(e: EntityRecord): void {
    if (e.viewer === null) return;
    const viewer = this.#viewers.get(e.viewer.id);
    if (viewer !== undefined) this.#moved.push(viewer);
  }

  /** From the tick's cell pass: `e` is in another cell; whoever focuses on it hears that one from this tick's views on. */
  crossed(e: EntityRecord): void {
    if (this.#focusers.size === 0) return;
    const focusers = this.#focusers.get(e);
    if (focusers !== undefined) for (const viewer of focusers) this.#look.add(viewer);
  }

  /** The tick's cell frames were lost: every player starts again from a reset view. */
  resetAll(): void {
    for (const viewer of this.#viewers.values()) {
      viewer.reset = true;
      this.#look.add(viewer);
    }
  }

  /** After the tick's cell frames: the views that changed. */
  send(tick: number): void {
    // A view is worked out again once the viewpoint went half the hysteresis from where it was
    // last, as the crow flies (on each axis alone, a diagonal step of up to h/√2 would not count).
    const far = this.#d.grid.o.hysteresis / 2;
    for (const viewer of this.#moved) {
      const e = viewer.entity;
      const dx = e.x - viewer.x;
      const dy = e.y - viewer.y;
      if (!(dx * dx + dy * dy <= far * far)) this.#look.add(viewer);
    }
    this.#moved.length = 0;
    if (this.#blind.size > 0) this.#sendBlind();
    if (this.#look.size > 0) this.#sendViews(tick);
  }

  #sendBlind(): void {
    for (const [id, { player, cells, topics }] of this.#blind) {
      if (this.#write(player.sid, [], topics, [this.#viewFrame([], cells, false)], false)) this.#blind.delete(id);
    }
  }

  #sendViews(tick: number): void {
    const snapshots = new Map<number, Uint8Array | null>();
    const cells = this.#d.cells;
    const snapshotOf = (cell: number): Uint8Array | null => {
      let snapshot = snapshots.get(cell);
      if (snapshot === undefined) snapshots.set(cell, (snapshot = this.#d.snapshot(tick, cell)));
      return snapshot;
    };
    for (const viewer of this.#look) {
      const e = viewer.entity;
      const reset = viewer.reset;
      const change = this.#view(viewer, reset);
      const bands = this.#bands(viewer, change, reset);
      if (change === null && bands === null) {
        viewer.x = e.x;
        viewer.y = e.y;
        this.#look.delete(viewer);
        continue;
      }
      const add = change?.add ?? [];
      const remove = change?.remove ?? [];
      const far = bands?.far;
      // The client hears of cells added and removed; a cell changing band is the gateway's business (two topics), plus a snapshot when it comes near.
      const frames = change === null ? [] : [this.#viewFrame(add, remove, reset)];
      for (const cell of add) {
        const snapshot = snapshotOf(cell);
        if (snapshot !== null) frames.push(snapshot);
      }
      // Without a far band the topics are the cells themselves.
      let topicAdd = add;
      let topicRemove = remove;
      if (bands !== null) {
        topicAdd = add.map((cell) => (bands.far.has(cell) ? farCell(cell) : cell));
        topicRemove = topicsOf(viewer, remove);
        for (const cell of bands.toFar) {
          topicAdd.push(farCell(cell));
          topicRemove.push(cell);
        }
        for (const cell of bands.toNear) {
          topicAdd.push(cell);
          topicRemove.push(farCell(cell));
          // Its banded fields may be behind: the near band starts from the values of now.
          const snapshot = snapshotOf(cell);
          if (snapshot !== null) frames.push(snapshot);
        }
      }
      // Not written: tried again at the next send, as a reset.
      if (!this.#write(viewer.player.sid, topicAdd, topicRemove, frames, reset)) {
        viewer.reset = true;
        continue;
      }
      if (reset) {
        cells.unhear(viewer.cells, viewer.far);
        viewer.cells.clear();
        viewer.far.clear();
      }
      for (const cell of add) {
        const isFar = far?.has(cell) === true;
        viewer.cells.add(cell);
        if (isFar) viewer.far.add(cell);
        cells.hear(cell, isFar);
      }
      cells.unhear(remove, viewer.far);
      for (const cell of remove) {
        viewer.cells.delete(cell);
        viewer.far.delete(cell);
      }
      if (bands !== null) {
        // Heard in the new band before let go in the old one: the cell stays one object.
        for (const cell of bands.toFar) {
          cells.hear(cell, true);
          cells.unhearOne(cell, false);
          viewer.far.add(cell);
        }
        for (const cell of bands.toNear) {
          cells.hear(cell, false);
          cells.unhearOne(cell, true);
          viewer.far.delete(cell);
        }
      }
      viewer.x = e.x;
      viewer.y = e.y;
      viewer.reset = false;
      this.#look.delete(viewer);
    }
  }

  /**
   * With a far band (`interest.nearRadius`): the band of each cell the viewer will hear after
   * `change` (`far`: those in the far band), and the cells it keeps that change band. Cells of
   * focused entities are always near. Null without a far band, or when no band changes and no
   * cell comes or goes.
   */
  #bands(viewer: Viewer, change: ViewChange | null, reset: boolean): { far: Set<number>; toFar: number[]; toNear: number[] } | null {
    const grid = this.#d.grid;
    if (grid.o.nearRadius === Number.POSITIVE_INFINITY) return null;
    const e = viewer.entity;
    const kept = reset ? [] : [...viewer.cells].filter((cell) => change === null || !change.remove.includes(cell));
    const all = change === null ? kept : [...kept, ...change.add];
    const far = grid.farOf(e.x, e.y, all, (cell) => !reset && viewer.cells.has(cell) && !viewer.far.has(cell));
    for (const target of viewer.focus) if (target.cell >= 0) far.delete(target.cell);
    const toFar: number[] = [];
    const toNear: number[] = [];
    for (const cell of kept) {
      const was = viewer.far.has(cell);
      if (far.has(cell) && !was) toFar.push(cell);
      else if (!far.has(cell) && was) toNear.push(cell);
    }
    if (change === null && toFar.length === 0 && toNear.length === 0) return null;
    return { far, toFar, toNear };
  }

  /**
   * The cells a viewer should hear now against those it hears (none on a reset): the grid's
   * view of its viewpoint, plus the cells of the entities it focuses on, kept beyond maxCells.
   */
  #view(viewer: Viewer, reset: boolean): ViewChange | null {
    const e = viewer.entity;
    const heard: ReadonlySet<number> = reset ? new Set() : viewer.cells;
    const change = this.#d.grid.view(e.x, e.y, heard);
    if (viewer.focus.size === 0) return change;
    const focused = new Set<number>();
    for (const target of viewer.focus) if (target.cell >= 0) focused.add(target.cell);
    // The viewpoint's cells nearest first, then the focused ones it does not hear yet; a focused cell is never dropped.
    const add = [...(change?.add ?? [])];
    const remove = (change?.remove ?? []).filter((cell) => !focused.has(cell));
    for (const cell of focused) if (!heard.has(cell) && !add.includes(cell)) add.push(cell);
    return add.length === 0 && remove.length === 0 ? null : { add, remove };
  }

  /**
   * Write one player's view change, split in records of bounded size: the topics its gateway
   * subscribes it to and drops (cell keys, FAR_CELL for a far band), then its frames. False when
   * it could not be.
   */
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
    return encodeFrame(FrameKind.PUSH, CORE_PUSH.EntityView, 0, EntityViewCodec.encode({ sceneId: this.#d.sceneId, cellSize: this.#d.grid.o.cellSize, add: [...add], remove: [...remove], reset }));
  }
}

/** The topic keys of some of a viewer's cells: FAR_CELL on those it hears in its far band. */
function topicsOf(viewer: Viewer, cells: Iterable<number>): number[] {
  const out: number[] = [];
  for (const cell of cells) out.push(viewer.far.has(cell) ? farCell(cell) : cell);
  return out;
}
