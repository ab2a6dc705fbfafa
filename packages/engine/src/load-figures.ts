import type { EventLoopUtilization } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';

export interface Figures {
  readonly scenes: number;
  /** The players of each scene running (the leader's rebalancing reads it). */
  readonly sceneLoads: Readonly<Record<string, number>>;
  /** The scene threads' mean event-loop utilisation since the last figures, 0–1. */
  readonly utilisation: number;
  readonly threads: number;
  /** The thread time of each scene's ticks, in threads (rounded to hundredths). */
  readonly sceneCosts: Readonly<Record<string, number>>;
}

/** A scene's cost moving by this much (in threads) since it was published is worth a new publish. */
const COST_STEP = 0.05;

/**
 * The load an engine publishes besides its players (each publish is an etcd write): the scenes
 * it runs with their players and their ticks' thread time, and its threads' utilisation, when
 * any moved enough to matter.
 */
export class LoadFigures {
  /** Each thread's event-loop utilisation when last measured: the next figure counts from it. */
  readonly #elu = new WeakMap<Worker, EventLoopUtilization>();
  /** What was last published (none yet: the first figures are always new). */
  #published: Figures = { scenes: -1, sceneLoads: {}, utilisation: -1, threads: 0, sceneCosts: {} };
  #publishedLoads = '';

  /** The figures to publish now, or null when they have not moved enough since the last ones. */
  next(threads: readonly Worker[], sceneLoads: Readonly<Record<string, number>>, sceneCosts: Readonly<Record<string, number>> = {}): Figures | null {
    const scenes = Object.keys(sceneLoads).length;
    const loads = JSON.stringify(sceneLoads);
    let sum = 0;
    for (const worker of threads) {
      const now = worker.performance.eventLoopUtilization();
      const before = this.#elu.get(worker);
      this.#elu.set(worker, now);
      // A thread's first figure is only its baseline: its lifetime so far is mostly its start
      // (booting, importing the game), which would make a new engine look busy.
      if (before !== undefined) sum += worker.performance.eventLoopUtilization(now, before).utilization;
    }
    const utilisation = threads.length === 0 ? 0 : Math.max(0, Math.round((sum / threads.length) * 100) / 100);
    const costs: Record<string, number> = {};
    for (const [sceneId, cost] of Object.entries(sceneCosts)) costs[sceneId] = Math.round(cost * 100) / 100;
    const was = this.#published.sceneCosts;
    const costsMoved = Object.entries(costs).some(([sceneId, cost]) => Math.abs(cost - (was[sceneId] ?? 0)) >= COST_STEP);
    if (scenes === this.#published.scenes && loads === this.#publishedLoads && Math.abs(utilisation - this.#published.utilisation) < 0.05 && !costsMoved) return null;
    this.#published = { scenes, sceneLoads, utilisation, threads: threads.length, sceneCosts: costs };
    this.#publishedLoads = loads;
    return this.#published;
  }
}
