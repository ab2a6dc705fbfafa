import { Registry } from 'prom-client';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { CodedError, ErrorCodes, silentLogger, type Logger } from '@gos/schema';
import type { Coordinator } from '@gos/coordinator';
import type { Store } from '@gos/store';
import type { LeaderboardApi } from '@gos/leaderboard';
import type { ChatBackend } from '@gos/chat';
import type { PlayerLocator } from './player-pushes.js';
import type { AdminCredential } from './admin.js';
import { resolveLinkTls, type LinkTlsOptions, type LocalLinks } from '@gos/link';

export interface EngineOptions {
  /** Unique id of this engine in the cluster. */
  readonly engineId: string;
  /** Shared secret of the gateway ↔ engine links. Required, at least 16 characters. */
  readonly clusterSecret: string;
  /** URL (file:) or absolute path of the game module whose default export is `defineGame(...)`. */
  readonly gameModule: string;
  readonly store: Store;
  readonly coordinator: Coordinator;
  /** @default '127.0.0.1' */
  readonly linkHost?: string;
  /** @default 0 (ephemeral) */
  readonly linkPort?: number;
  /** Host gateways should dial; @default linkHost */
  readonly advertiseHost?: string;
  /**
   * Serve the link over TLS with the cluster CA (every gateway's `linkTls` must be set too):
   * the engine presents `cert` (which must name `advertiseHost`) and accepts only gateways whose
   * certificate the CA signed. Material that cannot be used throws `LNK_ERR_TLS`. @default null
   */
  readonly linkTls?: LinkTlsOptions | null;
  /**
   * Gateways of this process (a `gateway+engine` member, the embedded `npm start`) link to this
   * engine through these in-process links (give the gateway the same instance) instead of TCP;
   * gateways of other processes still dial the TCP link. @default null
   */
  readonly localLinks?: LocalLinks | null;
  /**
   * Where players play, for `sendTo` to a player who is not on this engine: the gateways' session
   * store (`RedisSessionStore` or `MemorySessionStore` of @gos/gateway; the cluster launcher
   * passes the one its gateways use). Without it, `sendTo` reaches only players on this engine
   * and refuses the others with `ENG_ERR_NO_PRESENCE`. @default null
   */
  readonly presence?: PlayerLocator | null;
  /**
   * The leaderboards `scene.leaderboards` and `svc.leaderboards` use (a `Leaderboards` of
   * @gos/leaderboard, on Redis in a cluster; the caller starts and closes it). Without it, those
   * operations are refused with `LB_ERR_NOT_CONFIGURED`. @default null
   */
  readonly leaderboards?: LeaderboardApi | null;
  /**
   * The chat's backend (docs/chat.md), for the REPL's `chat` commands: mute and unmute players,
   * read a channel's history. The gateways run the chat itself. @default null
   */
  readonly chat?: ChatBackend | null;
  /**
   * Player logs (`player.log`, docs/player-logs.md): events are written to the store in batches
   * at least every `flushMs` (500); past `maxQueued` (100,000) events waiting for the store the
   * oldest are dropped (counted in `gos_player_log_events_total{result="dropped"}`); events older
   * than `retentionDays` (30; 0: forever) are deleted.
   */
  readonly playerLogs?: { readonly flushMs?: number; readonly maxQueued?: number; readonly retentionDays?: number };
  /** How often the engine looks for a newly published config bundle (docs/config-data.md). @default 500 */
  readonly configPollMs?: number;
  /**
   * How often the engine looks for new mail to everyone, to push MailArrived to its players
   * online (docs/mail.md): one indexed query. @default 2000
   */
  readonly mailPollMs?: number;
  /**
   * Who may open a REPL session on this engine (docs/repl.md): each credential's name is logged
   * with every command it sends. Without any, every REPL command is refused. @default none
   */
  readonly admin?: { readonly credentials: readonly AdminCredential[] } | null;
  /** How often the engine reads what was written to the shared tables its scenes read. @default 250 */
  readonly sharedPollMs?: number;
  /** How often the engine looks in the store for durable timers due on scenes that run nowhere. @default 500 */
  readonly timerScanIntervalMs?: number;
  /** Worker threads hosting scenes. @default max(1, availableParallelism() - 1) */
  readonly workers?: number;
  /** Scenes one worker hosts at most. @default 64 */
  readonly scenesPerWorker?: number;
  /** Default scene tick. @default 100 (10 Hz) */
  readonly tickMs?: number;
  /** Hot data write-back period. @default 5000 */
  readonly persistIntervalMs?: number;
  /** Window over which the persister gathers writes into one transaction. @default 50 */
  readonly persistBatchWindowMs?: number;
  /** Bytes of each main ↔ scene ring (power of two). @default 1 MiB */
  readonly ringBytes?: number;
  /**
   * When the frames the main thread writes into a scene's ring are published (one
   * `Atomics.store`, and one wake-up if the scene thread sleeps): `immediate` once per
   * event-loop turn, after every socket callback of the turn has written (fewer wake-ups: a
   * client frame handed over in-process comes one uWS callback at a time); `microtask` at the
   * end of each callback (a wake-up per input). A fire-and-forget input to a scene that drains
   * its inputs at its tick wakes nobody and is published as it is written, either way.
   * @default 'immediate'
   */
  readonly ringFlush?: 'microtask' | 'immediate';
  /**
   * CCU cap: players this engine hosts at most. The leader places no scene on an engine at its
   * cap, and a join past it is refused with `ENG_ERR_FULL`. @default 6000 (GOS's default)
   */
  readonly capacity?: number;
  /**
   * A scene placed here that has had no player this long is stopped (saved) and reported idle;
   * the leader then releases its placement and the next player to enter places it anew.
   * 0 keeps idle scenes running. @default 60000
   */
  readonly idleSceneMs?: number;
  /**
   * Frames held for a connection that is not in its scene yet (its join loading: the scene
   * starting, the player's row claimed; or its crashed scene restarting), delivered in order
   * once it is. Past this a frame is answered with `ENG_ERR_NOT_JOINED`. The default holds a
   * gateway's whole default burst (`limits.messageBurst`, 120) and two seconds more at its rate.
   * @default 256
   */
  readonly maxFramesWhileJoining?: number;
  /** Bytes of frames held per such connection (see `maxFramesWhileJoining`). @default 1048576 (1 MiB) */
  readonly maxBytesWhileJoining?: number;
  /** Crashes of one scene within a minute after which it is not restarted again. @default 3 */
  readonly maxSceneRestartsPerMinute?: number;
  /** How long graceful shutdown waits for each scene to persist and dispose. @default 10000 */
  readonly stopTimeoutMs?: number;
  /**
   * A live move of a scene (docs/scaling.md): how long its players' gateways have to confirm
   * they hold the players' frames before the move is given up (the scene runs on here). @default 2000
   */
  readonly migrationHoldTimeoutMs?: number;
  /**
   * Graceful shutdown (SIGTERM, a drain) first moves every scene live to the other engines, its
   * players connected (docs/scaling.md); scenes that cannot move (no other engine with room, a
   * refused move) are saved and stopped as before, their players resumed from that save. @default true
   */
  readonly migrateOnClose?: boolean;
  /**
   * How long the drain moves scenes live before it saves and stops the rest as before (a process
   * entry stops itself by force 20 s after SIGTERM: the default leaves time for that). @default 10000
   */
  readonly drainTimeoutMs?: number;
  /**
   * An operator asked this engine to drain (the REPL's `drain`, `npm run status -- drain <id>`).
   * A process entry passes its own graceful stop (the same as SIGTERM); without it the engine
   * closes itself (close() moves its scenes live first).
   */
  readonly onDrainRequest?: (() => void) | null;
  /**
   * Young generation of each scene thread's V8 heap, MB (`resourceLimits.maxYoungGenerationSizeMb`:
   * its two semi-spaces are a third of it each). Left to itself V8 grows a busy thread's
   * semi-spaces up to 16 MB each and keeps the pages: under a steady load the process's memory
   * then climbs for tens of minutes with nothing leaked (docs/memory.md). @default 6 (semi-spaces of 2 MB)
   */
  readonly workerYoungGenerationMb?: number;
  /** Log level inside worker threads. @default 'info' */
  readonly workerLogLevel?: string;
  readonly logger?: Logger;
  /**
   * Prometheus registry the engine registers its metrics in (docs/metrics.md); the process
   * entry serves it. @default a registry of its own
   */
  readonly metrics?: Registry;
}

export type ResolvedEngineOptions = Readonly<
  Required<Omit<EngineOptions, 'advertiseHost' | 'linkTls' | 'localLinks' | 'presence' | 'admin' | 'leaderboards' | 'playerLogs' | 'chat'>> & {
    chat: ChatBackend | null;
    advertiseHost: string;
    linkTls: LinkTlsOptions | null;
    localLinks: LocalLinks | null;
    presence: PlayerLocator | null;
    leaderboards: LeaderboardApi | null;
    playerLogs: { readonly flushMs: number; readonly maxQueued: number; readonly retentionDays: number };
    adminCredentials: readonly AdminCredential[];
  }
>;

function fail(option: string, why: string): never {
  throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `engine option "${option}" ${why}`);
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v <= 0) fail(name, `must be a positive integer, got ${String(value)}`);
  return v;
}

function int(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) fail(name, `must be an integer of at least ${min}, got ${String(value)}`);
  return v;
}

function checkCredentials(list: unknown): readonly AdminCredential[] {
  if (!Array.isArray(list)) fail('admin.credentials', 'must be an array');
  const names = new Set<string>();
  const out: AdminCredential[] = [];
  for (const item of list as readonly unknown[]) {
    const c = (typeof item === 'object' && item !== null ? item : {}) as { name?: unknown; secret?: unknown; write?: unknown };
    if (typeof c.name !== 'string' || c.name === '' || names.has(c.name)) fail('admin.credentials', 'need a unique, non-empty name each');
    if (typeof c.secret !== 'string' || c.secret.length < 16) fail('admin.credentials', `secret of ${c.name} must be at least 16 characters`);
    if (c.write !== undefined && typeof c.write !== 'boolean') fail('admin.credentials', `write of ${c.name} must be true or false`);
    names.add(c.name);
    out.push(Object.freeze({ name: c.name, secret: c.secret, write: c.write === true }));
  }
  return Object.freeze(out);
}

export function resolveEngineOptions(o: EngineOptions): ResolvedEngineOptions {
  if (typeof o.engineId !== 'string' || o.engineId === '') fail('engineId', 'is required');
  if (typeof o.clusterSecret !== 'string' || o.clusterSecret.length < 16) fail('clusterSecret', 'must be at least 16 characters');
  if (typeof o.gameModule !== 'string' || o.gameModule === '') fail('gameModule', 'is required');
  if (o.store === undefined) fail('store', 'is required');
  if (o.coordinator === undefined) fail('coordinator', 'is required');
  const ringBytes = positiveInt('ringBytes', o.ringBytes, 1 << 20);
  if ((ringBytes & (ringBytes - 1)) !== 0) fail('ringBytes', 'must be a power of two');
  const linkHost = o.linkHost ?? '127.0.0.1';
  return Object.freeze({
    engineId: o.engineId,
    clusterSecret: o.clusterSecret,
    gameModule: o.gameModule.startsWith('file:') ? o.gameModule : pathToFileURL(o.gameModule).href,
    store: o.store,
    coordinator: o.coordinator,
    linkHost,
    linkPort: o.linkPort ?? 0,
    advertiseHost: o.advertiseHost ?? linkHost,
    linkTls: resolveLinkTls(o.linkTls),
    localLinks: o.localLinks ?? null,
    presence: o.presence === undefined || o.presence === null ? null : typeof o.presence.locate === 'function' ? o.presence : fail('presence', 'must have a locate(playerId) method'),
    playerLogs: Object.freeze({
      flushMs: int('playerLogs.flushMs', o.playerLogs?.flushMs, 500, 10),
      maxQueued: int('playerLogs.maxQueued', o.playerLogs?.maxQueued, 100_000, 1),
      retentionDays: int('playerLogs.retentionDays', o.playerLogs?.retentionDays, 30, 0),
    }),
    chat: o.chat === undefined || o.chat === null ? null : typeof o.chat.mute === 'function' ? o.chat : fail('chat', 'must be a ChatBackend of @gos/chat'),
    leaderboards: o.leaderboards === undefined || o.leaderboards === null ? null : typeof o.leaderboards.submit === 'function' ? o.leaderboards : fail('leaderboards', 'must be a Leaderboards of @gos/leaderboard'),
    workers: positiveInt('workers', o.workers, Math.max(1, availableParallelism() - 1)),
    scenesPerWorker: positiveInt('scenesPerWorker', o.scenesPerWorker, 64),
    tickMs: positiveInt('tickMs', o.tickMs, 100),
    persistIntervalMs: positiveInt('persistIntervalMs', o.persistIntervalMs, 5000),
    persistBatchWindowMs: positiveInt('persistBatchWindowMs', o.persistBatchWindowMs, 50),
    timerScanIntervalMs: positiveInt('timerScanIntervalMs', o.timerScanIntervalMs, 500),
    sharedPollMs: positiveInt('sharedPollMs', o.sharedPollMs, 250),
    configPollMs: positiveInt('configPollMs', o.configPollMs, 500),
    mailPollMs: positiveInt('mailPollMs', o.mailPollMs, 2000),
    adminCredentials: checkCredentials(o.admin?.credentials ?? []),
    ringBytes,
    ringFlush: o.ringFlush === 'microtask' ? 'microtask' : o.ringFlush === undefined || o.ringFlush === 'immediate' ? 'immediate' : fail('ringFlush', `must be 'microtask' or 'immediate', got ${String(o.ringFlush)}`),
    capacity: positiveInt('capacity', o.capacity, 6000),
    idleSceneMs: o.idleSceneMs === 0 ? 0 : positiveInt('idleSceneMs', o.idleSceneMs, 60_000),
    maxFramesWhileJoining: positiveInt('maxFramesWhileJoining', o.maxFramesWhileJoining, 256),
    maxBytesWhileJoining: positiveInt('maxBytesWhileJoining', o.maxBytesWhileJoining, 1 << 20),
    maxSceneRestartsPerMinute: positiveInt('maxSceneRestartsPerMinute', o.maxSceneRestartsPerMinute, 3),
    stopTimeoutMs: positiveInt('stopTimeoutMs', o.stopTimeoutMs, 10_000),
    migrationHoldTimeoutMs: positiveInt('migrationHoldTimeoutMs', o.migrationHoldTimeoutMs, 2000),
    migrateOnClose: o.migrateOnClose ?? true,
    drainTimeoutMs: positiveInt('drainTimeoutMs', o.drainTimeoutMs, 10_000),
    onDrainRequest: o.onDrainRequest ?? null,
    workerYoungGenerationMb: positiveInt('workerYoungGenerationMb', o.workerYoungGenerationMb, 6),
    workerLogLevel: o.workerLogLevel ?? 'info',
    logger: o.logger ?? silentLogger,
    metrics: o.metrics ?? new Registry(),
  });
}
