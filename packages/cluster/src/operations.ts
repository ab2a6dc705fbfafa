/**
 * An operator's actions on a running cluster (docs/scaling.md), behind `npm run status -- drain`
 * and `npm run status -- migrate`: those for an engine go to it as an admin command over its
 * link (the cluster secret, and a credential of the config's `admin.credentials` with
 * `write: true`), as the REPL's commands do; a gateway's drain is a request in etcd it watches.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { EtcdCoordinator } from '@gos/coordinator';
import { CodedError, ErrorCodes } from '@gos/schema';
import type { ClusterConfig } from './config.js';
import { AdminClient } from './repl/admin-client.js';
import { readStatus } from './status.js';
import { readLinkTls } from './tls.js';

/** What an engine answers to `migrate` (the engine's MigrationOutcome). */
const MigrationOutcomeSchema = z.object({
  sceneId: z.string(),
  from: z.string(),
  to: z.string(),
  epoch: z.number(),
  players: z.number(),
  frozenMs: z.number(),
  holdMs: z.number(),
  saveMs: z.number(),
});
export type MigrationReport = z.infer<typeof MigrationOutcomeSchema>;

/** What an engine answers to `drain`. */
const DrainAnswerSchema = z.object({ engineId: z.string(), draining: z.literal(true), scenes: z.number() });

export interface DrainReport {
  readonly engineId: string;
  /** Scenes it ran when asked. */
  readonly scenes: number;
  /** From the request until it left the cluster. */
  readonly ms: number;
}

/** Run `fn` on an admin session with engine `engineId`, as the config's first credential allowed to write. */
async function withEngine<T>(config: ClusterConfig, engineId: string, fn: (client: AdminClient) => Promise<T>): Promise<T> {
  const cred = config.admin.credentials.find((c) => c.write === true);
  if (cred === undefined) throw new CodedError(ErrorCodes.ENG_ERR_ADMIN_READ_ONLY, 'the config has no admin credential with write: true (admin.credentials); the engine refuses a drain or a move without one');
  const status = await readStatus(config);
  const member = status.members.find((m) => m.role === 'engine' && m.id === engineId);
  if (member === undefined) {
    const engines = status.members.filter((m) => m.role === 'engine').map((m) => m.id);
    throw new CodedError(ErrorCodes.CRD_ERR_NO_ENGINE, `no engine ${engineId} in the cluster (engines: ${engines.join(', ') || 'none'})`);
  }
  const client = new AdminClient({ address: member.address, engineId, clusterSecret: config.cluster.secret, tls: readLinkTls(config), user: cred.name, secret: cred.secret, write: true, timeoutMs: 60_000 });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Move scene `sceneId` live from the engine it runs on to `to` (default: the least loaded other engine). */
export async function migrateScene(config: ClusterConfig, sceneId: string, to?: string): Promise<MigrationReport> {
  const status = await readStatus(config);
  const placed = status.placements.find((p) => p.sceneId === sceneId);
  if (placed === undefined) throw new CodedError(ErrorCodes.ENG_ERR_NOT_PLACED, `scene ${sceneId} is placed nowhere`);
  const answer = await withEngine(config, placed.engineId, (client) => client.command('migrate', to === undefined ? [sceneId] : [sceneId, to]));
  return parseAnswer(MigrationOutcomeSchema, answer, 'migrate');
}

/**
 * Ask engine `engineId` to drain (it moves every scene live, then stops), and wait until it has
 * left the cluster.
 * @throws CodedError `CRD_ERR_UNAVAILABLE` when it has not left within `timeoutMs`.
 */
export async function drainEngine(config: ClusterConfig, engineId: string, o: { timeoutMs: number; progress?: (line: string) => void }): Promise<DrainReport> {
  return withCoordinator(config, (coordinator) => drainOn(coordinator, config, engineId, o));
}

export interface GatewayDrainReport {
  readonly gatewayId: string;
  /** Clients connected to it when asked (told to move to the other gateways). */
  readonly clients: number;
  /** From the request until it left the cluster. */
  readonly ms: number;
}

/**
 * Ask gateway `gatewayId` to drain: it tells its clients to move to the other gateways (they
 * resume there through the SDK, without an error), then stops; resolves once it has left the
 * cluster. The request goes through etcd (the gateway watches for it; no admin credential is
 * involved: whoever can write the cluster's etcd prefix can already do more), and names the
 * gateway's instance, so one started again under the same id does not drain on it.
 * @throws CodedError `CRD_ERR_UNAVAILABLE` when it has not left within
 *   `timeoutMs`; `OPT_ERR_INVALID` when no gateway has that id.
 */
export async function drainGateway(config: ClusterConfig, gatewayId: string, o: { timeoutMs: number; progress?: (line: string) => void }): Promise<GatewayDrainReport> {
  return withCoordinator(config, (coordinator) => drainGatewayOn(coordinator, gatewayId, o));
}

/** Drain member `id`, an engine ({@link drainEngine}) or a gateway ({@link drainGateway}). */
export async function drainMember(
  config: ClusterConfig,
  id: string,
  o: { timeoutMs: number; progress?: (line: string) => void },
): Promise<({ readonly role: 'engine' } & DrainReport) | ({ readonly role: 'gateway' } & GatewayDrainReport)> {
  return withCoordinator(config, async (coordinator) => {
    const member = coordinator.membership.get(id);
    if (member?.role === 'gateway') return { role: 'gateway' as const, ...(await drainGatewayOn(coordinator, id, o)) };
    if (member?.role === 'engine') return { role: 'engine' as const, ...(await drainOn(coordinator, config, id, o)) };
    const ids = coordinator.membership
      .list()
      .filter((m) => m.role !== 'coordinator')
      .map((m) => m.id)
      .sort();
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `no engine or gateway ${id} in the cluster (members: ${ids.join(', ') || 'none'})`);
  });
}

async function drainGatewayOn(coordinator: EtcdCoordinator, gatewayId: string, o: { timeoutMs: number; progress?: (line: string) => void }): Promise<GatewayDrainReport> {
  const startedAt = Date.now();
  const member = coordinator.membership.get(gatewayId);
  if (member?.role !== 'gateway') {
    const gateways = coordinator.membership.list('gateway').map((m) => m.id).sort();
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `no gateway ${gatewayId} in the cluster (gateways: ${gateways.join(', ') || 'none'})`);
  }
  let unwatch: (() => void) | undefined;
  try {
    const left = new Promise<void>((resolve) => {
      unwatch = coordinator.membership.watch((e) => {
        if (e.type === 'down' && e.member.id === gatewayId) resolve();
      });
    });
    await coordinator.drains.request({ memberId: gatewayId, startedAt: member.startedAt, requestedBy: `${hostname()}:${process.pid}` });
    o.progress?.(`${gatewayId}: draining ${member.load} clients (telling them to move to the other gateways, then stopping)`);
    if (coordinator.membership.get(gatewayId)?.startedAt === member.startedAt) {
      await within(left, o.timeoutMs, `gateway ${gatewayId} has not left the cluster within ${o.timeoutMs / 1000} s (see its log)`);
    }
    return { gatewayId, clients: member.load, ms: Date.now() - startedAt };
  } finally {
    unwatch?.();
    // Gone, or given up on: the request is not left for anyone to find later.
    await coordinator.drains.clear(gatewayId, member.startedAt).catch(() => {});
  }
}

export interface RollingRestartReport {
  /** The engines restarted, in order, each with how long it took (drained, gone, back). */
  readonly engines: ReadonlyArray<{ readonly engineId: string; readonly scenes: number; readonly ms: number }>;
  readonly ms: number;
}

/**
 * Restart every engine one by one with players online: drain it (its scenes move live to the
 * others), wait for it to leave, then for its supervisor to start it again (`npm run cluster`
 * restarts a process that exits; under Kubernetes, its Deployment does) and for it to register,
 * then the next. The engines of `gateway+engine` processes are left out: stopping one stops its
 * gateway, and draining a gateway is not built yet.
 * @throws CodedError `CRD_ERR_NO_ENGINE` with fewer than two engines; `CRD_ERR_UNAVAILABLE` when
 *   an engine does not leave, or come back, within `timeoutMs`.
 */
export async function rollingRestart(config: ClusterConfig, o: { timeoutMs: number; progress?: (line: string) => void }): Promise<RollingRestartReport> {
  const startedAt = Date.now();
  return withCoordinator(config, async (coordinator) => {
    const { membership } = coordinator;
    const fat = new Set(membership.list('gateway').map((g) => g.localEngineId).filter((id): id is string => id !== undefined));
    const engines = membership
      .list('engine')
      .map((m) => m.id)
      .filter((id) => !fat.has(id))
      .sort();
    if (engines.length < 2) throw new CodedError(ErrorCodes.CRD_ERR_NO_ENGINE, `a rolling restart needs two engines or more (one drains to the others), found ${engines.length}`);
    const done: Array<{ engineId: string; scenes: number; ms: number }> = [];
    for (const engineId of engines) {
      const began = Date.now();
      // Watched before the drain: a fast supervisor may have it back before the drain returns.
      let unwatch: (() => void) | undefined;
      const back = new Promise<void>((resolve) => {
        let left = false;
        unwatch = membership.watch((e) => {
          if (e.member.id !== engineId) return;
          if (e.type === 'down') left = true;
          else if (e.type === 'up' && left) resolve();
        });
      });
      try {
        const drained = await drainOn(coordinator, config, engineId, { timeoutMs: o.timeoutMs, ...(o.progress === undefined ? {} : { progress: o.progress }) });
        o.progress?.(`${engineId} left; waiting for it to be started again`);
        await within(back, o.timeoutMs, `engine ${engineId} was not started again within ${o.timeoutMs / 1000} s: is it supervised (npm run cluster restarts it; under Kubernetes its Deployment does)?`);
        done.push({ engineId, scenes: drained.scenes, ms: Date.now() - began });
        o.progress?.(`${engineId} restarted in ${((Date.now() - began) / 1000).toFixed(1)} s (${drained.scenes} scenes moved live)`);
      } finally {
        unwatch?.();
      }
    }
    return { engines: done, ms: Date.now() - startedAt };
  });
}

async function withCoordinator<T>(config: ClusterConfig, fn: (coordinator: EtcdCoordinator) => Promise<T>): Promise<T> {
  const coordinator = new EtcdCoordinator({ hosts: config.etcd.hosts, prefix: config.etcd.prefix });
  await coordinator.start();
  try {
    return await fn(coordinator);
  } finally {
    await coordinator.close().catch(() => {});
  }
}

async function drainOn(coordinator: EtcdCoordinator, config: ClusterConfig, engineId: string, o: { timeoutMs: number; progress?: (line: string) => void }): Promise<DrainReport> {
  const startedAt = Date.now();
  let unwatch: (() => void) | undefined;
  try {
    // Watched before asking: the engine may be gone before the answer is read.
    const left = new Promise<void>((resolve) => {
      unwatch = coordinator.membership.watch((e) => {
        if (e.type === 'down' && e.member.id === engineId) resolve();
      });
    });
    const answer = parseAnswer(DrainAnswerSchema, await withEngine(config, engineId, (client) => client.command('drain', [])), 'drain');
    o.progress?.(`${engineId}: draining ${answer.scenes} scenes (moving them live, then stopping)`);
    if (coordinator.membership.get(engineId) !== undefined) {
      await within(left, o.timeoutMs, `engine ${engineId} has not left the cluster within ${o.timeoutMs / 1000} s (see its log)`);
    }
    return { engineId, scenes: answer.scenes, ms: Date.now() - startedAt };
  } finally {
    unwatch?.();
  }
}

/** `p`, or CRD_ERR_UNAVAILABLE with `message` after `ms`. */
async function within(p: Promise<void>, ms: number, message: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CodedError(ErrorCodes.CRD_ERR_UNAVAILABLE, message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function parseAnswer<T>(schema: z.ZodType<T>, answer: unknown, command: string): T {
  const parsed = schema.safeParse(answer);
  if (!parsed.success) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `the engine's answer to ${command} is not what this tool expects (another version?): ${parsed.error.message}`);
  return parsed.data;
}
