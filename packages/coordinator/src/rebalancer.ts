/**
 * The leader's rebalancing (docs/scaling.md "Rebalancing"): at each reconcile pass, when the
 * engines' loads (players against capacity, or thread utilisation) are uneven beyond the tolerance, ask the busiest engine to move one scene live
 * to the idlest ({@link planRebalance}); one move at a time, the next only once the target shows
 * the scene with its players (and a pause), a scene that moved left where it is for a while, a
 * target that never showed its scene passed over for a while. The engine does the move and
 * clears the request; a request nobody clears (its engine died) is dropped after a while. This
 * memory is the leader's own: a new leader starts afresh.
 *
 * Gateways the same way (`gateways`, on by default; see gateway-balancer.ts).
 */
import type { Logger } from '@gos/schema';
import { planRebalance } from './policy.js';
import { GatewayBalancer } from './gateway-balancer.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { Coordinator } from './types.js';

export interface RebalancerOptions {
  readonly coordinator: Coordinator;
  /** Engines within this fraction of the mean load count as balanced. @default 0.15 */
  readonly tolerance?: number;
  /** When evening out means moving fewer players than this, nothing moves. @default 10 */
  readonly minPlayers?: number;
  /** Pause after a move is over before the next one (the engines' figures catch up meanwhile). @default 2000 */
  readonly pauseMs?: number;
  /** How long a scene that moved stays before it may move again. @default 60000 */
  readonly sceneRestMs?: number;
  /** A request not cleared by then is dropped (its engine died, or never saw it). @default 30000 */
  readonly staleMs?: number;
  /**
   * Gateways too: when their loads (sockets against capacity) are uneven beyond `tolerance`, the
   * busiest is asked to send clients to the idlest (a partial drain: the core push `Reconnect`,
   * which the SDK follows without an error). @default true
   */
  readonly gateways?: boolean;
  /** When evening out the busiest and the idlest gateway means moving fewer clients than this, nothing moves. @default 20 */
  readonly minClients?: number;
  /** Pause after a gateway share is over before the next (the clients move, the loads catch up). @default 10000 */
  readonly gatewayPauseMs?: number;
  readonly logger: Logger;
  readonly metrics?: CoordinatorMetrics;
}

export class Rebalancer {
  readonly #o: Required<Omit<RebalancerOptions, 'metrics'>> & Pick<RebalancerOptions, 'metrics'>;
  /** When each scene was last asked to move. */
  readonly #movedAt = new Map<string, number>();
  /** When the last request was cleared (the pause counts from it). */
  #lastDoneAt = 0;
  /** The last move asked for: the next waits until its target shows the scene with players. */
  #awaiting: { readonly sceneId: string; readonly to: string; readonly players: number; readonly at: number } | null = null;
  /** Targets that did not take a scene in time, and when: passed over for a while. */
  readonly #badTargets = new Map<string, number>();
  /** The gateways' part, when on. */
  readonly #gateways: GatewayBalancer | null;

  constructor(o: RebalancerOptions) {
    this.#o = { tolerance: 0.15, minPlayers: 10, pauseMs: 2000, sceneRestMs: 60_000, staleMs: 30_000, gateways: true, minClients: 20, gatewayPauseMs: 10_000, ...o };
    const { coordinator, tolerance, minClients, gatewayPauseMs, staleMs, logger, metrics } = this.#o;
    this.#gateways = this.#o.gateways ? new GatewayBalancer({ coordinator, tolerance, minClients, pauseMs: gatewayPauseMs, staleMs, logger, ...(metrics === undefined ? {} : { metrics }) }) : null;
  }

  /**
   * This node has just become leader (again): what it remembers from an earlier term is stale.
   * The first move and the first share wait a pause (the figures of the last leader's moves may
   * not have caught up), and a share request already out counts as under way.
   */
  tookLead(now: number): void {
    this.#awaiting = null;
    this.#lastDoneAt = now;
    this.#gateways?.tookLead(now);
  }

  /** One pass (the leader's reconcile): drop stale requests, then ask for one move (and one gateway share) if need be. */
  async pass(now: number): Promise<void> {
    await this.#gateways?.pass(now);
    await this.#passEngines(now);
  }

  async #passEngines(now: number): Promise<void> {
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
    // The last move counts once its target shows the scene with players (its figures are fresh
    // then); a target that never does (unreachable, failing its starts) is passed over a while.
    const awaiting = this.#awaiting;
    if (awaiting !== null) {
      const there = coordinator.membership.get(awaiting.to)?.sceneLoads?.[awaiting.sceneId];
      // A scene moved with players shows them; one moved for its thread time may have none.
      const shown = there !== undefined && (there > 0 || awaiting.players === 0);
      if (!shown && now - awaiting.at <= this.#o.staleMs) return;
      if (!shown) {
        logger.warn({ sceneId: awaiting.sceneId, to: awaiting.to }, 'rebalancing: the target never showed the moved scene; passing it over for a while');
        this.#badTargets.set(awaiting.to, now);
      }
      this.#awaiting = null;
    }
    for (const [sceneId, at] of this.#movedAt) if (now - at > this.#o.sceneRestMs) this.#movedAt.delete(sceneId);
    for (const [engineId, at] of this.#badTargets) if (now - at > this.#o.sceneRestMs) this.#badTargets.delete(engineId);
    const plan = planRebalance(coordinator.membership.list('engine').filter((e) => !this.#badTargets.has(e.id)), {
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
    await coordinator.moves.request({ sceneId: plan.sceneId, from: plan.from, epoch: placed.epoch, to: plan.to });
    this.#awaiting = { sceneId: plan.sceneId, to: plan.to, players: plan.players, at: now };
    this.#o.metrics?.rebalanced();
  }
}
