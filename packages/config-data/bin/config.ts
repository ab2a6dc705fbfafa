#!/usr/bin/env node
/**
 * npm run config -- <dir> [--out DIR]
 *
 * Check every .xlsx workbook in <dir> (docs/config-data.md) and write server.json, client.json,
 * config.ts and config.client.ts to --out (default <dir>/out). Problems are listed one a line as
 * file:sheet:row:column: message, nothing is written, and the exit code is 1; a bad command
 * line exits 2.
 */
import { parseArgs } from 'node:util';
import { convertFolder } from '../src/index.js';

const USAGE = 'usage: npm run config -- <dir> [--out DIR]   (docs/config-data.md)';

function usage(message: string | null): never {
  if (message !== null) console.error(`config: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

let parsed: ReturnType<typeof parseArgs<{ options: { out: { type: 'string' }; help: { type: 'boolean'; short: 'h' } }; allowPositionals: true }>>;
try {
  parsed = parseArgs({ options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
} catch (err) {
  usage((err as Error).message);
}
if (parsed.values.help === true) {
  console.log(USAGE);
  process.exit(0);
}
const [dir, ...extra] = parsed.positionals;
if (dir === undefined || extra.length > 0) usage(dir === undefined ? 'which folder?' : `one folder, got ${parsed.positionals.join(' ')}`);

try {
  const r = await convertFolder({ dir, ...(parsed.values.out === undefined ? {} : { out: parsed.values.out }) });
  if (r.problems.length > 0) {
    for (const p of r.problems) console.error(p);
    console.error(`config: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}; nothing written`);
    process.exit(1);
  }
  const tables = Object.keys(r.server?.tables ?? {}).length;
  console.log(`config: ${tables} tables, version ${r.server?.version} (server), ${r.client?.version} (client) → ${r.files.join(', ')}`);
} catch (err) {
  console.error(`config: ${(err as Error).message}`);
  process.exit(1);
}
