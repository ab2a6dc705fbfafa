/**
 * The REPL into a live engine (`npm run repl`) with real processes on real etcd, Redis and
 * MariaDB: found through etcd, authenticated with the admin credential of the cluster config
 * (refused with a wrong one, or none), every command logged by the engine with who sent it;
 * it lists scenes and players, shows a scene's state and a player's data, calls a service, and
 * runs code in a scene only when started with --write. Nothing of it is on the public HTTP port.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { waitFor } from '@gos/testing';
import { guestPlayer, runNode, testCluster } from './cluster-helpers.js';

const REPL = fileURLToPath(new URL('../../../../packages/cluster/dist/bin/repl.js', import.meta.url));
const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 500 });
after(async () => {
  await cluster.cleanup();
});

async function repl(args: string[], config = cluster.configFile): Promise<{ code: number | null; out: unknown; stdout: string; stderr: string }> {
  const r = await runNode([REPL, '--config', config, '--engine', 'engine-1', ...args], { ...process.env, GOS_CONFIG: '' }, { killAfterMs: 30_000 });
  let out: unknown = null;
  try {
    out = JSON.parse(r.stdout) as unknown;
  } catch {
    // not JSON: an error, or the greeting
  }
  return { code: r.code, out, stdout: r.stdout, stderr: r.stderr };
}

test('the REPL: authenticated from the config, logged, read-only unless --write, refused with a wrong credential', { timeout: 120_000 }, async () => {
  const { baseUrl } = await cluster.startRoles({ engines: 1 });
  const a = await guestPlayer(baseUrl);
  const me = await a.api.whoami({});

  const scenes = await repl(['--command', 'scenes']);
  assert.equal(scenes.code, 0, scenes.stderr);
  assert.ok(Array.isArray(scenes.out) && scenes.out.some((s: { sceneId?: string }) => s.sceneId === 'world:1'), scenes.stdout);
  const players = await repl(['--command', 'players']);
  assert.ok(Array.isArray(players.out) && players.out.some((p: { playerId?: string }) => p.playerId === a.auth.accountId), players.stdout);
  const state = await repl(['--command', 'state world:1']);
  assert.equal(typeof (state.out as { visits?: unknown }).visits, 'number', state.stdout);
  const player = await repl(['--command', `player ${a.auth.accountId}`]);
  // The wire carries float32: compare the hot data (float64) at that precision.
  assert.equal(Math.fround((player.out as { data: { x: number } }).data.x), me.x);

  // A service, called with JSON (checked by its rpc: message), started on demand.
  const guild = `repl${Date.now().toString(36)}`;
  const call = await repl(['--command', `call guild:${guild} join {"playerId":"p1","name":"Ann"}`]);
  assert.equal(call.code, 0, call.stderr);
  assert.deepEqual(call.out, { members: 1 });

  // eval: refused without --write; with it, run at the scene's tick and its change kept.
  const ro = await repl(['--command', 'eval world:1 (scene) => scene.state.visits']);
  assert.equal(ro.code, 1);
  assert.match(ro.stderr, /ENG_ERR_ADMIN_READ_ONLY/);
  const rw = await repl(['--write', '--command', 'eval world:1 (scene) => { scene.state.visits = 4242; return scene.state.visits; }']);
  assert.equal(rw.code, 0, rw.stderr);
  assert.equal(rw.out, 4242);
  assert.equal(((await repl(['--command', 'state world:1'])).out as { visits: number }).visits, 4242);

  // A wrong credential, and a config with none: refused, exit 1.
  const wrong = path.join(cluster.dir, 'wrong.yaml');
  const text = await readFile(cluster.configFile, 'utf8');
  await writeFile(wrong, text.replace(/secret: "process-test-admin-[0-9a-f]+"/, 'secret: "not-the-admin-secret-000"'));
  const denied = await repl(['--command', 'scenes'], wrong);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /ENG_ERR_ADMIN_DENIED/);
  const none = path.join(cluster.dir, 'none.yaml');
  await writeFile(none, text.replace(/^admin: .*$/m, ''));
  const noCred = await repl(['--command', 'scenes'], none);
  assert.equal(noCred.code, 1);
  assert.match(noCred.stderr, /no admin\.credentials/);

  // Who, what and when: in the engine's log (a refusal too).
  await waitFor(() => /\[engine-1\] admin command refused: wrong credential/.test(cluster.logs()), { timeoutMs: 5000, message: 'the refusal logged' }).catch(() => {});
  assert.match(cluster.logs(), /\[engine-1\] admin command .*admin=ops.*command=eval/);
  assert.match(cluster.logs(), /\[engine-1\] admin command refused: wrong credential/);
  // Not on the public HTTP port.
  for (const p of ['/admin', '/repl']) assert.equal((await fetch(`${baseUrl}${p}`)).status, 404, p);
  await a.client.close();
});
