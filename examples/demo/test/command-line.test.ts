/**
 * Every command-line entry of the repository, compiled, as a person runs it: `--help` prints
 * the usage on stdout and exits 0; an unknown flag prints one line on stderr (no stack trace)
 * and exits 2. A new entry under a bin/ folder must be added here.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Each entry's source, and the name it prefixes its errors with. */
const ENTRIES: Readonly<Record<string, string>> = {
  'examples/demo/bin/bots.ts': 'bots',
  'examples/demo/bin/start.ts': 'start',
  'packages/cluster/bin/coordinator.ts': 'gos-coordinator',
  'packages/cluster/bin/engine.ts': 'gos-engine',
  'packages/cluster/bin/gateway.ts': 'gos-gateway',
  'packages/cluster/bin/gateway-engine.ts': 'gos-gateway-engine',
  'packages/cluster/bin/member.ts': 'gos-member',
  'packages/cluster/bin/local.ts': 'gos-local-cluster',
  'packages/cluster/bin/status.ts': 'gos-status',
  'packages/cluster/bin/repl.ts': 'gos-repl',
  'packages/codegen/bin/gen.ts': 'gen',
  'packages/store/bin/migrate.ts': 'migrate',
  'bench/bin/bench.ts': 'bench',
  'bench/bin/loadgen.ts': 'loadgen',
  'bench/bin/servers/colyseus.ts': 'colyseus',
  'bench/bin/servers/project.ts': 'project',
  'bench/bin/servers/project-engine.ts': 'project-engine',
  'bench/bin/servers/uws.ts': 'uws',
};
/** Modules under bin/ that are not entries. */
const NOT_ENTRIES = new Set(['bench/bin/servers/lifecycle.ts']);

function sourcesUnder(dir: string): string[] {
  let names;
  try {
    names = readdirSync(path.join(ROOT, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return names.flatMap((d) => (d.isDirectory() ? sourcesUnder(`${dir}/${d.name}`) : d.name.endsWith('.ts') ? [`${dir}/${d.name}`] : []));
}

const compiled = (source: string): string => {
  const [pkg, rest] = source.split('/bin/') as [string, string];
  return path.join(ROOT, pkg, 'dist/bin', rest.replace(/\.ts$/, '.js'));
};

// Without the variables an entry reads, so that nothing but the arguments decides.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PORT|HOST|GOS_.*|LOG_.*|SHAPE|SCENARIO|DATA_DIR|DB_FILE)$/.test(k)));
// An entry that ignored its arguments would start its server: in a scratch folder, killed after 20 s.
const cwd = await tempDir();
after(() => cwd.remove());

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, cwd: cwd.path, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('every bin/ entry of the repository is in the list below', () => {
  const dirs = [...readdirSync(path.join(ROOT, 'packages')).map((p) => `packages/${p}/bin`), ...readdirSync(path.join(ROOT, 'examples')).map((p) => `examples/${p}/bin`), 'bench/bin'];
  const found = dirs.flatMap(sourcesUnder).filter((f) => !NOT_ENTRIES.has(f)).sort();
  assert.deepEqual(found, Object.keys(ENTRIES).sort());
});

for (const [source, name] of Object.entries(ENTRIES)) {
  test(`${source}: --help prints the usage on stdout and exits 0; --bogus prints one line and exits 2`, async () => {
    const help = await run([compiled(source), '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^usage: /);
    assert.equal(help.stderr, '');

    const bogus = await run([compiled(source), '--bogus']);
    assert.equal(bogus.code, 2, bogus.stderr);
    assert.equal(bogus.stdout, '');
    assert.equal(bogus.stderr, `${name}: unknown option '--bogus' (see --help)\n`);
  });
}
