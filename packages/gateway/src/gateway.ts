import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket } from 'uWebSockets.js';
import {
  CloseCode,
  CodedError,
  ErrorCodes,
  FrameKind,
  WS_PATH,
  WS_QUERY_TOKEN,
  WS_QUERY_VERSION,
  encodeFrame,
  isCodedError,
  readFrameHeader,
  encodeErrorFrame,
  encodeSceneResumedFrame,
  FrameFlag,
  FRAME_HEADER_BYTES,
  ErrorReplyCodec,
  framePayload,
  allowedFrameFlags,
  type Logger,
} from '@gos/schema';
import type { MemberHandle, PlacementRecord } from '@gos/coordinator';
import {
  EngineToGateway,
  GatewayToEngine,
  decodeBroadcastBody,
  decodeJsonBody,
  encodeJsonBody,
  type JoinBody,
} from '@gos/link';
import { AuthService } from './auth.js';
import { EngineLinks } from './engine-links.js';
import { chooseGateways } from './gateway-choice.js';
import { track } from './http.js';
import { registerApiRoutes, registerStaticRoutes, type HttpRoutesDeps } from './http-routes.js';
import { ServedApps, type SocketCount } from './served-apps.js';
import { resolveGatewayOptions, type GatewayOptions, type ResolvedGatewayOptions } from './options.js';
import { ResumeLog } from './resume-log.js';
import type { Session } from './session/index.js';
import { RateLimits, type Bucket } from './rate-limits.js';
import { GatewayMetrics } from './metrics.js';
import { loadStaticFiles, type StaticFile } from './static-files.js';
import { loadUws, type UwsModule } from './uws.js';

interface ConnData {
  readonly connId: number;
  /** Set when the upgrade was accepted only to tell the client why it is refused. */
  readonly reject: { readonly code: number; readonly reason: string } | null;
  readonly session: Session | null;
  engineId: string | null;
  state: 'routing' | 'joining' | 'joined' | 'closed';
  /** Frames received before the engine link was known; sent in order once it is. */
  early: Uint8Array[];
  /**
   * Requests forwarded to the engine (or queued in `early`) that wait for its answer:
   * requestId → its opcode and arrival time. When the engine is lost or the scene moves, each
   * gets an ERROR (`GW_ERR_SCENE_MOVED`, retryable) at once instead of waiting out the client's
   * timeout.
   */
  readonly pending: Map<number, { readonly opcode: number; readonly at: number }>;
  /** The client's address, for its rate limits. */
  readonly ip: string;
  /** The account's frame bucket (shared by its sockets, kept across reconnects); null when refused. */
  readonly bucket: Bucket | null;
  lastFrameAt: number;
  lastTouchAt: number;
  /** When the JOIN went to the engine; a join not confirmed within JOIN_TIMEOUT_MS fails. */
  joinSentAt: number;
  /** Whether the player has been in its scene on this connection (a later join is a resume). */
  joinedOnce: boolean;
  /**
   * Set while the player's scene is placed again: its engine was lost (`why` 'lost': the same
   * engine is fine once its link is back), is draining ('drain': wait until the scene is placed
   * elsewhere), or stopped the scene ('moved': released as idle or taken from it; wherever the
   * placement says next). `since` is the first loss: the RESUME_TIMEOUT_MS budget.
   */
  resuming: { readonly from: string; readonly since: number; readonly why: ResumeReason } | null;
}

type ResumeReason = 'lost' | 'drain' | 'moved';

type Socket = WebSocket<ConnData>;

/** How often sockets are checked for idleness and backpressure. */
const SWEEP_MS = 250;
/** How often a connected socket extends (and re-checks) its session. */
const SESSION_TOUCH_MS = 30_000;
/** A join the engine has not confirmed by then is given up (store down, scene stuck). */
const JOIN_TIMEOUT_MS = 15_000;
/** How long a player whose engine was lost waits, connected, for its scene to be placed again. */
const RESUME_TIMEOUT_MS = 30_000;
/**
 * How soon a waiting player checks again whether its scene has a live engine: doubling from
 * this up to RESUME_POLL_MAX_MS (each check may write a placement request when the scene is
 * placed nowhere).
 */
const RESUME_POLL_MS = 100;
const RESUME_POLL_MAX_MS = 1600;
const decoder = new TextDecoder();
/** The requestId of a frame at least FRAME_HEADER_BYTES long (u32 LE at offset 4). */
function readRequestId(frame: Uint8Array): number {
  return (frame[4]! | (frame[5]! << 8) | (frame[6]! << 16) | (frame[7]! << 24)) >>> 0;
}

/**
 * A gateway: serves the auth HTTP API and the client WebSocket, authenticates sockets with
 * session tokens, forwards each frame to the engine hosting the player's scene without
 * decoding its payload, relays replies and fans broadcasts out with uWS topics (`s/<sceneId>`).
 */
export class Gateway {
  readonly #o: ResolvedGatewayOptions;
  readonly #log: Logger;
  readonly #auth: AuthService;
  readonly #conns = new Map<number, Socket>();
  readonly #byToken = new Map<string, Socket>();
  readonly #links: EngineLinks;
  #apps: ServedApps | undefined;
  #member: MemberHandle | undefined;
  #static = new Map<string, StaticFile>();
  #sweep: ReturnType<typeof setInterval> | undefined;
  #unwatch: (() => void) | undefined;
  #nextConnId = 1;
  /** Frame buckets per account, cool-downs after 4006, auth buckets per address. */
  readonly #limits: RateLimits;
  readonly #metrics: GatewayMetrics;
  /** Resumed players: one info line per engine lost or drained (created with the first). */
  #resumeLog: ResumeLog | undefined;
  #state: 'new' | 'starting' | 'ready' | 'closing' | 'closed' = 'new';
  #closing: Promise<void> | undefined;

  constructor(options: GatewayOptions) {
    this.#o = resolveGatewayOptions(options);
    this.#log = this.#o.logger.child({ gatewayId: this.#o.gatewayId });
    this.#limits = new RateLimits(this.#o.limits);
    this.#metrics = new GatewayMetrics(this.#o.metrics, {
      connections: () => this.#conns.size,
      links: () => [...this.#links.entries()].map(([engineId, link]) => ({ engineId, queuedBytes: link.stats.queuedBytes, up: link.isUp })),
    });
    this.#links = new EngineLinks({
      gatewayId: this.#o.gatewayId,
      clusterSecret: this.#o.clusterSecret,
      tls: this.#o.linkTls,
      membership: this.#o.coordinator.membership,
      accepting: () => this.#state === 'ready',
      onMessage: (engineId, type, channel, body) => this.#onEngineMessage(engineId, type, channel, body),
      onDown: (engineId) => this.#onLinkDown(engineId),
      logger: this.#log,
    });
    this.#auth = new AuthService({
      store: this.#o.store,
      sessions: this.#o.sessions,
      scryptCost: this.#o.scryptCost,
      defaultSceneId: this.#o.defaultSceneId,
      sceneForLogin: this.#o.sceneForLogin,
      gatewayUrls: (groupId) => this.#gatewayUrls(groupId),
      onReplaced: (previousToken) => this.#kickToken(previousToken),
      logger: this.#log,
    });
  }

  get port(): number {
    return this.#apps?.port ?? 0;
  }

  get publicUrl(): string {
    return this.#o.publicUrl ?? `${this.#o.tls === null ? 'ws' : 'wss'}://${this.#o.host}:${this.port}${WS_PATH}`;
  }

  get httpUrl(): string {
    return `${this.#o.tls === null ? 'http' : 'https'}://${this.#o.host}:${this.port}`;
  }

  get connections(): number {
    return this.#conns.size;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    this.#state = 'starting';
    const uws = loadUws();
    const uWS = uws.uWS;
    if (this.#o.staticDir !== null) this.#static = await loadStaticFiles(this.#o.staticDir);
    const apps = new ServedApps({ host: this.#o.host, port: this.#o.port, tls: this.#o.tls, routes: (app, sockets) => this.#routes(app, uWS, sockets) });
    this.#apps = apps;
    const certificate = await apps.listen();
    this.#sweep = setInterval(() => this.#sweepConnections(), SWEEP_MS);
    this.#sweep.unref();
    this.#unwatch = this.#o.coordinator.membership.watch((event) => {
      if (event.type === 'down' && event.member.role === 'engine') this.#dropLink(event.member.id);
    });
    this.#member = await this.#o.coordinator.membership.register({
      id: this.#o.gatewayId,
      role: 'gateway',
      address: this.publicUrl,
      capacity: this.#o.capacity,
    });
    this.#state = 'ready';
    this.#log.info({ url: this.httpUrl, uws: { build: uws.build, package: uws.package, binary: uws.binary }, ...(certificate === null ? {} : { certificate }) }, 'gateway listening');
  }

  /**
   * Load the certificate and key again from `tls.certFile` and `tls.keyFile` (renewed in place):
   * new connections get the new certificate, open sockets stay connected with theirs. The
   * process entries call this on SIGHUP. Without `tls`, or when not serving, it does nothing.
   * @throws CodedError `GW_ERR_TLS` when the files cannot be used (logged; the previous
   *   certificate stays in use).
   */
  async reloadTls(): Promise<void> {
    if (this.#o.tls === null) {
      this.#log.info('no TLS certificate to reload: the gateway serves plain http and ws');
      return;
    }
    try {
      const certificate = this.#state === 'ready' ? await this.#apps?.reload() : null;
      if (certificate === null || certificate === undefined) this.#log.warn({ state: this.#state }, 'TLS certificate not reloaded: the gateway is not serving');
      else this.#log.info({ certificate }, 'TLS certificate reloaded: new connections use it, open ones keep theirs');
    } catch (err) {
      this.#log.error({ err, code: isCodedError(err) ? err.code : undefined }, 'TLS certificate reload failed: still serving the previous one');
      throw err;
    }
  }

  // ---- HTTP ----

  #routes(app: TemplatedApp, uWS: UwsModule, sockets: SocketCount): void {
    const http: HttpRoutesDeps = {
      gatewayId: this.#o.gatewayId,
      state: () => this.#state,
      connections: () => this.#conns.size,
      metrics: this.#o.metrics,
      auth: this.#auth,
      limits: this.#limits,
      maxHttpBodyBytes: this.#o.limits.maxHttpBodyBytes,
      staticFile: (url) => this.#static.get(url),
      logger: this.#log,
    };
    registerApiRoutes(app, http);
    app.ws<ConnData>(WS_PATH, {
      // uWS drops a socket whose frame exceeds this without a close frame (1006); frames between
      // our limit and twice it get a proper FRAME_TOO_LARGE close from #message instead.
      maxPayloadLength: this.#o.limits.maxFrameBytes * 2,
      // Headroom above ours: the sweep closes a slow consumer with SLOW_CONSUMER while uWS can
      // still queue the close frame (past its own limit uWS drops messages, close frame included).
      maxBackpressure: this.#o.limits.maxBackpressureBytes + Math.max(this.#o.limits.maxBackpressureBytes, 1 << 20),
      // Transport-level liveness (TCP half-open); the application idle timeout is ours.
      idleTimeout: 120,
      sendPingsAutomatically: true,
      compression: uWS.DISABLED,
      upgrade: (res, req, context) => this.#upgrade(res, req, context),
      open: (ws) => {
        sockets.opened();
        this.#open(ws);
      },
      message: (ws, message, isBinary) => this.#message(ws, message, isBinary),
      close: (ws) => {
        sockets.closed();
        this.#close(ws);
      },
    });
    registerStaticRoutes(app, http);
  }

  // ---- WebSocket ----

  #upgrade(res: HttpResponse, req: HttpRequest, context: unknown): void {
    const state = track(res);
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const query = new URLSearchParams(req.getQuery() ?? '');
    const token = query.get(WS_QUERY_TOKEN);
    const version = query.get(WS_QUERY_VERSION);
    const ip = decoder.decode(res.getRemoteAddressAsText());
    const accept = (session: Session | null, reject: ConnData['reject']): void => {
      if (state.aborted) return;
      // The session lookup is async: the gateway may have started closing meanwhile.
      if (this.#state !== 'ready' && reject === null) reject = { code: CloseCode.SERVER_SHUTDOWN, reason: 'gateway is not accepting players' };
      const now = performance.now();
      if (reject === null && session !== null) {
        const waitMs = this.#limits.cooldownLeft(session.accountId, ip, now);
        if (waitMs > 0) reject = { code: CloseCode.RATE_LIMITED, reason: `${ErrorCodes.GW_ERR_RATE_LIMITED}: cooling down after a flood; retry in ${waitMs} ms` };
      }
      const data: ConnData = {
        connId: 0,
        reject,
        session,
        engineId: null,
        state: 'routing',
        early: [],
        pending: new Map(),
        ip,
        bucket: reject === null && session !== null ? this.#limits.messageBucket(session.accountId, now) : null,
        lastFrameAt: now,
        lastTouchAt: now,
        joinSentAt: 0,
        joinedOnce: false,
        resuming: null,
      };
      res.cork(() => res.upgrade(data, key, protocol, extensions, context as never));
    };
    // Refusals are sent as close codes after the upgrade: browsers cannot read an HTTP status.
    if (this.#state !== 'ready') return accept(null, { code: CloseCode.SERVER_SHUTDOWN, reason: 'gateway is not accepting players' });
    if (token === null || token === '') return accept(null, { code: CloseCode.AUTH_REQUIRED, reason: ErrorCodes.GW_ERR_NO_TOKEN });
    if (version !== String(this.#o.protocol.version)) {
      return accept(null, { code: CloseCode.PROTOCOL_VERSION, reason: `${ErrorCodes.GW_ERR_PROTOCOL_VERSION}: server speaks ${this.#o.protocol.version}` });
    }
    this.#o.sessions.get(token).then(
      (session) => accept(session, session === null ? { code: CloseCode.AUTH_INVALID, reason: ErrorCodes.GW_ERR_SESSION_EXPIRED } : null),
      (err: unknown) => {
        this.#log.error({ err }, 'session lookup failed');
        accept(null, { code: CloseCode.ENGINE_UNAVAILABLE, reason: ErrorCodes.GW_ERR_SESSION_STORE });
      },
    );
  }

  #open(ws: Socket): void {
    const data = ws.getUserData();
    if (data.reject !== null || data.session === null) {
      data.state = 'closed';
      const code = data.reject?.code ?? CloseCode.AUTH_INVALID;
      this.#metrics.closes.inc({ code: String(code) });
      ws.end(code, data.reject?.reason ?? 'refused');
      return;
    }
    const connId = this.#nextConnId;
    this.#nextConnId = this.#nextConnId >= 0xfffffff0 ? 1 : this.#nextConnId + 1;
    (data as { connId: number }).connId = connId;
    this.#conns.set(connId, ws);
    // One socket per session token on this gateway: a second one replaces the first.
    const previous = this.#byToken.get(data.session.token);
    if (previous !== undefined) this.#end(previous, CloseCode.SESSION_REPLACED, 'connected again');
    this.#byToken.set(data.session.token, ws);
    this.#setLoad();
    void this.#route(ws, data);
  }

  async #route(ws: Socket, data: ConnData): Promise<void> {
    const session = data.session!;
    let retries = 0;
    for (;;) {
      try {
        const { placement } = this.#o.coordinator;
        let placed = await this.#ensurePlaced(session.sceneId);
        if (data.state === 'closed') return;
        const resuming = data.resuming;
        // The engine stopped the scene, and our view still names it: read the placement itself
        // rather than send the player back to be refused again.
        if (resuming?.why === 'moved' && placed.engineId === resuming.from) {
          placed = (await placement.fetch(session.sceneId)) ?? (await placement.ensure(session.sceneId));
          if ((data.state as ConnData['state']) === 'closed') return;
        }
        // Still placed on the engine that was lost, and its link is not back (or it drains):
        // wait for the placement to be released (its lease expires) or for the link to return.
        if (resuming !== null && placed.engineId === resuming.from && (resuming.why === 'drain' || this.#links.get(resuming.from)?.isUp !== true)) {
          throw new CodedError(ErrorCodes.GW_ERR_NO_ENGINE, `scene ${session.sceneId} is still placed on the lost engine ${resuming.from}`);
        }
        const link = await this.#links.connect(placed.engineId);
        if ((data.state as ConnData['state']) === 'closed') return;
        data.engineId = placed.engineId;
        data.state = 'joining';
        data.joinSentAt = performance.now();
        const join: JoinBody = { playerId: session.accountId, name: session.username, sceneId: session.sceneId };
        link.send(GatewayToEngine.JOIN, data.connId, encodeJsonBody(join));
        for (const frame of data.early.splice(0)) link.send(GatewayToEngine.CLIENT_FRAME, data.connId, frame);
        return;
      } catch (err) {
        const resuming = data.resuming;
        if (data.state === 'closed') return;
        if (resuming === null || this.#state !== 'ready' || performance.now() - resuming.since > RESUME_TIMEOUT_MS) {
          this.#log.warn({ err, sceneId: session.sceneId }, 'cannot route player to an engine');
          this.#end(ws, CloseCode.ENGINE_UNAVAILABLE, ErrorCodes.GW_ERR_NO_ENGINE);
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(RESUME_POLL_MAX_MS, RESUME_POLL_MS * 2 ** retries++)));
      }
    }
  }

  /** The scene's placement; a scene placed nowhere waits for the leader (timed for metrics). */
  async #ensurePlaced(sceneId: string): Promise<PlacementRecord> {
    const { placement } = this.#o.coordinator;
    const known = placement.lookup(sceneId);
    if (known !== undefined) return known;
    const startedAt = performance.now();
    try {
      const placed = await placement.ensure(sceneId);
      this.#metrics.placementSeconds.observe({ result: 'placed' }, (performance.now() - startedAt) / 1000);
      return placed;
    } catch (err) {
      this.#metrics.placementSeconds.observe({ result: isCodedError(err) ? err.code : 'error' }, (performance.now() - startedAt) / 1000);
      throw err;
    }
  }

  #message(ws: Socket, message: ArrayBuffer, isBinary: boolean): void {
    const data = ws.getUserData();
    if (data.state === 'closed') return;
    if (!isBinary) return this.#end(ws, CloseCode.BAD_FRAME, 'text frames are not accepted');
    if (message.byteLength > this.#o.limits.maxFrameBytes) {
      return this.#end(ws, CloseCode.FRAME_TOO_LARGE, `frame larger than ${this.#o.limits.maxFrameBytes} bytes`);
    }
    const now = performance.now();
    // The account's token bucket: `messagesPerSecond` sustained, `messageBurst` at once.
    if (data.bucket === null || !this.#limits.allowMessage(data.bucket, now)) {
      if (data.session !== null) this.#limits.flooded(data.session.accountId, data.ip, now);
      return this.#end(ws, CloseCode.RATE_LIMITED, ErrorCodes.GW_ERR_RATE_LIMITED);
    }
    data.lastFrameAt = now;
    const bytes = new Uint8Array(message);
    const header = readFrameHeader(bytes);
    if (header === null) return this.#end(ws, CloseCode.BAD_FRAME, 'malformed frame header');
    if ((header.flags & ~allowedFrameFlags(header.kind)) !== 0) return this.#end(ws, CloseCode.BAD_FRAME, 'reserved frame flag bits set');
    this.#metrics.framesIn[header.kind]!++;
    if (header.kind === FrameKind.PING) {
      this.#sendTo(ws, encodeFrame(FrameKind.PONG, 0, header.requestId, null));
      return;
    }
    if (header.kind !== FrameKind.REQUEST) return this.#end(ws, CloseCode.BAD_FRAME, 'clients send only REQUEST and PING frames');
    if (!this.#o.protocol.routeById.has(header.opcode)) {
      this.#sendError(ws, header.opcode, header.requestId, ErrorCodes.GW_ERR_UNKNOWN_ROUTE, `unknown route ${header.opcode}`);
      return;
    }
    const wantsReply = (header.flags & FrameFlag.NO_REPLY) === 0;
    if (data.state === 'routing') {
      if (data.resuming !== null) {
        // The scene is reloaded from its last save: inputs sent meanwhile are dropped, requests
        // are refused with a code the client may retry on.
        if (wantsReply) {
          this.#sendTo(ws, encodeErrorFrame(header.opcode, header.requestId, ErrorCodes.GW_ERR_NO_ENGINE, 'scene resuming after its engine was lost; retry shortly'));
        }
        return;
      }
      if (data.early.length >= this.#o.limits.maxFramesBeforeRoute) {
        this.#sendError(ws, header.opcode, header.requestId, ErrorCodes.GW_ERR_NO_ENGINE, 'not routed yet');
        return;
      }
      if (wantsReply && !this.#track(ws, data, header.opcode, header.requestId)) return;
      // uWS reuses the message's memory after this callback: a frame kept for later is copied.
      data.early.push(bytes.slice());
      return;
    }
    const link = data.engineId === null ? undefined : this.#links.get(data.engineId);
    if (wantsReply && !this.#track(ws, data, header.opcode, header.requestId)) return;
    try {
      if (link === undefined) throw new CodedError(ErrorCodes.GW_ERR_NO_ENGINE, 'engine link is down');
      // The link copies the bytes into its write batch before returning: no copy needed here.
      link.send(GatewayToEngine.CLIENT_FRAME, data.connId, bytes);
    } catch (err) {
      if (wantsReply) data.pending.delete(header.requestId);
      const code = isCodedError(err) ? err.code : ErrorCodes.GW_ERR_NO_ENGINE;
      this.#sendError(ws, header.opcode, header.requestId, code, 'engine unavailable');
    }
  }

  /**
   * Remember a request that waits for the engine's answer (see ConnData.pending); false, with
   * the request refused, when the socket already has `maxPendingRequests` waiting.
   */
  #track(ws: Socket, data: ConnData, opcode: number, requestId: number): boolean {
    if (data.pending.size >= this.#o.limits.maxPendingRequests && !data.pending.has(requestId)) {
      this.#sendError(ws, opcode, requestId, ErrorCodes.GW_ERR_TOO_MANY_PENDING, `more than ${this.#o.limits.maxPendingRequests} requests waiting for an answer`);
      return false;
    }
    data.pending.set(requestId, { opcode, at: performance.now() });
    return true;
  }

  /** Answer every request still waiting on the engine the player just lost (retryable). */
  #failPending(ws: Socket, data: ConnData, message: string): void {
    if (data.pending.size === 0) return;
    const pending = [...data.pending];
    data.pending.clear();
    for (const [requestId, { opcode }] of pending) this.#sendError(ws, opcode, requestId, ErrorCodes.GW_ERR_SCENE_MOVED, message);
  }

  #close(ws: Socket): void {
    const data = ws.getUserData();
    const wasRouted = data.state === 'joining' || data.state === 'joined';
    data.state = 'closed';
    data.early.length = 0;
    data.pending.clear();
    if (data.connId === 0) return;
    this.#conns.delete(data.connId);
    if (data.session !== null && this.#byToken.get(data.session.token) === ws) this.#byToken.delete(data.session.token);
    this.#setLoad();
    if (!wasRouted || data.engineId === null) return;
    try {
      this.#links.get(data.engineId)?.send(GatewayToEngine.LEAVE, data.connId, new Uint8Array(0));
    } catch {
      // The link is down: the engine treats every connection of this gateway as gone anyway.
    }
  }

  /** Answer a request with an ERROR frame the gateway makes itself. */
  #sendError(ws: Socket, opcode: number, requestId: number, code: string, message: string): void {
    this.#metrics.errors.inc({ code });
    this.#sendTo(ws, encodeErrorFrame(opcode, requestId, code, message));
  }

  /** Send one frame; a socket whose buffer grows past the limit is closed as a slow consumer. */
  #sendTo(ws: Socket, frame: Uint8Array): void {
    const data = userData(ws);
    if (data === null || data.state === 'closed') return;
    this.#metrics.framesOut[frame[0]! & 7]!++;
    ws.send(frame, true, false);
    if (ws.getBufferedAmount() > this.#o.limits.maxBackpressureBytes) this.#end(ws, CloseCode.SLOW_CONSUMER, 'reading too slowly');
  }

  #end(ws: Socket, code: number, reason: string): void {
    const data = userData(ws);
    if (data === null || data.state === 'closed') return;
    this.#metrics.closes.inc({ code: String(code) });
    this.#close(ws);
    // `end` calls the close handler synchronously; the state above makes that a no-op.
    ws.end(code, closeReason(reason));
  }

  #setLoad(): void {
    this.#member?.setLoad(this.#conns.size).catch((err: unknown) => this.#log.warn({ err }, 'cannot publish load'));
  }

  /**
   * AgentMgr's choice for a login: live gateways, the group's first while it has room, else
   * least loaded under capacity first (see chooseGateways); this one when none is known yet.
   */
  async #gatewayUrls(groupId: string | null): Promise<string[]> {
    const members = this.#o.coordinator.membership.list('gateway');
    const ranked = (await chooseGateways(this.#o.sessions, members, this.#o.gatewayId, groupId, this.#log)).map((m) => m.address);
    return ranked.length === 0 ? [this.publicUrl] : ranked;
  }

  #kickToken(token: string): void {
    const ws = this.#byToken.get(token);
    if (ws !== undefined) this.#end(ws, CloseCode.SESSION_REPLACED, 'logged in elsewhere');
  }

  #sweepConnections(): void {
    const now = performance.now();
    this.#limits.sweep(now);
    const { idleTimeoutMs, maxBackpressureBytes } = this.#o.limits;
    for (const ws of this.#conns.values()) {
      const data = ws.getUserData();
      if (now - data.lastFrameAt > idleTimeoutMs) {
        this.#end(ws, CloseCode.IDLE_TIMEOUT, 'idle');
        continue;
      }
      if (data.state === 'joining' && now - data.joinSentAt > JOIN_TIMEOUT_MS) {
        this.#end(ws, CloseCode.JOIN_FAILED, 'join timed out');
        continue;
      }
      // Broadcasts go through uWS topics, so backpressure can grow without a direct send.
      if (ws.getBufferedAmount() > maxBackpressureBytes) {
        this.#end(ws, CloseCode.SLOW_CONSUMER, 'reading too slowly');
        continue;
      }
      if (data.session !== null && now - data.lastTouchAt > SESSION_TOUCH_MS) {
        data.lastTouchAt = now;
        // Sliding expiry while connected: the token stays valid for a reconnect. A session
        // revoked meanwhile (a new login, possibly through another gateway) ends the socket.
        this.#o.sessions.touch(data.session.token).then(
          (alive) => {
            if (!alive) this.#end(ws, CloseCode.AUTH_INVALID, 'session revoked or expired');
          },
          (err: unknown) => this.#log.warn({ err }, 'session touch failed'),
        );
      }
    }
  }

  // ---- engine links ----

  #onEngineMessage(engineId: string, type: number, channel: number, body: Uint8Array): void {
    try {
      switch (type) {
        case EngineToGateway.TO_CLIENT: {
          const ws = this.#conns.get(channel);
          if (ws === undefined) break;
          if (body[0] === FrameKind.ERROR) this.#metrics.errors.inc({ code: errorCodeOf(body) });
          const pending = ws.getUserData().pending;
          // The answer to a request: it no longer waits (only RESPONSE and ERROR frames answer).
          if (pending.size > 0 && body.byteLength >= FRAME_HEADER_BYTES && (body[0] === FrameKind.RESPONSE || body[0] === FrameKind.ERROR)) {
            const requestId = readRequestId(body);
            const request = pending.get(requestId);
            if (request !== undefined) {
              pending.delete(requestId);
              this.#metrics.requestSeconds.observe({ route: this.#o.protocol.routeById.get(request.opcode)?.name ?? 'unknown' }, (performance.now() - request.at) / 1000);
            }
          }
          this.#sendTo(ws, body);
          break;
        }
        case EngineToGateway.BROADCAST: {
          const { topic, frame } = decodeBroadcastBody(body);
          this.#metrics.framesOut[0]!++;
          this.#apps?.publish(topic, frame);
          break;
        }
        case EngineToGateway.JOINED: {
          const ws = this.#conns.get(channel);
          if (ws === undefined) break;
          const data = ws.getUserData();
          if (data.state !== 'joining') break;
          data.state = 'joined';
          const { sceneId } = decodeJsonBody<{ sceneId: string }>(body);
          ws.subscribe(`s/${sceneId}`);
          const resumed = data.resuming;
          const wasIn = data.joinedOnce;
          data.joinedOnce = true;
          if (resumed !== null) {
            data.resuming = null;
            const pausedMs = Math.round(performance.now() - resumed.since);
            (this.#resumeLog ??= new ResumeLog(this.#log)).add({ sceneId, from: resumed.from, to: engineId, pausedMs, why: resumed.why });
            // A first join that was sent back (a stale view of placement) is no resume to the player.
            if (wasIn) this.#sendTo(ws, encodeSceneResumedFrame(sceneId, resumeReason(resumed.from, engineId, resumed.why)));
          }
          break;
        }
        case EngineToGateway.SCENE_CRASHED: {
          const ws = this.#conns.get(channel);
          if (ws !== undefined) this.#failPending(ws, ws.getUserData(), 'the scene crashed before answering and restarts from its last save; retry shortly');
          break;
        }
        case EngineToGateway.KICK: {
          const ws = this.#conns.get(channel);
          const kick = decodeJsonBody<{ closeCode: number; reason: string }>(body);
          if (ws !== undefined) this.#end(ws, kick.closeCode, kick.reason);
          break;
        }
        case EngineToGateway.JOIN_FAILED: {
          const ws = this.#conns.get(channel);
          const error = decodeJsonBody<{ code: string; message: string }>(body);
          if (ws !== undefined && error.code === ErrorCodes.ENG_ERR_SHUTTING_DOWN && this.#state === 'ready') {
            // The engine is draining: the player waits, connected, until its scene is placed elsewhere.
            this.#resume(ws, engineId, 'drain', performance.now());
            break;
          }
          if (ws !== undefined && error.code === ErrorCodes.ENG_ERR_SCENE_MOVED && this.#state === 'ready') {
            // The scene was stopped there (idle, or its placement was taken away): follow the placement.
            this.#resume(ws, engineId, 'moved', performance.now());
            break;
          }
          if (ws !== undefined) {
            ws.getUserData().state = 'routing'; // nothing to LEAVE on the engine
            this.#end(ws, CloseCode.JOIN_FAILED, `${error.code}: ${error.message}`);
          }
          break;
        }
        default:
          this.#log.warn({ engineId, type }, 'unknown message from engine');
      }
    } catch (err) {
      this.#log.error({ err, engineId, type, body: decoder.decode(body.subarray(0, 64)) }, 'bad message from engine');
    }
  }

  #onLinkDown(engineId: string): void {
    // Its players stay connected while their scene is placed again: on another engine once the
    // lost one's placement is released (its lease expires), or on the same one if the link
    // comes back (the engine dropped them when the link went down). They are told with a
    // SceneResumed push once joined again, or closed with ENGINE_UNAVAILABLE after
    // RESUME_TIMEOUT_MS.
    const since = performance.now();
    for (const ws of [...this.#conns.values()]) {
      const data = ws.getUserData();
      if (data.engineId === engineId && data.state !== 'closed') this.#resume(ws, engineId, 'lost', since);
    }
  }

  /** Take a player off `engineId` and place its scene again (see ConnData.resuming). */
  #resume(ws: Socket, engineId: string, why: ResumeReason, now: number): void {
    const data = ws.getUserData();
    this.#failPending(ws, data, why === 'moved' ? `the scene moved off engine ${engineId} before answering; retry shortly` : `engine ${engineId} ${why === 'drain' ? 'shut down' : 'was lost'} before answering; retry shortly`);
    if (data.session !== null) ws.unsubscribe(`s/${data.session.sceneId}`);
    data.state = 'routing';
    data.engineId = null;
    data.early.length = 0;
    // Sent back twice in a row: give placement a moment to settle rather than bounce at once.
    const again = why === 'moved' && data.resuming?.why === 'moved';
    // The latest engine lost; the budget runs from the first loss. Only joining or joined
    // sockets get here: none has a #route loop running already.
    data.resuming = { from: engineId, since: data.resuming?.since ?? now, why };
    if (again) setTimeout(() => void this.#route(ws, data), RESUME_POLL_MS);
    else void this.#route(ws, data);
  }

  /** An engine left the cluster: its players resume elsewhere, its link is closed. */
  #dropLink(engineId: string): void {
    if (this.#links.get(engineId) === undefined) return;
    this.#onLinkDown(engineId);
    this.#links.drop(engineId);
  }

  /**
   * Graceful shutdown: refuse new players, close every socket with SERVER_SHUTDOWN (clients
   * reconnect elsewhere), leave the cluster, close links. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close2();
    return this.#closing;
  }

  async #close2(): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'closed';
      return;
    }
    this.#state = 'closing';
    clearInterval(this.#sweep);
    this.#unwatch?.();
    await this.#member?.leave();
    this.#apps?.stopListening();
    for (const ws of [...this.#conns.values()]) this.#end(ws, CloseCode.SERVER_SHUTDOWN, 'gateway shutting down');
    await this.#links.close();
    this.#resumeLog?.flush();
    this.#state = 'closed';
    this.#log.info('gateway closed');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * The socket's data, or null when uWS has already closed it (it throws on any access to a
 * closed socket, which async paths such as a late session lookup can reach).
 */
function userData(ws: Socket): ConnData | null {
  try {
    return ws.getUserData();
  } catch {
    return null;
  }
}

const reasonEncoder = new TextEncoder();

/** A WebSocket close reason is at most 123 bytes of UTF-8: cut on a character boundary. */
function closeReason(reason: string): string {
  if (reasonEncoder.encode(reason).byteLength <= 123) return reason;
  let out = '';
  let bytes = 0;
  for (const ch of reason) {
    bytes += reasonEncoder.encode(ch).byteLength;
    if (bytes > 123) break;
    out += ch;
  }
  return out;
}

/** Codes as metric labels: a code that is not a plain upper-case name counts as `other`. */
const CODE_LABEL = /^[A-Z][A-Z0-9_]{0,63}$/;

/** The code of an ERROR frame from an engine, for the errors metric. */
function errorCodeOf(frame: Uint8Array): string {
  try {
    const { code } = ErrorReplyCodec.decode(framePayload(frame));
    return CODE_LABEL.test(code) ? code : 'other';
  } catch {
    return 'malformed';
  }
}

/** What a resumed player is told (SceneResumed push). */
function resumeReason(from: string, to: string, why: ResumeReason): string {
  if (why === 'moved') return `the scene was stopped on engine ${from} and resumed on ${to} from its last saved state`;
  if (from === to) return `the link to engine ${to} was lost and is back; rejoined`;
  return `engine ${from} ${why === 'drain' ? 'shut down' : 'was lost'}; the scene resumed on ${to} from its last saved state`;
}
