#!/usr/bin/env node
/**
 * npm run config -- <dir> [--out DIR] [--publish (--sqlite FILE | --mysql URL)]
 *
 * Check every .xlsx workbook in <dir> (docs/config-data.md) and write server.json, client.json,
 * config.ts and config.client.ts to --out (default <dir>/out); with --publish, also publish the
 * server bundle to the store (the embedded npm start's SQLite file, data/gos.db, or MySQL;
 * GOS_MYSQL_URL when neither is given), where every engine picks it up. Problems are listed one
 * a line as file:sheet:row:column: message, nothing is written or published, and the exit code
 * is 1; a bad command line exits 2.
 */
import { parseArgs } from 'node:util';
import type { StoreConfig } from '@gos/store';
import { convertFolder } from '../src/index.js';

const USAGE = `usage: npm run config -- <dir> [--out DIR] [--publish [--sqlite FILE | --mysql URL]]
  <dir>          the folder of .xlsx workbooks (docs/config-data.md)
  --out DIR      where server.json, client.json, config.ts and config.client.ts go (default <dir>/out)
  --publish      also publish the server bundle to the store, where every engine picks it up
  --sqlite FILE  the store to publish to: an SQLite file (npm start's: data/gos.db)
  --mysql URL    the store to publish to: MySQL (default: $GOS_MYSQL_URL)
  -h, --help     this text`;

/** A bad command line: one line on stderr, exit 2 (the conventions of every entry, parseCommandLine of @gos/cluster). */
function usage(message: string): never {
  console.error(`config: ${message.charAt(0).toLowerCase()}${message.slice(1)} (see --help)`);
  process.exit(2);
}

const OPTIONS = { out: { type: 'string' }, publish: { type: 'boolean' }, sqlite: { type: 'string' }, mysql: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
try {
  parsed = parseArgs({ options: OPTIONS, allowPositionals: true, strict: true });
} catch (err) {
  usage((err as Error).message.split(/\.\s/)[0]!);
}
if (parsed.values.help === true) {
  console.log(USAGE);
  process.exit(0);
}
const [dir, ...extra] = parsed.positionals;
if (dir === undefined) usage('which folder of workbooks?');
if (extra.length > 0) usage(`unexpected argument '${extra[0]}'`);

const { publish, sqlite, mysql } = parsed.values;
if (sqlite !== undefined && mysql !== undefined) usage('--sqlite or --mysql, not both');
if (publish !== true && (sqlite !== undefined || mysql !== undefined)) usage('--sqlite and --mysql say where to --publish');
const mysqlUrl = mysql ?? (sqlite === undefined ? process.env['GOS_MYSQL_URL'] : undefined);
if (publish === true && sqlite === undefined && mysqlUrl === undefined) usage('--publish needs --sqlite FILE or --mysql URL (or GOS_MYSQL_URL)');
const target: StoreConfig | undefined = publish !== true ? undefined : sqlite !== undefined ? { kind: 'sqlite', file: sqlite } : { kind: 'mysql', url: mysqlUrl ?? '' };

try {
  const r = await convertFolder({ dir, ...(parsed.values.out === undefined ? {} : { out: parsed.values.out }), ...(target === undefined ? {} : { publish: target }) });
  if (r.problems.length > 0) {
    for (const p of r.problems) console.error(p);
    console.error(`config: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}; nothing written`);
    process.exit(1);
  }
  const tables = Object.keys(r.server?.tables ?? {}).length;
  console.log(`config: ${tables} tables, version ${r.server?.version} (server), ${r.client?.version} (client) → ${r.files.join(', ')}`);
  if (r.seq !== null) console.log(`config: published version ${r.server?.version} as #${r.seq}; engines switch to it within a second or two`);
} catch (err) {
  console.error(`config: ${(err as Error).message}`);
  process.exit(1);
}
