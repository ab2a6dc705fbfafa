/**
 * The cells of one scene's replication (docs/aoi.md) that hold entities or are heard, with the
 * changes of the tick under way in each; a cell neither held nor heard is let go.
 */
import type { GridCell } from './entity-record.js';

export class CellTable {
  readonly #cells = new Map<number, GridCell>();
  /** The cells changed this tick, in the order they were first changed. */
  readonly touched: GridCell[] = [];
  #tick = -1;

  get size(): number {
    return this.#cells.size;
  }

  get(key: number): GridCell | undefined {
    return this.#cells.get(key);
  }

  /** The cell of `key`, held from now on. */
  cell(key: number): GridCell {
    let cell = this.#cells.get(key);
    if (cell === undefined) {
      cell = { key, members: new Set(), heard: 0, heardFar: 0, farWaiting: new Set(), tick: -1, enters: [], nEnters: 0, updates: [], masks: [], nUpdates: 0, leaves: [], leaveTo: [], nLeaves: 0 };
      this.#cells.set(key, cell);
    }
    return cell;
  }

  /** Changes from now on are `tick`'s. */
  begin(tick: number): void {
    this.#tick = tick;
  }

  /** The cell's change lists for this tick (emptied on first use in the tick). */
  touch(cell: GridCell): GridCell {
    if (cell.tick !== this.#tick) {
      cell.tick = this.#tick;
      cell.nEnters = cell.nUpdates = cell.nLeaves = 0;
      this.touched.push(cell);
    }
    return cell;
  }

  /** Entity `id` left `cell` for `to` (a cell key, or CELL_GONE). */
  leave(cell: GridCell, id: number, to: number): void {
    this.touch(cell);
    cell.leaves[cell.nLeaves] = id;
    cell.leaveTo[cell.nLeaves] = to;
    cell.nLeaves++;
  }

  /** One more viewer hears the cell, in its near band or its far one. */
  hear(key: number, far = false): void {
    const cell = this.cell(key);
    if (far) cell.heardFar++;
    else cell.heard++;
  }

  /** One viewer less hears each cell of `keys`: in its far band those in `far`, in its near band the others. */
  unhear(keys: Iterable<number>, far: ReadonlySet<number>): void {
    for (const key of keys) this.unhearOne(key, far.has(key));
  }

  /** One viewer less hears cell `key` in the band `far` says. */
  unhearOne(key: number, far: boolean): void {
    const cell = this.#cells.get(key);
    if (cell === undefined) return;
    if (!far) cell.heard--;
    else if (--cell.heardFar <= 0) this.#forgetFar(cell);
    this.#forgetIfIdle(cell);
  }

  /** Nobody hears the cell far any more: what it kept for the far band goes. */
  #forgetFar(cell: GridCell): void {
    for (const e of cell.farWaiting) e.farPending = 0;
    cell.farWaiting.clear();
  }

  /** The tick's cells went out: those neither held nor heard are let go (never before: a touched cell must stay one object). */
  end(): void {
    for (const cell of this.touched) this.#forgetIfIdle(cell);
    this.touched.length = 0;
  }

  /** Only between a tick's cell pass and the next (the replication's views and game calls): a cell touched this tick is one object until `end`. */
  #forgetIfIdle(cell: GridCell): void {
    if (cell.heard <= 0 && cell.heardFar <= 0 && cell.members.size === 0) this.#cells.delete(cell.key);
  }
}
