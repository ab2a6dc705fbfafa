import { Counter, Gauge, type Registry } from 'prom-client';
import type { ScaleDecision } from './policy.js';
import type { Coordinator, MemberRole, Membership } from './types.js';

const ROLES: readonly MemberRole[] = ['coordinator', 'gateway', 'engine'];

/**
 * A coordinator replica's Prometheus metrics (names in docs/metrics.md): whether it leads,
 * the cluster as it sees it (members by role, placements, waiting requests), and, while it
 * leads, the placements it made, refused and released.
 */
export class CoordinatorMetrics {
  readonly placements: Counter<'result'>;
  readonly releases: Counter<'reason'>;
  readonly #moves: Counter;

  constructor(registry: Registry, coordinator: Coordinator, isLeader: () => boolean, decision: () => ScaleDecision | null) {
    const registers = [registry];
    this.placements = new Counter({
      name: 'gos_coordinator_placements_total',
      help: 'Placement requests this replica served while leading, by result: placed or refused.',
      labelNames: ['result'],
      registers,
    });
    this.releases = new Counter({
      name: 'gos_coordinator_releases_total',
      help: 'Placements this replica released while leading, by reason: engine_gone, idle, orphan.',
      labelNames: ['reason'],
      registers,
    });
    this.#moves = new Counter({
      name: 'gos_coordinator_rebalance_moves_total',
      help: 'Live scene moves this replica asked for while leading, to even out the engines\' loads.',
      registers,
    });
    new Gauge({
      name: 'gos_coordinator_leader',
      help: 'Whether this replica is the elected leader (1) or not (0).',
      registers,
      collect() {
        this.set(isLeader() ? 1 : 0);
      },
    });
    // The scale decision, while leading (an autoscaler reads the leader's: max over replicas).
    new Gauge({
      name: 'gos_coordinator_desired_members',
      help: 'While leading: how many engines and gateways the cluster\'s load calls for (the scale decision), by role.',
      labelNames: ['role'],
      registers,
      collect() {
        this.reset();
        const d = decision();
        if (d === null || !isLeader()) return;
        this.set({ role: 'engine' }, d.engines);
        this.set({ role: 'gateway' }, d.gateways);
      },
    });
    new Gauge({
      name: 'gos_cluster_members',
      help: 'Members of the cluster in this replica’s view, by role.',
      labelNames: ['role'],
      registers,
      collect() {
        for (const role of ROLES) this.set({ role }, coordinator.membership.list(role).length);
      },
    });
    new Gauge({
      name: 'gos_cluster_placements',
      help: 'Scenes placed on engines, in this replica’s view.',
      registers,
      collect() {
        this.set(coordinator.placement.list().length);
      },
    });
    new Gauge({
      name: 'gos_cluster_placement_requests',
      help: 'Placement requests waiting for the leader (refused ones included until they expire).',
      registers,
      collect() {
        this.set(coordinator.placement.requests().length);
      },
    });
  }

  /** The leader asked for a rebalancing move. */
  rebalanced(): void {
    this.#moves.inc();
  }
}

/**
 * The lease state of the members this process registered (every role, docs/metrics.md):
 * `gos_member_lease_held` (members holding their lease), `gos_member_lease_lost` (members that
 * lost it and are registering again) and `gos_member_lease_losses_total`.
 */
export function registerLeaseMetrics(registry: Registry, membership: Membership): void {
  const registers = [registry];
  new Gauge({
    name: 'gos_member_lease_held',
    help: 'Members registered by this process that hold their lease in the coordinator now.',
    registers,
    collect() {
      this.set(membership.leases().held);
    },
  });
  new Gauge({
    name: 'gos_member_lease_lost',
    help: 'Members registered by this process that lost their lease (paused or cut off past its TTL) and are registering again.',
    registers,
    collect() {
      this.set(membership.leases().lost);
    },
  });
  new Counter({
    name: 'gos_member_lease_losses_total',
    help: 'Leases of this process\'s members lost since it started.',
    registers,
    collect() {
      this.reset();
      this.inc(membership.leases().losses);
    },
  });
}
