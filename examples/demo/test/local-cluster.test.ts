/**
 * `npm run cluster`'s launcher (packages/cluster/bin/local.js) as a small supervisor: a member
 * killed with SIGKILL is restarted after a back-off and is back in the cluster; SIGINT stops
 * every process, the restarted one included; a member that keeps exiting is given up after
 * --max-restarts restarts, and one with a configuration error at once. Before, a killed member
 * stayed dead and the failover the launcher demonstrates left the cluster a member short.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { BIN_ENTRY, readStatus } from '@gos/cluster';
import { waitFor } from '@gos/testing';
import { freePort, freePorts, guestPlayer, testCluster } from './cluster-helpers.js';
import { alive } from './helpers.js';

const LOCAL = path.join(path.dirname(BIN_ENTRY.status), 'local.js');

const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 1000 });
after(() => cluster.cleanup());

interface Local {
  readonly child: ChildProcess;
  /** Every line it printed, stdout and stderr. */
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  /** Pids of every member process it started, by member id, in order. */
  pids(id: string): number[];
  allPids(): number[];
}

function startLocal(args: string[], env: Record<string, string> = {}, configFile = cluster.configFile): Local {
  const child = spawn(process.execPath, [LOCAL, '--config', configFile, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const started = (): Array<{ id: string; pid: number }> =>
    lines.flatMap((l) => {
      const m = /^\[local-cluster\] (\S+) started \(pid (\d+)\)$/.exec(l);
      return m === null ? [] : [{ id: m[1]!, pid: Number(m[2]) }];
    });
  return { child, lines, exited, pids: (id) => started().filter((s) => s.id === id).map((s) => s.pid), allPids: () => started().map((s) => s.pid) };
}

/** After a failure: SIGINT (the launcher stops its members), then SIGKILL whatever it left. */
async function cleanup(local: Local): Promise<void> {
  if (local.child.exitCode === null && local.child.signalCode === null) {
    local.child.kill('SIGINT');
    let exited = false;
    void local.exited.then(() => (exited = true));
    await waitFor(() => exited, { timeoutMs: 30_000, message: 'the launcher to exit' }).catch(() => local.child.kill('SIGKILL'));
  }
  for (const pid of local.allPids().filter(alive)) process.kill(pid, 'SIGKILL');
}

const has = (local: Local, line: string | RegExp): boolean => local.lines.some((l) => (typeof line === 'string' ? l === line : line.test(l)));

/** Rethrow a wait's timeout with the launcher's output so far. */
const withOutput =
  (local: Local) =>
  (err: unknown): never => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}; output:\n${local.lines.join('\n')}`, { cause: err });
  };

test('a member killed with SIGKILL is restarted after a back-off and rejoins; SIGINT stops every process, the restarted one included', { timeout: 120_000 }, async () => {
  const local = startLocal(['--coordinators', '1', '--engines', '2', '--gateways', '1', '--base-port', String(await freePort())]);
  try {
    await waitFor(() => has(local, /Local cluster ready/), { timeoutMs: 60_000, message: 'the cluster ready' }).catch(withOutput(local));
    const [victim] = local.pids('engine-1');
    assert.ok(victim !== undefined);
    const killedAt = Date.now();
    process.kill(victim, 'SIGKILL');

    await waitFor(() => has(local, '[local-cluster] engine-1 exited (SIGKILL); restarting in 500 ms (restart 1 of at most 5 a minute)'), { timeoutMs: 10_000, message: 'the restart line' });
    await waitFor(() => local.pids('engine-1').length === 2 && has(local, `[local-cluster] engine-1 ready again (pid ${local.pids('engine-1')[1]})`), { timeoutMs: 30_000, message: 'engine-1 ready again' }).catch(withOutput(local));
    const restarted = local.pids('engine-1')[1]!;
    assert.notEqual(restarted, victim);
    // Back in the cluster: registered again since the kill.
    const status = await readStatus(cluster.config);
    const engine1 = status.members.find((m) => m.id === 'engine-1');
    assert.ok(engine1 !== undefined && engine1.startedAt >= killedAt, `engine-1 registered again: ${JSON.stringify(status.members)}`);
    assert.deepEqual(status.members.map((m) => m.id).sort(), ['coordinator-1', 'engine-1', 'engine-2', 'gateway-1']);

    local.child.kill('SIGINT');
    assert.equal(await local.exited, 0, local.lines.join('\n'));
    const pids = local.allPids();
    assert.equal(pids.length, 5, 'four members started, one restarted');
    assert.deepEqual(pids.filter(alive), [], 'no member process outlives the launcher');
    assert.equal(local.lines.filter((l) => l.includes('restarting in')).length, 1, 'the members stopped by SIGINT were not restarted');
  } finally {
    await cleanup(local);
  }
});

test('--rolling-restart engines: each engine drained in turn (its scene moves live), restarted by the launcher; the player plays on, never resumed from a save', { timeout: 180_000 }, async () => {
  const port = await freePort();
  const local = startLocal(['--coordinators', '1', '--engines', '2', '--gateways', '1', '--base-port', String(port)]);
  try {
    await waitFor(() => has(local, /Local cluster ready/), { timeoutMs: 60_000, message: 'the cluster ready' }).catch(withOutput(local));
    const player = await guestPlayer(`http://127.0.0.1:${port}`);
    const before = await player.api.whoami({});
    // Engines drain in id order: a scene on engine-1 moves twice (to engine-2, then back), one on engine-2 once.
    const host = (await readStatus(cluster.config)).placements.find((p) => p.sceneId === before.sceneId)?.engineId;
    assert.ok(host === 'engine-1' || host === 'engine-2', `the scene is placed: ${String(host)}`);
    const expectedMoves = host === 'engine-1' ? 2 : 1;
    const rolling = startLocal(['--rolling-restart', 'engines']);
    const code = await rolling.exited;
    assert.equal(code, 0, rolling.lines.join('\n'));
    assert.ok(rolling.lines.some((l) => l.startsWith('[rolling-restart] 2 engines restarted in')), rolling.lines.join('\n'));
    for (const id of ['engine-1', 'engine-2']) {
      assert.ok(rolling.lines.some((l) => l.startsWith(`[rolling-restart] ${id} restarted in`)), rolling.lines.join('\n'));
      assert.equal(local.pids(id).length, 2, `${id} started again by the launcher`);
    }
    // Its scene moved live off its engine each time that one drained, never reloaded from a save.
    await waitFor(() => player.moved.length === expectedMoves, { timeoutMs: 10_000, message: `${expectedMoves} SceneMoved pushes (the scene was on ${String(host)})` }).catch(withOutput(local));
    assert.deepEqual(player.resumed, []);
    assert.deepEqual(player.closes, []);
    const after = await player.api.whoami({});
    assert.deepEqual([after.sceneId, after.x, after.y], [before.sceneId, before.x, before.y]);
    const status = await readStatus(cluster.config);
    assert.deepEqual(status.members.map((m) => m.id).sort(), ['coordinator-1', 'engine-1', 'engine-2', 'gateway-1']);
    await player.client.close();
    // Gateways cannot be drained yet: refused as bad usage.
    const lone = startLocal(['--rolling-restart', 'gateways']);
    assert.equal(await lone.exited, 2);
  } finally {
    await cleanup(local);
  }
});

test('--autoscale: an engine and a gateway started when the leader\'s scale decision asks for them, and stopped (drained) once it has asked for fewer for a while', { timeout: 120_000 }, async () => {
  // Engines of 10 players and gateways of 10 sockets: 8 players want 8 / (10 × 0.7) → 2 of
  // each; 4 want 1. A cluster of its own: placements the tests before left in the shared one
  // would send players to engines gone.
  const own = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 1000 });
  const port = await freePorts(2);
  const local = startLocal(
    ['--coordinators', '1', '--engines', '1', '--gateways', '1', '--base-port', String(port), '--autoscale', '--max-engines', '2', '--max-gateways', '2', '--scale-in-after', '2'],
    { GOS_ENGINE_CAPACITY: '10', GOS_GATEWAY_CAPACITY: '10' },
    own.configFile,
  );
  const players: Array<Awaited<ReturnType<typeof guestPlayer>>> = [];
  try {
    await waitFor(() => has(local, /Local cluster ready/), { timeoutMs: 60_000, message: 'the cluster ready' }).catch(withOutput(local));
    for (let i = 0; i < 8; i++) players.push(await guestPlayer(`http://127.0.0.1:${port}`));
    await waitFor(() => has(local, /\[local-cluster\] scale out: the leader asks for 2 engines, 1 run; starting engine-2/), { timeoutMs: 20_000, message: 'the engines\' scale-out line' }).catch(withOutput(local));
    await waitFor(() => has(local, /\[local-cluster\] scale out: the leader asks for 2 gateways, 1 run; starting gateway-2/), { timeoutMs: 30_000, message: 'the gateways\' scale-out line' }).catch(withOutput(local));
    await waitFor(
      async () => {
        const ids = (await readStatus(own.config)).members.map((m) => m.id);
        return ids.includes('engine-2') && ids.includes('gateway-2');
      },
      { timeoutMs: 30_000, message: 'engine-2 and gateway-2 in the cluster' },
    ).catch(withOutput(local));
    const status = await readStatus(own.config);
    assert.deepEqual(status.scale, { engines: { now: 2, desired: 2 }, gateways: { now: 2, desired: 2 } });
    // The gateway it added listens on the port after the first.
    assert.match(status.members.find((m) => m.id === 'gateway-2')?.address ?? '', new RegExp(`:${port + 1}/`));

    for (const p of players.splice(4)) await p.client.close();
    await waitFor(() => has(local, /\[local-cluster\] scale in: the leader has asked for 1 engines for 2 s, 2 run; stopping engine-2 \(it drains\)/), { timeoutMs: 30_000, message: 'the engines\' scale-in line' }).catch(withOutput(local));
    await waitFor(() => has(local, /\[local-cluster\] scale in: the leader has asked for 1 gateways for 2 s, 2 run; stopping gateway-2 \(it drains\)/), { timeoutMs: 30_000, message: 'the gateways\' scale-in line' }).catch(withOutput(local));
    await waitFor(() => has(local, '[local-cluster] engine-2 stopped and retired') && has(local, '[local-cluster] gateway-2 stopped and retired'), { timeoutMs: 30_000, message: 'engine-2 and gateway-2 retired' }).catch(withOutput(local));
    assert.deepEqual((await readStatus(own.config)).members.map((m) => m.id).sort(), ['coordinator-1', 'engine-1', 'gateway-1']);
    assert.ok(!local.lines.some((l) => l.includes('engine-2 exited') || l.includes('gateway-2 exited')), 'a retired member is not restarted');
    // The players left play on.
    for (const p of players) assert.equal((await p.api.whoami({})).sceneId, 'world:1');
    assert.deepEqual(players.flatMap((p) => p.closes), []);
    local.child.kill('SIGINT');
    assert.equal(await local.exited, 0, local.lines.join('\n'));
  } finally {
    for (const p of players) await p.client.close();
    await cleanup(local);
    await own.cleanup();
  }
});

test('a member that keeps exiting is given up after --max-restarts restarts with a doubling back-off; the launch fails and stops the rest', { timeout: 120_000 }, async () => {
  // The gateway's port is taken: it exits at once (GW_ERR_PORT_IN_USE), every time.
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as { port: number }).port;
  const local = startLocal(['--coordinators', '0', '--engines', '1', '--gateways', '1', '--base-port', String(port), '--max-restarts', '2']);
  try {
    assert.equal(await local.exited, 1, local.lines.join('\n'));
  } finally {
    await cleanup(local);
    await new Promise((resolve) => holder.close(resolve));
  }
  const restarts = local.lines.filter((l) => l.startsWith('[local-cluster] gateway-1 exited (1); restarting in '));
  assert.deepEqual(
    restarts.map((l) => /restarting in (\d+) ms/.exec(l)![1]),
    ['500', '1000'],
    local.lines.join('\n'),
  );
  assert.ok(has(local, '[local-cluster] ERROR: gateway-1 exited (1) after 2 restarts within a minute; giving up on it (--max-restarts 2)'), local.lines.join('\n'));
  assert.ok(has(local, /GW_ERR_PORT_IN_USE/), 'the gateway says why');
  assert.equal(local.pids('gateway-1').length, 3);
  assert.ok(!has(local, /Local cluster ready/));
  assert.deepEqual(local.allPids().filter(alive), [], 'the engine was stopped too');
});

test('a member that exits with a configuration error (code 2) is not restarted', { timeout: 60_000 }, async () => {
  const local = startLocal(['--coordinators', '0', '--engines', '1', '--gateways', '1', '--base-port', String(await freePort())], {
    GOS_GAME_PROTOCOL: path.join(cluster.dir, 'missing-protocol.js'),
  });
  try {
    assert.equal(await local.exited, 1, local.lines.join('\n'));
  } finally {
    await cleanup(local);
  }
  assert.ok(has(local, '[local-cluster] ERROR: gateway-1 exited (2: bad usage or configuration); not restarting it'), local.lines.join('\n'));
  assert.equal(local.pids('gateway-1').length, 1);
  assert.deepEqual(local.allPids().filter(alive), []);
});
