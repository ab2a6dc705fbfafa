#!/usr/bin/env node
/**
 * A local cluster: coordinators, gateways and engines, each its own process, and fat
 * `gateway+engine` processes (a gateway and an engine linked in-process), started from the
 * bin entries with one config file (`npm run cluster` runs this after starting etcd, Redis and
 * MariaDB). Logs of every process, one line each, prefixed with its id. A process that exits
 * unexpectedly is restarted after a back-off (at most --max-restarts a minute, then given up).
 * Ctrl-C stops them all.
 *
 *   node packages/cluster/dist/bin/local.js --config examples/demo/cluster.yaml [--coordinators 3] [--gateways 2] [--engines 2] [--fat 0] [--base-port 3001] [--max-restarts 5]
 *   node packages/cluster/dist/bin/local.js --config examples/demo/cluster.yaml --rolling-restart engines
 *
 * With --rolling-restart engines (in another terminal, beside a running cluster) it starts
 * nothing: it drains each engine of the config's cluster in turn (its scenes move live to the
 * others, players connected), waits for its supervisor (this launcher) to start it again, then
 * goes on to the next; it exits 0 once all are back.
 *
 * Gateways listen on base-port, base-port+1, … (default: the config's gateway.port), the fat
 * processes' gateways on the ports after them, and gateways --autoscale adds after those.
 * Exit codes: 0 stopped by a signal, 1 a member was given up before the cluster was ready or
 * every member was given up, 2 bad usage or configuration.
 */
import path from 'node:path';
import { isCodedError } from '@gos/schema';
import { Autoscaler, formatLogLine, loadConfig, MemberProcess, parseCommandLine, rollingRestart, Supervisor, type Role } from '../src/index.js';

const USAGE = `usage: gos-local-cluster --config FILE [--coordinators 3] [--gateways 2] [--engines 2] [--fat 0] [--base-port PORT] [--max-restarts 5]
                         [--autoscale [--max-engines N] [--max-gateways N] [--scale-in-after SECONDS]]
       gos-local-cluster --config FILE --rolling-restart engines
  --config FILE       the cluster's YAML config (default: $GOS_CONFIG)
  --coordinators N    coordinator processes, 0–16 (3)
  --gateways N        gateway processes, 0–16 (2; 0 needs --fat)
  --engines N         engine processes, 0–16 (2; 0 needs --fat)
  --fat N             gateway+engine processes, 0–16 (0): gateway fat-N and engine fat-N-engine, linked in-process
  --base-port PORT    the first gateway's port; the others take the next ones (default: the config's gateway.port)
  --max-restarts N    restarts of one member within a minute before it is given up (5)
  --autoscale         start and stop engines and gateways as the leader's scale decision asks
                      (docs/scaling.md): one more at once, one fewer after --scale-in-after seconds
                      (60) asking for fewer; never fewer than --engines / --gateways, nor more than
                      --max-engines (--engines + 4) / --max-gateways (--gateways + 2); the gateways
                      it adds listen on the ports after the others
  --rolling-restart engines
                      beside a running cluster: restart its engines one by one with players online
                      (each drained: its scenes move live to the others; docs/scaling.md), then exit
  -h, --help          this text`;

const cli = parseCommandLine(
  { name: 'gos-local-cluster', usage: USAGE },
  {
    options: {
      config: { type: 'string', short: 'c' },
      coordinators: { type: 'string', default: '3' },
      gateways: { type: 'string', default: '2' },
      engines: { type: 'string', default: '2' },
      fat: { type: 'string', default: '0' },
      'base-port': { type: 'string' },
      'max-restarts': { type: 'string', default: '5' },
      'rolling-restart': { type: 'string' },
      autoscale: { type: 'boolean' },
      'max-engines': { type: 'string' },
      'max-gateways': { type: 'string' },
      'scale-in-after': { type: 'string', default: '60' },
    },
  },
);
const args = cli.values;
// Annotated, so that the compiler knows a call does not return.
const fail: (message: string) => never = cli.fail;
const configFile = args.config ?? process.env['GOS_CONFIG'] ?? fail('--config is required');
const count = (name: 'coordinators' | 'gateways' | 'engines' | 'fat', min: number): number => {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < min || n > 16) fail(`--${name} must be an integer from ${min} to 16, got "${args[name]}"`);
  return n;
};
const fat = count('fat', 0);
const counts: Record<Role, number> = {
  coordinator: count('coordinators', 0),
  gateway: count('gateways', fat > 0 ? 0 : 1),
  engine: count('engines', fat > 0 ? 0 : 1),
  'gateway+engine': fat,
};
let config;
try {
  config = loadConfig({ file: configFile, env: process.env });
} catch (err) {
  fail((err as Error).message);
}
if (args['rolling-restart'] !== undefined) {
  if (args['rolling-restart'] !== 'engines') fail(`--rolling-restart takes engines (a rolling restart of gateways is not built yet; a gateway stopped with SIGTERM drains), got "${args['rolling-restart']}"`);
  try {
    const report = await rollingRestart(config, { timeoutMs: 120_000, progress: (line) => console.log(`[rolling-restart] ${line}`) });
    console.log(`[rolling-restart] ${report.engines.length} engines restarted in ${(report.ms / 1000).toFixed(1)} s`);
    process.exit(0);
  } catch (err) {
    console.error(`[rolling-restart] ${isCodedError(err) ? `${err.code}: ` : ''}${(err as Error).message}`);
    process.exit(1);
  }
}
const maxGateways = args['max-gateways'] === undefined ? counts.gateway + 2 : Number(args['max-gateways']);
if (!Number.isInteger(maxGateways) || maxGateways < counts.gateway || maxGateways > 16) fail(`--max-gateways must be an integer from --gateways (${counts.gateway}) to 16, got "${args['max-gateways']}"`);
const basePort = args['base-port'] === undefined ? config.gateway.port : Number(args['base-port']);
if (!Number.isInteger(basePort) || basePort < 1 || basePort + maxGateways + fat > 65536) fail(`--base-port must be a port number, got "${args['base-port']}"`);

const maxRestarts = Number(args['max-restarts']);
if (!Number.isInteger(maxRestarts) || maxRestarts < 0 || maxRestarts > 100) fail(`--max-restarts must be an integer from 0 to 100, got "${args['max-restarts']}"`);

const maxEngines = args['max-engines'] === undefined ? counts.engine + 4 : Number(args['max-engines']);
if (!Number.isInteger(maxEngines) || maxEngines < counts.engine || maxEngines > 16) fail(`--max-engines must be an integer from --engines (${counts.engine}) to 16, got "${args['max-engines']}"`);
const scaleInAfterS = Number(args['scale-in-after']);
if (!Number.isFinite(scaleInAfterS) || scaleInAfterS < 0 || scaleInAfterS > 3600) fail(`--scale-in-after must be a number of seconds from 0 to 3600, got "${args['scale-in-after']}"`);

const say = (line: string): void => console.log(`[local-cluster] ${line}`);
let ready = false;
const supervisor = new Supervisor({
  maxRestartsPerMinute: maxRestarts,
  report: (level, line) => (level === 'error' ? console.error(`[local-cluster] ERROR: ${line}`) : say(line)),
  onGiveUp: () => {
    if (ready && supervisor.alive.length === 0) void stopAll('every member was given up', 1);
  },
});
/** Gateways on base-port, base-port+1, …; the fat processes' after them; gateways --autoscale adds after those. */
const gatewayPort = (role: 'gateway' | 'gateway+engine', i: number): number => {
  if (role === 'gateway+engine') return basePort + counts.gateway + i - 1;
  return i <= counts.gateway ? basePort + i - 1 : basePort + counts.gateway + fat + (i - counts.gateway - 1);
};
const start = (role: Role, i: number): Promise<void> => {
  const id = role === 'gateway+engine' ? `fat-${i}` : `${role}-${i}`;
  // Every gateway, fat ones after the others, on its own port.
  const env: Record<string, string> = role === 'gateway' || role === 'gateway+engine' ? { GOS_GATEWAY_PORT: String(gatewayPort(role, i)) } : {};
  const launch = (): MemberProcess => new MemberProcess({ role, id, config: path.resolve(configFile), env, onLog: (line) => console.log(formatLogLine(id, line)) });
  return supervisor.add(role, id, launch).firstReady;
};

let autoscaler: Autoscaler | null = null;
let stopping: Promise<never> | null = null;
const stopAll = (why: string, code: number): Promise<never> =>
  (stopping ??= (async () => {
    say(`${why}: stopping ${supervisor.members.filter((m) => m.current.running).length} processes`);
    await autoscaler?.close();
    await supervisor.stop();
    say('stopped');
    process.exit(code);
  })());
process.on('SIGINT', () => void stopAll('SIGINT', 0));
process.on('SIGTERM', () => void stopAll('SIGTERM', 0));

// Coordinators and engines first, so the gateways find engines to place scenes on. A member
// that exits while starting is restarted like any other; one given up ends the launch.
for (const role of ['coordinator', 'engine', 'gateway+engine', 'gateway'] as const) {
  try {
    await Promise.all(Array.from({ length: counts[role] }, (_, k) => start(role, k + 1)));
  } catch {
    await stopAll('a member was given up before the cluster was ready', 1);
  }
}
ready = true;
if (args.autoscale === true) {
  autoscaler = new Autoscaler({
    config,
    engines: { min: counts.engine, max: maxEngines, start: (n) => start('engine', n), stop: (n) => supervisor.retire(`engine-${n}`) },
    gateways: { min: counts.gateway, max: maxGateways, start: (n) => start('gateway', n), stop: (n) => supervisor.retire(`gateway-${n}`) },
    scaleInAfterMs: scaleInAfterS * 1000,
    report: say,
  });
  await autoscaler.start().catch((err: unknown) => stopAll(`--autoscale cannot read the cluster: ${(err as Error).message}`, 1));
}
const urls = Array.from({ length: counts.gateway + fat }, (_, k) => `http://${config.gateway.host}:${basePort + k}/`);
console.log(`
  Local cluster ready: ${counts.coordinator} coordinators, ${counts.gateway} gateways, ${counts.engine} engines, ${fat} gateway+engine processes.
  Play: ${urls.join('  ')}
  Status: npm run status -- --config ${configFile}
  Stop: Ctrl-C (a process that exits otherwise is restarted)
`);
