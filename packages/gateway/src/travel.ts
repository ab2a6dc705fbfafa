/**
 * Scene travel, the gateway's side (docs/scenes.md "Travel"): a scene asked to move its player
 * to another scene (TRAVEL from the player's engine). The gateway holds the client's frames from
 * then on and drives the move, on the same socket:
 *
 * - target placed on the same engine: TRAVEL_OUT `local` there; it answers JOINED (target scene)
 *   or TRAVEL_FAILED.
 * - target on another engine: JOIN `reserve` to it (seat taken, scene started: TRAVEL_READY, or
 *   JOIN_FAILED), then TRAVEL_OUT to the source (TRAVEL_RELEASED once the player's row is written
 *   with the target as its scene: the commit point), then TRAVEL_IN to the target (JOINED).
 *
 * Before the commit point a failure leaves the player where it was: its scene's `travel()`
 * rejects (TRAVEL_CANCEL), and the frames held meanwhile are refused with `GW_ERR_TRAVEL_FAILED`
 * (retryable). After it the player belongs to the target scene: a lost engine or a refused join
 * is a resume there, like any other. Once in, the held frames go to the target in order. The
 * client's core push SceneChanged comes from the target's engine, just before the player enters
 * the target scene, so that it precedes the scene's first push.
 */
import { CORE_PUSH, CodedError, ErrorCodes, FrameFlag, FrameKind, isCodedError, readFrameHeader, type Logger } from '@gos/schema';
import { GatewayToEngine, encodeJoinBody, encodeJoinFailedBody, encodeTravelOutBody, type JoinFailedBody, type TravelBody } from '@gos/link';
import type { EngineLinks } from './engine-links.js';
import type { GatewayMetrics } from './metrics.js';
import type { PendingRequests } from './pending-requests.js';
import type { PlayerRouting } from './routing.js';
import type { SessionStore } from './session/index.js';
import { connOf, leaveSceneChat, setEngine, subscribeScene, unsubscribeScene, type ConnData, type Socket, type Travel } from './socket.js';

/** Tries to record a travel's target in the session before giving up (back-off 0.25 s … 10 s: about 40 s in all). */
const SET_SCENE_ATTEMPTS = 8;

/** The client sockets, as travel uses them. */
export interface TravelSockets {
  sendError(ws: Socket, opcode: number, requestId: number, code: string, message: string): void;
}

export interface PlayerTravelDeps {
  readonly links: Pick<EngineLinks, 'connect' | 'get'>;
  readonly routing: Pick<PlayerRouting, 'ensurePlaced' | 'resume'>;
  readonly sockets: TravelSockets;
  readonly pending: Pick<PendingRequests, 'failSome' | 'failAll'>;
  readonly sessions: Pick<SessionStore, 'setScene'>;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

/** A travel not finished by then is given up (see PlayerTravel.stuck). */
export const TRAVEL_TIMEOUT_MS = 15_000;

export class PlayerTravel {
  readonly #d: PlayerTravelDeps;

  constructor(deps: PlayerTravelDeps) {
    this.#d = deps;
  }

  /** TRAVEL from `engineId`: the player's scene asks to move it. */
  async requested(ws: Socket, data: ConnData, engineId: string, body: TravelBody): Promise<void> {
    const session = data.session!;
    // Asked by the scene the player is entering (its onJoin), before its JOINED reached here.
    const entering = data.travel === null ? data.state === 'joining' && data.engineId === engineId : data.travel.toEngine === engineId && (data.travel.phase === 'local' || data.travel.phase === 'joining');
    if (entering && data.travelAsked === null) {
      data.travelAsked = { engineId, to: body.to, arrival: body.arrival };
      return;
    }
    if (data.state !== 'joined' || data.travel !== null || data.engineId !== engineId || data.migrating !== null) {
      this.#send(engineId, GatewayToEngine.TRAVEL_CANCEL, data.connId, encodeJoinFailedBody({ code: ErrorCodes.ENG_ERR_TRAVEL, message: 'the player is not settled in its scene (joining, resuming, travelling, or its scene is moving to another engine)' }));
      return;
    }
    const travel: Travel = {
      from: session.sceneId,
      to: body.to,
      arrival: body.arrival,
      fromEngine: engineId,
      toEngine: null,
      phase: 'placing',
      sentBefore: new Set(data.pending.keys()),
      startedAt: performance.now(),
      cancelSentAt: null,
    };
    data.travel = travel;
    try {
      const placed = await this.#d.routing.ensurePlaced(body.to);
      if (data.travel !== travel) return;
      travel.toEngine = placed.engineId;
      if (placed.engineId === engineId) {
        travel.phase = 'local';
        this.#send(engineId, GatewayToEngine.TRAVEL_OUT, data.connId, encodeTravelOutBody({ to: body.to, arrival: body.arrival, local: true }));
        return;
      }
      const link = await this.#d.links.connect(placed.engineId);
      if (data.travel !== travel) return;
      travel.phase = 'reserving';
      link.send(GatewayToEngine.JOIN, data.connId, encodeJoinBody({ playerId: session.accountId, name: session.username, sceneId: body.to, arrival: body.arrival, reserve: true, from: travel.from }));
    } catch (err) {
      if (data.travel !== travel) return;
      const error = isCodedError(err) ? err.toData() : { code: ErrorCodes.GW_ERR_TRAVEL_FAILED, message: String(err) };
      this.#d.logger.warn({ code: error.code, from: travel.from, to: travel.to }, `travel refused: ${error.message}`);
      this.fail(ws, data, error);
    }
  }

  /** The player is in its scene (JOINED): a travel that scene asked for meanwhile starts now. */
  afterJoined(ws: Socket, data: ConnData): void {
    const asked = data.travelAsked;
    if (asked === null) return;
    data.travelAsked = null;
    void this.requested(ws, data, asked.engineId, { to: asked.to, arrival: asked.arrival });
  }

  /** TRAVEL_READY from the target's engine: the seat is reserved; the source lets the player go. */
  ready(data: ConnData, engineId: string): void {
    const travel = data.travel;
    if (travel?.phase !== 'reserving' || travel.toEngine !== engineId) return;
    travel.phase = 'releasing';
    this.#send(travel.fromEngine, GatewayToEngine.TRAVEL_OUT, data.connId, encodeTravelOutBody({ to: travel.to, arrival: '', local: false }));
  }

  /**
   * TRAVEL_RELEASED from the source: the player's row names the target now. From here the
   * player belongs to the target scene (a later failure resumes it there).
   */
  released(ws: Socket, data: ConnData, engineId: string): void {
    const travel = data.travel;
    if (travel?.phase !== 'releasing' || travel.fromEngine !== engineId || travel.toEngine === null) return;
    travel.phase = 'joining';
    this.#moveSession(ws, data, travel);
    setEngine(data, travel.toEngine);
    data.state = 'joining';
    data.joinSentAt = performance.now();
    const link = this.#d.links.get(travel.toEngine);
    try {
      if (link?.isUp !== true) throw new CodedError(ErrorCodes.GW_ERR_NO_ENGINE, `the link to ${travel.toEngine} is down`);
      link.send(GatewayToEngine.TRAVEL_IN, data.connId, new Uint8Array(0));
    } catch {
      // The target's engine was lost meanwhile: the player resumes in the target scene wherever it is placed next.
      this.#d.routing.resume(ws, travel.toEngine, 'lost', performance.now());
    }
  }

  /**
   * The target's engine was lost: before the source let the player go, the travel fails and the
   * player stays; while it does (releasing), the player resumes in the target once released.
   */
  targetLost(ws: Socket, data: ConnData, engineId: string): void {
    const travel = data.travel;
    if (travel === null || travel.toEngine !== engineId) return;
    if (travel.phase === 'reserving') this.fail(ws, data, { code: ErrorCodes.GW_ERR_NO_ENGINE, message: `engine ${engineId} was lost` });
  }

  /**
   * A frame for the travelling player's client: the target's engine sends SceneChanged just
   * before the player enters the target scene. From that frame on the socket hears the target's
   * broadcasts and no longer the source's (which would otherwise follow SceneChanged until JOINED).
   */
  toClient(ws: Socket, data: ConnData, frame: Uint8Array): void {
    const travel = data.travel;
    if (travel === null || (travel.phase !== 'local' && travel.phase !== 'joining')) return;
    const header = readFrameHeader(frame);
    if (header?.kind !== FrameKind.PUSH || header.opcode !== CORE_PUSH.SceneChanged) return;
    unsubscribeScene(ws, travel.from);
    leaveSceneChat(ws, travel.from);
    subscribeScene(ws, travel.to);
  }

  /** JOINED while travelling: `true` when it completed the travel (the caller does nothing more). */
  joined(ws: Socket, data: ConnData, engineId: string, sceneId: string): boolean {
    const travel = data.travel;
    if (travel === null) return false;
    if (sceneId !== travel.to || engineId !== travel.toEngine) return false;
    if (travel.phase === 'local') this.#moveSession(ws, data, travel);
    else if (travel.phase !== 'joining') return false;
    data.travel = null;
    data.state = 'joined';
    setEngine(data, engineId);
    subscribeScene(ws, travel.to);
    // Requests the source scene took but never answered (an async handler, the player gone).
    this.#d.pending.failSome(ws, data, travel.sentBefore, `the player left scene ${travel.from} before it answered; retry`);
    const link = this.#d.links.get(engineId);
    const held = data.early.splice(0);
    let forwarded = 0;
    for (const frame of held) {
      try {
        if (link === undefined) throw new CodedError(ErrorCodes.GW_ERR_NO_ENGINE, 'engine link is down');
        link.send(GatewayToEngine.CLIENT_FRAME, data.connId, frame);
        forwarded++;
      } catch (err) {
        this.#refuse(ws, frame, isCodedError(err) ? err.code : ErrorCodes.GW_ERR_NO_ENGINE, 'engine unavailable');
      }
    }
    this.#d.metrics.forwarded[link?.transport === 'in-process' ? 1 : 0]! += forwarded;
    this.#d.metrics.travelSeconds.observe({ scope: travel.fromEngine === engineId ? 'same-engine' : 'cross-engine', result: 'ok' }, (performance.now() - travel.startedAt) / 1000);
    return true;
  }

  /** JOIN_FAILED while travelling: `true` when it belonged to the travel (handled here). */
  joinFailed(ws: Socket, data: ConnData, engineId: string, error: JoinFailedBody): boolean {
    const travel = data.travel;
    if (travel === null) return false;
    if (travel.phase === 'reserving' && engineId === travel.toEngine) {
      // The target refused the seat (full, unknown scene type…): the player stays.
      this.fail(ws, data, error);
      return true;
    }
    if (travel.phase === 'joining' || (travel.phase === 'local' && engineId === travel.fromEngine)) {
      // Out of its source, not in the target: placed again wherever its scene is now, as in a resume.
      data.travel = null;
      this.#refuseHeld(ws, data, ErrorCodes.GW_ERR_SCENE_MOVED, `the travel to ${travel.to} failed (${error.code}); retry shortly`);
      this.#d.routing.resume(ws, engineId, error.code === ErrorCodes.ENG_ERR_SHUTTING_DOWN ? 'drain' : 'moved', performance.now());
      return true;
    }
    return false;
  }

  /** TRAVEL_FAILED from the source: the player is still in its scene. */
  sourceFailed(ws: Socket, data: ConnData, engineId: string, error: JoinFailedBody): void {
    const travel = data.travel;
    if (travel === null || travel.fromEngine !== engineId || (travel.phase !== 'local' && travel.phase !== 'releasing')) return;
    this.fail(ws, data, error, false);
  }

  /**
   * Give the travel up before the commit point: the reserved seat is freed, the source scene is
   * told (unless it said so itself), the frames held are refused, and the player stays.
   */
  fail(ws: Socket, data: ConnData, error: JoinFailedBody, tellSource = true): void {
    const travel = data.travel;
    if (travel === null || travel.phase === 'joining') return;
    data.travel = null;
    if (travel.toEngine !== null && travel.toEngine !== travel.fromEngine && travel.phase !== 'placing') {
      this.#send(travel.toEngine, GatewayToEngine.LEAVE, data.connId, new Uint8Array(0));
    }
    if (tellSource) this.#send(travel.fromEngine, GatewayToEngine.TRAVEL_CANCEL, data.connId, encodeJoinFailedBody({ code: error.code, message: error.message }));
    this.#refuseHeld(ws, data, ErrorCodes.GW_ERR_TRAVEL_FAILED, `the travel to ${travel.to} failed (${error.code}: ${error.message}); the player stayed in ${travel.from}`);
    this.#d.metrics.travelSeconds.observe({ scope: travel.toEngine === travel.fromEngine ? 'same-engine' : 'cross-engine', result: error.code }, (performance.now() - travel.startedAt) / 1000);
  }

  /**
   * The socket closed, or its player is being placed again (an engine lost): a travel before its
   * commit point is dropped (the reserved seat freed); after it, the resume goes to the target.
   */
  abandon(data: ConnData): void {
    data.travelAsked = null;
    const travel = data.travel;
    if (travel === null) return;
    data.travel = null;
    if (travel.phase === 'reserving' || travel.phase === 'releasing') {
      if (travel.toEngine !== null) this.#send(travel.toEngine, GatewayToEngine.LEAVE, data.connId, new Uint8Array(0));
    }
  }

  /**
   * The sweep's check of a travel under way for longer than TRAVEL_TIMEOUT_MS: while the player
   * is still in its scene (placing, reserving) the travel is given up; once its engine took it
   * out (local, releasing) and never answered, true: the caller closes the socket, and the
   * client's reconnect places the player from its last save. After the commit point the join
   * timeout applies instead.
   */
  stuck(ws: Socket, data: ConnData, now: number): boolean {
    const travel = data.travel;
    if (travel === null || now - travel.startedAt <= TRAVEL_TIMEOUT_MS) return false;
    if (travel.phase === 'placing' || travel.phase === 'reserving') {
      this.fail(ws, data, { code: ErrorCodes.GW_ERR_TRAVEL_FAILED, message: `no answer within ${TRAVEL_TIMEOUT_MS} ms` });
      return false;
    }
    if (travel.phase === 'joining') return false;
    if (travel.phase === 'local' && travel.cancelSentAt === null) {
      // The engine may still be starting the target: asked to stop, it answers TRAVEL_FAILED
      // (the player stays) unless the player has left its scene already (then JOINED).
      travel.cancelSentAt = now;
      this.#send(travel.fromEngine, GatewayToEngine.TRAVEL_CANCEL, data.connId, encodeJoinFailedBody({ code: ErrorCodes.GW_ERR_TRAVEL_FAILED, message: `no answer within ${TRAVEL_TIMEOUT_MS} ms` }));
      return false;
    }
    if (travel.cancelSentAt !== null && now - travel.cancelSentAt <= TRAVEL_TIMEOUT_MS) return false;
    this.#d.logger.warn({ from: travel.from, to: travel.to, phase: travel.phase }, 'travel timed out with the player out of its scene; closing its socket');
    return true;
  }

  /** The request ids of the frames held for the target (they are answered there, or refused with the travel). */
  heldRequestIds(data: ConnData): Set<number> {
    const ids = new Set<number>();
    for (const frame of data.early) {
      const header = readFrameHeader(frame);
      if (header !== null && (header.flags & FrameFlag.NO_REPLY) === 0) ids.add(header.requestId);
    }
    return ids;
  }

  /**
   * The player's scene crashed (SCENE_CRASHED) while it travels: a travel whose player is still
   * in its (restarting) scene is given up; the requests that scene had are answered
   * (retryable), never those held for the target.
   */
  sceneCrashed(ws: Socket, data: ConnData): void {
    const travel = data.travel;
    if (travel === null) return;
    if (travel.phase === 'placing' || travel.phase === 'reserving') {
      this.fail(ws, data, { code: ErrorCodes.ENG_ERR_SCENE_RESTARTED, message: `scene ${travel.from} crashed during the travel` });
    }
    this.#d.pending.failAll(ws, data, 'the scene crashed before answering and restarts from its last save; retry shortly', this.heldRequestIds(data));
  }

  /**
   * The session names the target scene now: a reconnect or a resume goes there, and pushes to
   * the player (sendTo, through presence) find it there. A failed write is tried again, with
   * back-off, until it lands, the session is gone, or a later travel has taken over.
   */
  #moveSession(ws: Socket, data: ConnData, travel: Travel): void {
    const session = data.session!;
    data.session = Object.freeze({ ...session, sceneId: travel.to });
    unsubscribeScene(ws, travel.from);
    leaveSceneChat(ws, travel.from);
    const attempt = (n: number): void => {
      this.#d.sessions.setScene(session.token, travel.to).catch((err: unknown) => {
        const gone = isCodedError(err) && err.code === ErrorCodes.GW_ERR_SESSION_EXPIRED;
        const superseded = data.session?.sceneId !== travel.to;
        if (gone || superseded || n >= SET_SCENE_ATTEMPTS) {
          if (!gone && !superseded) this.#d.logger.error({ err, accountId: session.accountId, sceneId: travel.to }, 'cannot record the scene of a travel in the session: pushes to the player may miss it until its next travel');
          return;
        }
        this.#d.logger.warn({ err, accountId: session.accountId, sceneId: travel.to, attempt: n }, 'cannot record the scene of a travel in the session yet; trying again');
        setTimeout(() => attempt(n + 1), Math.min(10_000, 250 * 2 ** n)).unref();
      });
    };
    attempt(1);
  }

  #refuseHeld(ws: Socket, data: ConnData, code: string, message: string): void {
    for (const frame of data.early.splice(0)) this.#refuse(ws, frame, code, message);
  }

  /** Refuse one held frame: an ERROR for its request (its pending entry is answered by it). */
  #refuse(ws: Socket, frame: Uint8Array, code: string, message: string): void {
    const header = readFrameHeader(frame);
    if (header === null) return;
    // A fire-and-forget input was never tracked: another request may have the same id.
    if ((header.flags & FrameFlag.NO_REPLY) === 0) connOf(ws).pending.delete(header.requestId);
    this.#d.sockets.sendError(ws, header.opcode, header.requestId, code, message);
  }

  #send(engineId: string, type: number, connId: number, body: Uint8Array): void {
    try {
      const link = this.#d.links.get(engineId);
      if (link === undefined) throw new CodedError(ErrorCodes.GW_ERR_NO_ENGINE, `no link to ${engineId}`);
      link.send(type, connId, body);
    } catch (err) {
      this.#d.logger.warn({ err, engineId, type }, 'cannot send a travel message; the link down event takes over');
    }
  }
}
