#!/usr/bin/env node
/**
 * Apply or list schema migrations.
 *
 *   node packages/store/dist/bin/migrate.js [--mysql-url URL | --sqlite FILE] [--status]
 *   npm run migrate -- --mysql-url mysql://root@127.0.0.1:3306/gos --status
 *
 * Without a target, `GOS_MYSQL_URL` names the MySQL database. Exit codes: 0 done, 1 failed,
 * 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { getMigrationStatus, runMigrations, type MigrationState, type StoreConfig } from '../src/index.js';

const USAGE = `usage: migrate [--mysql-url URL | --sqlite FILE] [--status]
  --mysql-url URL   mysql://user:password@host:3306/database (default: $GOS_MYSQL_URL)
  --sqlite FILE     a SQLite database file (created if missing, unless --status)
  --status          list migrations and whether each is applied; change nothing
  -h, --help        this text`;

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}

function describe(s: MigrationState): string {
  const when = s.appliedAt === null ? '' : `  ${new Date(s.appliedAt).toISOString()}`;
  return `  ${s.state.padEnd(8)} ${String(s.version).padStart(3, '0')} ${s.name}${when}`;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        'mysql-url': { type: 'string' },
        sqlite: { type: 'string' },
        status: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    // One line, as every entry prints (parseCommandLine of @gos/cluster, a package above this one).
    const first = (err as Error).message.split(/\.\s/)[0]!;
    console.error(`migrate: ${first.charAt(0).toLowerCase()}${first.slice(1)} (see --help)`);
    return 2;
  }
  if (args.help === true) {
    console.log(USAGE);
    return 0;
  }
  const mysqlUrl = args['mysql-url'] ?? (args.sqlite === undefined ? process.env.GOS_MYSQL_URL : undefined);
  if (args['mysql-url'] !== undefined && args.sqlite !== undefined) {
    console.error('migrate: choose one of --mysql-url and --sqlite (see --help)');
    return 2;
  }
  let config: StoreConfig;
  let label: string;
  if (args.sqlite !== undefined) {
    config = { kind: 'sqlite', file: args.sqlite };
    label = `sqlite ${args.sqlite}`;
  } else if (mysqlUrl !== undefined && mysqlUrl !== '') {
    config = { kind: 'mysql', url: mysqlUrl };
    label = `mysql ${redact(mysqlUrl)}`;
  } else {
    console.error('migrate: no database: pass --mysql-url or --sqlite, or set GOS_MYSQL_URL (see --help)');
    return 2;
  }

  try {
    if (args.status === true) {
      const status = await getMigrationStatus(config);
      console.log(`migrations of ${label}:`);
      for (const s of status) console.log(describe(s));
      const pending = status.filter((s) => s.state === 'pending').length;
      console.log(pending === 0 ? 'schema is up to date' : `${pending} pending`);
      return 0;
    }
    const report = await runMigrations(config);
    console.log(`migrations of ${label}:`);
    for (const s of report.status) console.log(describe(s));
    console.log(report.applied.length === 0 ? 'schema is up to date; nothing applied' : `applied ${report.applied.length} migration(s)`);
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    console.error(`migrate failed: ${typeof code === 'string' ? `${code}: ` : ''}${(err as Error).message}`);
    return 1;
  }
}

process.exitCode = await main();
