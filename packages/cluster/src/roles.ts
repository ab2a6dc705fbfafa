/**
 * Each role built from the cluster configuration: what a process entry starts. A role owns
 * everything it opened (etcd client, store pool, Redis connection) and closes it in reverse
 * order; close is idempotent and safe after a failed start.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CoordinatorNode, EtcdCoordinator } from '@gos/coordinator';
import { Engine } from '@gos/engine';
import { Gateway, MemorySessionStore, RedisSessionStore, type SessionStore } from '@gos/gateway';
import type { Logger, Protocol } from '@gos/schema';
import { createStore, type Store } from '@gos/store';
import { configError, memberIdOf, type ClusterConfig, type Role } from './config.js';

export interface RunningRole {
  readonly role: Role;
  readonly id: string;
  /** What to tell the operator once started (address, URL). */
  readonly describe: () => Record<string, unknown>;
  close(): Promise<void>;
}

/** Start `role` as member `memberIdOf(config, role)`. On failure, whatever started is closed again. */
export async function startRole(role: Role, config: ClusterConfig, logger: Logger): Promise<RunningRole> {
  const id = memberIdOf(config, role);
  const closers: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    while (closers.length > 0) {
      const next = closers.pop()!;
      await next().catch((err: unknown) => logger.error({ err }, 'error while closing'));
    }
  };
  try {
    const coordinator = new EtcdCoordinator({
      hosts: config.etcd.hosts,
      prefix: config.etcd.prefix,
      leaseTtlSeconds: config.etcd.leaseTtlSeconds,
      placementTimeoutMs: config.etcd.placementTimeoutMs,
      logger: logger.child({ part: 'coordinator' }),
    });
    closers.push(() => coordinator.close());
    await coordinator.start();
    switch (role) {
      case 'coordinator': {
        const node = new CoordinatorNode({ id, coordinator, orphanGraceMs: config.coordinator.orphanGraceMs, logger });
        closers.push(() => node.close());
        await node.start();
        return { role, id, describe: () => ({ leader: coordinator.election.leader() ?? null }), close };
      }
      case 'engine': {
        // Scenes load the game on their worker threads; a wrong path must fail the start, not the first player.
        if (!existsSync(config.game.module)) throw configError(`game.module: ${config.game.module} does not exist (build the game first?)`);
        const store = openStore(config, logger);
        closers.push(() => store.close());
        await store.start();
        const e = config.engine;
        const engine = new Engine({
          engineId: id,
          clusterSecret: config.cluster.secret,
          gameModule: pathToFileURL(config.game.module).href,
          store,
          coordinator,
          linkHost: e.host,
          linkPort: e.port,
          ...(e.advertiseHost === undefined ? {} : { advertiseHost: e.advertiseHost }),
          workers: e.workers,
          capacity: e.capacity,
          idleSceneMs: e.idleSceneMs,
          ...(e.scenesPerWorker === undefined ? {} : { scenesPerWorker: e.scenesPerWorker }),
          ...(e.persistIntervalMs === undefined ? {} : { persistIntervalMs: e.persistIntervalMs }),
          workerLogLevel: config.log.level,
          logger,
        });
        closers.push(() => engine.close());
        await engine.start();
        return { role, id, describe: () => ({ link: engine.address }), close };
      }
      case 'gateway': {
        const protocol = await loadProtocol(config.game.protocol);
        const store = openStore(config, logger);
        closers.push(() => store.close());
        await store.start();
        const sessions = openSessions(config, logger);
        closers.push(() => sessions.close());
        await sessions.start();
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
          ...(g.publicUrl === undefined ? {} : { publicUrl: g.publicUrl }),
          ...(g.defaultSceneId === undefined ? {} : { defaultSceneId: g.defaultSceneId }),
          ...(g.staticDir === undefined ? {} : { staticDir: g.staticDir }),
          ...(g.scryptCost === undefined ? {} : { scryptCost: g.scryptCost }),
          logger,
        });
        closers.push(() => gateway.close());
        await gateway.start();
        return { role, id, describe: () => ({ http: gateway.httpUrl, ws: gateway.publicUrl }), close };
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
}

function openStore(config: ClusterConfig, logger: Logger): Store {
  const s = config.store;
  const storeLogger = logger.child({ part: 'store' });
  return s.kind === 'mysql'
    ? createStore({ kind: 'mysql', url: s.url, autoMigrate: s.autoMigrate, ...(s.poolSize === undefined ? {} : { poolSize: s.poolSize }), logger: storeLogger })
    : createStore({ kind: 'sqlite', file: s.file, logger: storeLogger });
}

function openSessions(config: ClusterConfig, logger: Logger): SessionStore {
  const s = config.sessions;
  const ttl = s.ttlMs === undefined ? {} : { ttlMs: s.ttlMs };
  return s.kind === 'redis' ? new RedisSessionStore({ url: s.url, keyPrefix: s.keyPrefix, logger: logger.child({ part: 'sessions' }), ...ttl }) : new MemorySessionStore(ttl);
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
