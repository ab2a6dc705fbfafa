/**
 * Interest management (docs/aoi.md): a grid of square cells over a scene's map, and each
 * viewer's set of cells. A view worked out at a point takes the cells within
 * `viewRadius + hysteresis / 2` of it and keeps those it heard within `viewRadius + hysteresis`,
 * nearest first and at most `maxCells`; it is worked out again once the viewpoint has gone
 * `hysteresis / 2` from that point, so the cells within `viewRadius` of where it is are always
 * heard, and walking along a cell edge does not churn subscriptions. The cost of a move, a
 * teleport or a join is the same: the cells around one point, never a rebuild.
 */
import { CodedError, ErrorCodes, MAX_CELL_COORD, packCell, cellX, cellY } from '@gos/schema';
import type { InterestOptions } from '../api.js';

export type ResolvedInterest = Readonly<Required<InterestOptions>>;

function invalid(option: string, why: string, value: unknown): CodedError {
  return new CodedError(ErrorCodes.OPT_ERR_INVALID, `interest.${option} ${why}, got ${String(value)}`);
}

function positive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw invalid(name, 'must be a positive number', value);
  return value;
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalid(name, 'must be a number ≥ 0', value);
  return value;
}

function positiveInt(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalid(name, 'must be a positive integer', value);
  return value;
}

/**
 * Check a scene type's `interest` and fill in the defaults.
 * @throws CodedError `OPT_ERR_INVALID` naming the option.
 */
export function resolveInterest(o: InterestOptions): ResolvedInterest {
  if (o === null || typeof o !== 'object') throw invalid('', 'must be an object', o);
  const cellSize = positive('cellSize', o.cellSize);
  const width = positive('width', o.width);
  const height = positive('height', o.height);
  if (Math.ceil(width / cellSize) > MAX_CELL_COORD + 1 || Math.ceil(height / cellSize) > MAX_CELL_COORD + 1) {
    throw invalid('cellSize', `makes more than ${MAX_CELL_COORD + 1} cells on a side of a ${width} × ${height} map`, cellSize);
  }
  const viewRadius = o.viewRadius === undefined ? cellSize : positive('viewRadius', o.viewRadius);
  const hysteresis = o.hysteresis === undefined ? cellSize / 2 : o.hysteresis;
  if (typeof hysteresis !== 'number' || !Number.isFinite(hysteresis) || hysteresis < 0) throw invalid('hysteresis', 'must be a number ≥ 0', hysteresis);
  const box = boxSide(viewRadius + hysteresis, cellSize);
  if (box * box > MAX_VIEW_BOX_CELLS) {
    throw invalid('viewRadius', `+ hysteresis spans ${box} × ${box} cells of ${cellSize}: at most ${MAX_VIEW_BOX_CELLS} cells around a view (larger cells, or a smaller radius)`, viewRadius);
  }
  return Object.freeze({
    cellSize,
    width,
    height,
    viewRadius,
    hysteresis,
    // By default every cell the leave radius can reach: hysteresis is never cut short.
    maxCells: o.maxCells === undefined ? box * box : positiveInt('maxCells', o.maxCells),
    maxChangesPerCell: o.maxChangesPerCell === undefined ? 64 : positiveInt('maxChangesPerCell', o.maxChangesPerCell),
    nearRadius: o.nearRadius === undefined ? Number.POSITIVE_INFINITY : nonNegative('nearRadius', o.nearRadius),
  });
}

/** Most cells the box around a view may span: bounds the work of one view. */
export const MAX_VIEW_BOX_CELLS = 4096;

/** Cells on a side of the box around a view of `radius`. */
function boxSide(radius: number, cellSize: number): number {
  return 2 * Math.ceil(radius / cellSize) + 1;
}

/** A change of one viewer's cells: subscribe to `add` (nearest first), unsubscribe from `remove`. */
export interface ViewChange {
  readonly add: number[];
  readonly remove: number[];
}

/** The grid of one scene: cell arithmetic, clamped to the map. */
export class InterestGrid {
  readonly o: ResolvedInterest;
  readonly cols: number;
  readonly rows: number;

  constructor(o: ResolvedInterest) {
    this.o = o;
    this.cols = Math.max(1, Math.ceil(o.width / o.cellSize));
    this.rows = Math.max(1, Math.ceil(o.height / o.cellSize));
  }

  #col(x: number): number {
    const c = Math.floor(x / this.o.cellSize);
    return c < 0 ? 0 : c >= this.cols ? this.cols - 1 : c;
  }

  #row(y: number): number {
    const r = Math.floor(y / this.o.cellSize);
    return r < 0 ? 0 : r >= this.rows ? this.rows - 1 : r;
  }

  /** The cell of a position; positions off the map belong to its edge cells. */
  cellOf(x: number, y: number): number {
    return packCell(this.#col(x), this.#row(y));
  }

  /** Distance from a point to the nearest point of a cell (0 inside it). */
  distanceTo(x: number, y: number, cell: number): number {
    const s = this.o.cellSize;
    const x0 = cellX(cell) * s;
    const y0 = cellY(cell) * s;
    const dx = x < x0 ? x0 - x : x > x0 + s ? x - x0 - s : 0;
    const dy = y < y0 ? y0 - y : y > y0 + s ? y - y0 - s : 0;
    return Math.sqrt(dx * dx + dy * dy);
  }

  /** The cells within `radius` of a point, nearest first. */
  cellsWithin(x: number, y: number, radius: number): number[] {
    const c0 = this.#col(x - radius);
    const c1 = this.#col(x + radius);
    const r0 = this.#row(y - radius);
    const r1 = this.#row(y + radius);
    const found: { cell: number; d: number }[] = [];
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const cell = packCell(c, r);
        const d = this.distanceTo(x, y, cell);
        if (d <= radius) found.push({ cell, d });
      }
    }
    found.sort((a, b) => a.d - b.d || a.cell - b.cell);
    return found.map((f) => f.cell);
  }

  /**
   * The cells of `cells` in the far band of a viewer at (x, y): beyond `nearRadius + hysteresis / 2`,
   * or beyond `nearRadius + hysteresis` for a cell that `wasNear`. Empty when the scene has no
   * far band (`nearRadius` not set).
   */
  farOf(rawX: number, rawY: number, cells: Iterable<number>, wasNear: (cell: number) => boolean): Set<number> {
    const out = new Set<number>();
    const { nearRadius, hysteresis, width, height } = this.o;
    if (nearRadius === Number.POSITIVE_INFINITY) return out;
    const x = Math.min(width, Math.max(0, rawX));
    const y = Math.min(height, Math.max(0, rawY));
    for (const cell of cells) {
      const d = this.distanceTo(x, y, cell);
      if (d > nearRadius + hysteresis || (d > nearRadius + hysteresis / 2 && !wasNear(cell))) out.add(cell);
    }
    return out;
  }

  /**
   * Where a viewer at (x, y) that hears `cells` should listen now: the cells within
   * `viewRadius + hysteresis / 2`, plus those it hears that are still within
   * `viewRadius + hysteresis`, nearest first, at most `maxCells`. Null when nothing changes.
   */
  view(rawX: number, rawY: number, cells: ReadonlySet<number>): ViewChange | null {
    const { viewRadius, hysteresis, maxCells, width, height } = this.o;
    // Off the map counts as its edge.
    const x = Math.min(width, Math.max(0, rawX));
    const y = Math.min(height, Math.max(0, rawY));
    const keep = new Map<number, number>();
    for (const cell of this.cellsWithin(x, y, viewRadius + hysteresis / 2)) keep.set(cell, this.distanceTo(x, y, cell));
    for (const cell of cells) {
      if (keep.has(cell)) continue;
      const d = this.distanceTo(x, y, cell);
      if (d <= viewRadius + hysteresis) keep.set(cell, d);
    }
    const kept = [...keep].sort((a, b) => a[1] - b[1] || a[0] - b[0]).slice(0, maxCells);
    const now = new Set(kept.map(([cell]) => cell));
    const add = kept.filter(([cell]) => !cells.has(cell)).map(([cell]) => cell);
    const remove = [...cells].filter((cell) => !now.has(cell));
    return add.length === 0 && remove.length === 0 ? null : { add, remove };
  }
}
