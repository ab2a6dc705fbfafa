/**
 * The cluster's configuration: one YAML file shared by every process of a cluster, plus
 * environment overrides (`GOS_…`, listed in {@link ENV_OVERRIDES}), validated once at start.
 * Every problem is reported at once, each with its key path and, for overridden values, the
 * variable it came from. Paths in the file are relative to the file; paths from the
 * environment are relative to the working directory.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ENV_OVERRIDES, getPath, parseEnv, setPath } from './config-env.js';
import { CodedError, ErrorCodes } from '@gos/schema';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.number().int('must be an integer').min(0, 'must be 0–65535').max(65535, 'must be 0–65535');
const positiveInt = z.number().int('must be an integer').min(1, 'must be ≥ 1');
const memberId = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be 1–63 lower-case letters, digits or dashes, starting with a letter');
const wsOrHttpUrl = (protocols: readonly string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${protocols.map((p) => `${p}//`).join(' or ')}…)` },
  );

/** Error text for a missing value; other problems keep zod's message. */
const required = (what: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? `is required: ${what}` : undefined) });
const file = (what: string) => z.string(required(what)).min(1, 'must be a file path');

/** What a member process runs: one role, or a gateway and an engine linked in-process (a fat process). */
/** The chat's limits and hook, as the config names them (kind redis or memory). */
const CHAT_LIMITS = {
  /** Longest line in code points. @default 200 */
  maxLength: z.int().min(1).max(1000).optional(),
  /** Module whose default export is the moderation hook (docs/chat.md): `(line) => text | null`, maybe async. */
  moderate: z.string().min(1).optional(),
};

export const ROLES = ['coordinator', 'engine', 'gateway', 'gateway+engine'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

const configSchema = z.strictObject({
  /**
   * The role of a process started with `gos-member` (`bin/member.js`) and no `--role`; the
   * role entries (`bin/gateway.js`, …) ignore it.
   */
  role: z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` }).optional(),
  cluster: z.strictObject({
    /** Shared secret of the gateway ↔ engine links. */
    secret: z.string(required('the links\' shared secret (in the file or GOS_CLUSTER_SECRET)')).min(16, 'must be at least 16 characters'),
    /** How long a starting process retries etcd, MySQL and Redis (each) before it exits with the code naming the URL. */
    startTimeoutMs: positiveInt.default(30000),
    /** The gateway ↔ engine links over TLS with a cluster CA (docs/tls.md); every gateway and engine, or none. */
    tls: z
      .strictObject({
        caFile: file('the cluster CA (PEM) the peers\' certificates must be signed by'),
        certFile: file('this process\'s certificate (PEM), signed by the cluster CA'),
        keyFile: file('the key of certFile (PEM)'),
        passphrase: z.string().optional(),
      })
      .optional(),
  }, required('a section with the links\' shared secret')),
  etcd: z
    .strictObject({
      hosts: z.array(wsOrHttpUrl(['http:', 'https:'])).min(1, 'needs at least one etcd endpoint').default(['http://127.0.0.1:2379']),
      prefix: z.string().min(1).default('gos/'),
      leaseTtlSeconds: z.number().int('must be an integer').min(1).max(60).default(5),
      /** How long a player entering a scene placed nowhere waits for the leader to place it. */
      placementTimeoutMs: positiveInt.default(10000),
    })
    .prefault({}),
  store: z.discriminatedUnion(
    'kind',
    [
      z.strictObject({ kind: z.literal('mysql'), url: wsOrHttpUrl(['mysql:']), autoMigrate: z.boolean().default(false), poolSize: positiveInt.optional() }),
      z.strictObject({ kind: z.literal('sqlite'), file: z.string().min(1) }),
    ],
    { error: "must have kind: 'mysql' (with url) or kind: 'sqlite' (with file)" },
  ),
  sessions: z
    .discriminatedUnion(
      'kind',
      [
        z.strictObject({ kind: z.literal('redis'), url: wsOrHttpUrl(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'), keyPrefix: z.string().default('gos:'), ttlMs: positiveInt.optional() }),
        z.strictObject({ kind: z.literal('memory'), ttlMs: positiveInt.optional() }),
      ],
      { error: "must have kind: 'redis' (with url) or kind: 'memory' (one gateway only)" },
    )
    .prefault({ kind: 'redis' }),
  /**
   * Where leaderboards live (docs/leaderboards.md): Redis, or memory for one engine only.
   * Absent: the sessions' backend (the same Redis URL and key prefix, or memory).
   */
  leaderboards: z
    .discriminatedUnion(
      'kind',
      [
        z.strictObject({ kind: z.literal('redis'), url: wsOrHttpUrl(['redis:', 'rediss:']).optional(), keyPrefix: z.string().optional() }),
        z.strictObject({ kind: z.literal('memory') }),
      ],
      { error: "must have kind: 'redis' (with url; the sessions' URL when left out) or kind: 'memory' (one engine only)" },
    )
    .optional(),
  /**
   * Chat on the gateways (docs/chat.md): Redis (shared by every gateway), memory (one gateway
   * only) or none. Absent: the sessions' backend (the same Redis URL, key prefix + `chat:`).
   */
  chat: z
    .discriminatedUnion(
      'kind',
      [
        z.strictObject({ kind: z.literal('redis'), url: wsOrHttpUrl(['redis:', 'rediss:']).optional(), keyPrefix: z.string().optional(), ...CHAT_LIMITS }),
        z.strictObject({ kind: z.literal('memory'), ...CHAT_LIMITS }),
        z.strictObject({ kind: z.literal('none') }),
      ],
      { error: "must have kind: 'redis' (with url; the sessions' URL when left out), 'memory' (one gateway only) or 'none'" },
    )
    .optional(),
  game: z.strictObject({
    /** Module whose default export is the game (`defineGame`): loaded by engines. */
    module: z.string(required('the game module the engines load')).min(1),
    /** Generated protocol module (its `protocol` export): loaded by gateways. */
    protocol: z.string(required('the generated protocol module the gateways load')).min(1),
  }, required('a section naming the game module and its protocol module')),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
  /** Who may open a REPL on an engine (`npm run repl`, docs/repl.md); none: every REPL is refused. */
  admin: z
    .strictObject({
      credentials: z
        .array(z.strictObject({ name: z.string().min(1, 'needs a name'), secret: z.string().min(16, 'must be at least 16 characters'), write: z.boolean().default(false) }))
        .refine((list) => new Set(list.map((c) => c.name)).size === list.length, 'names must be unique')
        .default([]),
    })
    .prefault({}),
  gateway: z
    .strictObject({
      id: memberId.optional(),
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(3000),
      /** WebSocket URL handed to players; default `ws://<host>:<port>/ws`. */
      publicUrl: wsOrHttpUrl(['ws:', 'wss:']).optional(),
      /** Serve https:// and wss:// with this certificate (docs/tls.md); SIGHUP loads the files again. */
      tls: z
        .strictObject({
          certFile: file('the gateway\'s certificate (PEM, intermediates after it)'),
          keyFile: file('the key of certFile (PEM)'),
          passphrase: z.string().optional(),
        })
        .optional(),
      /** Sockets this gateway takes before logins go elsewhere (GOS's default). */
      capacity: positiveInt.default(20000),
      /** A stop (SIGTERM) first tells the clients to move to the other gateways, and waits this long for them. */
      drainTimeoutMs: z.number().int().min(0).default(5000),
      /** Fire-and-forget inputs to a scene that takes them at its ticks wait on a TCP link until this long before its tick (docs/link.md); 0: sent at once. */
      inputHoldLeadMs: z.number().int().min(0).default(10),
      defaultSceneId: z.string().optional(),
      staticDir: z.string().optional(),
      scryptCost: positiveInt.optional(),
      /** Whether a registration may name the account's group (docs/chat.md): off, the game sets groups. */
      clientGroups: z.boolean().default(false),
    })
    .prefault({}),
  engine: z
    .strictObject({
      id: memberId.optional(),
      host: z.string().min(1).default('127.0.0.1'),
      /** Link port; 0 picks a free one (it is published in etcd). */
      port: port.default(0),
      /** Host gateways dial; default `host`. */
      advertiseHost: z.string().min(1).optional(),
      workers: positiveInt.default(1),
      scenesPerWorker: positiveInt.optional(),
      /** Young generation of each scene thread's V8 heap, MB (docs/memory.md); the engine's default 6. */
      workerYoungGenerationMb: positiveInt.optional(),
      persistIntervalMs: positiveInt.optional(),
      /** CCU cap: players this engine hosts at most; no scene is placed on it at its cap (GOS's default). */
      capacity: positiveInt.default(6000),
      /** A scene without players this long is stopped, saved and released; 0 keeps it running. */
      idleSceneMs: z.number().int('must be an integer').min(0, 'must be ≥ 0').default(60000),
      /** `GET /metrics` on `host`: 0 picks a free port (logged at start); null serves none. */
      metricsPort: port.nullable().default(0),
    })
    .prefault({}),
  coordinator: z
    .strictObject({
      id: memberId.optional(),
      /** The leader releases a placement whose engine has been gone this long. */
      orphanGraceMs: positiveInt.default(5000),
      /** The leader's rebalancing: scenes moved live from busy engines to idle ones (docs/scaling.md). */
      rebalance: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** Engines within this fraction of the mean load count as balanced. */
          tolerance: z.number().min(0).max(1).default(0.15),
          /** When evening out the busiest and the idlest engine means moving fewer players than this, nothing moves. */
          minPlayers: positiveInt.default(10),
          /** Gateways too: the busiest sends clients to the idlest (they follow the core push Reconnect). */
          gateways: z.boolean().default(true),
          /** When evening out the busiest and the idlest gateway means moving fewer clients than this, nothing moves. */
          minClients: positiveInt.default(20),
        })
        .prefault({}),
      /** The leader's scale decision: how many engines and gateways the load calls for (docs/scaling.md). */
      scale: z
        .strictObject({
          /** The share of capacity (CCU caps, thread time, gateway capacity) to run at. */
          targetUtilisation: z.number().gt(0).max(1).default(0.7),
          minEngines: z.number().int().min(0).default(1),
          minGateways: z.number().int().min(0).default(1),
        })
        .prefault({}),
      /** Address of the metrics endpoint. */
      host: z.string().min(1).default('127.0.0.1'),
      /** `GET /metrics` on `host`: 0 picks a free port (logged at start); null serves none. */
      metricsPort: port.nullable().default(0),
    })
    .prefault({}),
});

export type ClusterConfig = z.output<typeof configSchema>;

/** Keys holding paths: relative ones are resolved against the file's folder (or, from the environment, the working directory). */
const PATH_KEYS = [
  'game.module',
  'game.protocol',
  'store.file',
  'gateway.staticDir',
  'chat.moderate',
  'gateway.tls.certFile',
  'gateway.tls.keyFile',
  'cluster.tls.caFile',
  'cluster.tls.certFile',
  'cluster.tls.keyFile',
];

export interface LoadConfigOptions {
  /** The YAML file; null reads nothing but the environment. */
  readonly file: string | null;
  /** Usually `process.env` (only process entries read it). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Base of relative paths given in the environment. @default process.cwd() */
  readonly cwd?: string;
}

export function configError(message: string): CodedError {
  return new CodedError(ErrorCodes.OPT_ERR_INVALID, message);
}

/**
 * Read, override and validate the configuration.
 * @throws CodedError `OPT_ERR_INVALID` listing every problem (file missing or not YAML, unknown
 *   keys, bad values with the variable they came from).
 */
export function loadConfig(o: LoadConfigOptions): ClusterConfig {
  const cwd = o.cwd ?? process.cwd();
  const where = o.file === null ? 'configuration' : o.file;
  let raw: unknown = {};
  if (o.file !== null) {
    let text: string;
    try {
      text = readFileSync(o.file, 'utf8');
    } catch (err) {
      throw configError(`cannot read config file ${o.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      const detail = err instanceof YAMLParseError ? err.message.split('\n')[0] : String(err);
      throw configError(`${o.file} is not valid YAML: ${detail}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw configError(`${o.file} must hold a mapping of sections (cluster, etcd, store, …)`);
    const base = path.dirname(path.resolve(o.file));
    for (const key of PATH_KEYS) {
      const v = getPath(raw, key);
      if (typeof v === 'string' && v !== '') setPath(raw, key, path.resolve(base, v));
    }
  }
  const fromEnv = new Map<string, string>();
  for (const { name, path: key, kind, variant } of ENV_OVERRIDES) {
    const v = o.env[name];
    if (v === undefined || v === '') continue;
    fromEnv.set(key, name);
    const section = key.slice(0, key.indexOf('.'));
    if (variant !== undefined && getPath(raw, `${section}.kind`) !== variant) setPath(raw, section, { kind: variant });
    setPath(raw, key, PATH_KEYS.includes(key) ? path.resolve(cwd, v) : parseEnv(v, kind));
  }
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.');
    const env = fromEnv.get(key);
    const message = issue.code === 'unrecognized_keys' ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : issue.message;
    return `  ${key === '' ? '(top level)' : key}: ${message}${env === undefined ? '' : ` (from ${env}=${JSON.stringify(o.env[env])})`}`;
  });
  throw configError(`invalid ${where}:\n${lines.join('\n')}`);
}

/** The id this process runs under in `role` (a `gateway+engine` process: its gateway's); required. */
export function memberIdOf(config: ClusterConfig, role: Role): string {
  if (role === 'gateway+engine') return fatMemberIds(config).gateway;
  const id = config[role].id;
  if (id === undefined) throw configError(`${role}.id is required to run as ${role} (set it in the file or GOS_${role.toUpperCase()}_ID)`);
  return id;
}

/** The two members of a `gateway+engine` process: `gateway.id` and `engine.id`, which must differ. */
export function fatMemberIds(config: ClusterConfig): { readonly gateway: string; readonly engine: string } {
  const gateway = memberIdOf(config, 'gateway');
  const engine = memberIdOf(config, 'engine');
  if (gateway === engine) throw configError(`gateway.id and engine.id must differ in a gateway+engine process (both "${gateway}"): they are two members of the cluster`);
  return { gateway, engine };
}

/**
 * The environment `--id ID` stands for: `GOS_<ROLE>_ID=ID`; for a `gateway+engine` process,
 * gateway `ID` and engine `ID-engine`.
 */
export function idEnvironment(role: Role, id: string): Record<string, string> {
  if (role === 'gateway+engine') return { GOS_GATEWAY_ID: id, GOS_ENGINE_ID: `${id}-engine` };
  return { [`GOS_${role.toUpperCase()}_ID`]: id };
}
