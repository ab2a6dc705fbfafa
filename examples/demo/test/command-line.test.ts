/**
 * Every command-line entry of the repository, compiled, as a person runs it: `--help` prints
 * the usage on stdout and exits 0; an unknown flag prints one line on stderr (no stack trace)
 * and exits 2. A new entry under a bin/ folder must be added here.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
  'packages/config-data/bin/config.ts': 'config',
  'bench/bin/bench.ts': 'bench',
  'bench/bin/loadgen.ts': 'loadgen',
  'bench/bin/servers/colyseus.ts': 'colyseus',
  'bench/bin/servers/project.ts': 'project',
  'bench/bin/servers/project-engine.ts': 'project-engine',
  'bench/bin/servers/uws.ts': 'uws',
  'bench/bin/servers/uws-worker.ts': 'uws-worker',
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

// The shell tools' stubs are made here, before any test is registered: with a name pattern
// that skips every test, the run (and its `after`) could end while they were still being written.
/**
 * What the scripts install, start, build or write with: on the PATH before the real ones, each a
 * stub that records its call and fails. A script that acted on a command line it should refuse
 * is caught by the record, and does nothing.
 */
const STUBBED = [
  'apt-get', 'apt', 'sudo', 'dpkg-query', 'dpkg', 'npm', 'npx', 'turbo', 'tsc', 'mariadb', 'mariadbd', 'mariadb-install-db', 'mysql',
  'redis-server', 'redis-cli', 'etcd', 'etcdctl', 'start-stop-daemon', 'openssl', 'mkdir', 'install', 'rm', 'mv', 'chmod', 'mktemp',
];
const stubCalls = path.join(cwd.path, 'stub-calls.log');
async function stubDir(name: string, commands: readonly string[]): Promise<string> {
  const dir = path.join(cwd.path, name);
  await mkdir(dir);
  for (const command of commands) {
    await writeFile(path.join(dir, command), `#!/bin/sh\nprintf '%s\\n' "${command} $*" >>'${stubCalls}'\nexit 97\n`, { mode: 0o755 });
  }
  return dir;
}
/** For test.sh and package-tests.sh, which ask node to check the options they pass on to it. */
const stubs = await stubDir('stubs', STUBBED);
/** For the others, node too (the cluster launcher, the build). */
const stubsWithNode = await stubDir('stubs-with-node', [...STUBBED, 'node']);
/** For npm itself. */
const stubsForNpm = await stubDir('stubs-for-npm', STUBBED.filter((c) => c !== 'npm' && c !== 'npx'));

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

// ---- the shell tools -------------------------------------------------------------------------
// `npm test` (scripts/test.sh), `npm run cluster` (scripts/cluster.sh), a workspace's `npm test`
// (scripts/package-tests.sh) and scripts/make-certs.sh keep the same two conventions, and check
// their command line before they install, start, build or write anything.

/** Each shell tool under scripts/, and the name it prefixes its errors with. */
const SCRIPTS: Readonly<Record<string, string>> = {
  'scripts/test.sh': 'test.sh',
  'scripts/cluster.sh': 'cluster.sh',
  'scripts/package-tests.sh': 'package-tests.sh',
  'scripts/make-certs.sh': 'make-certs.sh',
};

const NEEDS_NODE = new Set(['scripts/test.sh', 'scripts/package-tests.sh']);

async function runScript(script: string, args: readonly string[], o: { stubbed?: boolean; cwd?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = NEEDS_NODE.has(script) ? stubs : stubsWithNode;
  const r = await runCommand('bash', [path.join(ROOT, script), ...args], {
    // Without NODE_TEST_CONTEXT: a node --test it runs reports as a runner of its own, not to this one.
    env: { ...Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), PATH: o.stubbed === false ? String(process.env['PATH']) : `${dir}:${process.env['PATH']}` },
    cwd: o.cwd ?? cwd.path,
  });
  const calls = await readFile(stubCalls, 'utf8').catch(() => '');
  await rm(stubCalls, { force: true });
  assert.equal(calls, '', `${script} ${args.join(' ')} ran commands it should not have:\n${calls}\n${r.stdout}${r.stderr}`);
  return r;
}

function runCommand(command: string, args: readonly string[], o: { env: NodeJS.ProcessEnv; cwd: string }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: o.env, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Assert the one-line refusal: exit 2, nothing on stdout, `<name>: <message> (see --help)` on stderr. */
function assertRefused(r: { code: number | null; stdout: string; stderr: string }, name: string, message: string): void {
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `${name}: ${message} (see --help)\n`);
}

test('every shell script under scripts/ is in the list below', () => {
  const found = readdirSync(path.join(ROOT, 'scripts'))
    .filter((f) => f.endsWith('.sh'))
    .map((f) => `scripts/${f}`)
    .sort();
  assert.deepEqual(found, Object.keys(SCRIPTS).sort());
});

for (const [script, name] of Object.entries(SCRIPTS)) {
  test(`${script}: --help and -h print the usage on stdout and exit 0; --bogus prints one line and exits 2; neither installs, starts or writes anything`, async () => {
    const help = await runScript(script, ['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^usage: /);
    assert.equal(help.stderr, '');
    assert.deepEqual(await runScript(script, ['-h']), help);

    assertRefused(await runScript(script, ['--bogus']), name, "unknown option '--bogus'");
    // Refused even after options it accepts, and before --help.
    assertRefused(await runScript(script, ['--help', '--bogus']), name, "unknown option '--bogus'");
  });
}

test('npm test -- --bogus and npm run cluster -- --bogus: exit 2 with the one line, before anything is installed', async () => {
  for (const [npmArgs, line] of [
    [['test', '--silent', '--', '--bogus'], "test.sh: unknown option '--bogus' (see --help)\n"],
    [['run', 'cluster', '--silent', '--', '--bogus'], "cluster.sh: unknown option '--bogus' (see --help)\n"],
  ] as const) {
    // The real npm, everything it could install or start with stubbed.
    const r = await runCommand('npm', npmArgs, { env: { ...env, PATH: `${stubsForNpm}:${process.env['PATH']}` }, cwd: ROOT });
    const calls = await readFile(stubCalls, 'utf8').catch(() => '');
    await rm(stubCalls, { force: true });
    assert.equal(calls, '', `npm ${npmArgs.join(' ')} ran:\n${calls}`);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stderr, line);
  }
});

test('scripts/test.sh: its own options and node --test options (checked by node) are accepted; an option node does not know, a missing value or an argument is refused', async () => {
  // --setup-only with --skip-setup: neither the setup nor the tests, only the export line.
  const accepted = await runScript('scripts/test.sh', ['--skip-setup', '--setup-only', '--test-name-pattern', 'ring', '--test-only', '--test-reporter=tap', '--test-concurrency', '2']);
  assert.equal(accepted.code, 0, accepted.stderr);
  assert.match(accepted.stdout, /^export GOS_TEST_REDIS_URL=/);

  assertRefused(await runScript('scripts/test.sh', ['--skip-setup', '--test-bogus']), 'test.sh', "unknown option '--test-bogus'");
  assertRefused(await runScript('scripts/test.sh', ['--test-name-pattern']), 'test.sh', '--test-name-pattern requires an argument');
  assertRefused(await runScript('scripts/test.sh', ['--test-only', 'ring']), 'test.sh', "unexpected argument 'ring'");
});

test('scripts/package-tests.sh: node --test options still reach the runner (--test-name-pattern)', async () => {
  const workspace = path.join(cwd.path, 'workspace');
  await mkdir(path.join(workspace, 'dist/test'), { recursive: true });
  await mkdir(path.join(workspace, 'test'));
  await writeFile(path.join(workspace, 'test/a.test.ts'), '');
  await writeFile(path.join(workspace, 'dist/test/a.test.js'), "import { test } from 'node:test';\ntest('kept', () => {});\ntest('left out', () => {});\n");
  const r = await runScript('scripts/package-tests.sh', ['--test-name-pattern', 'kept'], { stubbed: false, cwd: workspace });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const tap = await readFile(path.join(workspace, '.test-results/tap.txt'), 'utf8');
  assert.match(tap, /^ok \d+ - kept$/m);
  assert.match(tap, /^ok \d+ - left out # SKIP test name does not match pattern$/m);
  assertRefused(await runScript('scripts/package-tests.sh', ['--test-bogus'], { cwd: workspace }), 'package-tests.sh', "unknown option '--test-bogus'");
});

test('scripts/cluster.sh: it knows every option of the launcher (gos-local-cluster), each taking a value or not as the launcher does', async () => {
  const launcherHelp = await run([compiled('packages/cluster/bin/local.ts'), '--help']);
  assert.equal(launcherHelp.code, 0, launcherHelp.stderr);
  // Every `--name` the text mentions, taking a value when it is written once with one (`--engines N`).
  const optionsIn = (usage: string): Map<string, boolean> => {
    const options = new Map<string, boolean>();
    for (const [, name, value] of usage.matchAll(/--([a-z][a-z-]*)( [A-Za-z0-9]+)?/g)) options.set(name!, options.get(name!) === true || value !== undefined);
    return options;
  };
  const launcher = optionsIn(launcherHelp.stdout);
  const script = optionsIn((await runScript('scripts/cluster.sh', ['--help'])).stdout);
  assert.ok(launcher.size >= 13, `options read from the launcher's usage: ${[...launcher.keys()].join(' ')}`);
  assert.deepEqual(script, launcher, 'scripts/cluster.sh --help lists the launcher options, with a value where it takes one');

  // Each accepted, with --help so that nothing starts.
  const all = [...launcher].flatMap(([option, takesValue]) => (takesValue ? [`--${option}`, '1'] : [`--${option}`]));
  const help = await runScript('scripts/cluster.sh', [...all, '-c', 'x.yaml']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^usage: /);
  for (const [option, takesValue] of launcher) {
    if (option === 'help') continue;
    if (takesValue) assertRefused(await runScript('scripts/cluster.sh', [`--${option}`]), 'cluster.sh', `option '--${option}' needs a value`);
    else assertRefused(await runScript('scripts/cluster.sh', [`--${option}=1`]), 'cluster.sh', `option '--${option}' does not take a value`);
  }
  assertRefused(await runScript('scripts/cluster.sh', ['--engines', '3', 'extra']), 'cluster.sh', "unexpected argument 'extra'");
});

test('scripts/make-certs.sh: DIR is required, names are checked, all before anything is written; "--" ends the options', async () => {
  assertRefused(await runScript('scripts/make-certs.sh', []), 'make-certs.sh', 'DIR is required');
  assertRefused(await runScript('scripts/make-certs.sh', ['certs', 'gateway', '-x']), 'make-certs.sh', "unknown option '-x'");
  assertRefused(await runScript('scripts/make-certs.sh', ['certs', 'bad/name']), 'make-certs.sh', "bad name 'bad/name' (letters, digits, . _ -)");

  const made = await runScript('scripts/make-certs.sh', ['--', '-certs', 'gateway'], { stubbed: false });
  assert.equal(made.code, 0, made.stderr);
  assert.deepEqual(readdirSync(path.join(cwd.path, '-certs')).sort(), ['ca.key', 'ca.pem', 'gateway.key', 'gateway.pem']);
});
