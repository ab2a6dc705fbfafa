/**
 * The demo game as a cluster of real processes started from the role entries (bin/coordinator,
 * bin/engine, bin/gateway) with one YAML config, against the real etcd, Redis and MariaDB the
 * test command starts: players play through it, the status command sees every member, a
 * placement left by a dead engine is released by the leader, and the leader killed with
 * SIGKILL is replaced within the lease TTL + 1 s while the players keep playing.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { Etcd3 } from 'etcd3';
import { readStatus } from '@gos/cluster';
import { EtcdCoordinator } from '@gos/coordinator';
import { waitFor } from '@gos/testing';
import { runBots } from '../src/bots.js';
import { BIN, ETCD, runNode, testCluster } from './cluster-helpers.js';

const LEASE_TTL_SECONDS = 3;
const cluster = await testCluster({ leaseTtlSeconds: LEASE_TTL_SECONDS, persistIntervalMs: 1000 });
const { configFile, config, prefix, members } = cluster;
const startMember = cluster.start.bind(cluster);
after(() => cluster.cleanup());

test('a role refuses to start on a bad config: exit code 2 and every problem named', async () => {
  const bad = path.join(cluster.dir, 'bad.yaml');
  await writeFile(bad, 'cluster: { secret: short }\nstore: { kind: sqlite, file: x.db }\ngateway: { port: 70000 }\n');
  const r = await runNode([BIN.gateway, '--config', bad, '--id', 'gateway-1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cluster\.secret: must be at least 16 characters/);
  assert.match(r.stderr, /game: is required/);
  assert.match(r.stderr, /gateway\.port: must be 0–65535/);
  const noId = await runNode([BIN.gateway, '--config', configFile]);
  assert.equal(noId.code, 2);
  assert.match(noId.stderr, /gateway\.id is required/);
});

test('three coordinators, an engine and a gateway as processes: play, status, orphan release, leader killed', { timeout: 120_000 }, async () => {
  // A placement left by an engine that died while no coordinator ran.
  const etcd = new Etcd3({ hosts: [ETCD] });
  await etcd.put(`${prefix}placement/world:99`).value(JSON.stringify({ engineId: 'engine-gone' })).exec();
  etcd.close();

  const coordinators = ['coordinator-1', 'coordinator-2', 'coordinator-3'].map((id) => startMember('coordinator', id));
  const engine = startMember('engine', 'engine-1');
  await Promise.all([...coordinators, engine].map((m) => m.ready));
  const gateway = startMember('gateway', 'gateway-1');
  const ready = await gateway.ready;
  const baseUrl = String(ready['http']);

  const status = await readStatus(config);
  assert.deepEqual(
    status.members.map((m) => `${m.role}:${m.id}`),
    ['coordinator:coordinator-1', 'coordinator:coordinator-2', 'coordinator:coordinator-3', 'gateway:gateway-1', 'engine:engine-1'],
  );
  const leader = status.leader;
  assert.ok(leader !== null && leader.startsWith('coordinator-'), `a leader is elected (${String(leader)})`);

  // The status command prints the same, as JSON and as tables.
  const json = await runNode([BIN.status, '--config', configFile, '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.equal((JSON.parse(json.stdout) as { leader: string }).leader, leader);
  const text = await runNode([BIN.status, '--config', configFile]);
  assert.match(text.stdout, new RegExp(`leader: ${leader}`));
  assert.match(text.stdout, /gateway\s+gateway-1\s+ws:\/\/127\.0\.0\.1:\d+\/ws/);

  // The leader releases the dead engine's placement after the grace.
  // A timeout is not an error here: the assertion after it names the status and the logs.
  await waitFor(async () => !(await readStatus(config)).placements.some((p) => p.sceneId === 'world:99'), {
    timeoutMs: 10_000,
    message: 'the orphaned placement world:99 to be released',
    intervalMs: 200,
  }).catch(() => {});
  const left = await readStatus(config);
  assert.ok(!left.placements.some((p) => p.sceneId === 'world:99'), `orphaned placement released; status ${JSON.stringify(left)}\nlogs:\n${cluster.logs()}`);

  // Players play for 8 s; 2 s in, the leader is killed.
  const bots = runBots({ baseUrl, count: 8, seconds: 8, movesPerSecond: 5 });
  // A duration, not a condition: the kill comes 2 s into the players' 8 s of play.
  await setTimeout(2000);
  const victim = members.find((m) => m.id === leader)!;
  // Watch the election as any member does (an etcd watch), rather than polling.
  const observer = new EtcdCoordinator({ hosts: [ETCD], prefix });
  await observer.start();
  let newLeader: string | null = null;
  let electedAt = 0;
  observer.election.watch((id) => {
    if (id !== undefined && id !== leader && newLeader === null) {
      newLeader = id;
      electedAt = Date.now();
    }
  });
  const killedAt = Date.now();
  victim.signal('SIGKILL');
  // A timeout is not an error here: the assertions after it say what failed.
  await waitFor(() => newLeader !== null, { timeoutMs: (LEASE_TTL_SECONDS + 10) * 1000, message: 'another coordinator to lead' }).catch(() => {});
  await observer.close();
  const electedAfterMs = (newLeader === null ? Date.now() : electedAt) - killedAt;
  console.log(`leader ${leader} killed; ${String(newLeader)} leads ${electedAfterMs} ms later (lease TTL ${LEASE_TTL_SECONDS} s)`);
  assert.ok(newLeader !== null && newLeader !== leader, 'another coordinator leads');
  assert.ok(electedAfterMs <= (LEASE_TTL_SECONDS + 1) * 1000, `new leader within TTL + 1 s (took ${electedAfterMs} ms)`);

  const result = await bots;
  assert.equal(result.connected, 8, result.firstError);
  assert.equal(result.errors, 0, `players noticed nothing: ${result.firstError ?? ''}`);
  assert.ok(result.moves > 0 && result.seenOthers, 'players saw each other move');
  const after = await readStatus(config);
  assert.deepEqual(after.members.filter((m) => m.role === 'coordinator').map((m) => m.id).sort(), ['coordinator-1', 'coordinator-2', 'coordinator-3'].filter((id) => id !== leader));
  assert.ok(after.placements.some((p) => p.engineId === 'engine-1'), "the players' scene is placed on engine-1");
});

test('with no coordinator running, players keep playing and new ones join placed scenes; a scene placed nowhere waits for a leader', { timeout: 120_000 }, async () => {
  // What the first test left running: two coordinators, the engine and the gateway.
  const gateway = members.find((m) => m.id === 'gateway-1')!;
  const baseUrl = String((await gateway.ready)['http']);
  const survivors = members.filter((m) => m.role === 'coordinator' && m.running);
  assert.ok(survivors.length > 0);
  for (const m of survivors) m.signal('SIGKILL');
  await Promise.all(survivors.map((m) => m.exited));

  // New players (new logins, new sockets) join world:1, which is placed: no leader needed.
  const result = await runBots({ baseUrl, count: 6, seconds: 4, movesPerSecond: 5 });
  assert.equal(result.connected, 6, result.firstError);
  assert.equal(result.errors, 0, result.firstError ?? '');
  assert.ok(result.moves > 0);

  // A scene placed nowhere: its request waits, unserved, and fails after the timeout.
  const asker = new EtcdCoordinator({ hosts: [ETCD], prefix, placementTimeoutMs: 1500 });
  await asker.start();
  try {
    await assert.rejects(asker.placement.ensure('world:77'), { code: 'CRD_ERR_NO_LEADER' });
    // world:77 waits (a bot that walked into a portal may have asked for world:2 meanwhile: it waits too).
    assert.deepEqual((await readStatus(config)).requests.map((r) => r.sceneId).filter((id) => id !== 'world:2'), ['world:77']);
    // A coordinator comes back, is elected and serves the waiting request.
    const revived = startMember('coordinator', 'coordinator-1');
    await revived.ready;
    // A timeout is not an error here: the assertion after it names the logs.
    const placed = await waitFor(() => asker.placement.lookup('world:77'), { timeoutMs: 10_000, message: 'the waiting scene world:77 to be placed' }).catch(() => undefined);
    assert.equal(placed?.engineId, 'engine-1', `the new leader placed the waiting scene\nlogs:\n${cluster.logs()}`);
    assert.deepEqual((await readStatus(config)).requests, []);
  } finally {
    await asker.close();
  }
});
