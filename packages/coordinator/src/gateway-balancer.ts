/**
 * The leader's rebalancing of gateways (docs/scaling.md "Rebalancing"): when the gateways'
 * loads (sockets against capacity) are uneven beyond the tolerance, the busiest is asked to send
 * the clients that would even it out with the idlest there ({@link planGatewayShare}): a partial
 * drain request the gateway acts on (core push `Reconnect`, which the SDK follows without an
 * error) and clears. One request at a time, a pause after each; requests naming an instance
 * that is gone are dropped after a while. This memory is the leader's own.
 */
import type { Logger } from '@gos/schema';
import { planGatewayShare } from './policy.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { Coordinator, DrainRequest } from './types.js';

export interface GatewayBalancerOptions {
  readonly coordinator: Coordinator;
  /** Gateways within this fraction of the mean load count as balanced. */
  readonly tolerance: number;
  /** When evening out the busiest and the idlest means moving fewer clients than this, nothing moves. */
  readonly minClients: number;
  /** Pause after a share is over before the next (the clients move, the loads catch up). */
  readonly pauseMs: number;
  /** A request not cleared by then (or naming an instance gone that long) is dropped. */
  readonly staleMs: number;
  readonly logger: Logger;
  readonly metrics?: CoordinatorMetrics;
}

export class GatewayBalancer {
  readonly #o: GatewayBalancerOptions;
  /** When the last share was over (cleared by its gateway, or dropped); the pause counts from it. */
  #lastShareDoneAt = 0;
  /** The share asked for and not cleared yet. */
  #sharing: { readonly memberId: string; readonly startedAt: number; readonly at: number } | null = null;

  constructor(o: GatewayBalancerOptions) {
    this.#o = o;
  }

  /**
   * One pass (the leader's reconcile): one share at a time (a partial drain request the busy gateway
   * clears once it has told its clients), the next only after a pause in which the clients move
   * and the loads catch up.
   */
  async pass(now: number): Promise<void> {
    const { coordinator, logger } = this.#o;
    // Requests naming an instance that is gone (its gateway stopped, or a tool that asked was
    // killed before it cleared its request) are dropped after a while: nobody else would.
    const live = (r: DrainRequest): boolean => coordinator.membership.get(r.memberId)?.startedAt === r.startedAt;
    for (const r of coordinator.drains.list()) {
      if (!live(r) && now - r.at > this.#o.staleMs) await coordinator.drains.clear(r.memberId, r.startedAt);
    }
    const sharing = this.#sharing;
    if (sharing !== null) {
      const request = coordinator.drains.list().find((r) => r.memberId === sharing.memberId && r.startedAt === sharing.startedAt && r.share !== undefined);
      if (request !== undefined && now - sharing.at <= this.#o.staleMs) return;
      if (request !== undefined) {
        logger.warn({ gatewayId: sharing.memberId }, 'gateway rebalancing request never done; dropped');
        await coordinator.drains.clear(sharing.memberId, sharing.startedAt);
      }
      this.#sharing = null;
      this.#lastShareDoneAt = now;
      return;
    }
    if (now - this.#lastShareDoneAt < this.#o.pauseMs) return;
    // An operator's drain under way: the gateways are about to change anyway.
    if (coordinator.drains.list().some((r) => r.share === undefined && live(r))) return;
    const plan = planGatewayShare(coordinator.membership.list('gateway'), { tolerance: this.#o.tolerance, minClients: this.#o.minClients });
    if (plan === null) return;
    const from = coordinator.membership.get(plan.from)!;
    logger.info({ ...plan }, 'rebalancing: asking a gateway to send clients to another');
    await coordinator.drains.request({ memberId: plan.from, startedAt: from.startedAt, requestedBy: 'leader', share: { count: plan.count, to: plan.to } });
    this.#sharing = { memberId: plan.from, startedAt: from.startedAt, at: now };
    this.#o.metrics?.rebalanced();
  }

  /** This node has just become leader: a pause first, and a share already out counts as under way. */
  tookLead(now: number): void {
    this.#lastShareDoneAt = now;
    const out = this.#o.coordinator.drains.list().find((r) => r.share !== undefined);
    this.#sharing = out === undefined ? null : { memberId: out.memberId, startedAt: out.startedAt, at: now };
  }
}
