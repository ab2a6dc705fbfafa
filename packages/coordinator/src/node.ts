import { hostname } from 'node:os';
import { CodedError, ErrorCodes, silentLogger, type Logger } from '@gos/schema';
import { Registry } from 'prom-client';
import { GameManager } from './game-manager.js';
import { Rebalancer, type RebalancerOptions } from './rebalancer.js';
import { CoordinatorMetrics } from './metrics.js';
import { decideScale, type ScaleDecision, type ScaleOptions } from './policy.js';
import type { Coordinator, MemberHandle } from './types.js';

/** The scale decision's defaults: run at 70 % of capacity, at least one engine and one gateway. */
export const SCALE_DEFAULTS: ScaleOptions = Object.freeze({ targetUtilisation: 0.7, minEngines: 1, minGateways: 1 });

export interface CoordinatorNodeOptions {
  /** Member id of this replica, e.g. `coordinator-1`. */
  readonly id: string;
  readonly coordinator: Coordinator;
  /** How often the leader reconciles placement with membership. @default 1000 */
  readonly reconcileIntervalMs?: number;
  /**
   * A placement is released once its engine has been missing from membership this long. It
   * covers the gap between two etcd watches (a placement can be seen before its engine's
   * registration). @default 5000
   */
  readonly orphanGraceMs?: number;
  /** A placement request older than this (refused, or its asker died) is deleted. @default 60000 */
  readonly staleRequestMs?: number;
  /**
   * The leader evens out the engines' loads by moving scenes live (docs/scaling.md
   * "Rebalancing"); false turns it off. @default on, with the Rebalancer's defaults
   */
  readonly rebalance?: false | Omit<RebalancerOptions, 'coordinator' | 'logger' | 'metrics'>;
  /**
   * The leader's scale decision (docs/scaling.md "Scale decisions"): how many engines and
   * gateways the load calls for, published with its member record and in its metrics.
   * @default {@link SCALE_DEFAULTS}
   */
  readonly scale?: Partial<ScaleOptions>;
  readonly logger?: Logger;
  /**
   * Prometheus registry the replica registers its metrics in (docs/metrics.md); the process
   * entry serves it. @default a registry of its own
   */
  readonly metrics?: Registry;
}

/**
 * One coordinator replica (run three): a member of the cluster, so its health shows in the
 * status; a candidate in the leader election; and, while it leads, the only writer of
 * placement ({@link GameManager}: serves placement requests under the engines' CCU caps,
 * releases the scenes of dead engines and the idle scenes engines report).
 * Gateways and engines never wait on it for placed scenes: they read placement from their own
 * watched view, so play goes on while no leader is elected; only entering a scene placed
 * nowhere waits for one.
 */
export class CoordinatorNode {
  readonly #o: Required<Omit<CoordinatorNodeOptions, 'logger' | 'metrics' | 'rebalance' | 'scale'>> & { logger: Logger; scale: ScaleOptions };
  readonly #manager: GameManager;
  readonly #rebalancer: Rebalancer | null;
  /** Whether the last reconcile pass ran as leader (the first one of a term tells the rebalancer). */
  #ledLastPass = false;
  #member: MemberHandle | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #unwatch: (() => void) | undefined;
  #campaigning = false;
  #lastLeader: string | undefined;
  #state: 'idle' | 'running' | 'closed' = 'idle';
  /** The latest scale decision made while leading; null when not leading. */
  #decision: ScaleDecision | null = null;
  /** The desired counts last published with this replica's member record. */
  #published = '';

  constructor(options: CoordinatorNodeOptions) {
    const reconcileIntervalMs = options.reconcileIntervalMs ?? 1000;
    const orphanGraceMs = options.orphanGraceMs ?? 5000;
    const staleRequestMs = options.staleRequestMs ?? 60_000;
    for (const [name, v] of [['reconcileIntervalMs', reconcileIntervalMs], ['orphanGraceMs', orphanGraceMs], ['staleRequestMs', staleRequestMs]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `coordinator node option "${name}" must be a positive integer, got ${v}`);
    }
    const scale = { ...SCALE_DEFAULTS, ...options.scale };
    if (!(scale.targetUtilisation > 0 && scale.targetUtilisation <= 1)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `coordinator node option "scale.targetUtilisation" must be in (0, 1], got ${scale.targetUtilisation}`);
    for (const [name, v] of [['scale.minEngines', scale.minEngines], ['scale.minGateways', scale.minGateways]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `coordinator node option "${name}" must be an integer ≥ 0, got ${v}`);
    }
    this.#o = { ...options, reconcileIntervalMs, orphanGraceMs, staleRequestMs, logger: options.logger ?? silentLogger, scale };
    const metrics = new CoordinatorMetrics(options.metrics ?? new Registry(), options.coordinator, () => this.isLeader, () => this.#decision);
    this.#manager = new GameManager({ coordinator: options.coordinator, orphanGraceMs, staleRequestMs, logger: this.#o.logger, metrics });
    this.#rebalancer = options.rebalance === false ? null : new Rebalancer({ ...options.rebalance, coordinator: options.coordinator, logger: this.#o.logger, metrics });
  }

  get id(): string {
    return this.#o.id;
  }

  get isLeader(): boolean {
    return this.#o.coordinator.election.isLeader(this.#o.id);
  }

  /** Register and stand for election; resolves once registered (not once elected). */
  async start(): Promise<void> {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    const { coordinator, id } = this.#o;
    this.#member = await coordinator.membership.register({ id, role: 'coordinator', address: `${hostname()}:${process.pid}`, capacity: 1 });
    this.#unwatch = coordinator.election.watch((leader) => {
      const changed = leader !== this.#lastLeader;
      this.#lastLeader = leader;
      if (leader === id && changed) this.#o.logger.info('elected leader');
      if (leader === id && this.#state === 'running') this.#manager.start();
      else this.#manager.stop();
      // Not us: make sure we stand (after losing the office, when our lease expired while
      // paused or cut off from etcd). Standing again while standing joins the same campaign.
      if (leader !== id && this.#state === 'running') this.#campaign();
    });
    this.#timer = setInterval(() => this.#reconcile(), this.#o.reconcileIntervalMs);
    this.#timer.unref();
    this.#campaign();
  }

  #campaign(): void {
    if (this.#campaigning || this.#state !== 'running') return;
    this.#campaigning = true;
    this.#o.coordinator.election.campaign(this.#o.id).then(
      () => {
        this.#campaigning = false;
        if (this.isLeader && this.#state === 'running') this.#manager.start();
      },
      (err: unknown) => {
        this.#campaigning = false;
        if (this.#state !== 'running') return;
        this.#o.logger.warn({ err }, 'campaign failed; standing again in 1 s');
        setTimeout(() => this.#campaign(), 1000).unref();
      },
    );
  }

  /** One pass of the leader's placement upkeep; a no-op on followers. Exposed for tests. */
  reconcile(now = Date.now()): Promise<void> {
    if (!this.isLeader || this.#state !== 'running') {
      this.#ledLastPass = false;
      this.#decision = null;
      // Leading again later publishes its first decision even if it matches the last one.
      this.#published = '';
      return Promise.resolve();
    }
    // Leadership can arrive without a watch event reaching us first (memory: the first campaign).
    this.#manager.start();
    if (!this.#ledLastPass) this.#rebalancer?.tookLead(now);
    this.#ledLastPass = true;
    return this.#manager.reconcile(now).then(async () => {
      await this.#rebalancer?.pass(now).catch((err: unknown) => this.#o.logger.warn({ err }, 'rebalancing pass failed'));
      await this.#decideScale();
    });
  }

  /** The scale decision of this pass, published when it changed. */
  async #decideScale(): Promise<void> {
    const decision = decideScale(this.#o.coordinator.membership.list(), this.#o.scale);
    this.#decision = decision;
    const desired = { engines: decision.engines, gateways: decision.gateways };
    const key = `${desired.engines}/${desired.gateways}`;
    if (key === this.#published || this.#member === undefined) return;
    const engines = this.#o.coordinator.membership.list('engine').length;
    const gateways = this.#o.coordinator.membership.list('gateway').length;
    if (engines !== desired.engines || gateways !== desired.gateways) this.#o.logger.info({ ...decision, enginesNow: engines, gatewaysNow: gateways }, 'scale decision: the load calls for a different cluster size');
    this.#published = key;
    await this.#member.publish({ desired }).catch((err: unknown) => {
      this.#published = '';
      this.#o.logger.warn({ err }, 'cannot publish the scale decision');
    });
  }

  #reconcile(): void {
    void this.reconcile();
  }

  /** Step down (another replica takes over at once) and leave. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const wasRunning = this.#state === 'running';
    this.#state = 'closed';
    clearInterval(this.#timer);
    this.#unwatch?.();
    this.#manager.stop();
    if (!wasRunning) return;
    await this.#o.coordinator.election.resign(this.#o.id).catch((err: unknown) => this.#o.logger.warn({ err }, 'cannot resign'));
    await this.#member?.leave().catch((err: unknown) => this.#o.logger.warn({ err }, 'cannot leave the cluster'));
  }
}
