/**
 * The scenes of one engine and their lifecycle: started on demand in a worker slot, restarted
 * from their last save after a crash (scene-crashes.ts), stopped when idle or placed elsewhere,
 * all stopped when the engine closes.
 */
import type { Piscina } from 'piscina';
import { CodedError, ErrorCodes } from '@gos/schema';
import { sceneTypeOf, type PlacementEvent } from '@gos/coordinator';
import { EngineToGateway, encodeJoinFailedBody } from '@gos/link';
import { takeEarly, type Conn } from './connections.js';
import { refuseFrame, sendTo, type EngineContext } from './engine-context.js';
import { IdleScenes } from './idle-scenes.js';
import { SceneCrashes } from './scene-crashes.js';
import { SceneHost, WakeupTotals, type Wakeups } from './scene-host.js';
import { onSceneRecord } from './scene-records.js';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A placement's hand-over further than this from now (a restart of the scene much later, clocks far apart) is not followed: the scene ticks as any other. */
const HANDOVER_FRESH_MS = 5000;

export class Scenes {
  readonly #ctx: EngineContext;
  /** The engine's worker pool, once it has started. */
  readonly #pool: () => Piscina | undefined;
  readonly #hosts = new Map<string, SceneHost>();
  readonly #starting = new Map<string, Promise<SceneHost>>();
  /** Scenes being stopped (idle, or their placement went elsewhere); a new start waits for it. */
  readonly #retiring = new Map<string, Promise<void>>();
  /** Scenes moving live to another engine (SceneMigrations); a join waits for the outcome. */
  readonly #moving = new Map<string, Promise<unknown>>();
  /** Set by the drain: no scene is started any more (see stopStarting). */
  #noStarts = false;
  readonly #crashes: SceneCrashes;
  readonly #idle: IdleScenes;
  readonly #wakeups = new WakeupTotals();

  constructor(ctx: EngineContext, pool: () => Piscina | undefined, publishIdle: (idleScenes: Record<string, number>) => Promise<void>) {
    this.#ctx = ctx;
    this.#pool = pool;
    this.#idle = new IdleScenes(ctx.o.idleSceneMs, publishIdle);
    this.#crashes = new SceneCrashes(ctx);
  }

  get size(): number {
    return this.#hosts.size;
  }

  values(): IterableIterator<SceneHost> {
    return this.#hosts.values();
  }

  /** Thread wake-ups between the main thread and the scenes since the engine started. */
  wakeups(): Wakeups {
    return this.#wakeups.total(this.#hosts.values());
  }

  /** The scene if it runs here now. */
  running(sceneId: string): SceneHost | undefined {
    return this.#hosts.get(sceneId);
  }

  /** `host` is no longer the scene's running instance here (it stops, crashed, or never started). */
  #takeOut(host: SceneHost): void {
    host.current = false;
    if (this.#hosts.get(host.sceneId) === host) this.#hosts.delete(host.sceneId);
  }

  /** The scene running here, started (claiming its row) if it is not; refused past the worker slots. */
  obtain(sceneId: string, epoch: number): Promise<SceneHost> {
    const moving = this.#moving.get(sceneId);
    if (moving !== undefined) {
      // Moving live: a player entering now follows the scene, or stays if the move was given up
      // (the scene runs here still, or again: it crashed meanwhile and is still placed here).
      return moving.then(() => {
        const host = this.#hosts.get(sceneId);
        if (host !== undefined) return host;
        if (this.#ctx.o.coordinator.placement.lookup(sceneId)?.engineId === this.#ctx.o.engineId) return this.obtain(sceneId, epoch);
        throw new CodedError(ErrorCodes.ENG_ERR_SCENE_MOVED, `scene ${sceneId} moved off ${this.#ctx.o.engineId}`);
      });
    }
    const running = this.#hosts.get(sceneId);
    if (running !== undefined) return Promise.resolve(running);
    let starting = this.#starting.get(sceneId);
    if (starting === undefined) {
      const { o } = this.#ctx;
      // Closing: the scenes to stop are already counted, and a scene started now would run on
      // with nobody to stop it (a join that was loading its player when the close began).
      if (!this.#ctx.running() || this.#noStarts) return Promise.reject(new CodedError(ErrorCodes.ENG_ERR_SHUTTING_DOWN, 'engine is shutting down'));
      // Every scene holds a worker slot for its whole life: past the last slot piscina would
      // queue the scene's task and the join would hang until the gateway's join timeout.
      const slots = o.workers * o.scenesPerWorker;
      if (this.#hosts.size + this.#starting.size >= slots) {
        return Promise.reject(new CodedError(ErrorCodes.ENG_ERR_FULL, `engine ${o.engineId} already hosts ${slots} scenes (workers × scenesPerWorker); cannot start ${sceneId}`));
      }
      starting = this.#start(sceneId, epoch).finally(() => this.#starting.delete(sceneId));
      this.#starting.set(sceneId, starting);
    }
    return starting;
  }

  /**
   * The drain begins: scenes that run here take players still (they move on with the scene), but
   * none is started any more (ENG_ERR_SHUTTING_DOWN: the gateway waits for it to be placed elsewhere).
   */
  stopStarting(): void {
    this.#noStarts = true;
  }

  /** Whether the drain began (see stopStarting). */
  get startsStopped(): boolean {
    return this.#noStarts;
  }

  /** Live moves under way, settling when each is over (whatever its outcome). */
  movesUnderWay(): Promise<unknown>[] {
    return [...this.#moving.values()];
  }

  /** Whether the scene is moving live to another engine now. */
  isMoving(sceneId: string): boolean {
    return this.#moving.has(sceneId);
  }

  /**
   * Run a live move of `sceneId` (SceneMigrations): joins wait for `move` to settle, and the
   * scene is neither retired as idle nor moved twice meanwhile.
   * @throws CodedError `ENG_ERR_MIGRATION` when the scene is moving already.
   */
  async whileMoving<T>(sceneId: string, move: () => Promise<T>): Promise<T> {
    if (this.#moving.has(sceneId)) throw new CodedError(ErrorCodes.ENG_ERR_MIGRATION, `scene ${sceneId} is moving already`);
    const running = move();
    const settled = running.catch(() => undefined);
    this.#moving.set(sceneId, settled);
    try {
      return await running;
    } finally {
      if (this.#moving.get(sceneId) === settled) this.#moving.delete(sceneId);
    }
  }

  /**
   * The freeze point of a live move: the scene leaves this engine right after its next tick (a
   * tick boundary), saving everything (state, players, timers), and the writes land. Returns its
   * players, still seated here, and when its next tick was due: the caller
   * sends them on. `clean` is false when the scene did not save in time or crashed while it
   * stopped: then only its last periodic save holds. Calls waiting on the scene are answered
   * `ENG_ERR_SCENE_MOVED` (retryable).
   */
  async stopForMove(host: SceneHost): Promise<{ readonly players: Conn[]; readonly clean: boolean; readonly nextTickAt: number | undefined }> {
    return this.#stopAndSave(host, true);
  }

  /** A player enters `sceneId`: take back its idle report first (see IdleScenes.withdraw). */
  withdrawIdle(sceneId: string): Promise<void> {
    return this.#idle.withdraw(sceneId);
  }

  async #start(sceneId: string, epoch: number): Promise<SceneHost> {
    const { o, log, persister } = this.#ctx;
    const pool = this.#pool();
    if (pool === undefined) throw new CodedError(ErrorCodes.ENG_ERR_SHUTTING_DOWN, 'engine not started');
    const startedAt = performance.now();
    // Started again while its previous instance is still stopping: after that one has saved.
    await this.#retiring.get(sceneId);
    // Moved off here meanwhile (a live move writes the placement here first): claiming the row
    // now would fence off the engine that runs it.
    let placed = o.coordinator.placement.lookup(sceneId);
    if (placed?.engineId !== o.engineId) placed = await o.coordinator.placement.fetch(sceneId);
    if (placed?.engineId !== o.engineId) {
      throw new CodedError(ErrorCodes.ENG_ERR_SCENE_MOVED, `scene ${sceneId} is no longer placed on ${o.engineId}`);
    }
    // Moved in live a moment ago: its first tick in step with the engine it left.
    const handover = placed.handover;
    const firstTick = handover !== undefined && Math.abs(Date.now() - handover.nextTickAt) < HANDOVER_FRESH_MS ? { at: handover.nextTickAt, players: handover.players } : undefined;
    await persister.settle('scene', sceneId);
    const claimingAt = performance.now();
    // The claim fences off the engine that hosted the scene before, should it still be running.
    const { record, fence } = await o.store.claimScene(sceneId);
    persister.seed('scene', sceneId, record?.version ?? 0, fence);
    // Read after the claim: no earlier owner writes them any more.
    const timers = await o.store.loadTimers(sceneId);
    const claimedAt = performance.now();
    const logger = log.child({ sceneId });
    const host: SceneHost = new SceneHost({
      pool,
      epoch,
      ringBytes: o.ringBytes,
      ringFlush: o.ringFlush,
      wakeups: this.#wakeups,
      logger,
      input: {
        sceneId,
        sceneType: sceneTypeOf(sceneId),
        gameModule: o.gameModule,
        state: record?.data ?? null,
        timers,
        tickMs: o.tickMs,
        persistIntervalMs: o.persistIntervalMs,
        logLevel: o.workerLogLevel,
        engineId: o.engineId,
        ...(firstTick === undefined ? {} : { firstTick }),
        configChannel: this.#ctx.config.channelName,
        config: this.#ctx.config.current,
      },
      onRecord: (type, sid, value, payload) => onSceneRecord(this.#ctx, host, type, sid, value, payload),
    });
    this.#hosts.set(sceneId, host);
    host.current = true;
    host.done.catch((err: unknown) => this.#onCrash(host, err));
    try {
      await host.ready;
    } catch (err) {
      this.#takeOut(host);
      throw err;
    }
    // Released or moved while it started (a release then had no running scene to stop): it
    // must not run here unplaced. Stopped again (saving what it did) and the joins sent on.
    if (!(await this.#stillPlacedHere(host))) {
      void this.#retire(host, 'its placement was released while it started');
      throw new CodedError(ErrorCodes.ENG_ERR_SCENE_MOVED, `scene ${sceneId} is no longer placed on ${o.engineId}`);
    }
    // Where a start's time goes (a scene moving in waits for it): the store's claim, the thread.
    const ms = (from: number, to = performance.now()): number => Math.round(to - from);
    logger.info({ epoch: host.epoch, ms: ms(startedAt), claimMs: ms(claimingAt, claimedAt), threadMs: ms(claimedAt) }, 'scene started');
    return host;
  }

  async #onCrash(host: SceneHost, err: unknown): Promise<void> {
    if (this.#hosts.get(host.sceneId) !== host) return;
    host.abandon();
    this.#takeOut(host);
    await this.#crashes.restart(host, err, (sceneId, epoch) => this.obtain(sceneId, epoch));
  }

  /**
   * A scene this engine runs was released (idle, or its engine was presumed dead: a lost
   * lease), or placed elsewhere: stop it here, or two instances would run. Its late writes
   * would be fenced anyway; this hands its players over instead.
   */
  onPlacement(event: PlacementEvent): void {
    const host = this.#hosts.get(event.record.sceneId);
    if (host === undefined || !this.#ctx.running()) return;
    // A scene still starting is not in #hosts yet: #start checks its placement once started.
    if (event.type === 'released' && event.record.epoch >= host.epoch) void this.#retire(host, 'its placement was released');
    else if (event.type === 'placed' && event.record.engineId !== this.#ctx.o.engineId) void this.#retire(host, `it was placed on ${event.record.engineId}`);
    else if (event.type === 'placed' && event.record.epoch > host.epoch) host.epoch = event.record.epoch;
  }

  /** Stop scenes idle for `idleSceneMs` and report the stopped ones (see IdleScenes). */
  checkIdle(): void {
    const { conns, o } = this.#ctx;
    const joining = new Set<string>();
    for (const conn of conns.values()) if (conn.state === 'joining') joining.add(conn.sceneId);
    this.#idle.check(
      o.coordinator.placement.scenesOf(o.engineId),
      {
        busy: (sceneId) =>
          (this.#hosts.get(sceneId)?.sids.size ?? 0) > 0 || this.#starting.has(sceneId) || this.#moving.has(sceneId) || joining.has(sceneId) || this.#ctx.calls.inUse(sceneId, o.idleSceneMs),
        running: (sceneId) => this.#hosts.has(sceneId),
        retiring: (sceneId) => this.#retiring.has(sceneId),
      },
      (sceneId, why) => {
        const host = this.#hosts.get(sceneId);
        if (host !== undefined) void this.#retire(host, why);
      },
    );
  }

  /**
   * Whether the scene is still placed on this engine (its cached view first; the coordinator
   * itself when the view does not say so, since it may lag). Raises the host's epoch when the
   * scene was placed here again.
   */
  async #stillPlacedHere(host: SceneHost): Promise<boolean> {
    const { placement } = this.#ctx.o.coordinator;
    let record = placement.lookup(host.sceneId);
    if (record?.engineId !== this.#ctx.o.engineId) record = await placement.fetch(host.sceneId);
    if (record?.engineId !== this.#ctx.o.engineId) return false;
    if (record.epoch > host.epoch) host.epoch = record.epoch;
    return true;
  }

  /**
   * Stop one scene: it saves everything, the writes land, then its players (if any) are sent
   * back to their gateways with `ENG_ERR_SCENE_MOVED`, which route them to wherever the scene
   * is placed next, keeping their sockets.
   */
  async #retire(host: SceneHost, why: string): Promise<void> {
    const ctx = this.#ctx;
    const { sceneId } = host;
    if (this.#hosts.get(sceneId) !== host) return;
    const { players } = await this.#stopAndSave(host);
    ctx.log.info({ sceneId, epoch: host.epoch, players: players.length }, `scene stopped: ${why}`);
    const moved = encodeJoinFailedBody({ code: ErrorCodes.ENG_ERR_SCENE_MOVED, message: `scene ${sceneId} was stopped on ${ctx.o.engineId}: ${why}` });
    for (const conn of players) {
      if (conn.state === 'gone') continue;
      if (ctx.seats.vacate(conn.playerId, conn.sid)) ctx.persister.release('player', conn.playerId);
      for (const frame of takeEarly(conn)) refuseFrame(ctx, conn.peer, conn.connId, frame, ErrorCodes.ENG_ERR_SCENE_MOVED, 'the scene moved; retry shortly');
      ctx.conns.drop(conn);
      sendTo(ctx, conn.peer, EngineToGateway.JOIN_FAILED, conn.connId, moved);
    }
    if (players.length > 0) ctx.setLoad();
  }

  /**
   * Take a running scene off this engine: it saves everything and the writes land (a start of
   * it meanwhile waits). Its players' frames wait (bounded) in the meantime. Returns them.
   */
  async #stopAndSave(host: SceneHost, atTick = false): Promise<{ players: Conn[]; clean: boolean; nextTickAt: number | undefined }> {
    const ctx = this.#ctx;
    const { sceneId } = host;
    this.#takeOut(host);
    const players = ctx.conns.inScene(host.sids);
    for (const conn of players) conn.state = 'joining';
    let clean = false;
    const done = (async () => {
      clean = await this.#stop(host, atTick);
      ctx.calls.sceneEnded(host);
      await ctx.persister.settle('scene', sceneId);
      for (const conn of players) await ctx.persister.settle('player', conn.playerId);
    })().catch((err: unknown) => {
      // Nothing above is expected to throw; whatever did, a restart and the players go on.
      ctx.log.error({ err, sceneId }, 'stopping a scene failed');
    });
    this.#retiring.set(sceneId, done);
    try {
      await done;
    } finally {
      if (this.#retiring.get(sceneId) === done) this.#retiring.delete(sceneId);
    }
    if (!this.#hosts.has(sceneId)) ctx.persister.release('scene', sceneId);
    const nextTickAt = clean ? await host.done.then((r) => r.nextTickAt, () => undefined) : undefined;
    return { players, clean, nextTickAt };
  }

  /**
   * Ask a scene to persist and dispose; one that does not answer within `stopTimeoutMs` is
   * abandoned (its changes since the last periodic save are lost, and logged as such).
   */
  async #stop(host: SceneHost, atTick = false): Promise<boolean> {
    // stop() settles once the task has ended, crashed or not; `done` tells which.
    const ended = host.stop(atTick).then(() => host.done.then(() => 'saved' as const, () => 'crashed' as const));
    const outcome = await Promise.race([ended, sleep(this.#ctx.o.stopTimeoutMs).then(() => 'late' as const)]);
    if (outcome === 'late') {
      this.#ctx.log.error({ sceneId: host.sceneId, timeoutMs: this.#ctx.o.stopTimeoutMs }, 'scene did not stop in time; abandoned');
      host.abandon();
    }
    return outcome === 'saved';
  }

  /** The engine closes (no start is taken any more): wait for starts and stops under way, then stop every scene. */
  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.#starting.values(), ...this.#retiring.values()]);
    const hosts = [...this.#hosts.values()];
    this.#hosts.clear();
    await Promise.allSettled(hosts.map((h) => this.#stop(h)));
  }
}
