#!/usr/bin/env node
/**
 * A REPL into a live engine (docs/repl.md).
 *
 *   npm run repl -- --config FILE --engine ID [--user NAME] [--write] [--command LINE]
 *   npm run repl -- --embedded [--data-dir DIR] [--write] [--command LINE]
 *
 * Exit codes: 0 done, 1 refused (credential) or unreachable, or a --command that failed;
 * 2 bad usage or configuration.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { inspect } from 'node:util';
import { isCodedError } from '@gos/schema';
import { AdminClient, type AdminClientOptions } from '../src/repl/admin-client.js';
import { REPL_HELP, parseReplLine } from '../src/repl/commands.js';
import { loadConfig, parseCommandLine, readLinkTls, readStatus } from '../src/index.js';

const USAGE = `usage: gos-repl --config FILE --engine ID [--user NAME] [--write] [--command LINE]
       gos-repl --embedded [--data-dir DIR] [--write] [--command LINE]
  --config FILE    the cluster's YAML config: etcd (to find the engine), the cluster secret, admin.credentials
  --engine ID      the engine to open the session on (its id in npm run status)
  --user NAME      which of admin.credentials to use (default: the first)
  --embedded       the engine of a running npm start (it writes DATA_DIR/repl.json with its address and credential)
  --data-dir DIR   npm start's DATA_DIR (default ./data)
  --write          allow eval (code run inside a scene's worker); every command is logged by the engine
  --command LINE   run one command and exit (0 when it succeeded, 1 when not)
  -h, --help       this text

${REPL_HELP}`;

const cli = parseCommandLine(
  { name: 'gos-repl', usage: USAGE },
  {
    options: {
      config: { type: 'string', short: 'c' },
      engine: { type: 'string' },
      user: { type: 'string' },
      embedded: { type: 'boolean' },
      'data-dir': { type: 'string' },
      write: { type: 'boolean' },
      command: { type: 'string' },
    },
  },
);
const args = cli.values;
// Annotated, so that the compiler knows a call does not return.
const fail: (message: string) => never = cli.fail;
const write = args.write === true;

async function target(): Promise<AdminClientOptions> {
  if (args.embedded === true) {
    if (args.config !== undefined || args.engine !== undefined) fail('--embedded takes no --config or --engine');
    const file = path.resolve(args['data-dir'] ?? 'data', 'repl.json');
    let info: { address?: unknown; engineId?: unknown; clusterSecret?: unknown; credentials?: unknown };
    try {
      info = JSON.parse(readFileSync(file, 'utf8')) as typeof info;
    } catch (err) {
      console.error(`gos-repl: cannot read ${file} (is npm start running with this DATA_DIR?): ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      process.exit(1);
    }
    const cred = Array.isArray(info.credentials) ? (info.credentials[0] as { name?: unknown; secret?: unknown } | undefined) : undefined;
    if (typeof info.address !== 'string' || typeof info.engineId !== 'string' || typeof info.clusterSecret !== 'string' || typeof cred?.name !== 'string' || typeof cred.secret !== 'string') {
      fail(`${file} is not a repl.json written by npm start`);
    }
    return { address: info.address, engineId: info.engineId, clusterSecret: info.clusterSecret, tls: null, user: cred.name, secret: cred.secret, write };
  }
  const file = args.config ?? process.env['GOS_CONFIG'] ?? fail('--config FILE (or --embedded) is required');
  if (args.engine === undefined) fail('--engine ID is required');
  let config;
  try {
    config = loadConfig({ file, env: process.env });
  } catch (err) {
    fail((err as Error).message);
  }
  const creds = config.admin.credentials;
  const cred = args.user === undefined ? creds[0] : creds.find((c) => c.name === args.user);
  if (cred === undefined) {
    console.error(`gos-repl: ${creds.length === 0 ? `${file} has no admin.credentials: the engine refuses a REPL without one` : `no admin credential named ${args.user ?? ''} in ${file}`}`);
    process.exit(1);
  }
  const status = await readStatus(config).catch((err: unknown) => {
    console.error(`gos-repl: ${(err as Error).message}`);
    process.exit(1);
  });
  // A fat member (gateway+engine) registers its engine as a member of its own, under the engine's id.
  const member = status.members.find((m) => m.role === 'engine' && m.id === args.engine);
  if (member === undefined) {
    const engines = status.members.filter((m) => m.role === 'engine').map((m) => m.id);
    console.error(`gos-repl: no engine ${args.engine} in the cluster (engines: ${engines.join(', ') || 'none'})`);
    process.exit(1);
  }
  return { address: member.address, engineId: member.id, clusterSecret: config.cluster.secret, tls: readLinkTls(config), user: cred.name, secret: cred.secret, write };
}

const o = await target();
const client = new AdminClient(o);
try {
  const hello = await client.connect();
  if (args.command === undefined) console.log(`connected to ${hello.engineId} as ${o.user}${hello.write ? ' (write: eval allowed)' : ' (read-only)'}; help lists the commands`);
} catch (err) {
  console.error(`gos-repl: ${isCodedError(err) ? `${err.code}: ` : ''}${(err as Error).message}`);
  await client.close();
  process.exit(1);
}

const color = process.stdout.isTTY === true;
/** Run one line; false when it failed. */
async function run(line: string): Promise<boolean> {
  let parsed;
  try {
    parsed = parseReplLine(line);
  } catch (err) {
    console.error((err as Error).message);
    return false;
  }
  if (parsed === null) return true;
  if (parsed.command === 'help') {
    console.log(REPL_HELP);
    return true;
  }
  try {
    const result = await client.command(parsed.command, parsed.args);
    console.log(color ? inspect(result, { depth: 8, colors: true }) : JSON.stringify(result, null, 2));
    return true;
  } catch (err) {
    console.error(`error ${isCodedError(err) ? `${err.code}: ` : ''}${(err as Error).message}`);
    return false;
  }
}

if (args.command !== undefined) {
  const ok = await run(args.command);
  await client.close();
  process.exit(ok ? 0 : 1);
}

const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: `${o.user}@${o.engineId}> `, terminal: process.stdin.isTTY === true });
rl.prompt();
for await (const line of rl) {
  const word = line.trim();
  if (word === 'quit' || word === 'exit') break;
  await run(line);
  rl.prompt();
}
rl.close();
await client.close();
process.exit(0);
