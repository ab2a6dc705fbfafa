/**
 * What a person sees in a terminal and what a machine reads from a pipe: `npm start` and the
 * cluster roles write one coloured line per event on a terminal (a pseudo-terminal from
 * script(1), stopped with Ctrl-C typed into it) and JSON lines anywhere else; LOG_FORMAT
 * overrides; `npm run cluster`'s launcher keeps its children on JSON whatever LOG_FORMAT says.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { BIN_ENTRY, MemberProcess } from '@gos/cluster';
import { testCluster } from './cluster-helpers.js';
import { tempDir } from './helpers.js';

const START = fileURLToPath(new URL('../bin/start.js', import.meta.url));
const HAS_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const NO_SCRIPT = HAS_SCRIPT ? false : 'script(1) (util-linux) is not installed: no pseudo-terminal';
// eslint-disable-next-line no-control-regex
const COLOUR = /\x1b\[\d+m/;

const dir = await tempDir();
const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 1000 });
after(async () => {
  await cluster.cleanup();
  await dir.remove();
});

interface Run {
  /** Everything written to stdout (the terminal's output under script), and the exit code. */
  readonly output: string;
  readonly code: number | null;
}

/**
 * Run `argv` until stdout contains `readyText`, then stop it as a person would: Ctrl-C typed
 * into the pseudo-terminal (`tty`), else SIGTERM.
 */
function runUntil(argv: string[], o: { tty: boolean; readyText: string; env: Record<string, string> }): Promise<Run> {
  const { LOG_FORMAT: _theirs, ...inherited } = process.env;
  const env = { ...inherited, ...o.env };
  // -e: script exits with the command's code; -f: output as it comes; the typescript goes nowhere.
  const child = o.tty
    ? spawn('script', ['-qfec', `exec ${[process.execPath, ...argv].join(' ')}`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(process.execPath, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let stopped = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "${o.readyText}" within 30 s; output: ${output}`));
    }, 30_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (stopped || !output.includes(o.readyText)) return;
      stopped = true;
      if (o.tty) child.stdin.write('\x03');
      else child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ output, code });
    });
  });
}

/** Non-empty lines, less the terminal's echo of the Ctrl-C typed into it (`^C`, which may lead a line). */
const lines = (run: Run): string[] =>
  run.output
    .split(/\r?\n/)
    .map((l) => l.replace(/^\^C/, ''))
    .filter((l) => l.trim() !== '');
const startEnv = (name: string): Record<string, string> => ({ PORT: '0', DATA_DIR: join(dir.path, name), LOG_LEVEL: 'info', PERSIST_INTERVAL_MS: '60000' });

test('npm start on a pipe: JSON lines, one per event', async () => {
  const run = await runUntil([START], { tty: false, readyText: 'demo ready', env: startEnv('pipe') });
  assert.equal(run.code, 0, run.output);
  const events = lines(run).filter((l) => !l.includes('GOS-TS demo ready'));
  for (const l of events) {
    const parsed = JSON.parse(l) as { level: unknown; msg: unknown };
    assert.equal(typeof parsed.level, 'number', l);
  }
  const msgs = events.map((l) => (JSON.parse(l) as { msg: string }).msg);
  assert.ok(msgs.includes('cluster ready') && msgs.includes('bye'), msgs.join(' | '));
});

test('npm start on a terminal: one coloured line per event, the banner after them; Ctrl-C stops it', { skip: NO_SCRIPT }, async () => {
  const run = await runUntil([START], { tty: true, readyText: 'demo ready', env: startEnv('tty') });
  assert.equal(run.code, 0, run.output);
  const all = lines(run);
  assert.ok(all.every((l) => !l.startsWith('{')), run.output);
  const ready = all.findIndex((l) => l.includes('cluster ready'));
  assert.match(all[ready] ?? '', /^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*cluster ready/);
  assert.match(all[ready]!, COLOUR);
  assert.ok(ready < all.findIndex((l) => l.includes('GOS-TS demo ready')), 'the banner comes after the log lines');
  assert.ok(all.some((l) => l.includes('bye')), run.output);
});

test('LOG_FORMAT overrides: pretty on a pipe (no colours), json on a terminal; anything else is refused', async (t) => {
  const pretty = await runUntil([START], { tty: false, readyText: 'demo ready', env: { ...startEnv('pretty'), LOG_FORMAT: 'pretty' } });
  assert.equal(pretty.code, 0, pretty.output);
  assert.ok(lines(pretty).every((l) => !l.startsWith('{') && !COLOUR.test(l)), pretty.output);
  assert.ok(lines(pretty).some((l) => /INFO.*cluster ready/.test(l)), pretty.output);

  const bad = spawnSync(process.execPath, [START], { env: { ...process.env, ...startEnv('bad'), LOG_FORMAT: 'xml' }, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'start: LOG_FORMAT must be json or pretty, got "xml" (see --help)\n');

  if (NO_SCRIPT !== false) return t.skip(NO_SCRIPT);
  const json = await runUntil([START], { tty: true, readyText: 'demo ready', env: { ...startEnv('json'), LOG_FORMAT: 'json' } });
  assert.equal(json.code, 0, json.output);
  assert.ok(lines(json).some((l) => l.startsWith('{') && l.includes('"msg":"cluster ready"')), json.output);
});

test('a cluster role on a terminal: pretty lines led by its id', { skip: NO_SCRIPT }, async () => {
  const run = await runUntil([BIN_ENTRY.coordinator, '--config', cluster.configFile, '--id', 'coordinator-9'], { tty: true, readyText: 'coordinator ready', env: {} });
  assert.equal(run.code, 0, run.output);
  assert.ok(lines(run).every((l) => !l.startsWith('{')), run.output);
  assert.ok(lines(run).some((l) => /INFO.*\[coordinator-9\] coordinator ready/.test(l)), run.output);
});

test('the launcher of npm run cluster keeps its children on JSON, even with LOG_FORMAT=pretty', async () => {
  const raw: string[] = [];
  const m = new MemberProcess({ role: 'coordinator', id: 'coordinator-8', config: cluster.configFile, env: { LOG_FORMAT: 'pretty' }, onLog: (_line, r) => raw.push(r) });
  cluster.members.push(m);
  await m.ready;
  assert.equal(await m.stop(), 0);
  assert.ok(raw.length > 0 && raw.every((r) => r.startsWith('{"level":')), raw.join('\n'));
});
