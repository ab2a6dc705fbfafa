import { fileURLToPath } from 'node:url';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import {
  CloseCode,
  CodedError,
  ErrorCodes,
  isCodedError,
  readFrameHeader,
  encodeErrorFrame,
  encodeSceneRestartedFrame,
  toErrorData,
  type ErrorData,
  type Logger,
} from '@gos/schema';
import { sceneTypeOf, type MemberHandle, type PlacementEvent } from '@gos/coordinator';
import {
  EngineToGateway,
  GatewayToEngine,
  LinkServer,
  decodeJsonBody,
  encodeBroadcastBody,
  encodeJsonBody,
  type JoinBody,
  type LinkPeer,
} from '@gos/link';

import { resolveEngineOptions, type EngineOptions, type ResolvedEngineOptions } from './options.js';
import { EngineMetrics } from './metrics.js';
import { Persister } from './persister.js';
import { FromScene, ToScene, type JoinPayload, type SavePayload } from './records.js';
import { SceneHost } from './scene-host.js';

const WORKER_ENTRY = fileURLToPath(new URL('./worker/entry.js', import.meta.url));
const decoder = new TextDecoder();

interface Conn {
  readonly sid: number;
  readonly peer: LinkPeer;
  readonly connId: number;
  readonly playerId: string;
  readonly name: string;
  readonly sceneId: string;
  state: 'joining' | 'joined' | 'gone';
  /** Frames received while joining, written to the scene after JOIN (bounded: see EngineOptions.maxFramesWhileJoining). */
  early: Uint8Array[];
  /** Bytes of {@link early}. */
  earlyBytes: number;
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

/** The frames a connection holds while joining, in order; it holds none after. */
function takeEarly(conn: Conn): Uint8Array[] {
  conn.earlyBytes = 0;
  return conn.early.splice(0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * An engine process: hosts scenes on worker threads, serves gateways over links, and writes
 * hot data back to the store. The main thread never runs game code.
 */
export class Engine {
  readonly #o: ResolvedEngineOptions;
  readonly #log: Logger;
  #pool: Piscina | undefined;
  #link: LinkServer | undefined;
  #member: MemberHandle | undefined;
  #persister: Persister;
  readonly #metrics: EngineMetrics;
  readonly #scenes = new Map<string, SceneHost>();
  readonly #starting = new Map<string, Promise<SceneHost>>();
  readonly #conns = new Map<number, Conn>();
  /**
   * Per gateway link, its connection ids → engine sids. Keyed by link, not gateway id: a
   * restarted gateway reuses its id and conn ids. Numeric keys: no string built per frame.
   */
  readonly #sidsByPeer = new WeakMap<LinkPeer, Map<number, number>>();
  /** playerId → sid of the connection that owns the player in its scene. */
  readonly #activePlayers = new Map<string, number>();
  /**
   * playerId → resolved once the scene has answered the LEAVE of the player's connection `sid`
   * (handing over its last data), so a rejoin loads what was just written.
   */
  readonly #leaving = new Map<string, Deferred & { sid: number; sceneId: string }>();
  /** sid → playerId of the entries of {@link #leaving}. */
  readonly #leavingBySid = new Map<number, string>();
  readonly #restarts = new Map<string, number[]>();
  /** Scenes being stopped (idle, or their placement went elsewhere); a new start waits for it. */
  readonly #retiring = new Map<string, Promise<void>>();
  /** Placement (`sceneId@epoch`) of this engine → since when it has had no player. */
  readonly #emptySince = new Map<string, number>();
  /** The idle scenes last published (see MemberInfo.idleScenes). */
  #idleReported: Record<string, number> = {};
  #upkeepTimer: ReturnType<typeof setInterval> | undefined;
  /** Each worker's event-loop utilisation at the last upkeep: the next one measures from it. */
  readonly #elu = new WeakMap<Worker, EventLoopUtilization>();
  /** Scenes and utilisation last published (none yet: the first upkeep publishes them). */
  #figures = { scenes: -1, utilisation: -1 };
  #unwatchPlacement: (() => void) | undefined;
  #nextSid = 1;
  #state: 'new' | 'running' | 'closing' | 'closed' = 'new';
  #closing: Promise<void> | undefined;

  constructor(options: EngineOptions) {
    this.#o = resolveEngineOptions(options);
    this.#log = this.#o.logger.child({ engineId: this.#o.engineId });
    this.#metrics = new EngineMetrics(this.#o.metrics, {
      players: () => this.#activePlayers.size,
      scenes: () => [...this.#scenes.values()].map((h) => ({ sceneId: h.sceneId, sceneType: h.sceneType, queuedBytes: h.queuedBytes })),
      links: () => (this.#link?.peers ?? []).map((peer) => ({ gatewayId: peer.nodeId, queuedBytes: peer.stats.queuedBytes })),
      persister: () => this.#persister.stats,
    });
    this.#persister = new Persister(this.#o.store, {
      batchWindowMs: this.#o.persistBatchWindowMs,
      logger: this.#log,
      onBatch: (rows, seconds, failed) => this.#metrics.batch(rows, seconds, failed),
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

  get stats(): { scenes: number; players: number; persister: Persister['stats'] } {
    return { scenes: this.#scenes.size, players: this.#activePlayers.size, persister: this.#persister.stats };
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    this.#state = 'running';
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
    });
    this.#link = new LinkServer({
      nodeId: this.#o.engineId,
      secret: this.#o.clusterSecret,
      host: this.#o.linkHost,
      port: this.#o.linkPort,
      tls: this.#o.linkTls,
      logger: this.#log,
    });
    this.#link.on('peer', (peer: LinkPeer) => this.#onPeer(peer));
    await this.#link.start();
    this.#member = await this.#o.coordinator.membership.register({
      id: this.#o.engineId,
      role: 'engine',
      address: this.address,
      capacity: this.#o.capacity,
    });
    this.#unwatchPlacement = this.#o.coordinator.placement.watch((event) => this.#onPlacement(event));
    const upkeepMs = this.#o.idleSceneMs > 0 ? Math.min(1000, Math.max(10, Math.floor(this.#o.idleSceneMs / 4))) : 1000;
    this.#upkeepTimer = setInterval(() => this.#upkeep(), upkeepMs);
    this.#upkeepTimer.unref();
    this.#log.info({ address: this.address, workers: this.#o.workers, capacity: this.#o.capacity }, 'engine started');
  }

  // ---- gateways ----

  #sidsOf(peer: LinkPeer): Map<number, number> {
    let sids = this.#sidsByPeer.get(peer);
    if (sids === undefined) {
      sids = new Map();
      this.#sidsByPeer.set(peer, sids);
    }
    return sids;
  }

  #connOf(peer: LinkPeer, connId: number): Conn | undefined {
    const sid = this.#sidsByPeer.get(peer)?.get(connId);
    return sid === undefined ? undefined : this.#conns.get(sid);
  }

  #setLoad(): void {
    this.#member?.setLoad(this.#activePlayers.size).catch((err: unknown) => this.#log.warn({ err }, 'cannot publish load'));
  }

  #onPeer(peer: LinkPeer): void {
    const log = this.#log.child({ gatewayId: peer.nodeId });
    log.info('gateway linked');
    peer.on('message', (type: number, channel: number, body: Uint8Array) => {
      try {
        switch (type) {
          case GatewayToEngine.CLIENT_FRAME:
            this.#onClientFrame(peer, channel, body);
            break;
          case GatewayToEngine.JOIN:
            void this.#onJoin(peer, channel, decodeJsonBody<JoinBody>(body));
            break;
          case GatewayToEngine.LEAVE:
            this.#onLeave(peer, channel);
            break;
          default:
            log.warn({ type }, 'unknown link message type');
        }
      } catch (err) {
        log.error({ err, type }, 'bad link message');
      }
    });
    peer.on('close', () => {
      log.info('gateway link closed; its players leave');
      for (const conn of [...this.#conns.values()]) if (conn.peer === peer) this.#onLeave(peer, conn.connId);
    });
  }

  async #onJoin(peer: LinkPeer, connId: number, body: JoinBody): Promise<void> {
    const peerSids = this.#sidsOf(peer);
    if (peerSids.has(connId)) return;
    const refuse = (error: ErrorData): void => {
      this.#safeSend(peer, EngineToGateway.JOIN_FAILED, connId, encodeJsonBody(error));
    };
    if (this.#state !== 'running') return refuse({ code: ErrorCodes.ENG_ERR_SHUTTING_DOWN, message: 'engine is shutting down' });
    const sid = this.#nextSid;
    this.#nextSid = this.#nextSid >= 0xfffffff0 ? 1 : this.#nextSid + 1;
    const conn: Conn = { sid, peer, connId, playerId: body.playerId, name: body.name, sceneId: body.sceneId, state: 'joining', early: [], earlyBytes: 0 };
    this.#conns.set(sid, conn);
    peerSids.set(connId, sid);
    try {
      let placement = this.#o.coordinator.placement.lookup(body.sceneId);
      // The gateway placed the scene a moment ago: this engine's view of placement (a watch)
      // may not have caught up yet. Ask the coordinator itself before refusing.
      if (placement?.engineId !== this.#o.engineId) placement = await this.#o.coordinator.placement.fetch(body.sceneId);
      if (placement?.engineId !== this.#o.engineId) {
        throw new CodedError(ErrorCodes.ENG_ERR_SCENE_MOVED, `scene ${body.sceneId} is not placed on ${this.#o.engineId}`);
      }
      // The CCU cap: every connection here but this one, unless it takes over its own player.
      if (this.#conns.size - 1 >= this.#o.capacity && !this.#activePlayers.has(body.playerId)) {
        throw new CodedError(ErrorCodes.ENG_ERR_FULL, `engine ${this.#o.engineId} is at its CCU cap (${this.#o.capacity} players)`);
      }
      await this.#withdrawIdle(body.sceneId);
      let host = await this.#scene(body.sceneId, placement.epoch);
      const activeSid = this.#activePlayers.get(body.playerId);
      // Takeover only when this very scene instance holds the player's hot data.
      const takeover = activeSid !== undefined && host.sids.has(activeSid);
      let data: unknown = null;
      if (!takeover) {
        await this.#leaving.get(body.playerId)?.promise;
        data = await this.#loadPlayer(body.playerId);
        // Looked up again: the scene may have crashed and restarted while the data loaded.
        host = await this.#scene(body.sceneId, placement.epoch);
      }
      if (conn.state === 'gone') return; // the socket closed while loading
      this.#activePlayers.set(body.playerId, sid);
      host.sids.add(sid);
      const join: JoinPayload = { playerId: body.playerId, name: body.name, data, takeover };
      host.send(ToScene.JOIN, sid, encodeJsonBody(join));
      conn.state = 'joined';
      for (const frame of takeEarly(conn)) host.send(ToScene.FRAME, sid, frame);
      this.#setLoad();
    } catch (err) {
      // Refusals by rule (scene placed elsewhere, engine full, …) are coded; anything else is a fault.
      if (isCodedError(err)) this.#log.warn({ code: err.code, sceneId: body.sceneId, playerId: body.playerId }, `join refused: ${err.message}`);
      else this.#log.error({ err, sceneId: body.sceneId, playerId: body.playerId }, 'join failed');
      this.#dropConn(conn);
      refuse(toErrorData(err, ErrorCodes.ENG_ERR_SCENE_NOT_FOUND));
    }
  }

  #onClientFrame(peer: LinkPeer, connId: number, frame: Uint8Array): void {
    const conn = this.#connOf(peer, connId);
    if (conn === undefined) return this.#refuseFrame(peer, connId, frame, ErrorCodes.ENG_ERR_NOT_JOINED, 'not joined');
    if (conn.state === 'joining') {
      // A join can take a while (a scene starting, a rejoin waiting for its last save): what the
      // gateway let through meanwhile waits, up to a bound. Not a full ring: the code says so.
      if (conn.early.length >= this.#o.maxFramesWhileJoining || conn.earlyBytes + frame.byteLength > this.#o.maxBytesWhileJoining) {
        const message = `not in its scene yet (joining) with ${conn.early.length} frames (${conn.earlyBytes} bytes) already waiting; retry once joined`;
        return this.#refuseFrame(peer, connId, frame, ErrorCodes.ENG_ERR_NOT_JOINED, message);
      }
      conn.early.push(frame.slice());
      conn.earlyBytes += frame.byteLength;
      return;
    }
    const host = this.#scenes.get(conn.sceneId);
    if (host === undefined) {
      // The scene is being stopped (the engine drains): answered now rather than never.
      const code = this.#state === 'running' ? ErrorCodes.ENG_ERR_SCENE_MOVED : ErrorCodes.ENG_ERR_SHUTTING_DOWN;
      return this.#refuseFrame(peer, connId, frame, code, 'the scene is stopping here; retry shortly');
    }
    try {
      host.send(ToScene.FRAME, conn.sid, frame);
    } catch (err) {
      const data = toErrorData(err, ErrorCodes.ENG_ERR_QUEUE_FULL);
      this.#refuseFrame(peer, connId, frame, data.code, data.message);
    }
  }

  /** Answer a client frame the engine cannot take with an ERROR frame for its request. */
  #refuseFrame(peer: LinkPeer, connId: number, frame: Uint8Array, code: string, message: string): void {
    const header = readFrameHeader(frame);
    if (header !== null) this.#safeSend(peer, EngineToGateway.TO_CLIENT, connId, encodeErrorFrame(header.opcode, header.requestId, code, message));
  }

  #onLeave(peer: LinkPeer, connId: number): void {
    const conn = this.#connOf(peer, connId);
    if (conn === undefined) return;
    const wasJoined = conn.state === 'joined';
    this.#dropConn(conn);
    if (!wasJoined) {
      // Left while its scene restarts or stops: nothing to tell the scene, but no seat held.
      if (this.#activePlayers.get(conn.playerId) === conn.sid) {
        this.#activePlayers.delete(conn.playerId);
        this.#persister.release('player', conn.playerId);
        this.#setLoad();
      }
      return;
    }
    const host = this.#scenes.get(conn.sceneId);
    host?.sids.delete(conn.sid);
    if (this.#activePlayers.get(conn.playerId) === conn.sid) {
      this.#activePlayers.delete(conn.playerId);
      if (host !== undefined) {
        // Until the scene answers this LEAVE with the player's last data, a rejoin waits.
        this.#leaving.get(conn.playerId)?.resolve();
        this.#leaving.set(conn.playerId, { ...deferred(), sid: conn.sid, sceneId: conn.sceneId });
        this.#leavingBySid.set(conn.sid, conn.playerId);
      }
    }
    this.#setLoad();
    if (host === undefined) return;
    try {
      host.send(ToScene.LEAVE, conn.sid, null);
    } catch (err) {
      // The scene cannot be told; it keeps the player until it is stopped or crashes.
      this.#log.error({ err, sceneId: conn.sceneId }, 'cannot deliver LEAVE');
      this.#leftAnswered(conn.sid);
    }
  }

  /** The scene answered the LEAVE of `sid` (or never will): release a rejoin waiting for it. */
  #leftAnswered(sid: number): void {
    const playerId = this.#leavingBySid.get(sid);
    if (playerId === undefined) return;
    this.#leavingBySid.delete(sid);
    const leaving = this.#leaving.get(playerId);
    if (leaving?.sid !== sid) return;
    leaving.resolve();
    this.#leaving.delete(playerId);
  }

  /**
   * Take over a player's row once every write still queued for it has landed: the claim fences
   * off any engine that hosted the player before (its late writes are refused).
   */
  async #loadPlayer(playerId: string): Promise<unknown> {
    await this.#persister.settle('player', playerId);
    const { record, fence } = await this.#o.store.claimPlayer(playerId);
    this.#persister.seed('player', playerId, record?.version ?? 0, fence);
    return record?.data ?? null;
  }

  #dropConn(conn: Conn): void {
    conn.state = 'gone';
    takeEarly(conn);
    this.#conns.delete(conn.sid);
    this.#sidsByPeer.get(conn.peer)?.delete(conn.connId);
  }

  // ---- scenes ----

  #scene(sceneId: string, epoch: number): Promise<SceneHost> {
    const running = this.#scenes.get(sceneId);
    if (running !== undefined) return Promise.resolve(running);
    let starting = this.#starting.get(sceneId);
    if (starting === undefined) {
      // Every scene holds a worker slot for its whole life: past the last slot piscina would
      // queue the scene's task and the join would hang until the gateway's join timeout.
      const slots = this.#o.workers * this.#o.scenesPerWorker;
      if (this.#scenes.size + this.#starting.size >= slots) {
        return Promise.reject(
          new CodedError(ErrorCodes.ENG_ERR_FULL, `engine ${this.#o.engineId} already hosts ${slots} scenes (workers × scenesPerWorker); cannot start ${sceneId}`),
        );
      }
      starting = this.#startScene(sceneId, epoch).finally(() => this.#starting.delete(sceneId));
      this.#starting.set(sceneId, starting);
    }
    return starting;
  }

  async #startScene(sceneId: string, epoch: number): Promise<SceneHost> {
    if (this.#pool === undefined) throw new CodedError(ErrorCodes.ENG_ERR_SHUTTING_DOWN, 'engine not started');
    // Started again while its previous instance is still stopping: after that one has saved.
    await this.#retiring.get(sceneId);
    await this.#persister.settle('scene', sceneId);
    // The claim fences off the engine that hosted the scene before, should it still be running.
    const { record, fence } = await this.#o.store.claimScene(sceneId);
    this.#persister.seed('scene', sceneId, record?.version ?? 0, fence);
    const logger = this.#log.child({ sceneId });
    const host: SceneHost = new SceneHost({
      pool: this.#pool,
      epoch,
      ringBytes: this.#o.ringBytes,
      logger,
      input: {
        sceneId,
        sceneType: sceneTypeOf(sceneId),
        gameModule: this.#o.gameModule,
        state: record?.data ?? null,
        tickMs: this.#o.tickMs,
        persistIntervalMs: this.#o.persistIntervalMs,
        logLevel: this.#o.workerLogLevel,
        engineId: this.#o.engineId,
      },
      onRecord: (type, a, b, payload) => this.#onSceneRecord(host, type, a, b, payload),
    });
    this.#scenes.set(sceneId, host);
    host.done.catch((err: unknown) => this.#onSceneCrash(host, err));
    try {
      await host.ready;
    } catch (err) {
      if (this.#scenes.get(sceneId) === host) this.#scenes.delete(sceneId);
      throw err;
    }
    // Released or moved while it started (a release then had no running scene to stop): it
    // must not run here unplaced. Stopped again (saving what it did) and the joins sent on.
    if (!(await this.#stillPlacedHere(host))) {
      void this.#retire(host, 'its placement was released while it started');
      throw new CodedError(ErrorCodes.ENG_ERR_SCENE_MOVED, `scene ${sceneId} is no longer placed on ${this.#o.engineId}`);
    }
    logger.info({ epoch: host.epoch }, 'scene started');
    return host;
  }

  #onSceneRecord(host: SceneHost, type: number, a: number, b: number, payload: Uint8Array): void {
    switch (type) {
      case FromScene.SEND: {
        const conn = this.#conns.get(a);
        if (conn !== undefined) this.#safeSend(conn.peer, EngineToGateway.TO_CLIENT, conn.connId, payload);
        break;
      }
      case FromScene.BROADCAST: {
        // One message per gateway that has players here; the gateway fans out with a uWS topic.
        const body = encodeBroadcastBody(`s/${host.sceneId}`, payload);
        const peers = new Set<LinkPeer>();
        for (const sid of host.sids) {
          const conn = this.#conns.get(sid);
          if (conn !== undefined) peers.add(conn.peer);
        }
        for (const peer of peers) this.#safeSend(peer, EngineToGateway.BROADCAST, 0, body);
        break;
      }
      case FromScene.JOINED: {
        const conn = this.#conns.get(a);
        if (conn !== undefined) this.#safeSend(conn.peer, EngineToGateway.JOINED, conn.connId, encodeJsonBody({ sceneId: host.sceneId }));
        break;
      }
      case FromScene.JOIN_FAILED: {
        const conn = this.#conns.get(a);
        host.sids.delete(a);
        if (conn !== undefined) {
          if (this.#activePlayers.get(conn.playerId) === a) this.#activePlayers.delete(conn.playerId);
          this.#dropConn(conn);
          this.#safeSend(conn.peer, EngineToGateway.JOIN_FAILED, conn.connId, payload.slice());
        }
        break;
      }
      case FromScene.KICK: {
        const conn = this.#conns.get(a);
        if (conn !== undefined) {
          this.#safeSend(conn.peer, EngineToGateway.KICK, conn.connId, encodeJsonBody({ closeCode: b, reason: decoder.decode(payload) }));
        }
        break;
      }
      case FromScene.SAVE_PLAYER: {
        const save = decodeJsonBody<SavePayload>(payload);
        if (save.data !== null) this.#persister.enqueue('player', save.playerId, save.data, host.sceneId);
        // The player's last data is queued: a rejoin may now load it.
        if (b === 1) {
          if (save.playerId !== '' && !this.#activePlayers.has(save.playerId)) this.#persister.release('player', save.playerId);
          this.#leftAnswered(a);
        }
        break;
      }
      case FromScene.SAVE_SCENE:
        this.#persister.enqueue('scene', host.sceneId, JSON.parse(decoder.decode(payload)));
        break;
      case FromScene.READY:
        host.markReady();
        break;
      case FromScene.STOPPED:
        break;
      case FromScene.STATS:
        this.#metrics.ticks(host.sceneType, new Float64Array(payload.slice().buffer), a);
        break;
      default:
        this.#log.warn({ type, sceneId: host.sceneId }, 'unknown record type from scene');
    }
  }

  async #onSceneCrash(host: SceneHost, err: unknown): Promise<void> {
    if (this.#scenes.get(host.sceneId) !== host) return;
    host.abandon();
    this.#scenes.delete(host.sceneId);
    const players = [...host.sids].map((sid) => this.#conns.get(sid)).filter((c): c is Conn => c !== undefined);
    // Until each is joined to the restarted scene, their frames wait (a scene that does not know
    // them yet would answer ENG_ERR_NOT_JOINED). Frames already in the dead ring are lost: the
    // gateways answer the requests among them.
    for (const conn of players) {
      conn.state = 'joining';
      this.#safeSend(conn.peer, EngineToGateway.SCENE_CRASHED, conn.connId, new Uint8Array(0));
    }
    // Players who left just before the crash will not get their last save handed over.
    for (const [sid, playerId] of [...this.#leavingBySid]) {
      if (this.#leaving.get(playerId)?.sceneId === host.sceneId) this.#leftAnswered(sid);
    }
    if (this.#state !== 'running') return;
    const now = Date.now();
    const recent = (this.#restarts.get(host.sceneId) ?? []).filter((t) => now - t < 60_000);
    recent.push(now);
    this.#restarts.set(host.sceneId, recent);
    this.#log.error({ err, sceneId: host.sceneId, players: players.length, restarts: recent.length }, 'scene crashed');
    if (recent.length > this.#o.maxSceneRestartsPerMinute) {
      this.#log.error({ sceneId: host.sceneId }, 'scene crashes too often; not restarting');
      for (const conn of players) {
        this.#activePlayers.delete(conn.playerId);
        this.#dropConn(conn);
        this.#kick(conn, CloseCode.ENGINE_UNAVAILABLE, 'scene unavailable');
      }
      return;
    }
    try {
      const restarted = await this.#scene(host.sceneId, host.epoch);
      for (const conn of players) {
        if (conn.state === 'gone') continue;
        const data = await this.#loadPlayer(conn.playerId);
        // The socket may have closed, or the player connected again, while the data loaded.
        if ((conn.state as Conn['state']) === 'gone') continue;
        if (this.#activePlayers.get(conn.playerId) !== conn.sid) {
          this.#dropConn(conn);
          this.#kick(conn, CloseCode.SESSION_REPLACED, 'connected again');
          continue;
        }
        restarted.sids.add(conn.sid);
        const join: JoinPayload = { playerId: conn.playerId, name: conn.name, data, takeover: false };
        restarted.send(ToScene.JOIN, conn.sid, encodeJsonBody(join));
        conn.state = 'joined';
        for (const frame of takeEarly(conn)) restarted.send(ToScene.FRAME, conn.sid, frame);
        this.#safeSend(conn.peer, EngineToGateway.TO_CLIENT, conn.connId, encodeSceneRestartedFrame(host.sceneId, 'the scene crashed and was restarted from its last saved state'));
      }
    } catch (restartErr) {
      this.#log.error({ err: restartErr, sceneId: host.sceneId }, 'scene restart failed');
      for (const conn of players) {
        if (this.#activePlayers.get(conn.playerId) === conn.sid) this.#activePlayers.delete(conn.playerId);
        this.#dropConn(conn);
        this.#kick(conn, CloseCode.ENGINE_UNAVAILABLE, 'scene unavailable');
      }
    }
  }

  // ---- placement: scenes that leave this engine ----

  /**
   * A scene this engine runs was released (idle, or its engine was presumed dead: a lost
   * lease), or placed elsewhere: stop it here, or two instances would run. Its late writes
   * would be fenced anyway; this hands its players over instead.
   */
  #onPlacement(event: PlacementEvent): void {
    const host = this.#scenes.get(event.record.sceneId);
    if (host === undefined || this.#state !== 'running') return;
    // A scene still starting is not in #scenes yet: #startScene checks its placement once started.
    if (event.type === 'released' && event.record.epoch >= host.epoch) void this.#retire(host, 'its placement was released');
    else if (event.type === 'placed' && event.record.engineId !== this.#o.engineId) void this.#retire(host, `it was placed on ${event.record.engineId}`);
    else if (event.type === 'placed' && event.record.epoch > host.epoch) host.epoch = event.record.epoch;
  }

  #upkeep(): void {
    if (this.#state !== 'running') return;
    if (this.#o.idleSceneMs > 0) this.#checkIdle();
    this.#publishFigures();
  }

  /**
   * Publish the scenes running and the workers' mean event-loop utilisation since the last
   * upkeep, when either moved enough to matter (each publish is an etcd write).
   */
  #publishFigures(): void {
    const threads = this.#pool?.threads ?? [];
    let sum = 0;
    for (const worker of threads) {
      const now = worker.performance.eventLoopUtilization();
      const before = this.#elu.get(worker);
      this.#elu.set(worker, now);
      sum += before === undefined ? now.utilization : worker.performance.eventLoopUtilization(now, before).utilization;
    }
    const utilisation = threads.length === 0 ? 0 : Math.max(0, Math.round((sum / threads.length) * 100) / 100);
    const scenes = this.#scenes.size;
    if (scenes === this.#figures.scenes && Math.abs(utilisation - this.#figures.utilisation) < 0.05) return;
    this.#figures = { scenes, utilisation };
    this.#member?.publish({ scenes, utilisation }).catch((err: unknown) => this.#log.warn({ err }, 'cannot publish load'));
  }

  /**
   * Stop scenes placed here that have had no player for `idleSceneMs`, then report them idle
   * (MemberInfo.idleScenes) for the leader to release. A player entering one before the
   * release starts it again from what it saved.
   */
  #checkIdle(): void {
    const now = Date.now();
    const joining = new Set<string>();
    for (const conn of this.#conns.values()) if (conn.state === 'joining') joining.add(conn.sceneId);
    const idle: Record<string, number> = {};
    const seen = new Set<string>();
    for (const record of this.#o.coordinator.placement.scenesOf(this.#o.engineId)) {
      const key = `${record.sceneId}@${record.epoch}`;
      seen.add(key);
      const host = this.#scenes.get(record.sceneId);
      if ((host !== undefined && host.sids.size > 0) || this.#starting.has(record.sceneId) || joining.has(record.sceneId)) {
        this.#emptySince.delete(key);
        continue;
      }
      const since = this.#emptySince.get(key) ?? now;
      this.#emptySince.set(key, since);
      if (now - since < this.#o.idleSceneMs) continue;
      if (host !== undefined) void this.#retire(host, `it had no player for ${this.#o.idleSceneMs} ms`);
      else if (!this.#retiring.has(record.sceneId)) idle[record.sceneId] = record.epoch;
    }
    for (const key of [...this.#emptySince.keys()]) if (!seen.has(key)) this.#emptySince.delete(key);
    if (JSON.stringify(idle) === JSON.stringify(this.#idleReported)) return;
    this.#idleReported = idle;
    this.#member?.publish({ idleScenes: idle }).catch((err: unknown) => this.#log.warn({ err }, 'cannot publish idle scenes'));
  }

  /**
   * A player enters a scene reported idle: take the report back (and wait until it is
   * written) before starting the scene again, so the leader does not release it under the
   * player. A release already on its way is caught by the check after the start.
   */
  async #withdrawIdle(sceneId: string): Promise<void> {
    if (!(sceneId in this.#idleReported)) return;
    const { [sceneId]: _withdrawn, ...rest } = this.#idleReported;
    this.#idleReported = rest;
    await this.#member?.publish({ idleScenes: rest }).catch((err: unknown) => this.#log.warn({ err }, 'cannot publish idle scenes'));
  }

  /**
   * Whether the scene is still placed on this engine (its cached view first; the coordinator
   * itself when the view does not say so, since it may lag). Raises the host's epoch when the
   * scene was placed here again.
   */
  async #stillPlacedHere(host: SceneHost): Promise<boolean> {
    const { placement } = this.#o.coordinator;
    let record = placement.lookup(host.sceneId);
    if (record?.engineId !== this.#o.engineId) record = await placement.fetch(host.sceneId);
    if (record?.engineId !== this.#o.engineId) return false;
    if (record.epoch > host.epoch) host.epoch = record.epoch;
    return true;
  }

  /**
   * Stop one scene: it saves everything, the writes land, then its players (if any) are sent
   * back to their gateways with `ENG_ERR_SCENE_MOVED`, which route them to wherever the scene
   * is placed next, keeping their sockets.
   */
  async #retire(host: SceneHost, why: string): Promise<void> {
    const { sceneId } = host;
    if (this.#scenes.get(sceneId) !== host) return;
    this.#scenes.delete(sceneId);
    const players = [...host.sids].map((sid) => this.#conns.get(sid)).filter((c): c is Conn => c !== undefined);
    // Their frames wait (bounded) and are answered once the scene is gone.
    for (const conn of players) conn.state = 'joining';
    const done = (async () => {
      const stopped = await Promise.race([host.stop().then(() => true, () => false), sleep(this.#o.stopTimeoutMs).then(() => false)]);
      if (!stopped) {
        this.#log.error({ sceneId, timeoutMs: this.#o.stopTimeoutMs }, 'scene did not stop in time; abandoned');
        host.abandon();
      }
      await this.#persister.settle('scene', sceneId);
      for (const conn of players) await this.#persister.settle('player', conn.playerId);
    })().catch((err: unknown) => {
      // Nothing above is expected to throw; whatever did, a restart and the players go on.
      this.#log.error({ err, sceneId }, 'stopping a scene failed');
    });
    this.#retiring.set(sceneId, done);
    try {
      await done;
    } finally {
      if (this.#retiring.get(sceneId) === done) this.#retiring.delete(sceneId);
    }
    if (!this.#scenes.has(sceneId)) this.#persister.release('scene', sceneId);
    this.#log.info({ sceneId, epoch: host.epoch, players: players.length }, `scene stopped: ${why}`);
    const moved = encodeJsonBody({ code: ErrorCodes.ENG_ERR_SCENE_MOVED, message: `scene ${sceneId} was stopped on ${this.#o.engineId}: ${why}` });
    for (const conn of players) {
      if (conn.state === 'gone') continue;
      if (this.#activePlayers.get(conn.playerId) === conn.sid) {
        this.#activePlayers.delete(conn.playerId);
        this.#persister.release('player', conn.playerId);
      }
      for (const frame of takeEarly(conn)) this.#refuseFrame(conn.peer, conn.connId, frame, ErrorCodes.ENG_ERR_SCENE_MOVED, 'the scene moved; retry shortly');
      this.#dropConn(conn);
      this.#safeSend(conn.peer, EngineToGateway.JOIN_FAILED, conn.connId, moved);
    }
    if (players.length > 0) this.#setLoad();
  }

  #kick(conn: Conn, closeCode: number, reason: string): void {
    this.#safeSend(conn.peer, EngineToGateway.KICK, conn.connId, encodeJsonBody({ closeCode, reason }));
  }

  #safeSend(peer: LinkPeer, type: number, channel: number, body: Uint8Array): void {
    try {
      peer.send(type, channel, body);
    } catch (err) {
      // A gateway that is gone or too slow loses this message; its players reconnect and resync.
      this.#log.warn({ err, gatewayId: peer.nodeId, type }, 'link send failed');
    }
  }

  /**
   * Graceful shutdown: stop accepting players, persist and dispose every scene, flush the
   * store writes, then close links and threads. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'closed';
      return;
    }
    // From here joins are refused (ENG_ERR_SHUTTING_DOWN): gateways keep those players waiting,
    // and the leader places nothing new here.
    this.#state = 'closing';
    await this.#member?.publish({ draining: true }).catch((err: unknown) => this.#log.warn({ err }, 'cannot publish draining'));
    clearInterval(this.#upkeepTimer);
    this.#unwatchPlacement?.();
    await Promise.allSettled([...this.#starting.values(), ...this.#retiring.values()]);
    const hosts = [...this.#scenes.values()];
    this.#scenes.clear();
    // Each scene persists and disposes; one that does not answer in time is abandoned (its
    // changes since the last periodic save are lost, and logged as such).
    await Promise.allSettled(
      hosts.map(async (h) => {
        const stopped = await Promise.race([h.stop().then(() => true, () => false), sleep(this.#o.stopTimeoutMs).then(() => false)]);
        if (!stopped) {
          this.#log.error({ sceneId: h.sceneId, timeoutMs: this.#o.stopTimeoutMs }, 'scene did not stop in time; abandoned');
          h.abandon();
        }
      }),
    );
    // The final saves land before this engine leaves: leaving releases its placements, and
    // the engine that takes a scene over claims its rows, which would fence off later writes.
    try {
      await this.#persister.close();
    } finally {
      await this.#member?.leave();
    }
    // Gateways see the member leave (and the link close) and move these players to the
    // engine their scene is placed on next, which loads what was just saved.
    for (const conn of [...this.#conns.values()]) this.#dropConn(conn);
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
