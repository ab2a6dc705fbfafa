/**
 * Each role built from the cluster configuration: what a process entry starts. A role owns
 * everything it opened (etcd client, store pool, Redis connection) and closes it in reverse
 * order; close is idempotent and safe after a failed start.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CoordinatorNode, EtcdCoordinator, registerLeaseMetrics } from '@gos/coordinator';
import { Engine, type PlayerLocator } from '@gos/engine';
import { Leaderboards, MemoryLeaderboardBackend, RedisLeaderboardBackend, type LeaderboardBackend } from '@gos/leaderboard';
import { Gateway, MemorySessionStore, RedisSessionStore, type GatewayChatOptions, type SessionStore } from '@gos/gateway';
import { MemoryChatBackend, RedisChatBackend, type ChatBackend } from '@gos/chat';
import { LazyPresence } from './lazy-presence.js';
import { LocalLinks } from '@gos/link';
import { ErrorCodes, type Logger, type Protocol } from '@gos/schema';
import { createStore, type Store } from '@gos/store';
import { configError, fatMemberIds, memberIdOf, type ClusterConfig, type Role } from './config.js';
import { connect, type ConnectOptions } from './connect.js';
import { startMetricsServer } from './metrics-server.js';
import { readLinkTls } from './tls.js';
import { collectDefaultMetrics, Registry } from 'prom-client';

export interface RunningRole {
  readonly role: Role;
  readonly id: string;
  /** What to tell the operator once started (address, URL). */
  readonly describe: () => Record<string, unknown>;
  /**
   * What SIGHUP does: a gateway loads its TLS certificate again (`Gateway.reloadTls`); the
   * other roles have nothing to reload. Outcomes are logged.
   * @throws CodedError `GW_ERR_TLS` when the new files cannot be used (the old ones stay).
   */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Start `role` as member `memberIdOf(config, role)`. On failure, whatever started is closed again.
 * etcd, MySQL and Redis are each retried for `cluster.startTimeoutMs` (see {@link connect}).
 * @param signal aborts the start (a stop requested meanwhile): the retries end at once.
 * @param onDrainRequest an operator asked the engine or gateway to drain (`npm run status -- drain <id>`):
 *   the process should stop as on SIGTERM (the engine moves its scenes live first).
 * @throws CodedError `CRD_ERR_UNAVAILABLE`, `STO_ERR_CONNECTION`, `GW_ERR_SESSION_STORE` naming
 *   the URL of the backend that did not answer in time; `OPT_ERR_INVALID`; the role's own errors.
 */
export async function startRole(role: Role, config: ClusterConfig, logger: Logger, signal?: AbortSignal, onDrainRequest?: () => void): Promise<RunningRole> {
  const id = memberIdOf(config, role);
  // The role's metrics and the process's, served by the gateway on its port, by the others on their metrics port.
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'gos_' });
  const backend = { timeoutMs: config.cluster.startTimeoutMs, logger, ...(signal === undefined ? {} : { signal }) };
  const closers: Array<() => Promise<void>> = [];
  const nothingToReload = async (): Promise<void> => logger.info(`SIGHUP: a ${role} has nothing to reload`);
  const close = async (): Promise<void> => {
    while (closers.length > 0) {
      const next = closers.pop()!;
      await next().catch((err: unknown) => logger.error({ err }, 'error while closing'));
    }
  };
  try {
    const coordinator = await connect({
      ...backend,
      what: 'etcd',
      urls: config.etcd.hosts,
      code: ErrorCodes.CRD_ERR_UNAVAILABLE,
      open: () =>
        new EtcdCoordinator({
          hosts: config.etcd.hosts,
          prefix: config.etcd.prefix,
          leaseTtlSeconds: config.etcd.leaseTtlSeconds,
          placementTimeoutMs: config.etcd.placementTimeoutMs,
          logger: logger.child({ part: 'coordinator' }),
        }),
    });
    closers.push(() => coordinator.close());
    registerLeaseMetrics(metrics, coordinator.membership);
    let store: Promise<Store> | undefined;
    let sessions: Promise<SessionStore> | undefined;
    let chat: Promise<ChatBackend | null> | undefined;
    const ctx: RoleContext = {
      config,
      logger,
      metrics,
      coordinator,
      backend,
      closers,
      store: () =>
        (store ??= startStore(config, logger, backend).then((opened) => {
          closers.push(() => opened.close());
          return opened;
        })),
      sessions: () =>
        (sessions ??= startSessions(config, logger, backend).then((opened) => {
          closers.push(() => opened.close());
          return opened;
        })),
      chat: () => (chat ??= startChatBackend(ctx)),
      onDrainRequest: onDrainRequest ?? null,
    };
    switch (role) {
      case 'coordinator': {
        const c = config.coordinator;
        const rebalance = c.rebalance.enabled ? { tolerance: c.rebalance.tolerance, minPlayers: c.rebalance.minPlayers, gateways: c.rebalance.gateways, minClients: c.rebalance.minClients } : false;
        const node = new CoordinatorNode({ id, coordinator, orphanGraceMs: c.orphanGraceMs, rebalance, scale: c.scale, logger, metrics });
        closers.push(() => node.close());
        await node.start();
        const served = c.metricsPort === null ? null : await startMetricsServer(metrics, c.host, c.metricsPort, logger);
        if (served !== null) closers.push(() => served.close());
        return { role, id, describe: () => ({ leader: coordinator.election.leader() ?? null, metrics: served?.url ?? null }), reload: nothingToReload, close };
      }
      case 'engine': {
        const engine = await startEngine(ctx, id, null);
        return { role, id, describe: engine.describe, reload: nothingToReload, close };
      }
      case 'gateway': {
        const gateway = await startGateway(ctx, id, null);
        return { role, id, describe: gateway.describe, reload: gateway.reload, close };
      }
      case 'gateway+engine': {
        // One process, two members: the gateway reaches this engine without a socket, and
        // every other engine (and other gateways this one) over TCP.
        const local = new LocalLinks({ logger: logger.child({ part: 'local-link' }) });
        const ids = fatMemberIds(config);
        const engine = await startEngine(ctx, ids.engine, local);
        const gateway = await startGateway(ctx, ids.gateway, local);
        return { role, id, describe: () => ({ gatewayId: ids.gateway, engineId: ids.engine, ...engine.describe(), ...gateway.describe() }), reload: gateway.reload, close };
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
}

type Backend = Pick<ConnectOptions<Store>, 'timeoutMs' | 'logger' | 'signal'>;

/** What every part of a role shares; each part pushes its closer (closed in reverse order). */
interface RoleContext {
  readonly config: ClusterConfig;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly coordinator: EtcdCoordinator;
  readonly backend: Backend;
  readonly closers: Array<() => Promise<void>>;
  /** The store, opened on first use and shared by the parts of a process. */
  readonly store: () => Promise<Store>;
  /** The session store, the same way: the gateway's sessions, the engine's presence. */
  readonly sessions: () => Promise<SessionStore>;
  /** The chat's backend (config `chat`), opened once per process: a gateway runs the chat on it, an engine's REPL mutes with it. */
  readonly chat: () => Promise<ChatBackend | null>;
  /** An operator asked the engine or gateway to drain: the process stops as on SIGTERM. */
  readonly onDrainRequest: (() => void) | null;
}

interface StartedPart {
  readonly describe: () => Record<string, unknown>;
  readonly reload: () => Promise<void>;
}

async function startEngine(ctx: RoleContext, id: string, localLinks: LocalLinks | null): Promise<StartedPart> {
  const { config, logger, metrics, coordinator, closers } = ctx;
  // Scenes load the game on their worker threads; a wrong path must fail the start, not the first player.
  if (!existsSync(config.game.module)) throw configError(`game.module: ${config.game.module} does not exist (build the game first?)`);
  const linkTls = readLinkTls(config);
  const store = await ctx.store();
  // Where players play, for pushes to players of other engines: the memory or Redis sessions of
  // this process's own gateway; for an engine alone, Redis opened on first use (it need not be
  // up for the engine to start); with memory sessions an engine alone has none.
  let presence: PlayerLocator | null = null;
  if (localLinks !== null) presence = await ctx.sessions();
  else if (config.sessions.kind === 'redis') {
    const s = config.sessions;
    const lazy = new LazyPresence(async () => {
      const store = new RedisSessionStore({ url: s.url, keyPrefix: s.keyPrefix, logger: logger.child({ part: 'presence' }), ...(s.ttlMs === undefined ? {} : { ttlMs: s.ttlMs }) });
      try {
        await store.start();
        return store;
      } catch (err) {
        await store.close().catch(() => {});
        throw err;
      }
    });
    closers.push(() => lazy.close());
    presence = lazy;
  }
  const leaderboards = await startLeaderboards(ctx, id, store, localLinks !== null);
  // The REPL's chat commands: the gateways' chat, when this engine can reach the same one (Redis, or this process's).
  const chat = localLinks !== null || chatKind(config) === 'redis' ? await ctx.chat() : null;
  const e = config.engine;
  const engine = new Engine({
    engineId: id,
    clusterSecret: config.cluster.secret,
    gameModule: pathToFileURL(config.game.module).href,
    store,
    presence,
    leaderboards,
    chat,
    coordinator,
    linkHost: e.host,
    linkPort: e.port,
    ...(e.advertiseHost === undefined ? {} : { advertiseHost: e.advertiseHost }),
    linkTls,
    localLinks,
    workers: e.workers,
    capacity: e.capacity,
    idleSceneMs: e.idleSceneMs,
    ...(e.scenesPerWorker === undefined ? {} : { scenesPerWorker: e.scenesPerWorker }),
    ...(e.workerYoungGenerationMb === undefined ? {} : { workerYoungGenerationMb: e.workerYoungGenerationMb }),
    ...(e.persistIntervalMs === undefined ? {} : { persistIntervalMs: e.persistIntervalMs }),
    workerLogLevel: config.log.level,
    admin: { credentials: config.admin.credentials },
    onDrainRequest: ctx.onDrainRequest,
    logger,
    metrics,
  });
  closers.push(() => engine.close());
  await engine.start();
  // A fat member's gateway serves the process's metrics on its HTTP port.
  const served = e.metricsPort === null || localLinks !== null ? null : await startMetricsServer(metrics, e.host, e.metricsPort, logger);
  if (served !== null) closers.push(() => served.close());
  return { describe: () => ({ link: engine.address, metrics: served?.url ?? null }), reload: async () => {} };
}

async function startGateway(ctx: RoleContext, id: string, localLinks: LocalLinks | null): Promise<StartedPart> {
  const { config, logger, metrics, coordinator, closers } = ctx;
  const protocol = await loadProtocol(config.game.protocol);
  const linkTls = readLinkTls(config);
  const store = await ctx.store();
  const sessions = await ctx.sessions();
  const chat = await gatewayChat(ctx);
  const g = config.gateway;
  const gateway = new Gateway({
    gatewayId: id,
    clusterSecret: config.cluster.secret,
    coordinator,
    store,
    sessions,
    protocol,
    host: g.host,
    port: g.port,
    capacity: g.capacity,
    drainTimeoutMs: g.drainTimeoutMs,
    inputHoldLeadMs: g.inputHoldLeadMs,
    onDrainRequest: ctx.onDrainRequest,
    ...(g.publicUrl === undefined ? {} : { publicUrl: g.publicUrl }),
    tls: g.tls ?? null,
    linkTls,
    localLinks,
    ...(g.defaultSceneId === undefined ? {} : { defaultSceneId: g.defaultSceneId }),
    ...(g.staticDir === undefined ? {} : { staticDir: g.staticDir }),
    ...(g.scryptCost === undefined ? {} : { scryptCost: g.scryptCost }),
    clientGroups: g.clientGroups,
    chat,
    logger,
    metrics,
  });
  // A stop drains: its clients move to the other gateways first (docs/scaling.md#gateways).
  closers.push(async () => {
    await gateway.drain();
  });
  await gateway.start();
  return { describe: () => ({ http: gateway.httpUrl, ws: gateway.publicUrl, metrics: `${gateway.httpUrl}/metrics` }), reload: () => gateway.reloadTls() };
}

/** Where the chat lives: the config's `chat.kind`, else where the sessions do. */
function chatKind(config: ClusterConfig): 'redis' | 'memory' | 'none' {
  return config.chat?.kind ?? (config.sessions.kind === 'redis' ? 'redis' : 'memory');
}

/** The gateway's chat: the process's backend, with the config's limits and moderation hook; null for `kind: none`. */
async function gatewayChat(ctx: RoleContext): Promise<GatewayChatOptions | null> {
  const backend = await ctx.chat();
  const chosen = ctx.config.chat;
  if (backend === null) return null;
  if (chosen === undefined || chosen.kind === 'none') return { backend };
  const moderate = chosen.moderate === undefined ? undefined : await loadModerator(chosen.moderate);
  return { backend, ...(chosen.maxLength === undefined ? {} : { maxLength: chosen.maxLength }), ...(moderate === undefined ? {} : { moderate }) };
}

/** The chat's backend (config `chat`, else the sessions' backend): null for `kind: none`. */
async function startChatBackend(ctx: RoleContext): Promise<ChatBackend | null> {
  const { config, logger, closers } = ctx;
  const log = logger.child({ part: 'chat' });
  const chosen = config.chat ?? (chatKind(config) === 'redis' ? { kind: 'redis' as const } : { kind: 'memory' as const });
  if (chosen.kind === 'none') return null;
  let backend: ChatBackend;
  if (chosen.kind === 'memory') {
    backend = new MemoryChatBackend({ logger: log });
    await backend.start();
  } else {
    const url = chosen.url ?? (config.sessions.kind === 'redis' ? config.sessions.url : 'redis://127.0.0.1:6379');
    const keyPrefix = chosen.keyPrefix ?? `${config.sessions.kind === 'redis' ? config.sessions.keyPrefix : 'gos:'}chat:`;
    backend = await connect<ChatBackend>({ ...ctx.backend, what: 'Redis', urls: [url], code: ErrorCodes.CHAT_ERR_BACKEND, open: () => new RedisChatBackend({ url, keyPrefix, logger: log }) });
  }
  // Closed after the gateway and the engine (closers run in reverse order).
  closers.push(() => backend.close());
  return backend;
}

/** The chat's moderation hook: the default export of `file`. */
async function loadModerator(file: string): Promise<NonNullable<GatewayChatOptions['moderate']>> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw configError(`chat.moderate: cannot load ${file}: ${(err as Error).message}`);
  }
  const hook = mod.default;
  if (typeof hook !== 'function') throw configError(`chat.moderate: ${file} has no default export that is a function (line) => text | null`);
  return (line) => (hook as (line: unknown) => string | null | Promise<string | null>)(line);
}

async function startStore(config: ClusterConfig, logger: Logger, backend: Backend): Promise<Store> {
  const s = config.store;
  const storeLogger = logger.child({ part: 'store' });
  if (s.kind === 'sqlite') {
    const store = createStore({ kind: 'sqlite', file: s.file, logger: storeLogger });
    await store.start().catch(async (err: unknown) => {
      await store.close().catch(() => {});
      throw err;
    });
    return store;
  }
  const poolSize = s.poolSize === undefined ? {} : { poolSize: s.poolSize };
  return connect({
    ...backend,
    what: 'MySQL',
    urls: [s.url],
    code: ErrorCodes.STO_ERR_CONNECTION,
    open: () => createStore({ kind: 'mysql', url: s.url, autoMigrate: s.autoMigrate, ...poolSize, logger: storeLogger }),
  });
}

/** The engine's leaderboards (config `leaderboards`, else the sessions' backend), archiving into `store`. */
async function startLeaderboards(ctx: RoleContext, engineId: string, store: Store, fat: boolean): Promise<Leaderboards | null> {
  const { config, logger, closers } = ctx;
  const log = logger.child({ part: 'leaderboards' });
  // Absent from the config: where the sessions are. Sessions in memory mean one gateway, but
  // maybe several engine processes: boards in memory would be one per engine (and archived over
  // one another), so only a gateway+engine process keeps them in memory by default.
  const chosen = config.leaderboards ?? (config.sessions.kind === 'redis' ? { kind: 'redis' as const } : fat ? { kind: 'memory' as const } : null);
  if (chosen === null) {
    log.warn('no leaderboards on this engine: sessions are in memory and no leaderboards section says where boards live (scene.leaderboards answers LB_ERR_NOT_CONFIGURED)');
    return null;
  }
  if (chosen.kind === 'memory' && !fat) log.warn('leaderboards in memory on an engine process: each engine has boards of its own (use them with one engine only)');
  const open = (backend: LeaderboardBackend): Leaderboards => new Leaderboards({ backend, archive: store.leaderboardArchive, owner: `${engineId}:${process.pid}`, logger: log });
  let leaderboards: Leaderboards;
  if (chosen.kind === 'memory') {
    leaderboards = open(new MemoryLeaderboardBackend());
    await leaderboards.start();
  } else {
    const url = chosen.url ?? (config.sessions.kind === 'redis' ? config.sessions.url : 'redis://127.0.0.1:6379');
    const keyPrefix = chosen.keyPrefix ?? (config.sessions.kind === 'redis' ? config.sessions.keyPrefix : 'gos:');
    leaderboards = await connect<Leaderboards>({ ...ctx.backend, what: 'Redis', urls: [url], code: ErrorCodes.LB_ERR_BACKEND, open: () => open(new RedisLeaderboardBackend({ url, keyPrefix, logger: log })) });
  }
  closers.push(() => leaderboards.close());
  return leaderboards;
}

async function startSessions(config: ClusterConfig, logger: Logger, backend: Backend): Promise<SessionStore> {
  const s = config.sessions;
  const ttl = s.ttlMs === undefined ? {} : { ttlMs: s.ttlMs };
  if (s.kind === 'memory') {
    const sessions = new MemorySessionStore(ttl);
    await sessions.start();
    return sessions;
  }
  return connect<SessionStore>({
    ...backend,
    what: 'Redis',
    urls: [s.url],
    code: ErrorCodes.GW_ERR_SESSION_STORE,
    open: () => new RedisSessionStore({ url: s.url, keyPrefix: s.keyPrefix, logger: logger.child({ part: 'sessions' }), ...ttl }),
  });
}

/** The generated protocol module's `protocol` export. */
async function loadProtocol(file: string): Promise<Protocol> {
  let mod: { protocol?: Protocol };
  try {
    mod = (await import(pathToFileURL(file).href)) as { protocol?: Protocol };
  } catch (err) {
    throw configError(`game.protocol: cannot load ${file}: ${(err as Error).message}`);
  }
  const p = mod.protocol;
  if (p === undefined || typeof p !== 'object' || !(p.routeById instanceof Map)) {
    throw configError(`game.protocol: ${file} has no \`protocol\` export made by the generator (npm run gen)`);
  }
  return p;
}
