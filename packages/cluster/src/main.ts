/**
 * What every process entry does: read `--config` (or `GOS_CONFIG`) and the environment,
 * validate, start its role, log where it listens, and on SIGTERM/SIGINT close gracefully
 * (SIGKILL-safe: nothing is lost that a crash would not lose). Exit codes: 0 stopped cleanly,
 * 1 failed at runtime or while stopping, 2 bad usage or configuration.
 */
import { isCodedError, ErrorCodes } from '@gos/schema';
import { loadConfig, memberIdOf, type Role } from './config.js';
import { startRole } from './roles.js';
import { parseCommandLine } from './command-line.js';
import { chooseLogFormat, createProcessLogger } from './process-logger.js';

/** How long a graceful stop may take before the process exits anyway. */
const STOP_TIMEOUT_MS = 20_000;

export function usage(role: Role): string {
  return `usage: gos-${role} [--config FILE] [--id ID]
  --config FILE  the cluster's YAML config (default: $GOS_CONFIG); GOS_* variables override it
  --id ID        this ${role}'s member id (default: ${role}.id, or $GOS_${role.toUpperCase()}_ID)
  -h, --help     this text
Logs: one coloured line per event on a terminal, JSON lines otherwise; LOG_FORMAT=json|pretty chooses.
See docs/cluster.md for every key and variable.`;
}

export async function runRole(role: Role, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { values: args } = parseCommandLine({ name: `gos-${role}`, usage: usage(role) }, { options: { config: { type: 'string', short: 'c' }, id: { type: 'string' } } }, argv);
  const idVar = `GOS_${role.toUpperCase()}_ID`;
  const effectiveEnv = args.id === undefined ? env : { ...env, [idVar]: args.id };
  let config;
  let id;
  let logFormat;
  const isTTY = process.stdout.isTTY === true;
  try {
    config = loadConfig({ file: args.config ?? env['GOS_CONFIG'] ?? null, env: effectiveEnv });
    id = memberIdOf(config, role);
    logFormat = chooseLogFormat({ isTTY, logFormat: env['LOG_FORMAT'] });
  } catch (err) {
    process.stderr.write(`gos-${role}: ${(err as Error).message}\n`);
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
  // SIGHUP reloads what the role can (a gateway's TLS certificate), which logs the outcome;
  // before the role is ready it is ignored rather than ending the process (Node's default).
  let reload: (() => Promise<void>) | null = null;
  process.on('SIGHUP', () => void reload?.().catch(() => {}));

  let running;
  try {
    starting = startRole(role, config, logger, startAborted.signal);
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
