import type { Outbox } from '../outbox.js';
import { FromScene, SCENE_STATS_INTERVAL_MS } from '../records.js';

/**
 * A scene's tick durations and overruns, sent to the main thread (FromScene.STATS, for the
 * metrics) about once every SCENE_STATS_INTERVAL_MS.
 */
export class TickStats {
  readonly #out: Outbox;
  readonly #tickMs: number;
  readonly #durations: number[] = [];
  #overruns = 0;
  #sentAt = performance.now();

  constructor(out: Outbox, tickMs: number) {
    this.#out = out;
    this.#tickMs = tickMs;
  }

  /** One tick that started at `startedAt` and took `durationMs`. */
  record(startedAt: number, durationMs: number): void {
    this.#durations.push(durationMs);
    if (durationMs > this.#tickMs) this.#overruns++;
    if (startedAt - this.#sentAt < SCENE_STATS_INTERVAL_MS) return;
    this.#sentAt = startedAt;
    const durations = Float64Array.from(this.#durations);
    this.#durations.length = 0;
    const overruns = this.#overruns;
    this.#overruns = 0;
    try {
      this.#out.send(FromScene.STATS, 0, overruns, new Uint8Array(durations.buffer));
    } catch {
      // A full ring: these figures are dropped, the game goes on.
    }
  }
}
