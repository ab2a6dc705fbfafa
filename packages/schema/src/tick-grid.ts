/**
 * The tick grid: a scene that ticks every `tickMs` ticks at the multiples of `tickMs` since the
 * epoch (docs/scenes.md, "When a scene ticks"). Its scene thread schedules its ticks on it, and
 * a gateway that holds the scene's fire-and-forget inputs for the tick (docs/link.md) reads the
 * next tick from it: both must compute it the same way, so both call this.
 */

/**
 * A time within this many milliseconds past a grid point counts as on it: a wall-clock time at
 * epoch magnitudes carries the rounding of a double (about 0.25 µs), which a time computed to
 * fall on a point must survive.
 */
export const TICK_GRID_TOLERANCE_MS = 0.001;

/** The first point of the tick grid of `tickMs` at or after `wallMs` (ms since the epoch), a microsecond's tolerance included. */
export function tickGridAtOrAfter(wallMs: number, tickMs: number): number {
  return Math.ceil((wallMs - TICK_GRID_TOLERANCE_MS) / tickMs) * tickMs;
}
