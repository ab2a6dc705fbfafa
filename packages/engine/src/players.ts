/**
 * What gateways send about their players: a player joins its scene (its row claimed, its data
 * loaded, its seat taken over from an older connection), its frames go into the scene's ring
 * (held while it joins), and it leaves (its last data handed over before a rejoin loads it).
 */
import { CloseCode, CodedError, ErrorCodes, encodeSceneChangedFrame, isCodedError, toErrorData, type ErrorData } from '@gos/schema';
import { EngineToGateway, encodeJoinFailedBody, type FrameLanes, type GatewayPeer, type JoinBody } from '@gos/link';
import { Conn, takeEarly } from './connections.js';
import { PeerLanes, sendFrameToScene } from './frame-lanes.js';
import { kick, refuseFrame, sendTo, type EngineContext } from './engine-context.js';
import { ToScene, encodeJoinPayload, type JoinPayload, type TimerRecord } from './records.js';
import { sceneFull, type SceneHost } from './scene-host.js';
import type { Scenes } from './scenes.js';
import { parseArrival } from './travels.js';
import { PlayerLoads } from './player-loads.js';
import { JoinRefusals } from './join-refusals.js';

export class Players {
  readonly #ctx: EngineContext;
  readonly #scenes: Scenes;
  /** Player rows claimed in batches (a scene moving in brings all its players at once). */
  readonly #loads: PlayerLoads;
  /** Joins refused by rule: one warn line per scene and code for a burst of them. */
  readonly #refusals: JoinRefusals;
  /** Resolves once gateway `peer` has handled what this engine sent it (SYNC_ACK), closed, or a bound passed. */
  readonly #sync: (peer: GatewayPeer) => Promise<void>;

  constructor(ctx: EngineContext, scenes: Scenes, sync: (peer: GatewayPeer) => Promise<void>) {
    this.#ctx = ctx;
    this.#scenes = scenes;
    this.#loads = new PlayerLoads(ctx);
    this.#refusals = new JoinRefusals(ctx.log);
    this.#sync = sync;
  }

  async join(peer: GatewayPeer, connId: number, body: JoinBody): Promise<void> {
    const ctx = this.#ctx;
    const { o } = ctx;
    if (ctx.conns.has(peer, connId)) return;
    const refuse = (error: ErrorData): void => sendTo(ctx, peer, EngineToGateway.JOIN_FAILED, connId, encodeJoinFailedBody(error));
    if (!ctx.running()) return refuse({ code: ErrorCodes.ENG_ERR_SHUTTING_DOWN, message: 'engine is shutting down' });
    const conn = ctx.conns.open(peer, connId, body);
    const { sid } = conn;
    /** The scene holding a place for this travel's target (JOIN with `reserve`) until the player is in. */
    let reservedOn: SceneHost | null = null;
    /** The player's seat once this join took it, and the connection that held it before in a takeover. */
    let seated: { readonly from: number | undefined } | null = null;
    try {
      let placement = o.coordinator.placement.lookup(body.sceneId);
      // The gateway placed the scene a moment ago: this engine's view of placement (a watch)
      // may not have caught up yet. Ask the coordinator itself before refusing.
      if (placement?.engineId !== o.engineId) placement = await o.coordinator.placement.fetch(body.sceneId);
      if (placement?.engineId !== o.engineId) {
        throw new CodedError(ErrorCodes.ENG_ERR_SCENE_MOVED, `scene ${body.sceneId} is not placed on ${o.engineId}`);
      }
      // The CCU cap: every connection here but this one, unless it takes over its own player.
      if (ctx.conns.size - 1 >= o.capacity && !ctx.seats.isSeated(body.playerId)) {
        throw new CodedError(ErrorCodes.ENG_ERR_FULL, `engine ${o.engineId} is at its CCU cap (${o.capacity} players)`);
      }
      const arrival = parseArrival(body.arrival);
      await this.#scenes.withdrawIdle(body.sceneId);
      let host = await this.#scenes.obtain(body.sceneId, placement.epoch);
      if (body.reserve) {
        // A travel's target: the seat and the scene are ready; the player's data is still being
        // saved by its source. The gateway says TRAVEL_IN once it is (or LEAVE). The place
        // stays counted against the scene's cap until the player is in.
        if (conn.state === 'gone') return;
        if (host.full) throw sceneFull(host);
        reservedOn = host;
        host.reserved++;
        const proceed = conn.proceedEarly ? Promise.resolve() : new Promise<void>((resolve) => (conn.proceed = resolve));
        sendTo(ctx, peer, EngineToGateway.TRAVEL_READY, connId, new Uint8Array(0));
        await proceed;
        conn.proceed = null;
        // A LEAVE (the socket closed, or the travel was given up) may have come meanwhile.
        if ((conn.state as Conn['state']) === 'gone') return;
        // Still placed here? (A start would claim the scene's row and fence off its new owner.)
        const now = await o.coordinator.placement.fetch(body.sceneId);
        if (now?.engineId !== o.engineId) throw new CodedError(ErrorCodes.ENG_ERR_SCENE_MOVED, `scene ${body.sceneId} is no longer placed on ${o.engineId}`);
        host = await this.#scenes.obtain(body.sceneId, now.epoch);
      }
      // The player is on its way between two scenes of this engine: joined once it has arrived.
      await this.#travelOf(body.playerId);
      if (conn.state === 'gone') return;
      let activeSid = ctx.seats.holder(body.playerId);
      // A player moving from another gateway (it drains: the client opened a socket here after
      // its last frames there): those frames come over the other gateway's link, and must reach
      // the scene before this takeover. The other gateway's SYNC_ACK comes after them.
      const previousPeer = activeSid !== undefined && host.sids.has(activeSid) ? ctx.conns.get(activeSid)?.peer : undefined;
      if (previousPeer !== undefined && previousPeer !== peer) {
        await this.#sync(previousPeer);
        // The frames waited for may have started a travel between two scenes here: joined once over.
        await this.#travelOf(body.playerId);
        if ((conn.state as Conn['state']) === 'gone') return;
        host = await this.#scenes.obtain(body.sceneId, placement.epoch);
        activeSid = ctx.seats.holder(body.playerId);
      }
      // Takeover only when this very scene instance holds the player's hot data.
      const takeover = activeSid !== undefined && host.sids.has(activeSid);
      if (!takeover && host !== reservedOn && host.full) throw sceneFull(host);
      let data: unknown = null;
      let timers: readonly TimerRecord[] | undefined;
      /** The row names another scene (a travel given up half-way, a resume): saved from here, naming this one. */
      let relocated = false;
      if (!takeover) {
        await ctx.seats.handedOver(body.playerId);
        // Claimed with the other joins of this moment, its timers read after the claim.
        let rowScene: string | null;
        ({ data, timers, sceneId: rowScene } = await this.#loads.load(body.playerId));
        relocated = rowScene !== null && rowScene !== body.sceneId;
        // Looked up again: the scene may have crashed and restarted while the data loaded.
        host = await this.#scenes.obtain(body.sceneId, placement.epoch);
      }
      if ((conn.state as Conn['state']) === 'gone') return; // the socket closed while loading
      // Crashed or stopped while the data loaded: a JOIN written there would be lost unseen.
      if (!host.current) throw new CodedError(ErrorCodes.ENG_ERR_SCENE_MOVED, `scene ${body.sceneId} stopped while the player joined; retry`);
      // One seat per player: a connection holding it in another scene here is closed (its
      // scene's last save is dropped: this connection loaded the row and owns it now).
      const previous = ctx.seats.holder(body.playerId);
      if (previous !== undefined && previous !== sid && !takeover) this.#replace(previous);
      ctx.seats.seat(body.playerId, sid);
      seated = { from: takeover ? previous : undefined };
      if (reservedOn !== null) {
        reservedOn.reserved--;
        reservedOn = null;
      }
      // A travel: the client learns of the new scene before the scene's first push.
      if (body.reserve) sendTo(ctx, peer, EngineToGateway.TO_CLIENT, connId, encodeSceneChangedFrame(body.from, body.sceneId));
      const join: JoinPayload = { playerId: body.playerId, name: body.name, data, takeover, ...(arrival === undefined ? {} : { arrival }), ...(relocated ? { travelled: true } : {}), ...(timers === undefined ? {} : { timers }) };
      // In the scene once its JOIN is in the ring: a JOIN the ring refuses leaves no trace of the player there.
      host.send(ToScene.JOIN, sid, encodeJoinPayload(join));
      host.sids.add(sid, peer);
      conn.joinedTo(host);
      // A held frame the ring cannot take is answered with a code, as a live one would be.
      for (const frame of takeEarly(conn)) sendFrameToScene(ctx, host, conn, frame);
      ctx.setLoad();
    } catch (err) {
      // Refusals by rule (scene placed elsewhere, engine full, …) are coded; anything else is a fault.
      if (isCodedError(err)) this.#refusals.add(body.sceneId, body.playerId, err.code, err.message);
      else ctx.log.error({ err, sceneId: body.sceneId, playerId: body.playerId }, 'join failed');
      // Nothing reached the scene (its JOIN is the last thing that can fail): the seat goes back
      // to the connection that held it (a takeover's, still in the scene), or is freed. Left
      // taken, it would make the player's next join a takeover of a player the scene never had,
      // and lose its saved data.
      if (seated !== null && ctx.seats.holder(body.playerId) === sid) {
        if (seated.from !== undefined) ctx.seats.seat(body.playerId, seated.from);
        else if (ctx.seats.vacate(body.playerId, sid)) {
          // Nobody plays the player here now: its row, claimed by this join, is let go.
          ctx.persister.release('player', body.playerId);
          ctx.setLoad();
        }
      }
      ctx.conns.drop(conn);
      refuse(toErrorData(err, ErrorCodes.ENG_ERR_SCENE_NOT_FOUND));
    } finally {
      if (reservedOn !== null) reservedOn.reserved--;
    }
  }

  /** Resolves once no travel of this player between two scenes of this engine is under way. */
  async #travelOf(playerId: string): Promise<void> {
    for (;;) {
      const sid = this.#ctx.seats.holder(playerId);
      const travelling = sid === undefined ? undefined : this.#ctx.conns.get(sid)?.travelDone;
      if (travelling === undefined || travelling === null) return;
      await travelling;
    }
  }

  frame(peer: GatewayPeer, connId: number, frame: Uint8Array): void {
    const ctx = this.#ctx;
    const conn = ctx.conns.of(peer, connId);
    if (conn === undefined) return refuseFrame(ctx, peer, connId, frame, ErrorCodes.ENG_ERR_NOT_JOINED, 'not joined');
    if (conn.state === 'joining') {
      // A join can take a while (a scene starting, a rejoin waiting for its last save): what the
      // gateway let through meanwhile waits, up to a bound. Not a full ring: the code says so.
      if (conn.early.length >= ctx.o.maxFramesWhileJoining || conn.earlyBytes + frame.byteLength > ctx.o.maxBytesWhileJoining) {
        const message = `not in its scene yet (joining) with ${conn.early.length} frames (${conn.earlyBytes} bytes) already waiting; retry once joined`;
        return refuseFrame(ctx, peer, connId, frame, ErrorCodes.ENG_ERR_NOT_JOINED, message);
      }
      // A copy: the body is only valid while the link's listener runs (Buffer#slice would be a view).
      conn.early.push(new Uint8Array(frame));
      conn.earlyBytes += frame.byteLength;
      return;
    }
    const host = this.#scenes.running(conn.sceneId);
    if (host === undefined) {
      // The scene is being stopped (the engine drains): answered now rather than never.
      const code = ctx.running() ? ErrorCodes.ENG_ERR_SCENE_MOVED : ErrorCodes.ENG_ERR_SHUTTING_DOWN;
      return refuseFrame(ctx, peer, connId, frame, code, 'the scene is stopping here; retry shortly');
    }
    sendFrameToScene(ctx, host, conn, frame);
  }

  /** The lanes of gateway `peer`'s joined connections, for an in-process one (FrameLanes). */
  lanes(peer: GatewayPeer): FrameLanes {
    return new PeerLanes(this.#ctx, peer);
  }

  /** Close the connection `sid` of a player that connected again, and take it out of its scene without its last save. */
  #replace(sid: number, closeCode: number = CloseCode.SESSION_REPLACED, reason = 'connected again'): void {
    const ctx = this.#ctx;
    const old = ctx.conns.get(sid);
    if (old === undefined) return;
    kick(ctx, old, closeCode, reason);
    const host = old.state === 'joined' ? this.#scenes.running(old.sceneId) : undefined;
    ctx.seats.vacate(old.playerId, sid);
    ctx.conns.drop(old);
    if (host === undefined) return;
    host.sids.delete(sid);
    ctx.seats.discardHandOver(sid, host.sceneId);
    try {
      host.send(ToScene.LEAVE, sid, null);
    } catch (err) {
      ctx.log.error({ err, sceneId: host.sceneId }, 'cannot deliver LEAVE');
    }
  }

  /** TRAVEL_IN: the reserved travel target of this connection may load the player now. */
  travelIn(peer: GatewayPeer, connId: number): void {
    const conn = this.#ctx.conns.of(peer, connId);
    if (conn === undefined) return;
    if (conn.proceed !== null) conn.proceed();
    else conn.proceedEarly = true;
  }

  leave(peer: GatewayPeer, connId: number): void {
    const ctx = this.#ctx;
    const conn = ctx.conns.of(peer, connId);
    if (conn === undefined) return;
    const wasJoined = conn.state === 'joined';
    ctx.conns.drop(conn);
    conn.proceed?.(); // a reserved travel target: its join finds the connection gone
    if (!wasJoined) {
      // Left while its scene restarts or stops: nothing to tell the scene, but no seat held.
      if (ctx.seats.vacate(conn.playerId, conn.sid)) {
        // Left in the middle of a travel's hand-over: the source's last save is on its way, and
        // releases the row once queued (the player is no longer seated).
        if (conn.travellingTo === null) ctx.persister.release('player', conn.playerId);
        ctx.setLoad();
      }
      return;
    }
    const host = this.#scenes.running(conn.sceneId);
    host?.sids.delete(conn.sid);
    // Until the scene answers this LEAVE with the player's last data, a rejoin waits.
    if (ctx.seats.vacate(conn.playerId, conn.sid) && host !== undefined) void ctx.seats.expectHandOver(conn.playerId, conn.sid, conn.sceneId);
    ctx.setLoad();
    if (host === undefined) return;
    try {
      host.send(ToScene.LEAVE, conn.sid, null);
    } catch (err) {
      // The scene cannot be told; it keeps the player until it is stopped or crashes.
      ctx.log.error({ err, sceneId: conn.sceneId }, 'cannot deliver LEAVE');
      ctx.seats.answered(conn.sid);
    }
  }

  /**
   * The persister refused a write carrying the player's mail claim (docs/mail.md): its hot data
   * holds what the claim would have granted, and must never be saved. The player leaves its scene
   * (which drops that data; the persister writes nothing more of it) and its socket is closed with
   * STATE_RELOAD: when it comes back, it loads its saved row.
   */
  claimRefused(playerId: string, error: ErrorData): void {
    const ctx = this.#ctx;
    const sid = ctx.seats.holder(playerId);
    if (sid === undefined) return;
    ctx.log.error({ playerId, code: error.code, reason: error.message }, 'a mail claim was refused as it was written; the player leaves its scene and reloads its saved data');
    // As a replaced connection: the scene drops it, and every save of it still on its way is dropped.
    this.#replace(sid, CloseCode.STATE_RELOAD, 'your unsaved progress could not be kept; reconnect');
    ctx.setLoad();
  }

  /** A gateway's link closed: every player it had here leaves. */
  peerClosed(peer: GatewayPeer): void {
    for (const conn of [...this.#ctx.conns.values()]) if (conn.peer === peer) this.leave(peer, conn.connId);
  }
}
