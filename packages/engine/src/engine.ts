import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import type { MemberHandle } from '@gos/coordinator';
import { EngineToEngine, LinkServer, decodeAnswerBody, type GatewayPeer } from '@gos/link';

import { Connections } from './connections.js';
import { publishToScene, type EngineContext } from './engine-context.js';
import { LoadFigures } from './load-figures.js';
import { ThreadWarmup } from './thread-warmup.js';
import { WARM_CHANNEL_KEY } from './warm-records.js';
import { EngineMetrics } from './metrics.js';
import { resolveEngineOptions, type EngineOptions, type ResolvedEngineOptions } from './options.js';
import { Persister } from './persister.js';
import { Players } from './players.js';
import { Scenes } from './scenes.js';
import { PlayerSeats } from './seats.js';
import { Travels } from './travels.js';
import { CallRouter } from './calls.js';
import { PlayerPushes } from './player-pushes.js';
import { GameServices } from './game-services.js';
import { TimerWaker } from './timer-waker.js';
import { AdminConsole } from './admin.js';
import { SharedCache } from './shared-cache.js';
import { EnginePeers } from './engine-peers.js';
import { SceneMigrations, type MigrationOutcome } from './migrations.js';
import { servePeer } from './peer-messages.js';


/** Longest a takeover from another gateway waits for that gateway's SYNC_ACK (its link is up: an answer takes a round trip). */
const TAKEOVER_SYNC_MS = 1000;
const WORKER_ENTRY = fileURLToPath(new URL('./worker/load.cjs', import.meta.url));
/** How long start() waits for the scene threads to import the game before it registers anyway. */
const THREAD_WARMUP_TIMEOUT_MS = 15_000;

/**
 * An engine process: hosts scenes on worker threads (`Scenes`), serves gateways over links
 * (`Players`: what they send about their players), and writes hot data back to the store
 * (`Persister`). This class wires them, joins the cluster, and starts and stops it all. The main
 * thread never runs game code.
 */
export class Engine {
  readonly #o: ResolvedEngineOptions;
  readonly #log: Logger;
  readonly #ctx: EngineContext;
  readonly #scenes: Scenes;
  readonly #players: Players;
  readonly #travels: Travels;
  /** Live moves of this engine's scenes to other engines (docs/scaling.md). */
  readonly #migrations: SceneMigrations;
  readonly #calls: CallRouter;
  readonly #pushes: PlayerPushes;
  /** Leaderboards, player logs, config data, mail. */
  readonly #services: GameServices;
  /** Starts scenes and services that run nowhere when a durable timer of theirs is due. */
  readonly #timerWaker: TimerWaker;
  readonly #shared: SharedCache;
  /** The operator's REPL sessions (docs/repl.md). */
  readonly #admin: AdminConsole;
  /** Links to other engines, for calls between scenes on different engines. */
  readonly #peers: EnginePeers;
  readonly #persister: Persister;
  readonly #figures = new LoadFigures();
  #pool: Piscina | undefined;
  #link: LinkServer | undefined;
  /** Gateways of this process, linked in-process (see EngineOptions.localLinks). */
  readonly #localPeers = new Set<GatewayPeer>();
  #stopLocalLinks: (() => Promise<void>) | undefined;
  #member: MemberHandle | undefined;
  #upkeepTimer: ReturnType<typeof setInterval> | undefined;
  #unwatchPlacement: (() => void) | undefined;
  #unwatchMoves: (() => void) | undefined;
  #unwatchMembers: (() => void) | undefined;
  #state: 'new' | 'running' | 'closing' | 'closed' = 'new';
  #closing: Promise<void> | undefined;
  /** Aborted when close() is first called: a start still waiting for its threads gives up. */
  readonly #closeRequested = new AbortController();

  constructor(options: EngineOptions) {
    this.#o = resolveEngineOptions(options);
    const log = this.#o.logger.child({ engineId: this.#o.engineId });
    this.#log = log;
    const seats = new PlayerSeats();
    const metrics = new EngineMetrics(this.#o.metrics, {
      players: () => seats.size,
      scenes: () => [...this.#scenes.values()].map((h) => ({ sceneId: h.sceneId, sceneType: h.sceneType, queuedBytes: h.queuedBytes })),
      links: () => [...(this.#link?.peers ?? []), ...this.#localPeers].map((peer) => ({ gatewayId: peer.nodeId, queuedBytes: peer.stats.queuedBytes })),
      wakeups: () => this.#scenes.wakeups(),
      persister: () => this.#persister.stats,
      playerLogs: () => this.#services.playerLogs.stats,
    });
    this.#persister = new Persister(this.#o.store, {
      batchWindowMs: this.#o.persistBatchWindowMs,
      logger: log,
      onBatch: (rows, seconds, failed) => metrics.batch(rows, seconds, failed),
      onClaimRefused: (playerId, error) => this.#players.claimRefused(playerId, error),
    });
    this.#services = new GameServices(this.#o, log, {
      persister: this.#persister,
      pushes: () => this.#pushes,
      pushToAll: (frame) => {
        for (const host of this.#scenes.values()) if (host.sids.size > 0) publishToScene(this.#ctx, host, frame);
      },
    });
    this.#ctx = {
      o: this.#o,
      log,
      conns: new Connections((sid) => seats.refersTo(sid)),
      seats,
      persister: this.#persister,
      metrics,
      running: () => this.#state === 'running',
      setLoad: () => {
        this.#member?.setLoad(seats.size).catch((err: unknown) => log.warn({ err }, 'cannot publish load'));
      },
      travelRequested: (host, sid, travel) => this.#travels.requested(host, sid, travel),
      calls: {
        outgoing: (host, callId, call) => this.#calls.outgoing(host, callId, call),
        answered: (id, answer) => this.#calls.answered(id, answer),
        sceneEnded: (host) => this.#calls.sceneEnded(host),
        inUse: (sceneId, ms) => this.#calls.inUse(sceneId, ms),
      },
      pushes: { outgoing: (host, callId, push) => this.#pushes.outgoing(host, callId, push) },
      leaderboards: this.#services.leaderboards,
      mail: this.#services.mail,
      playerLogs: this.#services.playerLogs,
      config: this.#services.config,
      shared: { subscribe: (host, names) => this.#shared.subscribe(host, names) },
    };
    this.#scenes = new Scenes(this.#ctx, () => this.#pool, async (idleScenes) => {
      await this.#member?.publish({ idleScenes }).catch((err: unknown) => log.warn({ err }, 'cannot publish idle scenes'));
    });
    this.#players = new Players(this.#ctx, this.#scenes, (peer) => this.#migrations.sync([peer], TAKEOVER_SYNC_MS));
    this.#travels = new Travels(this.#ctx, this.#scenes);
    this.#migrations = new SceneMigrations(this.#ctx, this.#scenes);
    this.#peers = new EnginePeers({
      engineId: this.#o.engineId,
      clusterSecret: this.#o.clusterSecret,
      tls: this.#o.linkTls,
      membership: this.#o.coordinator.membership,
      onMessage: (engineId, type, channel, body) => {
        try {
          if (type === EngineToEngine.ANSWER) this.#calls.remoteAnswered(engineId, channel, decodeAnswerBody(body));
          else log.warn({ peerEngineId: engineId, type }, 'unknown message from engine');
        } catch (err) {
          log.error({ err, peerEngineId: engineId, type }, 'bad message from engine');
        }
      },
      onDown: (engineId) => this.#calls.linkDown(engineId),
      logger: log,
    });
    this.#calls = new CallRouter(this.#ctx, this.#scenes, this.#peers, (to, message, payload) => this.#admin.verifyRemote(to, message, payload));
    this.#pushes = new PlayerPushes(this.#ctx, this.#calls, this.#o.presence);
    this.#shared = new SharedCache(this.#ctx, this.#o.sharedPollMs);
    this.#timerWaker = new TimerWaker(this.#ctx, this.#calls, this.#scenes, this.#o.timerScanIntervalMs);
    this.#admin = new AdminConsole(this.#ctx, this.#calls, this.#scenes, this.#o.presence, this.#o.adminCredentials, {
      migrate: (sceneId, to) => this.#migrations.migrate(sceneId, to),
      drain: () => {
        this.#log.info('drain requested by an operator');
        if (this.#o.onDrainRequest !== null) this.#o.onDrainRequest();
        else void this.close().catch((err: unknown) => this.#log.error({ err }, 'drain failed'));
      },
    });
  }

  get id(): string {
    return this.#o.engineId;
  }

  /** The link address gateways dial (`host:port`), once started. */
  get address(): string {
    if (this.#link === undefined) throw new CodedError(ErrorCodes.ENG_ERR_SHUTTING_DOWN, 'engine not started');
    return `${this.#o.advertiseHost}:${this.#link.port}`;
  }

  /** Calls between scenes waiting for an answer here, and deliveries queued (tests: both go back to 0). */
  get callsPending(): { readonly waiting: number; readonly queues: number; readonly pushes: number } {
    return { ...this.#calls.pending, pushes: this.#pushes.pending };
  }

  /** Scenes running, players seated, players out of their scene in the middle of a travel, the persister's counts. */
  get stats(): { scenes: number; players: number; travelling: number; persister: Persister['stats'] } {
    let travelling = 0;
    for (const conn of this.#ctx.conns.values()) if (conn.travellingTo !== null) travelling++;
    return { scenes: this.#scenes.size, players: this.#ctx.seats.size, travelling, persister: this.#persister.stats };
  }

  /**
   * Move scene `sceneId`, running here, live to engine `to` (default: the least loaded other
   * engine with room), its players connected (docs/scaling.md).
   * @throws CodedError `ENG_ERR_MIGRATION` (the scene runs on here), `CRD_ERR_NO_ENGINE`, `ENG_ERR_SHUTTING_DOWN`
   */
  migrateScene(sceneId: string, to?: string): Promise<MigrationOutcome> {
    return this.#migrations.migrate(sceneId, to);
  }

  /** The gateways linked to this engine (over TCP or in-process). */
  #gatewayPeers(): GatewayPeer[] {
    const { membership } = this.#o.coordinator;
    return [...(this.#link?.peers ?? []).filter((p) => membership.get(p.nodeId)?.role === 'gateway'), ...this.#localPeers];
  }

  /** The scenes running here, by id. */
  get sceneIds(): string[] {
    return [...this.#scenes.values()].map((h) => h.sceneId);
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    this.#state = 'running';
    const warmup = new ThreadWarmup();
    this.#pool = new Piscina({
      filename: WORKER_ENTRY,
      minThreads: this.#o.workers,
      maxThreads: this.#o.workers,
      concurrentTasksPerWorker: this.#o.scenesPerWorker,
      // Scene tasks live as long as the scene; a worker is never idle while it hosts one.
      idleTimeout: Infinity,
      maxQueue: 'auto',
      // An idle worker waits for its next task on a message port rather than blocking in
      // Atomics.wait: tasks (scenes) start rarely, and a blocked thread reads as 100% busy in
      // its event-loop utilisation, which the engine publishes for placement.
      atomics: 'disabled',
      resourceLimits: { maxYoungGenerationSizeMb: this.#o.workerYoungGenerationMb },
      // Each thread imports the game as it starts (worker/entry.ts), not when its first scene
      // does, and says when it has (thread-warmup.ts).
      workerData: { gameModule: this.#o.gameModule, [WARM_CHANNEL_KEY]: warmup.channelName },
    });
    this.#link = new LinkServer({
      nodeId: this.#o.engineId,
      secret: this.#o.clusterSecret,
      host: this.#o.linkHost,
      port: this.#o.linkPort,
      tls: this.#o.linkTls,
      logger: this.#log,
    });
    this.#link.on('peer', (peer: GatewayPeer) => this.#onPeer(peer));
    // The config in force before any scene starts (they start with it).
    await this.#services.startConfig();
    await this.#link.start();
    if (this.#closeRequested.signal.aborted) {
      warmup.close();
      return;
    }
    this.#stopLocalLinks = this.#o.localLinks?.serve(this.#o.engineId, (peer) => {
      this.#localPeers.add(peer);
      peer.once('close', () => this.#localPeers.delete(peer));
      this.#onPeer(peer);
    });
    // Registered (placements may come) once the scene threads have imported the game.
    const warm = await warmup.wait(this.#o.workers, THREAD_WARMUP_TIMEOUT_MS, this.#closeRequested.signal);
    // Closed while the threads started: the close has taken down what was started; nothing registers.
    if (this.#closeRequested.signal.aborted) return;
    if (warm.timedOut) this.#log.warn({ threads: this.#o.workers, warm: warm.warm, waitedMs: warm.ms }, 'scene threads not all started in time; registering anyway (the first scenes may start slowly)');
    for (const error of warm.failed) this.#log.error({ gameModule: this.#o.gameModule, error }, 'a scene thread cannot import the game; its scenes will fail to start');
    const member = await this.#o.coordinator.membership.register({
      id: this.#o.engineId,
      role: 'engine',
      address: this.address,
      capacity: this.#o.capacity,
    });
    if (this.#closeRequested.signal.aborted) {
      // Closed while registering: the close did not see this membership, so it is left here.
      await member.leave().catch((err: unknown) => this.#log.warn({ err }, 'cannot leave the cluster after a close during start'));
      return;
    }
    this.#member = member;
    this.#unwatchPlacement = this.#o.coordinator.placement.watch((event) => this.#scenes.onPlacement(event));
    // The leader's rebalancing asks this engine to move a scene live (and so may an earlier leader).
    this.#unwatchMoves = this.#o.coordinator.moves.watch((request) => this.#migrations.requested(request));
    for (const request of this.#o.coordinator.moves.list()) this.#migrations.requested(request);
    // An engine that left: its link (for calls between scenes) is closed, its calls answered.
    this.#unwatchMembers = this.#o.coordinator.membership.watch((event) => {
      if (event.type !== 'down' || event.member.role !== 'engine' || event.member.id === this.#o.engineId) return;
      this.#peers.drop(event.member.id);
      this.#calls.linkDown(event.member.id);
    });
    const upkeepMs = this.#o.idleSceneMs > 0 ? Math.min(1000, Math.max(10, Math.floor(this.#o.idleSceneMs / 4))) : 1000;
    this.#upkeepTimer = setInterval(() => this.#upkeep(), upkeepMs);
    this.#upkeepTimer.unref();
    this.#timerWaker.start();
    this.#shared.start();
    this.#services.start();
    this.#log.info({ address: this.address, workers: this.#o.workers, capacity: this.#o.capacity, threadsWarmMs: warm.ms }, 'engine started');
  }

  #onPeer(peer: GatewayPeer): void {
    servePeer(peer, {
      engineId: this.#o.engineId,
      membership: this.#o.coordinator.membership,
      players: this.#players,
      travels: this.#travels,
      migrations: this.#migrations,
      admin: this.#admin,
      calls: this.#calls,
      logger: this.#log,
    });
  }

  /** Idle scenes stopped and reported; the scenes and thread utilisation published when they moved. */
  #upkeep(): void {
    if (this.#state !== 'running') return;
    if (this.#o.idleSceneMs > 0) this.#scenes.checkIdle();
    const sceneLoads: Record<string, number> = {};
    const sceneCosts: Record<string, number> = {};
    for (const host of this.#scenes.values()) {
      sceneLoads[host.sceneId] = host.sids.size;
      sceneCosts[host.sceneId] = host.tickCost;
    }
    const figures = this.#figures.next(this.#pool?.threads ?? [], sceneLoads, sceneCosts);
    if (figures !== null) this.#member?.publish(figures).catch((err: unknown) => this.#log.warn({ err }, 'cannot publish load'));
  }

  /**
   * Graceful shutdown: stop accepting players, persist and dispose every scene, flush the
   * store writes, then close links and threads. Idempotent.
   */
  close(): Promise<void> {
    this.#closeRequested.abort();
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'closed';
      return;
    }
    // The leader places nothing new here from now on.
    await this.#member?.publish({ draining: true }).catch((err: unknown) => this.#log.warn({ err }, 'cannot publish draining'));
    if (this.#o.migrateOnClose) await this.#migrations.moveAll(() => this.#gatewayPeers());
    // From here joins are refused (ENG_ERR_SHUTTING_DOWN): gateways keep those players waiting.
    this.#state = 'closing';
    clearInterval(this.#upkeepTimer);
    this.#timerWaker.stop();
    this.#shared.stop();
    this.#unwatchPlacement?.();
    this.#unwatchMoves?.();
    this.#unwatchMembers?.();
    await this.#scenes.stopAll();
    await this.#services.close();
    // The final saves land before this engine leaves: leaving releases its placements, and
    // the engine that takes a scene over claims its rows, which would fence off later writes.
    try {
      await this.#persister.close();
    } finally {
      await this.#member?.leave();
    }
    // Gateways see the member leave (and the link close) and move these players to the
    // engine their scene is placed on next, which loads what was just saved.
    for (const conn of [...this.#ctx.conns.values()]) this.#ctx.conns.drop(conn);
    await this.#stopLocalLinks?.();
    await this.#peers.close();
    await this.#link?.close();
    await this.#pool?.close({ force: true });
    this.#state = 'closed';
    const stats = this.#persister.stats;
    this.#log.info(stats, 'engine closed');
    if (stats.pending > 0) {
      throw new CodedError(ErrorCodes.STO_ERR_CONNECTION, `${stats.pending} rows could not be written before shutdown`);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
