/**
 * The per-client filter of the bare uWS (`uws-filter`) and Colyseus mmo-aoi servers: positions
 * bucketed on a grid of AOI_FILTER_BUCKET, then those within AOI_VIEW of a point.
 */
import { AOI_FILTER_BUCKET as BUCKET, AOI_VIEW } from './project/aoi-map.js';

export class NearbyGrid<T extends { readonly x: number; readonly y: number }> {
  readonly #cells = new Map<number, T[]>();

  constructor(items: Iterable<T>) {
    for (const item of items) {
      const k = key(Math.floor(item.x / BUCKET), Math.floor(item.y / BUCKET));
      const list = this.#cells.get(k);
      if (list === undefined) this.#cells.set(k, [item]);
      else list.push(item);
    }
  }

  /** Call `fn` with every item within AOI_VIEW of (x, y). */
  near(x: number, y: number, fn: (item: T) => void): void {
    const span = Math.ceil(AOI_VIEW / BUCKET);
    const r2 = AOI_VIEW * AOI_VIEW;
    const cx = Math.floor(x / BUCKET);
    const cy = Math.floor(y / BUCKET);
    for (let i = cx - span; i <= cx + span; i++) {
      for (let j = cy - span; j <= cy + span; j++) {
        for (const item of this.#cells.get(key(i, j)) ?? []) {
          const dx = item.x - x;
          const dy = item.y - y;
          if (dx * dx + dy * dy <= r2) fn(item);
        }
      }
    }
  }
}

function key(cx: number, cy: number): number {
  return cx * 65536 + cy;
}
