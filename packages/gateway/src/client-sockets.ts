// Not the global: on Node 20 `globalThis.performance` stays a lazy getter, called on every frame.
import { performance } from 'node:perf_hooks';
import type { TemplatedApp } from 'uWebSockets.js';
import {
  CloseCode,
  CodedError,
  ErrorCodes,
  FrameFlag,
  FrameKind,
  WS_PATH,
  allowedFrameFlags,
  encodeErrorFrame,
  encodeFrame,
  framePayload,
  isCodedError,
  readFrameHeader,
  type RouteDef,
} from '@gos/schema';
import { ChannelIds, GatewayToEngine } from '@gos/link';
import { CHAT_ROUTES, type GatewayChat } from './chat-requests.js';
import type { EngineLinks } from './engine-links.js';
import { inputHoldUntil } from './input-hold.js';
import type { GatewayMetrics } from './metrics.js';
import type { ResolvedLimits } from './options.js';
import type { PendingRequests } from './pending-requests.js';
import type { RateLimits } from './rate-limits.js';
import type { SocketCount } from './served-apps.js';
import { closeReason, connOf, userData, type ConnData, type Socket, type SocketSlot } from './socket.js';
import { authenticate, upgradeSocket, type UpgradeDeps } from './upgrade.js';
import type { UwsModule } from './uws.js';

/** Bytes a socket may send before its token is checked (its frames wait meanwhile). */
export const MAX_HELD_BYTES = 64 * 1024;

/** What the client sockets need from the gateway. */
export interface ClientSocketsDeps {
  readonly limits: ResolvedLimits;
  /** How long before a scene's tick its held fire-and-forget inputs leave (input-hold.ts); 0: never held. */
  readonly inputHoldLeadMs: number;
  /** Frame buckets per account and cool-downs after a flood. */
  readonly rates: RateLimits;
  /** The game's routes by opcode: a request for any other is refused. */
  readonly routeById: ReadonlyMap<number, RouteDef>;
  readonly metrics: GatewayMetrics;
  /** The links frames are forwarded on (by the engine the socket is routed to). */
  readonly links: Pick<EngineLinks, 'get'>;
  readonly pending: Pick<PendingRequests, 'track'>;
  /** Route a socket just opened to the engine hosting its scene (runs asynchronously). */
  readonly route: (ws: Socket, data: ConnData) => void;
  /** A socket was added or removed: the gateway publishes its load. */
  readonly countChanged: () => void;
  /** A socket closes (before its engine is sent LEAVE): a travel under way ends. */
  readonly closed: (data: ConnData) => void;
  /** The chat's core routes and topics (chat-requests.ts), or null when the gateway has no chat. */
  readonly chat: () => Pick<GatewayChat, 'request' | 'admitted'> | null;
}

/**
 * The gateway's client WebSockets: each authenticated socket gets a connection id (its channel
 * on the engine link) and is the only one of its session token here. A frame is checked (size,
 * rate, header) and forwarded to the socket's engine without decoding its payload; frames that
 * arrive before the socket is routed are held (bounded) and sent once it is. Sending to a
 * socket and closing it with a code go through here too: metrics, slow consumers, LEAVE.
 */
export class ClientSockets {
  readonly #limits: ResolvedLimits;
  readonly #inputHoldLeadMs: number;
  readonly #rates: RateLimits;
  readonly #routeById: ReadonlyMap<number, RouteDef>;
  readonly #metrics: GatewayMetrics;
  readonly #links: Pick<EngineLinks, 'get'>;
  readonly #pending: Pick<PendingRequests, 'track'>;
  readonly #route: (ws: Socket, data: ConnData) => void;
  readonly #countChanged: () => void;
  readonly #closed: (data: ConnData) => void;
  readonly #chat: ClientSocketsDeps['chat'];
  readonly #conns = new Map<number, Socket>();
  readonly #byToken = new Map<string, Socket>();
  readonly #connIds = new ChannelIds();
  /** What the token check needs (set by register). */
  #upgrades: UpgradeDeps | null = null;
  /** Sockets open whose token is being checked (not counted in `size`). */
  readonly #authenticating = new Set<Socket>();

  constructor(deps: ClientSocketsDeps) {
    this.#limits = deps.limits;
    this.#inputHoldLeadMs = deps.inputHoldLeadMs;
    this.#rates = deps.rates;
    this.#routeById = deps.routeById;
    this.#metrics = deps.metrics;
    this.#links = deps.links;
    this.#pending = deps.pending;
    this.#route = deps.route;
    this.#countChanged = deps.countChanged;
    this.#closed = deps.closed;
    this.#chat = deps.chat;
  }

  /** Open sockets (authenticated, not closed). */
  get size(): number {
    return this.#conns.size;
  }

  /** The open socket with this connection id (the engine link's channel). */
  get(connId: number): Socket | undefined {
    return this.#conns.get(connId);
  }

  /** Every open socket. */
  values(): IterableIterator<Socket> {
    return this.#conns.values();
  }

  /** Serve the client WebSocket at WS_PATH on `app`; `count` hears of each socket opened or closed there. */
  register(app: TemplatedApp, uWS: UwsModule, count: SocketCount, upgrades: UpgradeDeps): void {
    this.#upgrades = upgrades;
    app.ws<SocketSlot>(WS_PATH, {
      // uWS drops a socket whose frame exceeds this without a close frame (1006); frames between
      // our limit and twice it get a proper FRAME_TOO_LARGE close from #message instead.
      maxPayloadLength: this.#limits.maxFrameBytes * 2,
      // Headroom above ours: the sweep closes a slow consumer with SLOW_CONSUMER while uWS can
      // still queue the close frame (past its own limit uWS drops messages, close frame included).
      maxBackpressure: this.#limits.maxBackpressureBytes + Math.max(this.#limits.maxBackpressureBytes, 1 << 20),
      // Transport-level liveness (TCP half-open); the application idle timeout is ours.
      idleTimeout: 120,
      sendPingsAutomatically: true,
      compression: uWS.DISABLED,
      upgrade: (res, req, context) => upgradeSocket(res, req, context, upgrades),
      open: (ws) => {
        count.opened();
        this.#open(ws);
      },
      message: (ws, message, isBinary) => this.#message(ws, message, isBinary),
      close: (ws) => {
        count.closed();
        this.#close(ws);
      },
    });
  }

  #open(ws: Socket): void {
    const data = connOf(ws);
    const token = data.token;
    if (data.reject !== null || token === null || this.#upgrades === null) return this.#refuse(ws, data, data.reject ?? { code: CloseCode.AUTH_INVALID, reason: 'refused' });
    data.token = null;
    this.#authenticating.add(ws);
    authenticate(token, data.ip, this.#upgrades).then(
      (outcome) => {
        this.#authenticating.delete(ws);
        // Closed by the client (or by the gateway closing) while its token was being checked.
        if (userData(ws) === null || data.state !== 'authenticating') return;
        ws.cork(() => {
          if (data.floodedEarly) {
            // Flooded before anyone knew whose socket it was: now the account is known (or the token was bad: the address alone).
            this.#rates.flooded('session' in outcome ? outcome.session.accountId : null, data.ip, performance.now());
            return this.#refuse(ws, data, { code: CloseCode.RATE_LIMITED, reason: ErrorCodes.GW_ERR_RATE_LIMITED });
          }
          if ('reject' in outcome) return this.#refuse(ws, data, outcome.reject);
          data.session = outcome.session;
          data.bucket = this.#rates.messageBucket(outcome.session.accountId, performance.now());
          data.state = 'routing';
          this.#admit(ws, data);
          // What it sent meanwhile, in order, as if it came now (the rate limit counts it then).
          data.heldBytes = 0;
          for (const frame of data.held.splice(0)) {
            if ((data.state as ConnData['state']) === 'closed') break;
            this.#message(ws, frame.buffer as ArrayBuffer, true);
          }
        });
      },
      (err: unknown) => {
        this.#authenticating.delete(ws);
        this.#upgrades?.logger.error({ err }, 'authenticating a socket failed');
        if (userData(ws) === null || data.state !== 'authenticating') return;
        if (data.floodedEarly) this.#rates.flooded(null, data.ip, performance.now());
        this.#refuse(ws, data, { code: CloseCode.ENGINE_UNAVAILABLE, reason: ErrorCodes.GW_ERR_SESSION_STORE });
      },
    );
  }

  /** Close every socket whose token is still being checked (the gateway closes). */
  refuseAuthenticating(reject: NonNullable<ConnData['reject']>): void {
    for (const ws of [...this.#authenticating]) {
      const data = userData(ws);
      if (data !== null && data.state === 'authenticating') this.#refuse(ws, data, reject);
    }
    this.#authenticating.clear();
  }

  /** Close a socket that was never accepted with the code saying why. */
  #refuse(ws: Socket, data: ConnData, reject: NonNullable<ConnData['reject']>): void {
    this.#authenticating.delete(ws);
    data.state = 'closed';
    data.held.length = 0;
    data.heldBytes = 0;
    this.#metrics.closes.inc({ code: String(reject.code) });
    ws.end(reject.code, closeReason(reject.reason));
  }

  /** A socket whose token checked out: a connection id, the only socket of its token here, routed to its scene. */
  #admit(ws: Socket, data: ConnData): void {
    if (data.session === null) return;
    // A connection id wraps after 4.3 billion sockets: never one an open socket still has.
    const connId = this.#connIds.take((id) => this.#conns.has(id));
    (data as { connId: number }).connId = connId;
    this.#conns.set(connId, ws);
    // One socket per session token on this gateway: a second one replaces the first.
    const previous = this.#byToken.get(data.session.token);
    if (previous !== undefined) this.end(previous, CloseCode.SESSION_REPLACED, 'connected again');
    this.#byToken.set(data.session.token, ws);
    this.#countChanged();
    this.#route(ws, data);
    this.#chat()?.admitted(ws, data);
  }

  #message(ws: Socket, message: ArrayBuffer, isBinary: boolean): void {
    const data = connOf(ws);
    if (data.state === 'closed') return;
    if (!isBinary) return this.#endAny(ws, data, CloseCode.BAD_FRAME, 'text frames are not accepted');
    if (message.byteLength > this.#limits.maxFrameBytes) {
      return this.#endAny(ws, data, CloseCode.FRAME_TOO_LARGE, `frame larger than ${this.#limits.maxFrameBytes} bytes`);
    }
    if (data.state === 'authenticating') {
      // Its token is being checked: the frame waits (a PING too: its PONG would tell the client
      // it is accepted). Bounded before anyone knows who sent it: at most as many frames as its
      // account's burst would let through at once (and maxFramesBeforeRoute), and 64 KiB. Past
      // that it is a flood: dropped, and refused with a cool-down once the token names the account.
      if (data.floodedEarly) return;
      const maxFrames = Math.min(this.#limits.maxFramesBeforeRoute, this.#limits.messageBurst);
      if (data.held.length >= maxFrames || data.heldBytes + message.byteLength > MAX_HELD_BYTES) {
        data.floodedEarly = true;
        data.held.length = 0;
        data.heldBytes = 0;
        return;
      }
      // uWS reuses the message's memory after this callback: a frame kept for later is copied.
      data.held.push(new Uint8Array(message.slice(0)));
      data.heldBytes += message.byteLength;
      return;
    }
    const now = performance.now();
    // The account's token bucket: `messagesPerSecond` sustained, `messageBurst` at once.
    if (data.bucket < 0 || !this.#rates.allowMessage(data.bucket, now)) {
      if (data.session !== null) this.#rates.flooded(data.session.accountId, data.ip, now);
      return this.end(ws, CloseCode.RATE_LIMITED, ErrorCodes.GW_ERR_RATE_LIMITED);
    }
    data.lastFrameAt = Math.floor(now);
    const bytes = new Uint8Array(message);
    const header = readFrameHeader(bytes);
    if (header === null) return this.end(ws, CloseCode.BAD_FRAME, 'malformed frame header');
    if ((header.flags & ~allowedFrameFlags(header.kind)) !== 0) return this.end(ws, CloseCode.BAD_FRAME, 'reserved frame flag bits set');
    this.#metrics.framesIn[header.kind]!++;
    if (header.kind === FrameKind.PING) {
      this.sendTo(ws, encodeFrame(FrameKind.PONG, 0, header.requestId, null));
      return;
    }
    if (header.kind !== FrameKind.REQUEST) return this.end(ws, CloseCode.BAD_FRAME, 'clients send only REQUEST and PING frames');
    const wantsReply = (header.flags & FrameFlag.NO_REPLY) === 0;
    if (CHAT_ROUTES.has(header.opcode)) {
      // Answered here, whatever the socket's scene and engine are doing (docs/chat.md).
      const chat = this.#chat();
      if (chat === null) this.sendError(ws, header.opcode, header.requestId, ErrorCodes.GW_ERR_UNKNOWN_ROUTE, 'this gateway has no chat');
      else chat.request(ws, data, header.opcode, header.requestId, framePayload(bytes), wantsReply);
      return;
    }
    if (!this.#routeById.has(header.opcode)) {
      this.sendError(ws, header.opcode, header.requestId, ErrorCodes.GW_ERR_UNKNOWN_ROUTE, `unknown route ${header.opcode}`);
      return;
    }
    if (data.travel !== null) {
      // The player travels to another scene: its frames wait, in order, for the target scene.
      if (data.early.length >= this.#limits.maxFramesBeforeRoute) {
        this.sendError(ws, header.opcode, header.requestId, ErrorCodes.GW_ERR_TRAVEL_FAILED, `travelling to another scene with ${data.early.length} frames already waiting; retry once there`);
        return;
      }
      if (wantsReply && !this.#pending.track(ws, data, header.opcode, header.requestId)) return;
      data.early.push(bytes.slice());
      return;
    }
    if (data.migrating !== null) {
      // The player's scene moves live to another engine: its frames wait, in order, for it there.
      if (data.early.length >= this.#limits.maxFramesBeforeRoute) {
        this.sendError(ws, header.opcode, header.requestId, ErrorCodes.GW_ERR_NO_ENGINE, `the scene is moving to another engine with ${data.early.length} frames already waiting; retry shortly`);
        return;
      }
      if (wantsReply && !this.#pending.track(ws, data, header.opcode, header.requestId)) return;
      data.early.push(bytes.slice());
      return;
    }
    if (data.state === 'routing') {
      if (data.resuming !== null && data.resuming.why !== 'migrated') {
        // The scene is reloaded from its last save: inputs sent meanwhile are dropped, requests
        // are refused with a code the client may retry on.
        if (wantsReply) {
          this.sendTo(ws, encodeErrorFrame(header.opcode, header.requestId, ErrorCodes.GW_ERR_NO_ENGINE, 'scene resuming after its engine was lost; retry shortly'));
        }
        return;
      }
      if (data.early.length >= this.#limits.maxFramesBeforeRoute) {
        this.sendError(ws, header.opcode, header.requestId, ErrorCodes.GW_ERR_NO_ENGINE, 'not routed yet');
        return;
      }
      if (wantsReply && !this.#pending.track(ws, data, header.opcode, header.requestId)) return;
      // uWS reuses the message's memory after this callback: a frame kept for later is copied.
      data.early.push(bytes.slice());
      return;
    }
    if (wantsReply && !this.#pending.track(ws, data, header.opcode, header.requestId)) return;
    // Joined on an in-process link: straight to the engine on the connection's lane when it takes
    // the frame (the plain case), with no lookup of the link; anything else goes on the link (a
    // closed one refuses the lane), where the engine holds or answers it.
    const lane = data.lane;
    if (lane !== null && data.state === 'joined' && data.laneLink?.deliverOnLane?.(lane, bytes) === true) {
      this.#metrics.forwarded[1]!++;
      return;
    }
    const link = data.engineId === null ? undefined : this.#links.get(data.engineId);
    try {
      if (link === undefined) throw new CodedError(ErrorCodes.GW_ERR_NO_ENGINE, 'engine link is down');
      // A TCP link copies the bytes into its write batch, an in-process one hands them to the
      // engine, which copies them into the scene's ring, before send returns: no copy here. A
      // fire-and-forget input to a scene that takes them at its ticks may wait for the tick.
      const holdFor = wantsReply || this.#inputHoldLeadMs === 0 ? 0 : data.inputTickMs;
      link.send(GatewayToEngine.CLIENT_FRAME, data.connId, bytes, holdFor === 0 ? undefined : inputHoldUntil(now, holdFor, this.#inputHoldLeadMs));
      this.#metrics.forwarded[link.transport === 'tcp' ? 0 : 1]!++;
    } catch (err) {
      if (wantsReply) data.pending.delete(header.requestId);
      const code = isCodedError(err) ? err.code : ErrorCodes.GW_ERR_NO_ENGINE;
      this.sendError(ws, header.opcode, header.requestId, code, 'engine unavailable');
    }
  }

  #close(ws: Socket): void {
    const data = connOf(ws);
    this.#closed(data);
    const wasRouted = data.state === 'joining' || data.state === 'joined';
    data.state = 'closed';
    data.lane = null;
    data.laneLink = null;
    data.early.length = 0;
    data.held.length = 0;
    data.heldBytes = 0;
    this.#authenticating.delete(ws);
    data.pending.clear();
    if (data.bucket >= 0) {
      this.#rates.releaseMessageBucket(data.bucket);
      data.bucket = -1;
    }
    if (data.connId === 0) return;
    this.#conns.delete(data.connId);
    if (data.session !== null && this.#byToken.get(data.session.token) === ws) this.#byToken.delete(data.session.token);
    this.#countChanged();
    if (!wasRouted || data.engineId === null) return;
    try {
      this.#links.get(data.engineId)?.send(GatewayToEngine.LEAVE, data.connId, new Uint8Array(0));
    } catch {
      // The link is down: the engine treats every connection of this gateway as gone anyway.
    }
  }

  /** Answer a request with an ERROR frame the gateway makes itself. */
  sendError(ws: Socket, opcode: number, requestId: number, code: string, message: string): void {
    this.#metrics.errors.inc({ code });
    this.sendTo(ws, encodeErrorFrame(opcode, requestId, code, message));
  }

  /** Send one frame; a socket whose buffer grows past the limit is closed as a slow consumer. */
  sendTo(ws: Socket, frame: Uint8Array): void {
    const data = userData(ws);
    if (data === null || data.state === 'closed') return;
    this.#metrics.framesOut[frame[0]! & 7]!++;
    ws.send(frame, true, false);
    if (ws.getBufferedAmount() > this.#limits.maxBackpressureBytes) this.end(ws, CloseCode.SLOW_CONSUMER, 'reading too slowly');
  }

  /** Close a socket, accepted or still authenticating, with `code`. */
  #endAny(ws: Socket, data: ConnData, code: number, reason: string): void {
    if (data.state === 'authenticating') this.#refuse(ws, data, { code, reason });
    else this.end(ws, code, reason);
  }

  /** Close a socket with `code` (counted; its engine is sent a LEAVE when it was routed). */
  end(ws: Socket, code: number, reason: string): void {
    const data = userData(ws);
    if (data === null || data.state === 'closed') return;
    this.#metrics.closes.inc({ code: String(code) });
    this.#close(ws);
    // `end` calls the close handler synchronously; the state above makes that a no-op.
    ws.end(code, closeReason(reason));
  }

  /** The session was replaced by a login elsewhere: close its socket here, if any. */
  kickToken(token: string): void {
    const ws = this.#byToken.get(token);
    if (ws !== undefined) this.end(ws, CloseCode.SESSION_REPLACED, 'logged in elsewhere');
  }
}
