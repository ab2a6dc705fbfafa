/**
 * What every process entry does: read `--config` (or `GOS_CONFIG`) and the environment,
 * validate, start its role, log where it listens, and on SIGTERM/SIGINT close gracefully
 * (SIGKILL-safe: nothing is lost that a crash would not lose). Exit codes: 0 stopped cleanly,
 * 1 failed at runtime or while stopping, 2 bad usage or configuration.
 */
import { isCodedError, ErrorCodes } from '@gos/schema';
import { idEnvironment, isRole, loadConfig, memberIdOf, ROLES, type Role } from './config.js';
import { startRole } from './roles.js';
import { parseCommandLine } from './command-line.js';
import { chooseLogFormat, createProcessLogger } from './process-logger.js';

/** How long a graceful stop may take before the process exits anyway. */
const STOP_TIMEOUT_MS = 30_000;

/** The name of a process entry: `gos-gateway`, …, and `gos-member` (role chosen by --role or the config). */
function toolName(role: Role | null): string {
  return role === null ? 'gos-member' : role === 'gateway+engine' ? 'gos-gateway-engine' : `gos-${role}`;
}

export function usage(role: Role | null): string {
  const lines = [`usage: ${toolName(role)} [--config FILE]${role === null ? ' [--role ROLE]' : ''} [--id ID]`, "  --config FILE  the cluster's YAML config (default: $GOS_CONFIG); GOS_* variables override it"];
  if (role === null) lines.push(`  --role ROLE    ${ROLES.join(' | ')} (default: the config's role, or $GOS_ROLE)`);
  if (role === null || role === 'gateway+engine') lines.push('  --id ID        member id (default: <role>.id); a gateway+engine process: gateway ID and engine ID-engine');
  else lines.push(`  --id ID        this ${role}'s member id (default: ${role}.id, or $GOS_${role.toUpperCase()}_ID)`);
  lines.push(
    '  -h, --help     this text',
    'Logs: one coloured line per event on a terminal, JSON lines otherwise; LOG_FORMAT=json|pretty chooses.',
    'See docs/cluster.md for every key and variable.',
  );
  return lines.join('\n');
}

/**
 * Run a process entry: `fixedRole` for the role entries, `null` for `gos-member`, whose role
 * comes from `--role` or the config's `role` (a `gateway+engine` process runs both, linked
 * in-process).
 */
export async function runRole(fixedRole: Role | null, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const name = toolName(fixedRole);
  const options = { config: { type: 'string', short: 'c' }, id: { type: 'string' }, role: { type: 'string' } } as const;
  const cli = parseCommandLine({ name, usage: usage(fixedRole) }, { options }, argv);
  const args = cli.values;
  if (args.role !== undefined && (fixedRole !== null || !isRole(args.role))) {
    cli.fail(fixedRole !== null ? `--role is for gos-member; this is ${name}` : `--role must be one of ${ROLES.join(', ')}, got "${args.role}"`);
  }
  let config;
  let role: Role;
  let id;
  let logFormat;
  const isTTY = process.stdout.isTTY === true;
  try {
    const file = args.config ?? env['GOS_CONFIG'] ?? null;
    config = loadConfig({ file, env });
    const chosen = fixedRole ?? (isRole(args.role) ? args.role : config.role);
    if (chosen === undefined) throw new Error(`no role: give --role (${ROLES.join(', ')}), or set role in the config or GOS_ROLE`);
    role = chosen;
    // --id names the role's members, which only the role tells.
    if (args.id !== undefined) config = loadConfig({ file, env: { ...env, ...idEnvironment(role, args.id) } });
    id = memberIdOf(config, role);
    logFormat = chooseLogFormat({ isTTY, logFormat: env['LOG_FORMAT'] });
  } catch (err) {
    process.stderr.write(`${name}: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const logger = createProcessLogger({ level: config.log.level, format: logFormat, colorize: isTTY, base: { role, id, pid: process.pid } });

  let starting: ReturnType<typeof startRole> | null = null;
  const startAborted = new AbortController();
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const force = setTimeout(() => {
      logger.error(`did not stop within ${STOP_TIMEOUT_MS / 1000} s; exiting`);
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    force.unref();
    try {
      // A signal during the start ends its retries, waits for it, then closes what it opened.
      startAborted.abort(new Error(`stopped by ${signal} while starting`));
      const running = await starting?.catch(() => null);
      await running?.close();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'stop failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Started by a launcher (MemberProcess: `npm run cluster`, the tests) with an IPC channel:
  // the channel closes when the launcher ends, however it ends, and the member stops with it
  // rather than run on, orphaned. Started any other way (systemd, a shell), it has no channel.
  if (process.channel !== undefined) {
    process.channel.unref();
    process.once('disconnect', () => void stop('launcher exited'));
  }
  // SIGHUP reloads what the role can (a gateway's TLS certificate), which logs the outcome;
  // before the role is ready it is ignored rather than ending the process (Node's default).
  let reload: (() => Promise<void>) | null = null;
  process.on('SIGHUP', () => void reload?.().catch(() => {}));

  let running;
  try {
    // An operator's drain (npm run status -- drain <id>) stops the process as SIGTERM does.
    starting = startRole(role, config, logger, startAborted.signal, () => void stop('drain'));
    running = await starting;
  } catch (err) {
    if (stopping) return; // stopped during the start: stop() reports and exits
    const badConfig = isCodedError(err) && err.code === ErrorCodes.OPT_ERR_INVALID;
    // One line an operator can act on: the code, and what failed (a URL, an address).
    logger.fatal({ err }, `cannot start: ${isCodedError(err) ? `${err.code}: ` : ''}${(err as Error).message}`);
    process.exit(badConfig ? 2 : 1);
  }
  if (stopping) return;
  reload = () => running.reload();
  logger.info(running.describe(), `${role} ready`);
}
