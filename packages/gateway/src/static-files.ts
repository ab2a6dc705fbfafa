import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.fbs': 'text/plain; charset=utf-8',
};

export interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
}

/**
 * Load a small folder of static files (the demo's web client) into memory at start-up. Paths
 * are keys of a map, so a request can never escape the folder.
 */
export async function loadStaticFiles(dir: string): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const url = '/' + relative(dir, full).split(sep).join('/');
        files.set(url, { body: await readFile(full), type: TYPES[extname(full)] ?? 'application/octet-stream' });
      }
    }
  };
  await walk(dir);
  const index = files.get('/index.html');
  if (index !== undefined) files.set('/', index);
  return files;
}
