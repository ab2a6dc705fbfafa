import { hostname } from 'node:os';
import { CodedError, ErrorCodes, silentLogger, type Logger } from '@gos/schema';
import type { Coordinator, MemberHandle } from './types.js';

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
  readonly logger?: Logger;
}

/**
 * One coordinator replica (run three): a member of the cluster, so its health shows in the
 * status; a candidate in the leader election; and, while it leads, the manager of placement:
 * a placement whose engine is no longer a member (died while nobody watched, or a release was
 * lost) is released, so the next player who enters that scene places it on a live engine.
 * Gateways and engines never wait on it: they read placement from their own watched view, and
 * the cluster keeps serving placed scenes while no leader is elected.
 *
 * Not yet here (issue 4): placement by the leader alone with per-engine CCU caps, idle-scene
 * release, and AgentMgr's gateway choice with group affinity.
 */
export class CoordinatorNode {
  readonly #o: Required<Omit<CoordinatorNodeOptions, 'logger'>> & { logger: Logger };
  #member: MemberHandle | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #unwatch: (() => void) | undefined;
  /** Placement (`sceneId@epoch`) → when its engine was first seen missing. */
  readonly #orphanSince = new Map<string, number>();
  #campaigning = false;
  #lastLeader: string | undefined;
  #state: 'idle' | 'running' | 'closed' = 'idle';

  constructor(options: CoordinatorNodeOptions) {
    const reconcileIntervalMs = options.reconcileIntervalMs ?? 1000;
    const orphanGraceMs = options.orphanGraceMs ?? 5000;
    for (const [name, v] of [['reconcileIntervalMs', reconcileIntervalMs], ['orphanGraceMs', orphanGraceMs]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `coordinator node option "${name}" must be a positive integer, got ${v}`);
    }
    this.#o = { ...options, reconcileIntervalMs, orphanGraceMs, logger: options.logger ?? silentLogger };
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
    if (!this.isLeader || this.#state !== 'running') return Promise.resolve();
    const { coordinator, orphanGraceMs, logger } = this.#o;
    const engines = new Set(coordinator.membership.list('engine').map((m) => m.id));
    const seen = new Set<string>();
    const releases: Promise<unknown>[] = [];
    for (const record of coordinator.placement.list()) {
      if (engines.has(record.engineId)) continue;
      // Keyed by placement, not scene: a scene placed again starts its own grace.
      const key = `${record.sceneId}@${record.epoch}`;
      seen.add(key);
      const since = this.#orphanSince.get(key);
      if (since === undefined) {
        this.#orphanSince.set(key, now);
        logger.info({ sceneId: record.sceneId, engineId: record.engineId, graceMs: orphanGraceMs }, 'placement on a missing engine; released after the grace');
        continue;
      }
      if (now - since < orphanGraceMs) continue;
      this.#orphanSince.delete(key);
      releases.push(
        coordinator.placement.release(record.sceneId, record.epoch).then(
          (released) => {
            if (released) logger.info({ sceneId: record.sceneId, engineId: record.engineId, epoch: record.epoch }, 'released the placement of a missing engine');
          },
          (err: unknown) => logger.warn({ err, sceneId: record.sceneId }, 'cannot release an orphaned placement'),
        ),
      );
    }
    for (const key of this.#orphanSince.keys()) if (!seen.has(key)) this.#orphanSince.delete(key);
    return Promise.all(releases).then(() => undefined);
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
    if (!wasRunning) return;
    await this.#o.coordinator.election.resign(this.#o.id).catch((err: unknown) => this.#o.logger.warn({ err }, 'cannot resign'));
    await this.#member?.leave().catch((err: unknown) => this.#o.logger.warn({ err }, 'cannot leave the cluster'));
  }
}
