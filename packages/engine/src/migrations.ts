/**
 * Live scene migration, the source engine's side (docs/scaling.md): a running scene moves to
 * another engine while its players stay connected.
 *
 * 1. Hold: each player's gateway is told MIGRATING and answers MIGRATE_HOLD once it holds the
 *    player's frames; the link is ordered, so every frame sent before is already in the scene's
 *    ring, and none follows. A gateway that does not answer in `migrationHoldTimeoutMs` (or a
 *    target that is no longer a live engine with room) gives the move up: MIGRATE_ABORTED, the
 *    held frames come here in order, and the scene never stopped.
 * 2. Freeze: the scene handles what its ring holds, saves its state, its players' data and its
 *    timers, and stops; the writes land.
 * 3. Hand-over: the placement moves to the target at the scene's epoch (a new epoch: the
 *    target's claim fences this engine off), and each player gets MIGRATED. Its gateway joins the
 *    scene where it is placed now, which loads what was just saved, then sends the held frames.
 *
 * Should the hand-over of the placement fail, the players follow the placement as it is (this
 * engine): the scene starts again here from the save just made. Nothing is lost either way.
 */
import { CodedError, ErrorCodes } from '@gos/schema';
import { pickLeastLoadedEngine, type MemberInfo, type MoveRequest } from '@gos/coordinator';
import { EngineToGateway, encodeJoinFailedBody, encodeMigratedBody, encodeMigratingBody, type GatewayPeer } from '@gos/link';
import { takeEarly, type Conn } from './connections.js';
import { refuseFrame, sendTo, type EngineContext } from './engine-context.js';
import type { SceneHost } from './scene-host.js';
import type { Scenes } from './scenes.js';
import { drainWaves } from './drain-waves.js';
import { ARRIVAL_TIMEOUT_MS, WaveArrivals } from './arrivals.js';

/** How long a draining engine waits for each gateway to confirm it read the last MIGRATED messages. */
const SYNC_TIMEOUT_MS = 2000;

/** What a live move did. */
export interface MigrationOutcome {
  readonly sceneId: string;
  readonly from: string;
  /** The engine the placement names now (this one, should the hand-over of the placement have failed). */
  readonly to: string;
  /** The placement's epoch after the move. */
  readonly epoch: number;
  /** Players handed over with the scene. */
  readonly players: number;
  /** From the first MIGRATING to the last MIGRATED sent, ms: how long the scene did not run anywhere (plus the target's start). */
  readonly frozenMs: number;
  /** Of which: waiting for the gateways to hold the players' frames. */
  readonly holdMs: number;
  /** Of which: the final save. */
  readonly saveMs: number;
}

export class SceneMigrations {
  readonly #ctx: EngineContext;
  readonly #scenes: Scenes;
  /**
   * Connections whose gateway has not confirmed MIGRATE_HOLD yet, by link and connection id (not
   * by Conn: a player that left meanwhile is dropped, and its gateway still answers).
   */
  readonly #holds = new Map<GatewayPeer, Map<number, { readonly move: number; readonly resolve: () => void }>>();
  #nextMove = 1;

  /** SYNCs sent and not answered yet, by id. */
  readonly #syncs = new Map<number, () => void>();
  #nextSync = 1;

  constructor(ctx: EngineContext, scenes: Scenes) {
    this.#ctx = ctx;
    this.#scenes = scenes;
  }

  /**
   * Move scene `sceneId`, running here, to engine `to` (default: the least loaded other engine
   * with room, by the placement policy). Resolves once its players are sent on.
   * @throws CodedError `ENG_ERR_MIGRATION` (not running here, moving already, a bad target, the
   *   gateways did not hold in time: the scene runs on here), `CRD_ERR_NO_ENGINE` (no other
   *   engine with room), `ENG_ERR_SHUTTING_DOWN`.
   */
  migrate(sceneId: string, to?: string): Promise<MigrationOutcome> {
    const host = this.#scenes.running(sceneId);
    if (host === undefined) return Promise.reject(new CodedError(ErrorCodes.ENG_ERR_MIGRATION, `scene ${sceneId} does not run on engine ${this.#ctx.o.engineId}`));
    return this.#scenes.whileMoving(sceneId, () => this.#migrate(host, to));
  }

  /**
   * The drain: move every scene of this engine live to the others in waves (a crowded scene
   * alone, small ones a few at a time: see drain-waves.ts), each to the
   * least loaded engine with room. A scene that cannot move stays (the caller saves and stops it
   * with the rest). Then wait until every gateway has read the last MIGRATED messages.
   */
  async moveAll(gateways: () => readonly GatewayPeer[]): Promise<void> {
    const { o, log } = this.#ctx;
    const { membership } = o.coordinator;
    // No scene is started here any more; the ones running move (a join to one of them goes with it).
    this.#scenes.stopStarting();
    // A move an operator started just before goes on: its MIGRATED messages must be out before the barrier.
    const underWay = this.#scenes.movesUnderWay();
    await Promise.allSettled(underWay);
    const others = (): boolean => membership.list('engine').some((m) => m.id !== o.engineId && m.draining !== true && m.load < m.capacity);
    const hosts = [...this.#scenes.values()];
    const sceneIds = hosts.map((h) => h.sceneId);
    // Alone (the embedded npm start), or nothing to move: the close saves and stops as always.
    if (sceneIds.length === 0 || !others()) {
      if (underWay.length > 0) await this.sync(gateways(), SYNC_TIMEOUT_MS);
      return;
    }
    const startedAt = performance.now();
    const deadline = startedAt + o.drainTimeoutMs;
    let moved = 0;
    /** Time spent waiting for waves to arrive on their engines (see arrivals.ts), and waves that did not in time. */
    let arrivalMs = 0;
    let late = 0;
    for (const batch of drainWaves(hosts.map((h) => ({ sceneId: h.sceneId, players: h.sids.size })))) {
      if (!others() || performance.now() >= deadline) break;
      // A scene an operator moved (or is moving) meanwhile is not this drain's to move.
      const wave = batch.filter((sceneId) => this.#scenes.running(sceneId) !== undefined && !this.#scenes.isMoving(sceneId));
      const arrivals = new WaveArrivals(membership);
      const outcomes = await Promise.allSettled(wave.map((sceneId) => this.migrate(sceneId)));
      outcomes.forEach((outcome, j) => {
        if (outcome.status === 'fulfilled') {
          moved++;
          if (outcome.value.to !== o.engineId) arrivals.sent(outcome.value.to, outcome.value.players);
        } else log.warn({ err: outcome.reason as unknown, sceneId: wave[j] }, 'scene not moved live; it is saved and stopped instead');
      });
      // A crowded wave: the next one (or this engine's departure) once its players are in where they went.
      if (!arrivals.paced) continue;
      const waitFrom = performance.now();
      if (!(await arrivals.arrived(Math.min(ARRIVAL_TIMEOUT_MS, deadline - waitFrom)))) late++;
      arrivalMs += performance.now() - waitFrom;
    }
    // A move started beside the drain (an operator's, just now) ends before the barrier.
    const beside = this.#scenes.movesUnderWay();
    await Promise.allSettled(beside);
    const left = [...this.#scenes.values()].length;
    if (left > 0) log.warn({ left, drainTimeoutMs: o.drainTimeoutMs }, 'scenes not moved live (no other engine with room, or out of time); they are saved and stopped, their players resume from that save');
    // The gateways read every MIGRATED before they hear that this engine left.
    if (moved > 0 || underWay.length > 0 || beside.length > 0) await this.sync(gateways(), SYNC_TIMEOUT_MS);
    log.info({ moved, scenes: sceneIds.length, ms: Math.round(performance.now() - startedAt), arrivalMs: Math.round(arrivalMs), lateWaves: late }, 'drained: scenes moved live');
  }

  /**
   * A move the leader asked for (rebalancing): made if it names this engine and the scene runs
   * here at that placement epoch; cleared either way, so the leader can ask for the next one.
   */
  requested(request: MoveRequest): void {
    const { o, log } = this.#ctx;
    if (request.from !== o.engineId) return;
    const clearNow = (): void => void o.coordinator.moves.clear(request.sceneId, request.epoch).catch(() => {});
    // Draining: the drain moves every scene itself; a move of its own beside it would race it.
    if (this.#scenes.startsStopped) return clearNow();
    const clear = (): Promise<void> => o.coordinator.moves.clear(request.sceneId, request.epoch).catch((err: unknown) => log.warn({ err, sceneId: request.sceneId }, 'cannot clear a move request'));
    const placed = o.coordinator.placement.lookup(request.sceneId);
    if (placed?.engineId !== o.engineId || placed.epoch !== request.epoch || this.#scenes.running(request.sceneId) === undefined || this.#scenes.isMoving(request.sceneId)) {
      void clear();
      return;
    }
    void this.migrate(request.sceneId, request.to)
      .then(
        (outcome) => log.info({ sceneId: outcome.sceneId, to: outcome.to, players: outcome.players }, 'rebalanced: scene moved at the leader\'s request'),
        (err: unknown) => log.warn({ err, sceneId: request.sceneId, to: request.to }, 'rebalancing move not made'),
      )
      .finally(() => void clear());
  }

  /** MIGRATE_HOLD from a gateway: it holds that player's frames from now on (for move `move`). */
  held(peer: GatewayPeer, connId: number, move: number): void {
    const hold = this.#holds.get(peer)?.get(connId);
    if (hold?.move === move) hold.resolve();
  }

  /**
   * Resolves once each of these gateways has handled every message this engine sent it before
   * (SYNC, answered SYNC_ACK), or closed, or after `timeoutMs`. A draining engine waits for it
   * before it leaves: its last MIGRATED messages must not be overtaken by its departure.
   */
  async sync(peers: readonly GatewayPeer[], timeoutMs: number): Promise<void> {
    await Promise.all(
      peers.map(
        (peer) =>
          new Promise<void>((resolve) => {
            const id = this.#nextSync;
            this.#nextSync = this.#nextSync >= 0x7fffffff ? 1 : this.#nextSync + 1;
            const done = (): void => {
              clearTimeout(timer);
              this.#syncs.delete(id);
              peer.off('close', done);
              resolve();
            };
            const timer = setTimeout(done, timeoutMs);
            this.#syncs.set(id, done);
            peer.once('close', done);
            sendTo(this.#ctx, peer, EngineToGateway.SYNC, id, new Uint8Array(0));
          }),
      ),
    );
  }

  /** SYNC_ACK `id` from a gateway. */
  synced(id: number): void {
    this.#syncs.get(id)?.();
  }

  /** A gateway's link closed: its players will not answer; they leave. */
  peerClosed(peer: GatewayPeer): void {
    for (const hold of this.#holds.get(peer)?.values() ?? []) hold.resolve();
  }

  async #migrate(host: SceneHost, to: string | undefined): Promise<MigrationOutcome> {
    const ctx = this.#ctx;
    const { sceneId } = host;
    const from = ctx.o.engineId;
    const startedAt = performance.now();
    const players = ctx.conns.inScene(host.sids).filter((conn) => conn.state === 'joined');
    const target = this.#target(to, players.length);
    const held = await this.#hold(players);
    const heldAt = performance.now();
    if (held !== null) {
      this.#abort(players);
      throw new CodedError(ErrorCodes.ENG_ERR_MIGRATION, `scene ${sceneId} stays on ${from}: ${held}`);
    }
    // The target may have gone while the gateways answered: check again before the freeze.
    let targetNow: MemberInfo;
    try {
      targetNow = this.#target(target.id, players.length);
    } catch (err) {
      this.#abort(players);
      throw err;
    }
    if (this.#scenes.running(sceneId) !== host) {
      // Crashed (and restarted) or stopped meanwhile: its players were dealt with there.
      this.#abort(players);
      throw new CodedError(ErrorCodes.ENG_ERR_MIGRATION, `scene ${sceneId} stopped on ${from} while its players were held`);
    }
    const epoch = host.epoch;
    const stopped = await this.#scenes.stopForMove(host);
    const savedAt = performance.now();
    // Every player of the scene when it stopped, including any that joined while it was held.
    const sent = new Set<Conn>([...players, ...stopped.players]);
    // The target ticks first when this engine would have, once these players are in.
    const coming = [...sent].filter((conn) => conn.state !== 'gone').length;
    const handover = stopped.nextTickAt === undefined ? undefined : { nextTickAt: stopped.nextTickAt, players: coming };
    let placed = await ctx.o.coordinator.placement.move(sceneId, epoch, targetNow.id, handover).catch((err: unknown) => {
      ctx.log.error({ err, sceneId, to: targetNow.id }, 'cannot hand the placement over; the players follow it as it is');
      return undefined;
    });
    placed ??= ctx.o.coordinator.placement.lookup(sceneId);
    // A scene that did not save (it crashed or hung while stopping) hands over its last periodic
    // save only: its players resume from it, as after a crash (SceneResumed), not "moved".
    const body = stopped.clean
      ? encodeMigratedBody({ sceneId, to: placed?.engineId ?? from })
      : encodeJoinFailedBody({ code: ErrorCodes.ENG_ERR_SCENE_MOVED, message: `scene ${sceneId} failed to save while moving off ${from}; resumed from its last save` });
    const type = stopped.clean ? EngineToGateway.MIGRATED : EngineToGateway.JOIN_FAILED;
    let count = 0;
    for (const conn of sent) {
      if (conn.state === 'gone') continue;
      if (ctx.seats.vacate(conn.playerId, conn.sid)) ctx.persister.release('player', conn.playerId);
      // Frames that came after the scene stopped (a player that joined during the hold, whose
      // gateway was not asked to hold): answered, not dropped unseen.
      for (const frame of takeEarly(conn)) refuseFrame(ctx, conn.peer, conn.connId, frame, ErrorCodes.ENG_ERR_SCENE_MOVED, 'the scene moved; retry shortly');
      ctx.conns.drop(conn);
      sendTo(ctx, conn.peer, type, conn.connId, body);
      count++;
    }
    if (!stopped.clean) ctx.log.error({ sceneId, to: placed?.engineId }, 'a moving scene did not save; its players resume from its last periodic save');
    ctx.setLoad();
    const doneAt = performance.now();
    const outcome: MigrationOutcome = {
      sceneId,
      from,
      to: placed?.engineId ?? from,
      epoch: placed?.epoch ?? epoch,
      players: count,
      frozenMs: Math.round(doneAt - startedAt),
      holdMs: Math.round(heldAt - startedAt),
      saveMs: Math.round(savedAt - heldAt),
    };
    ctx.log.info(outcome, 'scene moved live');
    return outcome;
  }

  /**
   * The engine to move to: `to` when it is a live engine with room for the scene's `players`,
   * else the policy's pick among the others that have room.
   */
  #target(to: string | undefined, players: number): MemberInfo {
    const { o } = this.#ctx;
    const { membership, placement } = o.coordinator;
    if (!this.#ctx.running()) throw new CodedError(ErrorCodes.ENG_ERR_SHUTTING_DOWN, 'engine is shutting down');
    const others = membership.list('engine').filter((m) => m.id !== o.engineId);
    const room = (m: MemberInfo): boolean => m.load + players <= m.capacity;
    if (to === undefined) {
      const withRoom = others.filter(room);
      if (withRoom.length === 0 && others.length > 0) throw new CodedError(ErrorCodes.CRD_ERR_NO_ENGINE, `no other engine has room for ${players} more players`);
      return pickLeastLoadedEngine(withRoom, (id) => placement.scenesOf(id).length);
    }
    const member = others.find((m) => m.id === to);
    const problem =
      to === o.engineId
        ? 'it is this engine'
        : member === undefined
          ? 'no such live engine'
          : member.draining === true
            ? 'it is stopping'
            : !room(member)
              ? `it has no room for ${players} more players (${member.load} of ${member.capacity})`
              : null;
    if (problem !== null) throw new CodedError(ErrorCodes.ENG_ERR_MIGRATION, `cannot move a scene to ${to}: ${problem}`);
    return member!;
  }

  /**
   * Ask each player's gateway to hold its frames, and wait for them all. Null once all hold (or
   * left); otherwise why not.
   */
  async #hold(players: readonly Conn[]): Promise<string | null> {
    const waits: Promise<void>[] = [];
    const move = this.#nextMove;
    this.#nextMove = this.#nextMove >= 0xfffffff0 ? 1 : this.#nextMove + 1;
    const body = encodeMigratingBody({ move });
    for (const conn of players) {
      let holds = this.#holds.get(conn.peer);
      if (holds === undefined) {
        holds = new Map<number, { readonly move: number; readonly resolve: () => void }>();
        this.#holds.set(conn.peer, holds);
      }
      const ofPeer = holds;
      waits.push(new Promise<void>((resolve) => ofPeer.set(conn.connId, { move, resolve })));
      sendTo(this.#ctx, conn.peer, EngineToGateway.MIGRATING, conn.connId, body);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeoutMs = this.#ctx.o.migrationHoldTimeoutMs;
    try {
      const all = Promise.all(waits).then(() => null);
      const late = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`the gateways did not hold the players' frames within ${timeoutMs} ms`), timeoutMs);
      });
      return await Promise.race([all, late]);
    } finally {
      clearTimeout(timer);
      for (const conn of players) {
        const ofPeer = this.#holds.get(conn.peer);
        if (ofPeer?.get(conn.connId)?.move === move) ofPeer.delete(conn.connId);
        if (ofPeer?.size === 0) this.#holds.delete(conn.peer);
      }
    }
  }

  /** The move is given up before the freeze: the gateways send the held frames here again. */
  #abort(players: readonly Conn[]): void {
    for (const conn of players) {
      if (conn.state !== 'gone') sendTo(this.#ctx, conn.peer, EngineToGateway.MIGRATE_ABORTED, conn.connId, new Uint8Array(0));
    }
  }
}
