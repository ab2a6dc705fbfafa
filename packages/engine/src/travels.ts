/**
 * Scene travel, the engine's side (docs/scenes.md "Travel"). A scene asks (`player.travel`) and
 * the engine asks the player's gateway, which orchestrates: it holds the client's frames, and
 * either has this engine move the player to a target scene it hosts too (`TRAVEL_OUT` with
 * `local`: the hot data goes from scene to scene in memory, the row's fence stays), or reserves
 * a seat on the target's engine, has this engine take the player out and save it (`TRAVEL_OUT`,
 * answered `TRAVEL_RELEASED` once the row is written with the target as the player's scene), and
 * then has the target's engine load it (`TRAVEL_IN`). Until the player leaves its scene, any
 * failure leaves it where it was and its `travel()` rejects with the code.
 */
import { CodedError, ErrorCodes, encodeSceneChangedFrame, isCodedError, toErrorData, type ErrorData } from '@gos/schema';
import { EngineToGateway, encodeJoinFailedBody, encodeTravelBody, type GatewayPeer, type JoinFailedBody, type TravelOutBody } from '@gos/link';
import { takeEarly, type Conn } from './connections.js';
import { loadPlayer, sendTo, type EngineContext } from './engine-context.js';
import { sendFrameToScene } from './frame-lanes.js';
import { ToScene, encodeErrorPayload, encodeJoinPayload, playerTimerOwner, type TravelPayload } from './records.js';
import { sceneFull, type SceneHost } from './scene-host.js';
import type { Scenes } from './scenes.js';

export class Travels {
  readonly #ctx: EngineContext;
  readonly #scenes: Scenes;

  constructor(ctx: EngineContext, scenes: Scenes) {
    this.#ctx = ctx;
    this.#scenes = scenes;
  }

  /** The scene `host` asks to move the player of `sid`: its gateway decides (TRAVEL). */
  requested(host: SceneHost, sid: number, travel: TravelPayload): void {
    const conn = this.#ctx.conns.get(sid);
    if (conn === undefined) return; // the socket closed: the scene gets its LEAVE
    if (conn.state !== 'joined' || conn.travellingTo !== null || conn.sceneId !== host.sceneId) {
      this.#refuse(host, sid, { code: ErrorCodes.ENG_ERR_TRAVEL, message: `player ${conn.playerId} is not settled in ${host.sceneId}` });
      return;
    }
    sendTo(this.#ctx, conn.peer, EngineToGateway.TRAVEL, conn.connId, encodeTravelBody({ to: travel.to, arrival: travel.arrival }));
  }

  /**
   * The gateway gave the travel up (TRAVEL_CANCEL): before the player left its scene it stays,
   * and its scene is told why; a local move still starting its target stops there.
   */
  cancel(peer: GatewayPeer, connId: number, error: JoinFailedBody): void {
    const conn = this.#ctx.conns.of(peer, connId);
    if (conn === undefined || conn.travellingTo !== null) return;
    conn.travelCancel = { code: error.code, message: error.message };
    const host = this.#scenes.running(conn.sceneId);
    if (host !== undefined) this.#refuse(host, conn.sid, error);
  }

  /**
   * TRAVEL_OUT: take the player out of its scene, for a target here (`local`) or elsewhere.
   * Never rejects: a fault once the player is out of its scene (its data cannot be loaded)
   * sends it back to its gateway to be placed again, as when a scene moves.
   */
  async out(peer: GatewayPeer, connId: number, body: TravelOutBody): Promise<void> {
    const conn = this.#ctx.conns.of(peer, connId);
    if (conn === undefined) return;
    let done!: () => void;
    // A join of the same player waits for this (see Players.join): never two scenes at once.
    conn.travelDone = new Promise<void>((resolve) => (done = resolve));
    conn.travelCancel = null;
    try {
      await this.#out(peer, connId, conn, body);
    } catch (err) {
      this.#ctx.log.error({ err, playerId: conn.playerId, to: body.to }, 'travel failed after the player left its scene');
      this.#lost(conn, 'the travel failed; placing the player again');
    } finally {
      conn.travelDone = null;
      done();
    }
  }

  async #out(peer: GatewayPeer, connId: number, conn: Conn, body: TravelOutBody): Promise<void> {
    const ctx = this.#ctx;
    const settled = conn.state === 'joined' && conn.travellingTo === null && ctx.seats.holder(conn.playerId) === conn.sid;
    const source = settled ? this.#scenes.running(conn.sceneId) : undefined;
    const fail = (error: ErrorData): void => {
      sendTo(ctx, peer, EngineToGateway.TRAVEL_FAILED, connId, encodeJoinFailedBody(error));
      if (source !== undefined && conn.state !== 'gone') this.#refuse(source, conn.sid, error);
    };
    if (source === undefined) return fail({ code: ErrorCodes.ENG_ERR_TRAVEL, message: `player ${conn.playerId} is not settled in a scene here` });
    let target: SceneHost | undefined;
    let arrival: unknown;
    try {
      arrival = parseArrival(body.arrival);
      if (body.local) target = await this.#localTarget(body.to);
    } catch (err) {
      if (isCodedError(err)) ctx.log.warn({ code: err.code, playerId: conn.playerId, to: body.to }, `travel refused: ${err.message}`);
      else ctx.log.error({ err, playerId: conn.playerId, to: body.to }, 'travel failed');
      return fail(toErrorData(err, ErrorCodes.ENG_ERR_TRAVEL));
    }
    // Until the target has the player, it holds a place there (the scene's cap counts it).
    if (target !== undefined) target.reserved++;
    try {
      // The gateway gave up meanwhile (its travel timed out), the socket closed, the source
      // stopped, or the player connected again: nothing to move.
      if (conn.travelCancel !== null) return fail(conn.travelCancel);
      if (conn.state !== 'joined' || this.#scenes.running(conn.sceneId) !== source || ctx.seats.holder(conn.playerId) !== conn.sid) {
        return fail({ code: ErrorCodes.ENG_ERR_TRAVEL, message: 'the player or its scene left meanwhile' });
      }
      // From here the player is out of its scene: frames wait in `early` (the gateway holds its own).
      const from = conn.sceneId;
      const handedOver = this.#leaveSource(conn, source, body.to, target !== undefined);
      if (handedOver === null) return fail({ code: ErrorCodes.ENG_ERR_TRAVEL, message: `scene ${from} cannot be told; the player stays` });
      if (target === undefined) return await this.#release(conn, handedOver);
      await this.#moveLocally(peer, connId, conn, target, from, body.to, arrival, handedOver);
    } finally {
      if (target !== undefined) target.reserved--;
    }
  }

  /**
   * Take the player out of `source` for a travel to `to` (its last save names `to`): its scene
   * gets LEAVE and hands the data over. A local move keeps the seat (and so the row's fence and
   * version) with this connection; a release gives it up. Null, with nothing changed, when the
   * scene cannot be told (its queue is closed or full).
   */
  #leaveSource(conn: Conn, source: SceneHost, to: string, local: boolean): Promise<unknown> | null {
    const ctx = this.#ctx;
    const handedOver = ctx.seats.expectHandOver(conn.playerId, conn.sid, source.sceneId);
    try {
      source.send(ToScene.LEAVE, conn.sid, null, true, 1);
    } catch (err) {
      ctx.log.error({ err, sceneId: source.sceneId, playerId: conn.playerId }, 'cannot take the player out of its scene for a travel');
      ctx.seats.answered(conn.sid);
      return null;
    }
    conn.state = 'joining';
    conn.travellingTo = to;
    source.sids.delete(conn.sid);
    if (!local) ctx.seats.vacate(conn.playerId, conn.sid);
    return handedOver;
  }

  /** The target is on this engine: the data goes from scene to scene in memory. */
  async #moveLocally(peer: GatewayPeer, connId: number, conn: Conn, target: SceneHost, from: string, to: string, arrival: unknown, handedOver: Promise<unknown>): Promise<void> {
    const ctx = this.#ctx;
    let data = await handedOver;
    // The player's timers came with its data (in memory, like it).
    let timers = ctx.seats.takeTimers(conn.sid);
    if (conn.state === 'gone') {
      // Left during the hand-over: the source's save released the row, unless it never came.
      if (data === undefined && !ctx.seats.isSeated(conn.playerId)) ctx.persister.release('player', conn.playerId);
      return;
    }
    // The source crashed before handing the data over: the store has its last save (and its timers).
    if (data === undefined) {
      data = await loadPlayer(ctx, conn.playerId);
      timers = await ctx.o.store.loadTimers(playerTimerOwner(conn.playerId));
    }
    if ((conn.state as Conn['state']) === 'gone') return;
    if (this.#scenes.running(to) !== target) {
      // The target stopped meanwhile: the player goes wherever it is placed next, as in a resume.
      this.#lost(conn, `scene ${to} stopped during the travel`);
      return;
    }
    // A JOIN the target cannot take (too large for its ring, its ring's overflow full) throws to
    // out(), which places the player again (#lost): the client hears of a new scene only once
    // the scene has its JOIN.
    target.send(
      ToScene.JOIN,
      conn.sid,
      encodeJoinPayload({ playerId: conn.playerId, name: conn.name, data, takeover: false, travelled: true, ...(arrival === undefined ? {} : { arrival }), ...(timers === undefined ? {} : { timers }) }),
    );
    conn.sceneId = to;
    conn.travellingTo = null;
    // Before the scene's first push: the scene thread's output is read after this returns.
    sendTo(ctx, peer, EngineToGateway.TO_CLIENT, connId, encodeSceneChangedFrame(from, to));
    target.sids.add(conn.sid, conn.peer);
    conn.joinedTo(target);
    // A held frame the ring cannot take is answered with a code: the travel is done.
    for (const frame of takeEarly(conn)) sendFrameToScene(ctx, target, conn, frame);
  }

  /** Out of its scene and in no other: the gateway places it again (as when a scene moves). */
  #lost(conn: Conn, message: string): void {
    const ctx = this.#ctx;
    conn.travellingTo = null;
    if (conn.state === 'gone') return;
    if (ctx.seats.vacate(conn.playerId, conn.sid)) ctx.persister.release('player', conn.playerId);
    ctx.conns.drop(conn);
    ctx.setLoad();
    sendTo(ctx, conn.peer, EngineToGateway.JOIN_FAILED, conn.connId, encodeJoinFailedBody({ code: ErrorCodes.ENG_ERR_SCENE_MOVED, message }));
  }

  /** A target scene on this engine: placed here (or refused), started if it is not running. */
  async #localTarget(sceneId: string): Promise<SceneHost> {
    const { placement } = this.#ctx.o.coordinator;
    let record = placement.lookup(sceneId);
    if (record?.engineId !== this.#ctx.o.engineId) record = await placement.fetch(sceneId);
    if (record?.engineId !== this.#ctx.o.engineId) throw new CodedError(ErrorCodes.ENG_ERR_SCENE_MOVED, `scene ${sceneId} is not placed on ${this.#ctx.o.engineId}`);
    await this.#scenes.withdrawIdle(sceneId);
    const host = await this.#scenes.obtain(sceneId, record.epoch);
    if (host.full) throw sceneFull(host);
    return host;
  }

  /**
   * The target is on another engine: the player's last data is written (with the target as its
   * scene, the commit point of the travel), and only then is the gateway told
   * (TRAVEL_RELEASED), so the target's engine loads what was just written.
   */
  async #release(conn: Conn, handedOver: Promise<unknown>): Promise<void> {
    const ctx = this.#ctx;
    await handedOver;
    // Its timers are in the write being settled: the target's engine loads them from the store.
    ctx.seats.takeTimers(conn.sid);
    await ctx.persister.settle('player', conn.playerId);
    if (conn.state === 'gone') return;
    ctx.conns.drop(conn);
    ctx.setLoad();
    sendTo(ctx, conn.peer, EngineToGateway.TRAVEL_RELEASED, conn.connId, new Uint8Array(0));
  }

  #refuse(host: SceneHost, sid: number, error: ErrorData): void {
    try {
      host.send(ToScene.TRAVEL_FAILED, sid, encodeErrorPayload(error));
    } catch (err) {
      this.#ctx.log.error({ err, sceneId: host.sceneId }, 'cannot tell the scene its travel failed');
    }
  }
}

/** The arrival JSON of a travel (`''`: none). @throws CodedError `SCH_ERR_BAD_PAYLOAD` for text that is not JSON. */
export function parseArrival(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, 'the arrival of a travel is not JSON', { cause: err });
  }
}
