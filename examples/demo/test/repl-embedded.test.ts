/**
 * The REPL into the embedded `npm start` (docs/repl.md): the real entry file in its own process
 * writes DATA_DIR/repl.json (its engine's link address, the run's cluster secret and a credential
 * made for the run, readable by its user only), `npm run repl -- --embedded` reads it and runs
 * commands (logged by the engine with who sent them), a wrong credential is refused, a program
 * does the same with AdminClient, and the file is gone once npm start stops.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { AdminClient } from '@gos/cluster';
import { isCodedError } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { runNode } from './cluster-helpers.js';
import { startProcess, tempDir, uniqueName, type StartedProcess } from './helpers.js';

const REPL = fileURLToPath(new URL('../../../../packages/cluster/dist/bin/repl.js', import.meta.url));

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.remove();
});

/** npm start as a user runs it, on `dataDir`, logging JSON at info (the admin commands are info lines). */
function start(dataDir: string): Promise<StartedProcess> {
  return startProcess(dataDir, { LOG_LEVEL: 'info', LOG_FORMAT: 'json', PERSIST_INTERVAL_MS: '500' });
}

interface ReplJson {
  address: string;
  engineId: string;
  clusterSecret: string;
  credentials: Array<{ name: string; secret: string; write: boolean }>;
}

async function repl(dataDir: string, args: string[]): Promise<{ code: number | null; out: unknown; stdout: string; stderr: string }> {
  const r = await runNode([REPL, '--embedded', '--data-dir', dataDir, ...args], process.env, { killAfterMs: 30_000 });
  let out: unknown = null;
  try {
    out = JSON.parse(r.stdout) as unknown;
  } catch {
    // not JSON: an error
  }
  return { code: r.code, out, stdout: r.stdout, stderr: r.stderr };
}

/** The engine's JSON log lines whose message is `msg`. */
function logLines(s: StartedProcess, msg: string): Array<Record<string, unknown>> {
  return s
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

test('npm run repl -- --embedded: reads the repl.json npm start wrote, runs commands (logged), refuses a wrong credential; AdminClient does the same from a program', { timeout: 120_000 }, async () => {
  const data = join(dir.path, 'data');
  const s = await start(data);
  let stopped = false;
  try {
    // What npm start wrote: readable by its user only.
    const file = join(data, 'repl.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const info = JSON.parse(await readFile(file, 'utf8')) as ReplJson;
    assert.match(info.address, /^127\.0\.0\.1:\d+$/);
    assert.equal(info.credentials.length, 1);
    assert.equal(info.credentials[0]!.name, 'local');
    assert.ok(info.credentials[0]!.secret.length >= 16);

    // A service called through --embedded (started on demand), then listed among the engine's scenes.
    const guild = `emb${uniqueName('g')}`.slice(0, 24);
    const call = await repl(data, ['--command', `call guild:${guild} join {"playerId":"p1","name":"Ann"}`]);
    assert.equal(call.code, 0, call.stderr);
    assert.deepEqual(call.out, { members: 1 });
    const scenes = await repl(data, ['--command', 'scenes']);
    assert.equal(scenes.code, 0, scenes.stderr);
    const listed = (scenes.out as Array<{ sceneId: string; service: boolean | null }>).find((x) => x.sceneId === `guild:${guild}`);
    assert.equal(listed?.service, true, scenes.stdout);
    // Logged by the engine before it ran, with the credential's name.
    const logged = logLines(s, 'admin command').find((l) => l.command === 'call');
    assert.equal(logged?.admin, 'local', JSON.stringify(logLines(s, 'admin command')));
    assert.match(String(logged?.args), new RegExp(`guild:${guild}`));

    // A wrong credential (the same file with another secret): refused, exit 1, the refusal logged.
    const wrongDir = join(dir.path, 'wrong');
    await mkdir(wrongDir);
    await writeFile(join(wrongDir, 'repl.json'), JSON.stringify({ ...info, credentials: [{ ...info.credentials[0]!, secret: 'not-the-secret-of-this-run-000' }] }), { mode: 0o600 });
    const denied = await repl(wrongDir, ['--command', `call guild:${guild} join {"playerId":"p9","name":"Eve"}`]);
    assert.equal(denied.code, 1, denied.stdout);
    assert.match(denied.stderr, /ENG_ERR_ADMIN_DENIED/);
    await waitFor(() => logLines(s, 'admin command refused: wrong credential').length > 0, { timeoutMs: 5000, message: 'the refusal in the engine log' });

    // From a program: AdminClient with what repl.json holds (docs/repl.md "From a program").
    const cred = info.credentials[0]!;
    const admin = new AdminClient({ address: info.address, engineId: info.engineId, clusterSecret: info.clusterSecret, tls: null, user: cred.name, secret: cred.secret, write: false });
    try {
      assert.deepEqual(await admin.connect(), { engineId: info.engineId, write: false });
      assert.deepEqual(await admin.command('call', [`guild:${guild}`, 'join', { playerId: 'p2', name: 'Bo' }]), { members: 2 });
      assert.equal(await admin.command('cast', [`guild:${guild}`, 'leave', { playerId: 'p1', name: 'Ann' }]), null);
      const members = await waitFor(
        async () => {
          const st = (await admin.command('state', [`guild:${guild}`])) as { members: Record<string, string> };
          return Object.hasOwn(st.members, 'p1') ? undefined : st.members;
        },
        { timeoutMs: 5000, message: 'the cast handled' },
      );
      assert.deepEqual(members, { p2: 'Bo' });
      // The refused p9 never joined; a message the service does not have is a coded error.
      await assert.rejects(admin.command('call', [`guild:${guild}`, 'nosuch', {}]), (err: unknown) => isCodedError(err));
      // Leaderboards and player logs from the admin side (docs/repl.md): reads for everyone, board changes for --write only.
      assert.ok(Array.isArray(await admin.command('lb', ['list'])));
      await assert.rejects(admin.command('lb', ['create', 'replboard', { policy: 'best' }]), (err: unknown) => isCodedError(err) && err.code === 'ENG_ERR_ADMIN_READ_ONLY');
      await assert.rejects(admin.command('lb', ['page', 'no-such-board']), (err: unknown) => isCodedError(err) && err.code === 'LB_ERR_UNKNOWN_BOARD');
      await assert.rejects(admin.command('lb', ['drop', 'x']), (err: unknown) => isCodedError(err) && err.code === 'OPT_ERR_INVALID');
      assert.deepEqual(await admin.command('logs', ['p-nobody', '2026-01-01T00:00Z']), []);
      await assert.rejects(admin.command('logs', ['p1', 'yesterday']), (err: unknown) => isCodedError(err) && err.code === 'OPT_ERR_INVALID');
    } finally {
      await admin.close();
    }
    // A wrong credential from a program: connect (its hello) is refused.
    const intruder = new AdminClient({ address: info.address, engineId: info.engineId, clusterSecret: info.clusterSecret, tls: null, user: cred.name, secret: 'not-the-secret-of-this-run-000', write: false });
    try {
      await assert.rejects(intruder.connect(), (err: unknown) => isCodedError(err) && err.code === 'ENG_ERR_ADMIN_DENIED');
    } finally {
      await intruder.close();
    }

    // npm start stops: repl.json is removed, and --embedded says it cannot read it.
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
    stopped = true;
    await assert.rejects(stat(file), /ENOENT/);
    const gone = await repl(data, ['--command', 'scenes']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /cannot read .*repl\.json/);
  } finally {
    if (!stopped) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  }
});
