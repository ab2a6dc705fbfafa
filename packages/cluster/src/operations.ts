/**
 * An operator's actions on a running cluster (docs/scaling.md), behind `npm run status -- drain`
 * and `npm run status -- migrate`: each goes to the engine concerned as an admin command over
 * its link (the cluster secret, and a credential of the config's `admin.credentials` with
 * `write: true`), as the REPL's commands do.
 */
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
  const startedAt = Date.now();
  const coordinator = new EtcdCoordinator({ hosts: config.etcd.hosts, prefix: config.etcd.prefix });
  await coordinator.start();
  let timer: ReturnType<typeof setTimeout> | undefined;
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
      await Promise.race([
        left,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CodedError(ErrorCodes.CRD_ERR_UNAVAILABLE, `engine ${engineId} has not left the cluster within ${o.timeoutMs / 1000} s (see its log)`)), o.timeoutMs);
        }),
      ]);
    }
    return { engineId, scenes: answer.scenes, ms: Date.now() - startedAt };
  } finally {
    clearTimeout(timer);
    unwatch?.();
    await coordinator.close().catch(() => {});
  }
}

function parseAnswer<T>(schema: z.ZodType<T>, answer: unknown, command: string): T {
  const parsed = schema.safeParse(answer);
  if (!parsed.success) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `the engine's answer to ${command} is not what this tool expects (another version?): ${parsed.error.message}`);
  return parsed.data;
}
