/**
 * The single-process cluster: gateway, engine and an in-memory coordinator with its one
 * replica (the leader, which places scenes) in one process.
 * Embedded default: an SQLite file for accounts, players and scenes and in-memory sessions;
 * with `mysqlUrl` / `redisUrl` the same process runs on the production backends. The gateway and
 * the engine still talk over a real authenticated TCP link, and scenes run on worker threads.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { silentLogger, type Logger } from '@gos/schema';
import { CoordinatorNode, MemoryCoordinator, registerLeaseMetrics } from '@gos/coordinator';
import { Engine, type AdminCredential } from '@gos/engine';
import { LocalLinks } from '@gos/link';
import { Leaderboards, MemoryLeaderboardBackend, RedisLeaderboardBackend } from '@gos/leaderboard';
import { MemoryChatBackend, RedisChatBackend, type ChatBackend } from '@gos/chat';
import moderate from './chat-moderation.js';
import { Gateway, MemorySessionStore, RedisSessionStore, type SessionStore } from '@gos/gateway';
import { createStore, type Store } from '@gos/store';
import { Registry } from 'prom-client';
import { protocol } from './generated/protocol.js';

export const GAME_MODULE = fileURLToPath(new URL('./game.js', import.meta.url));
export const WEB_DIR = fileURLToPath(new URL('../web', import.meta.url));
/** The demo's config data as `npm run config` made it from config/demo.xlsx: published at start when the store has none. */
export const SHIPPED_CONFIG = fileURLToPath(new URL('../../src/generated-config/server.json', import.meta.url));

export interface EmbeddedClusterOptions {
  /** @default 3000 */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** SQLite file: the embedded default. Ignored when `mysqlUrl` is given. */
  readonly dbFile: string;
  /** Use MySQL/MariaDB instead of SQLite (migrations run on start). */
  readonly mysqlUrl?: string;
  /** Keep sessions in Redis instead of memory. */
  readonly redisUrl?: string;
  /** Key prefix in Redis. @default 'gos:' */
  readonly redisKeyPrefix?: string;
  /** @default 5000 */
  readonly persistIntervalMs?: number;
  /** @default 1 */
  readonly workers?: number;
  /** Scenes each worker thread may host (the engine's `scenesPerWorker`, default 64). */
  readonly scenesPerWorker?: number;
  readonly logger?: Logger;
  /** Serve the web client. @default true */
  readonly serveWeb?: boolean;
  /** Gateway limits override (tests). */
  readonly limits?: ConstructorParameters<typeof Gateway>[0]['limits'];
  /** scrypt cost; tests lower it. @default 16384 */
  readonly scryptCost?: number;
  /** Session time to live. @default 30 min */
  readonly sessionTtlMs?: number;
  /** Which scene a new session starts in (the gateway's `sceneForLogin`). @default always `world:1` */
  readonly sceneForLogin?: ConstructorParameters<typeof Gateway>[0]['sceneForLogin'];
  /** Serve https:// and wss:// with this certificate (the gateway's `tls`). @default plain http and ws */
  readonly tls?: ConstructorParameters<typeof Gateway>[0]['tls'];
  /**
   * How the gateway reaches the engine: `in-process` (no socket: the default, the fast path) or
   * `tcp` (the link separate processes use, through the engine's link port). @default 'in-process'
   */
  readonly link?: 'in-process' | 'tcp';
  /** Run the TCP link over TLS with this cluster CA material (both sides use it; with `link: 'tcp'`, the players' traffic too). @default plain TCP */
  readonly linkTls?: ConstructorParameters<typeof Gateway>[0]['linkTls'];
  /**
   * Prometheus registry for the three roles' metrics, served by the gateway at `GET /metrics`
   * (the entry adds the process metrics to it). @default a registry of its own
   */
  readonly metrics?: Registry;
  /** Who may open a REPL on the engine (docs/repl.md). @default none: every REPL is refused */
  readonly admin?: readonly AdminCredential[];
}

export class EmbeddedCluster {
  readonly store: Store;
  readonly coordinator = new MemoryCoordinator();
  readonly leader: CoordinatorNode;
  readonly sessions: SessionStore;
  /** In memory, or in the sessions' Redis; closed periods archived into the store. */
  readonly leaderboards: Leaderboards;
  /** Chat on the gateway: in memory, or in the sessions' Redis. */
  readonly chat: ChatBackend;
  readonly engine: Engine;
  readonly gateway: Gateway;
  /** The links' secret (random per start): a REPL dials the engine with it. */
  readonly clusterSecret: string;
  #closing: Promise<void> | undefined;

  constructor(o: EmbeddedClusterOptions) {
    const logger = o.logger ?? silentLogger;
    const clusterSecret = randomBytes(24).toString('base64url');
    this.clusterSecret = clusterSecret;
    const storeLogger = logger.child({ role: 'store' });
    const metrics = o.metrics ?? new Registry();
    const localLinks = o.link === 'tcp' ? null : new LocalLinks({ logger });
    registerLeaseMetrics(metrics, this.coordinator.membership);
    this.leader = new CoordinatorNode({ id: 'coordinator-1', coordinator: this.coordinator, logger: logger.child({ role: 'coordinator' }), metrics });
    this.store =
      o.mysqlUrl === undefined
        ? createStore({ kind: 'sqlite', file: o.dbFile, logger: storeLogger })
        : createStore({ kind: 'mysql', url: o.mysqlUrl, autoMigrate: true, logger: storeLogger });
    const ttl = o.sessionTtlMs === undefined ? {} : { ttlMs: o.sessionTtlMs };
    this.sessions =
      o.redisUrl === undefined
        ? new MemorySessionStore(ttl)
        : new RedisSessionStore({ url: o.redisUrl, ...(o.redisKeyPrefix === undefined ? {} : { keyPrefix: o.redisKeyPrefix }), logger, ...ttl });
    this.leaderboards = new Leaderboards({
      backend:
        o.redisUrl === undefined
          ? new MemoryLeaderboardBackend()
          : new RedisLeaderboardBackend({ url: o.redisUrl, ...(o.redisKeyPrefix === undefined ? {} : { keyPrefix: o.redisKeyPrefix }), logger }),
      archive: this.store.leaderboardArchive,
      // Unique per process: two processes on one Redis must not both hold an archive lock.
      owner: `engine-1:${process.pid}:${clusterSecret.slice(0, 8)}`,
      logger: logger.child({ part: 'leaderboards' }),
    });
    this.chat =
      o.redisUrl === undefined
        ? new MemoryChatBackend({ logger })
        : new RedisChatBackend({ url: o.redisUrl, keyPrefix: `${o.redisKeyPrefix ?? 'gos:'}chat:`, logger });
    this.engine = new Engine({
      engineId: 'engine-1',
      clusterSecret,
      gameModule: GAME_MODULE,
      store: this.store,
      presence: this.sessions,
      leaderboards: this.leaderboards,
      chat: this.chat,
      coordinator: this.coordinator,
      workers: o.workers ?? 1,
      ...(o.scenesPerWorker === undefined ? {} : { scenesPerWorker: o.scenesPerWorker }),
      ...(o.persistIntervalMs === undefined ? {} : { persistIntervalMs: o.persistIntervalMs }),
      linkTls: o.linkTls ?? null,
      localLinks,
      admin: { credentials: o.admin ?? [] },
      logger,
      metrics,
    });
    this.gateway = new Gateway({
      gatewayId: 'gateway-1',
      clusterSecret,
      coordinator: this.coordinator,
      store: this.store,
      sessions: this.sessions,
      protocol,
      host: o.host ?? '127.0.0.1',
      port: o.port ?? 3000,
      staticDir: o.serveWeb === false ? null : WEB_DIR,
      tls: o.tls ?? null,
      linkTls: o.linkTls ?? null,
      localLinks,
      ...(o.limits === undefined ? {} : { limits: o.limits }),
      ...(o.scryptCost === undefined ? {} : { scryptCost: o.scryptCost }),
      ...(o.sceneForLogin === undefined ? {} : { sceneForLogin: o.sceneForLogin }),
      chat: { backend: this.chat, moderate },
      logger,
      metrics,
    });
  }

  get url(): string {
    return this.gateway.httpUrl;
  }

  async start(): Promise<void> {
    await this.store.start();
    // The demo's config data, when nothing was published yet (an operator's publish is never undone).
    if ((await this.store.configBundles.latestSeq()) === 0) {
      const content = await readFile(SHIPPED_CONFIG, 'utf8');
      await this.store.configBundles.publish((JSON.parse(content) as { version: string }).version, content);
    }
    await this.coordinator.start();
    await this.leader.start();
    await this.sessions.start();
    await this.leaderboards.start();
    await this.chat.start();
    await this.engine.start();
    await this.gateway.start();
  }

  /** Two phases: stop accepting and drain (gateway, then engine flushes), then close stores. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.gateway.close();
      await this.engine.close();
      await this.leader.close();
      await this.leaderboards.close();
      await this.chat.close();
      await this.sessions.close();
      await this.store.close();
      await this.coordinator.close();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
