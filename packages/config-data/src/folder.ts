/** `npm run config -- <dir>`: every workbook of a folder checked and written as bundles and TypeScript. */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { convertSheets, formatProblem, type ConfigBundle } from './convert.js';
import { emitTypeScript } from './emit-ts.js';
import { readWorkbooks } from './read-workbook.js';
import { createStore, type StoreConfig } from '@gos/store';

export interface ConvertFolderOptions {
  /** The folder holding the `.xlsx` workbooks. */
  readonly dir: string;
  /** Where server.json, client.json, config.ts (server) and config.client.ts go. @default `<dir>/out` */
  readonly out?: string;
  /** Publish the server bundle to this store (the engines load it within a second or two; docs/config-data.md). */
  readonly publish?: StoreConfig;
}

export interface ConvertFolderResult {
  /** Each problem as `file:sheet:row:column: message`; nothing was written when there is any. */
  readonly problems: readonly string[];
  readonly server: ConfigBundle | null;
  readonly client: ConfigBundle | null;
  /** The files written. */
  readonly files: readonly string[];
  /** The published bundle's seq, when it was published. */
  readonly seq: number | null;
}

/** Write `text` to `file` whole or not at all (a temporary file renamed over it). */
async function writeWhole(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

export async function convertFolder(o: ConvertFolderOptions): Promise<ConvertFolderResult> {
  const sheets = await readWorkbooks(o.dir);
  const r = convertSheets(sheets);
  if (r.problems.length > 0 || r.server === null || r.client === null) return { problems: r.problems.map(formatProblem), server: null, client: null, files: [], seq: null };
  const out = o.out ?? join(o.dir, 'out');
  await mkdir(out, { recursive: true });
  const source = relative(out, o.dir) || '.';
  const files = [join(out, 'server.json'), join(out, 'client.json'), join(out, 'config.ts'), join(out, 'config.client.ts')];
  await writeWhole(files[0]!, `${JSON.stringify(r.server, null, 1)}\n`);
  await writeWhole(files[1]!, `${JSON.stringify(r.client, null, 1)}\n`);
  await writeWhole(files[2]!, emitTypeScript('server', r.tables, r.globals, source));
  await writeWhole(files[3]!, emitTypeScript('client', r.tables, r.globals, source));
  let seq: number | null = null;
  if (o.publish !== undefined) {
    const store = createStore(o.publish);
    await store.start();
    try {
      seq = await store.configBundles.publish(r.server.version, JSON.stringify(r.server));
    } finally {
      await store.close();
    }
  }
  return { problems: [], server: r.server, client: r.client, files, seq };
}
