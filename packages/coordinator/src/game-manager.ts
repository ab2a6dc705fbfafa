import { ErrorCodes, isCodedError, toErrorData, type Logger } from '@gos/schema';
import { pickLeastLoadedEngine } from './policy.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { Coordinator, MemberInfo } from './types.js';

export interface GameManagerOptions {
  readonly coordinator: Coordinator;
  /**
   * A placement whose engine is not a member is released once it has been missing this long.
   * It covers a leader that has just taken office: its view may hold a placement before the
   * registration of its engine.
   */
  readonly orphanGraceMs: number;
  /** A placement request older than this (refused, or asked by a process that died) is deleted. */
  readonly staleRequestMs: number;
  readonly logger: Logger;
  /** Counts placements made, refused and released. */
  readonly metrics?: CoordinatorMetrics;
}

/**
 * GameMgr: the leader's management of placement, the only writer of it. It serves placement
 * requests (a player entered a scene placed nowhere) by placing the scene on the least-loaded
 * engine under its CCU cap, or refusing the request when there is none; releases the scenes of
 * an engine that left or died; releases the placements an engine reports idle (stopped and
 * saved after the engine's idle time); and releases placements left on engines it never saw.
 * Started when its replica is elected, stopped when it loses the office.
 */
export class GameManager {
  readonly #o: GameManagerOptions;
  #offs: Array<() => void> = [];
  /** Requests are served one at a time, so each pick sees the placements made before it. */
  #chain: Promise<void> = Promise.resolve();
  readonly #queued = new Set<string>();
  /** Releases in flight, `sceneId@epoch`: an idle report repeated by every load write asks once. */
  readonly #releasing = new Set<string>();
  /** Placement (`sceneId@epoch`) → when its engine was first seen missing. */
  readonly #orphanSince = new Map<string, number>();
  #running = false;

  constructor(options: GameManagerOptions) {
    this.#o = options;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const { placement, membership } = this.#o.coordinator;
    this.#offs = [
      placement.watchRequests((request) => {
        if (request.refused === undefined) this.#enqueue(request.sceneId);
      }),
      membership.watch((event) => {
        if (event.member.role !== 'engine') return;
        if (event.type === 'down') this.#releaseAll(event.member, 'engine left the cluster');
        else {
          this.#releaseIdle(event.member);
          // An engine with room (new, or less loaded): requests refused for lack of one are
          // asked again by their players; unrefused ones waiting in the queue are served.
          if (event.type === 'up') this.#serveWaiting();
        }
      }),
    ];
    this.#serveWaiting();
    for (const engine of membership.list('engine')) this.#releaseIdle(engine);
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    for (const off of this.#offs) off();
    this.#offs = [];
    this.#queued.clear();
    this.#orphanSince.clear();
  }

  /** One pass of upkeep: orphaned placements, idle reports, waiting and stale requests. */
  async reconcile(now = Date.now()): Promise<void> {
    if (!this.#running) return;
    const { coordinator, orphanGraceMs, staleRequestMs, logger } = this.#o;
    const engines = new Map(coordinator.membership.list('engine').map((m) => [m.id, m]));
    const seen = new Set<string>();
    const work: Promise<unknown>[] = [];
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
      work.push(this.#release(record.sceneId, record.epoch, record.engineId, 'its engine is missing', 'orphan'));
    }
    for (const key of this.#orphanSince.keys()) if (!seen.has(key)) this.#orphanSince.delete(key);
    for (const engine of engines.values()) this.#releaseIdle(engine);
    for (const request of coordinator.placement.requests()) {
      if (now - request.at > staleRequestMs) {
        work.push(coordinator.placement.dismiss(request.sceneId).catch((err: unknown) => logger.warn({ err, sceneId: request.sceneId }, 'cannot delete a stale placement request')));
      } else if (request.refused === undefined) this.#enqueue(request.sceneId);
    }
    await Promise.all(work);
    await this.#chain;
  }

  #serveWaiting(): void {
    for (const request of this.#o.coordinator.placement.requests()) if (request.refused === undefined) this.#enqueue(request.sceneId);
  }

  #enqueue(sceneId: string): void {
    if (this.#queued.has(sceneId)) return;
    this.#queued.add(sceneId);
    this.#chain = this.#chain.then(() => {
      this.#queued.delete(sceneId);
      return this.#serve(sceneId);
    });
  }

  async #serve(sceneId: string): Promise<void> {
    if (!this.#running) return;
    const { placement, membership } = this.#o.coordinator;
    const log = this.#o.logger;
    const request = placement.requests().find((r) => r.sceneId === sceneId);
    if (request === undefined || request.refused !== undefined) return;
    try {
      // Already placed (a request raced a placement): assigning again only clears the request.
      const placed = placement.lookup(sceneId);
      const engineId = placed?.engineId ?? pickLeastLoadedEngine(membership.list('engine'), (id) => placement.scenesOf(id).length).id;
      const record = await placement.assign(sceneId, engineId);
      if (placed === undefined) {
        this.#o.metrics?.placements.inc({ result: 'placed' });
        log.info({ sceneId, engineId: record.engineId, epoch: record.epoch, requestedBy: request.requestedBy }, 'scene placed');
      }
    } catch (err) {
      if (!isCodedError(err) || err.code !== ErrorCodes.CRD_ERR_NO_ENGINE) {
        // etcd failed: the request stays, and the next reconcile serves it again.
        log.warn({ err, sceneId }, 'cannot place scene yet');
        return;
      }
      this.#o.metrics?.placements.inc({ result: 'refused' });
      log.warn({ sceneId, code: err.code }, `cannot place scene: ${err.message}`);
      await placement.refuse(sceneId, toErrorData(err, ErrorCodes.CRD_ERR_NO_ENGINE)).catch((e: unknown) => log.warn({ err: e, sceneId }, 'cannot refuse a placement request'));
    }
  }

  #releaseAll(engine: MemberInfo, why: string): void {
    for (const record of this.#o.coordinator.placement.scenesOf(engine.id)) void this.#release(record.sceneId, record.epoch, engine.id, why, 'engine_gone');
  }

  #releaseIdle(engine: MemberInfo): void {
    const idle = engine.idleScenes;
    if (idle === undefined) return;
    for (const [sceneId, epoch] of Object.entries(idle)) {
      const record = this.#o.coordinator.placement.lookup(sceneId);
      if (record?.engineId === engine.id && record.epoch === epoch) void this.#release(sceneId, epoch, engine.id, 'idle', 'idle');
    }
  }

  async #release(sceneId: string, epoch: number, engineId: string, why: string, reason: 'engine_gone' | 'idle' | 'orphan'): Promise<void> {
    const key = `${sceneId}@${epoch}`;
    if (!this.#running || this.#releasing.has(key)) return;
    this.#releasing.add(key);
    try {
      const released = await this.#o.coordinator.placement.release(sceneId, epoch);
      if (released) {
        this.#o.metrics?.releases.inc({ reason });
        this.#o.logger.info({ sceneId, engineId, epoch }, `placement released: ${why}`);
      }
    } catch (err) {
      this.#o.logger.warn({ err, sceneId, engineId }, `cannot release placement (${why})`);
    } finally {
      this.#releasing.delete(key);
    }
  }
}
