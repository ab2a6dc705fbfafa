#!/usr/bin/env node
/**
 * A local cluster: coordinators, gateways and engines, each its own process started from the
 * bin entries with one config file (`npm run cluster` runs this after starting etcd, Redis and
 * MariaDB). Logs of every process, one line each, prefixed with its id. Ctrl-C stops them all.
 *
 *   node packages/cluster/dist/bin/local.js --config examples/demo/cluster.yaml [--coordinators 3] [--gateways 2] [--engines 2] [--base-port 3001]
 *
 * Gateways listen on base-port, base-port+1, … (default: the config's gateway.port).
 */
import path from 'node:path';
import { formatLogLine, loadConfig, MemberProcess, parseCommandLine, type Role } from '../src/index.js';

const USAGE = `usage: gos-local-cluster --config FILE [--coordinators 3] [--gateways 2] [--engines 2] [--base-port PORT]
  --config FILE     the cluster's YAML config (default: $GOS_CONFIG)
  --coordinators N  coordinator processes, 0–16 (3)
  --gateways N      gateway processes, 1–16 (2)
  --engines N       engine processes, 1–16 (2)
  --base-port PORT  the first gateway's port; the others take the next ones (default: the config's gateway.port)
  -h, --help        this text`;

const cli = parseCommandLine(
  { name: 'gos-local-cluster', usage: USAGE },
  {
    options: {
      config: { type: 'string', short: 'c' },
      coordinators: { type: 'string', default: '3' },
      gateways: { type: 'string', default: '2' },
      engines: { type: 'string', default: '2' },
      'base-port': { type: 'string' },
    },
  },
);
const args = cli.values;
// Annotated, so that the compiler knows a call does not return.
const fail: (message: string) => never = cli.fail;
const configFile = args.config ?? process.env['GOS_CONFIG'] ?? fail('--config is required');
const count = (name: 'coordinators' | 'gateways' | 'engines', min: number): number => {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < min || n > 16) fail(`--${name} must be an integer from ${min} to 16, got "${args[name]}"`);
  return n;
};
const counts: Record<Role, number> = { coordinator: count('coordinators', 0), gateway: count('gateways', 1), engine: count('engines', 1) };
let config;
try {
  config = loadConfig({ file: configFile, env: process.env });
} catch (err) {
  fail((err as Error).message);
}
const basePort = args['base-port'] === undefined ? config.gateway.port : Number(args['base-port']);
if (!Number.isInteger(basePort) || basePort < 1 || basePort + counts.gateway > 65536) fail(`--base-port must be a port number, got "${args['base-port']}"`);

const members: MemberProcess[] = [];
let stopping = false;
const start = (role: Role, i: number): MemberProcess => {
  const id = `${role}-${i}`;
  const env: Record<string, string> = role === 'gateway' ? { GOS_GATEWAY_PORT: String(basePort + i - 1) } : {};
  const m = new MemberProcess({ role, id, config: path.resolve(configFile), env, onLog: (line) => console.log(formatLogLine(id, line)) });
  void m.exited.then((how) => {
    if (stopping) return;
    console.log(`[local-cluster] ${id} exited (${how}); the others keep running`);
    if (members.every((x) => !x.running)) {
      console.log('[local-cluster] every process has exited');
      process.exit(1);
    }
  });
  members.push(m);
  return m;
};

const stopAll = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  console.log(`[local-cluster] ${signal}: stopping ${members.filter((m) => m.running).length} processes`);
  // Gateways first (players are told), then engines (scenes persist), then coordinators.
  for (const role of ['gateway', 'engine', 'coordinator'] as const) await Promise.all(members.filter((m) => m.role === role).map((m) => m.stop()));
  console.log('[local-cluster] stopped');
  process.exit(0);
};
process.on('SIGINT', () => void stopAll('SIGINT'));
process.on('SIGTERM', () => void stopAll('SIGTERM'));

// Coordinators and engines first, so the gateways find engines to place scenes on.
for (const role of ['coordinator', 'engine', 'gateway'] as const) {
  const started = Array.from({ length: counts[role] }, (_, k) => start(role, k + 1));
  try {
    await Promise.all(started.map((m) => m.ready));
  } catch (err) {
    console.error(`[local-cluster] ${(err as Error).message}`);
    await stopAll('start failed');
  }
}
const urls = members.filter((m) => m.role === 'gateway').map((m, k) => `http://${config.gateway.host}:${basePort + k}/`);
console.log(`
  Local cluster ready: ${counts.coordinator} coordinators, ${counts.gateway} gateways, ${counts.engine} engines.
  Play: ${urls.join('  ')}
  Status: npm run status -- --config ${configFile}
  Stop: Ctrl-C
`);
