/**
 * The leader's rebalancing (docs/scaling.md "Rebalancing"): at each reconcile pass, when the
 * engines' loads are uneven beyond the tolerance, ask the busiest engine to move one scene live
 * to the idlest ({@link planRebalance}); one move at a time, a pause after each, and a scene that
 * moved is left where it is for a while, so it never thrashes. The engine does the move and
 * clears the request; a request nobody clears (its engine died) is dropped after a while.
 */
import type { Logger } from '@gos/schema';
import { planRebalance } from './policy.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { Coordinator } from './types.js';

export interface RebalancerOptions {
  readonly coordinator: Coordinator;
  /** Engines within this fraction of the mean load count as balanced. @default 0.15 */
  readonly tolerance?: number;
  /** A gap of fewer players than this is left alone. @default 10 */
  readonly minPlayers?: number;
  /** Pause after a move is over before the next one (the engines' figures catch up meanwhile). @default 2000 */
  readonly pauseMs?: number;
  /** How long a scene that moved stays before it may move again. @default 60000 */
  readonly sceneRestMs?: number;
  /** A request not cleared by then is dropped (its engine died, or never saw it). @default 30000 */
  readonly staleMs?: number;
  readonly logger: Logger;
  readonly metrics?: CoordinatorMetrics;
}

export class Rebalancer {
  readonly #o: Required<Omit<RebalancerOptions, 'metrics'>> & Pick<RebalancerOptions, 'metrics'>;
  /** When each scene was last asked to move. */
  readonly #movedAt = new Map<string, number>();
  /** When the last request was cleared (the pause counts from it). */
  #lastDoneAt = 0;

  constructor(o: RebalancerOptions) {
    this.#o = { tolerance: 0.15, minPlayers: 10, pauseMs: 2000, sceneRestMs: 60_000, staleMs: 30_000, ...o };
  }

  /** One pass (the leader's reconcile): drop stale requests, then ask for one move if need be. */
  async pass(now: number): Promise<void> {
    const { coordinator, logger } = this.#o;
    const pending = coordinator.moves.list();
    if (pending.length > 0) {
      for (const r of pending) {
        if (now - r.at > this.#o.staleMs) {
          logger.warn({ sceneId: r.sceneId, from: r.from, to: r.to }, 'rebalancing move never done; dropped');
          await coordinator.moves.clear(r.sceneId, r.epoch);
        }
      }
      this.#lastDoneAt = now;
      return;
    }
    if (now - this.#lastDoneAt < this.#o.pauseMs) return;
    for (const [sceneId, at] of this.#movedAt) if (now - at > this.#o.sceneRestMs) this.#movedAt.delete(sceneId);
    const plan = planRebalance(coordinator.membership.list('engine'), {
      tolerance: this.#o.tolerance,
      minPlayers: this.#o.minPlayers,
      movable: (sceneId) => !this.#movedAt.has(sceneId) && coordinator.placement.lookup(sceneId) !== undefined,
    });
    if (plan === null) return;
    const placed = coordinator.placement.lookup(plan.sceneId)!;
    if (placed.engineId !== plan.from) return; // the engine's figures lag its placements: next pass
    this.#movedAt.set(plan.sceneId, now);
    this.#lastDoneAt = now;
    logger.info({ ...plan, epoch: placed.epoch }, 'rebalancing: moving a scene live');
    this.#o.metrics?.rebalanced();
    await coordinator.moves.request({ sceneId: plan.sceneId, from: plan.from, epoch: placed.epoch, to: plan.to });
  }
}
