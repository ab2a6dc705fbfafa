#!/usr/bin/env node
/**
 * Print the cluster's members, leader, placement and load; or act on it.
 *
 *   npm run status -- [--config FILE] [--json]
 *   npm run status -- [--config FILE] drain MEMBER_ID [--timeout SECONDS]
 *   npm run status -- [--config FILE] migrate SCENE_ID [ENGINE_ID]
 *
 * Exit codes: 0 printed or done, 1 etcd or the member unreachable, refused, or not done in
 * time; 2 bad usage or configuration.
 */
import { isCodedError } from '@gos/schema';
import { drainMember, formatStatus, loadConfig, migrateScene, parseCommandLine, readStatus } from '../src/index.js';

const USAGE = `usage: gos-status [--config FILE] [--json]
       gos-status [--config FILE] drain MEMBER_ID [--timeout SECONDS]
       gos-status [--config FILE] migrate SCENE_ID [ENGINE_ID]
  --config FILE    the cluster's YAML config (default: $GOS_CONFIG); GOS_* variables override it
  --json           one JSON object instead of tables
  drain ENGINE_ID  move every scene of that engine live to the others (players stay connected),
                   then stop it (exit 0 once it has left the cluster); needs an admin credential
                   with write: true in the config
  drain GATEWAY_ID tell that gateway's clients to move to the other gateways (they resume there
                   without an error), then stop it (exit 0 once it has left the cluster)
  --timeout S      how long drain waits for the member to leave (default 120)
  migrate SCENE_ID [ENGINE_ID]
                   move one scene live to ENGINE_ID (default: the least loaded other engine)
  -h, --help       this text`;

const cli = parseCommandLine(
  { name: 'gos-status', usage: USAGE },
  { options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, timeout: { type: 'string' } }, allowPositionals: true },
);
const { values: args, positionals } = cli;
let config;
try {
  config = loadConfig({ file: args.config ?? process.env['GOS_CONFIG'] ?? null, env: process.env });
} catch (err) {
  console.error(`gos-status: ${(err as Error).message}`);
  process.exit(2);
}
const [action, ...rest] = positionals;
try {
  if (action === undefined) {
    const status = await readStatus(config);
    console.log(args.json === true ? JSON.stringify(status) : formatStatus(status));
  } else if (action === 'drain') {
    if (rest.length !== 1) cli.fail('drain takes one engine or gateway id');
    const timeoutS = args.timeout === undefined ? 120 : Number(args.timeout);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0) cli.fail(`--timeout must be a positive number of seconds, got ${args.timeout}`);
    const done = await drainMember(config, rest[0]!, { timeoutMs: timeoutS * 1000, progress: (line) => console.log(line) });
    if (args.json === true) console.log(JSON.stringify(done));
    else if (done.role === 'engine') console.log(`${done.engineId} drained and left in ${(done.ms / 1000).toFixed(1)} s (it ran ${done.scenes} scenes; its log says which moved live)`);
    else console.log(`${done.gatewayId} drained and left in ${(done.ms / 1000).toFixed(1)} s (it had ${done.clients} clients; its log says how many moved)`);
  } else if (action === 'migrate') {
    if (rest.length < 1 || rest.length > 2) cli.fail('migrate takes a scene id and, optionally, an engine id');
    const outcome = await migrateScene(config, rest[0]!, rest[1]);
    console.log(args.json === true ? JSON.stringify(outcome) : `${outcome.sceneId} moved from ${outcome.from} to ${outcome.to} with ${outcome.players} players (frozen ${outcome.frozenMs} ms)`);
  } else {
    cli.fail(`unknown action ${action} (drain, migrate)`);
  }
} catch (err) {
  console.error(`gos-status: ${isCodedError(err) ? `${err.code}: ` : ''}${(err as Error).message}`);
  process.exit(1);
}
