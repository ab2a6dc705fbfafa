/**
 * The environment variables that override a cluster config file (`GOS_…`, docs/cluster.md), and
 * the dotted-key helpers that apply them to the parsed YAML before it is validated.
 */

export type EnvKind = 'string' | 'int' | 'list' | 'bool';

/** Environment variables that override the file, and the key each one sets. */
export const ENV_OVERRIDES: readonly {
  readonly name: string;
  readonly path: string;
  readonly kind: EnvKind;
  /** Also selects this variant of the section (`store.kind: mysql`), replacing another. */
  readonly variant?: string;
}[] = [
  { name: 'GOS_ROLE', path: 'role', kind: 'string' },
  { name: 'GOS_CLUSTER_SECRET', path: 'cluster.secret', kind: 'string' },
  { name: 'GOS_CLUSTER_START_TIMEOUT_MS', path: 'cluster.startTimeoutMs', kind: 'int' },
  { name: 'GOS_CLUSTER_TLS_CA_FILE', path: 'cluster.tls.caFile', kind: 'string' },
  { name: 'GOS_CLUSTER_TLS_CERT_FILE', path: 'cluster.tls.certFile', kind: 'string' },
  { name: 'GOS_CLUSTER_TLS_KEY_FILE', path: 'cluster.tls.keyFile', kind: 'string' },
  { name: 'GOS_CLUSTER_TLS_PASSPHRASE', path: 'cluster.tls.passphrase', kind: 'string' },
  { name: 'GOS_ETCD_HOSTS', path: 'etcd.hosts', kind: 'list' },
  { name: 'GOS_ETCD_PREFIX', path: 'etcd.prefix', kind: 'string' },
  { name: 'GOS_ETCD_LEASE_TTL_SECONDS', path: 'etcd.leaseTtlSeconds', kind: 'int' },
  { name: 'GOS_ETCD_PLACEMENT_TIMEOUT_MS', path: 'etcd.placementTimeoutMs', kind: 'int' },
  { name: 'GOS_MYSQL_URL', path: 'store.url', kind: 'string', variant: 'mysql' },
  { name: 'GOS_REDIS_URL', path: 'sessions.url', kind: 'string', variant: 'redis' },
  { name: 'GOS_GAME_MODULE', path: 'game.module', kind: 'string' },
  { name: 'GOS_GAME_PROTOCOL', path: 'game.protocol', kind: 'string' },
  { name: 'GOS_LOG_LEVEL', path: 'log.level', kind: 'string' },
  { name: 'GOS_GATEWAY_ID', path: 'gateway.id', kind: 'string' },
  { name: 'GOS_GATEWAY_HOST', path: 'gateway.host', kind: 'string' },
  { name: 'GOS_GATEWAY_PORT', path: 'gateway.port', kind: 'int' },
  { name: 'GOS_GATEWAY_PUBLIC_URL', path: 'gateway.publicUrl', kind: 'string' },
  { name: 'GOS_GATEWAY_TLS_CERT_FILE', path: 'gateway.tls.certFile', kind: 'string' },
  { name: 'GOS_GATEWAY_TLS_KEY_FILE', path: 'gateway.tls.keyFile', kind: 'string' },
  { name: 'GOS_GATEWAY_TLS_PASSPHRASE', path: 'gateway.tls.passphrase', kind: 'string' },
  { name: 'GOS_GATEWAY_CAPACITY', path: 'gateway.capacity', kind: 'int' },
  { name: 'GOS_GATEWAY_DRAIN_TIMEOUT_MS', path: 'gateway.drainTimeoutMs', kind: 'int' },
  { name: 'GOS_GATEWAY_INPUT_HOLD_LEAD_MS', path: 'gateway.inputHoldLeadMs', kind: 'int' },
  { name: 'GOS_GATEWAY_STATIC_DIR', path: 'gateway.staticDir', kind: 'string' },
  { name: 'GOS_ENGINE_ID', path: 'engine.id', kind: 'string' },
  { name: 'GOS_ENGINE_HOST', path: 'engine.host', kind: 'string' },
  { name: 'GOS_ENGINE_PORT', path: 'engine.port', kind: 'int' },
  { name: 'GOS_ENGINE_ADVERTISE_HOST', path: 'engine.advertiseHost', kind: 'string' },
  { name: 'GOS_ENGINE_WORKERS', path: 'engine.workers', kind: 'int' },
  { name: 'GOS_ENGINE_WORKER_YOUNG_GENERATION_MB', path: 'engine.workerYoungGenerationMb', kind: 'int' },
  { name: 'GOS_ENGINE_CAPACITY', path: 'engine.capacity', kind: 'int' },
  { name: 'GOS_ENGINE_PERSIST_INTERVAL_MS', path: 'engine.persistIntervalMs', kind: 'int' },
  { name: 'GOS_ENGINE_IDLE_SCENE_MS', path: 'engine.idleSceneMs', kind: 'int' },
  { name: 'GOS_ENGINE_METRICS_PORT', path: 'engine.metricsPort', kind: 'int' },
  { name: 'GOS_COORDINATOR_ID', path: 'coordinator.id', kind: 'string' },
  { name: 'GOS_COORDINATOR_HOST', path: 'coordinator.host', kind: 'string' },
  { name: 'GOS_COORDINATOR_METRICS_PORT', path: 'coordinator.metricsPort', kind: 'int' },
  { name: 'GOS_COORDINATOR_REBALANCE_MIN_CLIENTS', path: 'coordinator.rebalance.minClients', kind: 'int' },
];

/** An override's value as its kind reads it; a value that does not parse is kept as the string, for validation to name. */
export function parseEnv(v: string, kind: EnvKind): unknown {
  switch (kind) {
    case 'int':
      // Not a number: kept as the string, so validation names the variable and its value.
      return /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v;
    case 'bool':
      return v === 'true' ? true : v === 'false' ? false : v;
    case 'list':
      return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    default:
      return v;
  }
}

/** The value at `a.b.c`, or undefined. */
export function getPath(obj: unknown, key: string): unknown {
  let cur: unknown = obj;
  for (const part of key.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Set `a.b.c`, creating missing sections (a non-object in the way is replaced: validation reports it). */
export function setPath(obj: unknown, key: string, value: unknown): void {
  const parts = key.split('.');
  let cur = obj as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts.at(-1)!] = value;
}
