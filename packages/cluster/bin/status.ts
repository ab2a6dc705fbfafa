#!/usr/bin/env node
/**
 * Print the cluster's members, leader, placement and load.
 *
 *   npm run status -- [--config FILE] [--json]
 *
 * Exit codes: 0 printed, 1 etcd unreachable, 2 bad usage or configuration.
 */
import { formatStatus, loadConfig, parseCommandLine, readStatus } from '../src/index.js';

const USAGE = `usage: gos-status [--config FILE] [--json]
  --config FILE  the cluster's YAML config (default: $GOS_CONFIG); GOS_* variables override it
  --json         one JSON object instead of tables
  -h, --help     this text`;

const { values: args } = parseCommandLine({ name: 'gos-status', usage: USAGE }, { options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } } });
let config;
try {
  config = loadConfig({ file: args.config ?? process.env['GOS_CONFIG'] ?? null, env: process.env });
} catch (err) {
  console.error(`gos-status: ${(err as Error).message}`);
  process.exit(2);
}
try {
  const status = await readStatus(config);
  console.log(args.json === true ? JSON.stringify(status) : formatStatus(status));
} catch (err) {
  console.error(`gos-status: ${(err as Error).message}`);
  process.exit(1);
}
