import type { TemplatedApp } from 'uWebSockets.js';
import { CloseCode, WS_PATH, isCodedError, type Logger } from '@gos/schema';
import type { DrainRequest, MemberHandle } from '@gos/coordinator';
import { AuthService } from './auth.js';
import { EngineLinks } from './engine-links.js';
import { EngineMessages } from './engine-messages.js';
import { ClientSockets } from './client-sockets.js';
import { chooseGateways, gatewayBesideScene } from './gateway-choice.js';
import { registerApiRoutes, registerStaticRoutes, type HttpRoutesDeps } from './http-routes.js';
import { ServedApps, type SocketCount } from './served-apps.js';
import { resolveGatewayOptions, type GatewayOptions, type ResolvedGatewayOptions } from './options.js';
import { PendingRequests } from './pending-requests.js';
import { PlayerRouting } from './routing.js';
import { PlayerMigration } from './migration.js';
import { PlayerTravel } from './travel.js';
import { RateLimits } from './rate-limits.js';
import { GatewayMetrics } from './metrics.js';
import { loadStaticFiles, type StaticFile } from './static-files.js';
import { loadUws, type UwsModule } from './uws.js';
import { sweepSockets } from './sweep.js';
import { ClientMoves, SocketsGone, type GatewayDrainOutcome } from './drain.js';
import { GatewayChat, accountExists } from './chat-requests.js';

/** How often sockets are checked for idleness and backpressure. */
const SWEEP_MS = 250;

type GatewayState = 'new' | 'starting' | 'ready' | 'closing' | 'closed';

/**
 * A gateway: serves the auth HTTP API and the client WebSocket, authenticates sockets with
 * session tokens, forwards each frame to the engine hosting the player's scene without
 * decoding its payload, relays replies and fans broadcasts out with uWS topics (`s/<sceneId>`).
 * This class starts, wires and stops the parts: ClientSockets (the sockets and their frames),
 * PendingRequests (requests waiting for an answer), PlayerRouting (player to engine, resume),
 * EngineMessages (what engines send), EngineLinks, AuthService and the HTTP routes.
 */
export class Gateway {
  readonly #o: ResolvedGatewayOptions;
  readonly #log: Logger;
  readonly #auth: AuthService;
  readonly #sockets: ClientSockets;
  readonly #links: EngineLinks;
  #apps: ServedApps | undefined;
  #member: MemberHandle | undefined;
  #static = new Map<string, StaticFile>();
  #sweep: ReturnType<typeof setInterval> | undefined;
  #unwatch: (() => void) | undefined;
  #unwatchDrains: (() => void) | undefined;
  /** An operator's drain request was acted on (it is heard once). */
  #drainRequested = false;
  /** Frame buckets per account, cool-downs after 4006, auth buckets per address. */
  readonly #limits: RateLimits;
  readonly #metrics: GatewayMetrics;
  readonly #routing: PlayerRouting;
  /** Chat's core routes and topics (docs/chat.md), when the gateway has chat. */
  readonly #chat: GatewayChat | null;
  readonly #travel: PlayerTravel;
  readonly #engineMessages: EngineMessages;
  #state: GatewayState = 'new';
  #closing: Promise<void> | undefined;
  /** Set by drain(): no new socket; the clients are moving to other gateways. */
  #draining: Promise<GatewayDrainOutcome> | undefined;
  readonly #gone = new SocketsGone(() => this.#sockets.size);
  /** Clients told to move to other gateways (a drain, or the leader evening gateways out). */
  readonly #moves: ClientMoves;

  constructor(options: GatewayOptions) {
    this.#o = resolveGatewayOptions(options);
    this.#log = this.#o.logger.child({ gatewayId: this.#o.gatewayId });
    // An account's flood cool-down holds on every gateway sharing the session store.
    this.#limits = new RateLimits(this.#o.limits, (accountId, ms) => {
      this.#o.sessions.coolDown(accountId, ms).catch((err: unknown) => this.#log.warn({ err, accountId }, 'cannot share a flood cool-down with the other gateways'));
    });
    this.#metrics = new GatewayMetrics(this.#o.metrics, {
      connections: () => this.#sockets.size,
      links: () => [...this.#links.entries()].map(([engineId, link]) => ({ engineId, queuedBytes: link.stats.queuedBytes, up: link.isUp })),
    });
    // The units below call one another through callbacks: each reads the field it needs when
    // called, by which time every one is built.
    const pending = new PendingRequests({
      maxPendingRequests: this.#o.limits.maxPendingRequests,
      routeById: this.#o.protocol.routeById,
      metrics: this.#metrics,
      sendError: (ws, opcode, requestId, code, message) => this.#sockets.sendError(ws, opcode, requestId, code, message),
    });
    this.#links = new EngineLinks({
      gatewayId: this.#o.gatewayId,
      clusterSecret: this.#o.clusterSecret,
      tls: this.#o.linkTls,
      localLinks: this.#o.localLinks,
      membership: this.#o.coordinator.membership,
      accepting: () => this.#state === 'ready',
      onMessage: (engineId, type, channel, body) => this.#engineMessages.handle(engineId, type, channel, body),
      onDown: (engineId) => this.#routing.linkDown(engineId),
      logger: this.#log,
    });
    this.#sockets = new ClientSockets({
      limits: this.#o.limits,
      inputHoldLeadMs: this.#o.inputHoldLeadMs,
      rates: this.#limits,
      routeById: this.#o.protocol.routeById,
      metrics: this.#metrics,
      links: this.#links,
      pending,
      route: (ws, data) => void this.#routing.route(ws, data),
      countChanged: () => {
        this.#setLoad();
        this.#gone.changed();
      },
      closed: (data) => travel.abandon(data),
      chat: () => this.#chat,
    });
    this.#chat =
      this.#o.chat === null
        ? null
        : new GatewayChat({
            options: this.#o.chat,
            isPlayer: accountExists(this.#o.store),
            sendTo: (ws, frame) => this.#sockets.sendTo(ws, frame),
            sendError: (ws, opcode, requestId, code, message) => this.#sockets.sendError(ws, opcode, requestId, code, message),
            publish: (topic, frame) => this.#apps?.publish(topic, frame),
            subscribers: (topic) => this.#apps?.subscribers(topic) ?? 0,
            logger: this.#log.child({ part: 'chat' }),
          });
    this.#routing = new PlayerRouting({
      coordinator: this.#o.coordinator,
      links: this.#links,
      sockets: this.#sockets,
      pending,
      metrics: this.#metrics,
      ready: () => this.#state === 'ready',
      abandonTravel: (data) => travel.abandon(data),
      travelTargetLost: (ws, data, engineId) => travel.targetLost(ws, data, engineId),
      logger: this.#log,
    });
    const travel: PlayerTravel = (this.#travel = new PlayerTravel({
      links: this.#links,
      routing: this.#routing,
      sockets: this.#sockets,
      pending,
      sessions: this.#o.sessions,
      metrics: this.#metrics,
      logger: this.#log,
    }));
    this.#moves = new ClientMoves({ gatewayId: this.#o.gatewayId, membership: this.#o.coordinator.membership, sockets: this.#sockets, logger: this.#log });
    this.#engineMessages = new EngineMessages({
      sockets: this.#sockets,
      links: this.#links,
      pending,
      routing: this.#routing,
      travel,
      migration: new PlayerMigration({ links: this.#links, routing: this.#routing, pending, abandonTravel: (data) => travel.abandon(data), metrics: this.#metrics, logger: this.#log }),
      metrics: this.#metrics,
      publish: (topic, frame) => this.#apps?.publish(topic, frame),
      ready: () => this.#state === 'ready',
      logger: this.#log,
    });
    this.#auth = new AuthService({
      store: this.#o.store,
      clientGroups: this.#o.clientGroups,
      sessions: this.#o.sessions,
      scryptCost: this.#o.scryptCost,
      defaultSceneId: this.#o.defaultSceneId,
      sceneForLogin: this.#o.sceneForLogin,
      gatewayUrls: (groupId, sceneId) => this.#gatewayUrls(groupId, sceneId),
      onReplaced: (previousToken) => this.#sockets.kickToken(previousToken),
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
    return this.#sockets.size;
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
    const { membership } = this.#o.coordinator;
    this.#unwatch = membership.watch((event) => {
      if (event.member.role !== 'engine') return;
      if (event.type === 'down') this.#routing.dropLink(event.member.id);
      // Linked before its first player: a scene moving onto a new engine does not wait for the dial.
      else if (event.member.draining !== true) this.#links.prepare(event.member.id);
    });
    // The engine of this process, if any (started first): logins send its players here.
    const localEngineId = this.#o.localLinks?.engines()[0];
    this.#member = await this.#o.coordinator.membership.register({
      id: this.#o.gatewayId,
      role: 'gateway',
      address: this.publicUrl,
      capacity: this.#o.capacity,
      ...(localEngineId === undefined ? {} : { localEngineId }),
    });
    // Closed while it registered: it must not stay a member, nor follow anything.
    if ((this.#state as GatewayState) !== 'starting') {
      await this.#member.leave();
      return;
    }
    // Lines said on any gateway reach this one's sockets from now on.
    await this.#chat?.start();
    this.#state = 'ready';
    this.#followDrainRequests(this.#member.info.startedAt);
    for (const engine of membership.list('engine')) if (engine.draining !== true) this.#links.prepare(engine.id);
    this.#log.info({ url: this.httpUrl, uws: { build: uws.build, package: uws.package, binary: uws.binary }, ...(certificate === null ? {} : { certificate }) }, 'gateway listening');
  }

  /** Act on an operator's drain request for this instance (`npm run status -- drain <gateway>`). */
  #followDrainRequests(startedAt: number): void {
    const { drains } = this.#o.coordinator;
    const heard = (request: DrainRequest): void => {
      if (request.memberId !== this.#o.gatewayId || request.startedAt !== startedAt || this.#drainRequested) return;
      if (request.share !== undefined) {
        this.#moves.share(request.share, this.#draining === undefined && this.#state === 'ready');
        return void drains.clear(request.memberId, startedAt).catch(() => {});
      }
      this.#drainRequested = true;
      this.#log.info({ requestedBy: request.requestedBy }, 'drain requested by an operator');
      if (this.#o.onDrainRequest !== null) this.#o.onDrainRequest();
      else void this.drain().catch((err: unknown) => this.#log.error({ err }, 'drain failed'));
    };
    this.#unwatchDrains = drains.watch(heard);
    for (const request of drains.list()) heard(request);
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

  // ---- HTTP and WebSocket ----

  #routes(app: TemplatedApp, uWS: UwsModule, sockets: SocketCount): void {
    const http: HttpRoutesDeps = {
      gatewayId: this.#o.gatewayId,
      state: () => this.#state,
      connections: () => this.#sockets.size,
      metrics: this.#o.metrics,
      auth: this.#auth,
      limits: this.#limits,
      maxHttpBodyBytes: this.#o.limits.maxHttpBodyBytes,
      staticFile: (url) => this.#static.get(url),
      logger: this.#log,
    };
    registerApiRoutes(app, http);
    this.#sockets.register(app, uWS, sockets, {
      accepting: () => this.#state === 'ready' && this.#draining === undefined,
      protocolVersion: this.#o.protocol.version,
      gatewayId: this.#o.gatewayId,
      sessions: this.#o.sessions,
      limits: this.#limits,
      logger: this.#log,
    });
    registerStaticRoutes(app, http);
  }

  #setLoad(): void {
    this.#member?.setLoad(this.#sockets.size).catch((err: unknown) => this.#log.warn({ err }, 'cannot publish load'));
  }

  /**
   * AgentMgr's choice for a login: live gateways, the group's first while it has room, then the
   * gateway in the process of the engine that hosts (or will host) the player's scene, else
   * least loaded under capacity first (see chooseGateways); this one when none is known yet.
   */
  async #gatewayUrls(groupId: string | null, sceneId: string): Promise<string[]> {
    const members = this.#o.coordinator.membership.list('gateway').filter((m) => m.draining !== true);
    const local = await gatewayBesideScene(members, sceneId, this.#o.coordinator.placement, (id) => this.#routing.ensurePlaced(id));
    const ranked = (await chooseGateways(this.#o.sessions, members, this.#o.gatewayId, groupId, this.#log, local)).map((m) => m.address);
    return ranked.length === 0 ? [this.publicUrl] : ranked;
  }

  #sweepConnections(): void {
    // A drain tells the clients that could not move at first (travelling, in a scene's move).
    if (this.#draining !== undefined && this.#state === 'ready') this.#moves.tellToMove();
    const now = performance.now();
    this.#limits.sweep(now);
    sweepSockets(this.#sockets.values(), now, {
      limits: this.#o.limits,
      sessions: this.#o.sessions,
      end: (ws, code, reason) => this.#sockets.end(ws, code, reason),
      travelStuck: (ws, data, now) => this.#travel.stuck(ws, data, now),
      logger: this.#log,
    });
  }

  /**
   * Drain, then close: take no new socket, leave the gateways logins hand out, tell every client
   * to move to another gateway (core push `Reconnect`, spread by free capacity; the SDK moves by
   * itself, without an error, keeping its scene), wait until they have gone (at most
   * `drainTimeoutMs`), then {@link close} (sockets left get SERVER_SHUTDOWN and reconnect on
   * their own). Without another gateway it closes at once. Idempotent.
   */
  drain(): Promise<GatewayDrainOutcome> {
    this.#draining ??= this.#drain();
    return this.#draining;
  }

  async #drain(): Promise<GatewayDrainOutcome> {
    const startedAt = performance.now();
    const outcome = (told: number, targets: Record<string, number>): GatewayDrainOutcome => ({ gatewayId: this.#o.gatewayId, told, left: this.#sockets.size, targets, ms: Math.round(performance.now() - startedAt) });
    if (this.#state !== 'ready') {
      await this.close();
      return outcome(0, {});
    }
    await this.#member?.publish({ draining: true }).catch((err: unknown) => this.#log.warn({ err }, 'cannot publish that this gateway drains'));
    const clients = this.#sockets.size;
    const movable = this.#moves.tellToMove();
    if (!movable && clients > 0) this.#log.warn({ clients }, 'draining with no other gateway: its clients are closed and reconnect when one is up');
    this.#log.info({ clients, told: this.#moves.told.count, targets: this.#moves.told.targets, drainTimeoutMs: this.#o.drainTimeoutMs }, 'draining: clients told to move');
    if (movable) await this.#gone.wait(this.#o.drainTimeoutMs);
    const result = outcome(this.#moves.told.count, { ...this.#moves.told.targets });
    if (result.left > 0) this.#log.warn({ left: result.left, drainTimeoutMs: this.#o.drainTimeoutMs }, 'clients still here after the drain: closed, they reconnect on their own');
    else this.#log.info({ told: result.told, ms: result.ms }, 'drained: every client moved');
    await this.close();
    return result;
  }

  /**
   * Graceful shutdown: refuse new players, close every socket with SERVER_SHUTDOWN (clients
   * reconnect elsewhere), leave the cluster, close links. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'closed';
      return;
    }
    this.#state = 'closing';
    clearInterval(this.#sweep);
    this.#unwatch?.();
    this.#unwatchDrains?.();
    await this.#member?.leave();
    this.#apps?.stopListening();
    await this.#chat?.close();
    for (const ws of [...this.#sockets.values()]) this.#sockets.end(ws, CloseCode.SERVER_SHUTDOWN, 'gateway shutting down');
    this.#sockets.refuseAuthenticating({ code: CloseCode.SERVER_SHUTDOWN, reason: 'gateway shutting down' });
    await this.#links.close();
    this.#routing.flushLog();
    this.#state = 'closed';
    this.#log.info('gateway closed');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
