/**
 * Fire-and-forget inputs held for the tick. A scene that takes its players' fire-and-forget
 * inputs at its ticks (`inputs: 'at-tick'`) ticks on the wall-clock grid of its interval
 * (docs/scenes.md, "When a scene ticks"), and tells the gateway that interval with JOINED. Sent
 * to its engine over TCP as they come, such inputs would cost the engine a read (and a wake-up)
 * every few of them, only to wait in the scene's ring until the tick. Held in the link's batch
 * until `leadMs` before the next grid point instead, they leave in one write and one read per
 * tick, and still reach the ring before the tick takes them. Inputs that come within `leadMs` of
 * the tick go at once, as before.
 *
 * The grid is read on this process's clock (the wall clock at its start, the monotonic clock
 * since), as the scene's thread reads it on its own: the two must agree to well within
 * `leadMs`, which a step of the system clock after either started breaks. A tick that runs late
 * no longer takes the inputs that came after its grid point. Either way a held input that misses
 * its tick is handled at the next one, never lost or reordered (docs/link.md).
 */

import { performance } from 'node:perf_hooks';
import { tickGridAtOrAfter } from '@gos/schema';

/** This process's time 0 (ms since the epoch), read once: on Node 20 the global `performance` is a lazy getter. */
const ORIGIN = performance.timeOrigin;

/**
 * When an input sent at `now` (performance.now() ms) to a scene ticking every `tickMs` on the
 * grid may leave at the latest: `leadMs` before the grid's next point; undefined when that is not
 * after `now` (send it at once: within the lead of a tick, or on its point).
 */
export function inputHoldUntil(now: number, tickMs: number, leadMs: number, origin: number = ORIGIN): number | undefined {
  const leaveAt = tickGridAtOrAfter(origin + now, tickMs) - leadMs - origin;
  return leaveAt > now ? leaveAt : undefined;
}
