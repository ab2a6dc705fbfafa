import type { Outbox } from '../outbox.js';
import { FromScene, SCENE_STATS_INTERVAL_MS, encodeTickFigures } from '../records.js';

/**
 * A scene's tick durations and overruns, sent to the main thread (FromScene.STATS, for the
 * metrics) about once every SCENE_STATS_INTERVAL_MS.
 */
export class TickStats {
  readonly #out: Outbox;
  readonly #tickMs: number;
  readonly #durations: number[] = [];
  /** The entity replication's share of each tick; empty for a scene without entities. */
  readonly #replication: number[] = [];
  #overruns = 0;
  #sentAt = performance.now();

  constructor(out: Outbox, tickMs: number) {
    this.#out = out;
    this.#tickMs = tickMs;
  }

  /** One tick that started at `startedAt` and took `durationMs`, `replicationMs` of it in entity replication (null: none). */
  record(startedAt: number, durationMs: number, replicationMs: number | null): void {
    this.#durations.push(durationMs);
    if (replicationMs !== null) this.#replication.push(replicationMs);
    if (durationMs > this.#tickMs) this.#overruns++;
    if (startedAt - this.#sentAt < SCENE_STATS_INTERVAL_MS) return;
    this.#sentAt = startedAt;
    const payload = encodeTickFigures({ ticks: this.#durations, replication: this.#replication.length === this.#durations.length ? this.#replication : null });
    this.#durations.length = 0;
    this.#replication.length = 0;
    const overruns = this.#overruns;
    this.#overruns = 0;
    try {
      this.#out.send(FromScene.STATS, 0, overruns, payload);
    } catch {
      // A full ring: these figures are dropped, the game goes on.
    }
  }
}

/** How long `fn` took, in ms. */
export function elapsedMs(fn: () => void): number {
  const startedAt = performance.now();
  fn();
  return performance.now() - startedAt;
}
