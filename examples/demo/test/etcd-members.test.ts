/**
 * A three-member etcd cluster under the demo's processes: one etcd member is killed with
 * SIGKILL and the framework keeps working — players keep playing, a new player can log in and
 * join (placement writes need a quorum, which two of three still have), and the status reads.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import WebSocket from 'ws';
import { GameClient, guest } from '@gos/client';
import { loadConfig, readStatus } from '@gos/cluster';
import { waitFor } from '@gos/testing';
import { createApi, protocol } from '../src/generated/protocol.js';
import { freePort, testCluster } from './cluster-helpers.js';

interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly proc: ChildProcess;
  readonly exited: Promise<unknown>;
}

const dir = await mkdtemp(path.join(tmpdir(), 'gos-etcd3-'));
const members: EtcdMember[] = [];
const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
const names = ['m1', 'm2', 'm3'];
const peers = names.map((n, i) => `${n}=http://127.0.0.1:${ports[i * 2 + 1]}`).join(',');
for (const [i, name] of names.entries()) {
  const clientUrl = `http://127.0.0.1:${ports[i * 2]}`;
  const peerUrl = `http://127.0.0.1:${ports[i * 2 + 1]}`;
  const proc = spawn(
    'etcd',
    [
      '--name', name,
      '--data-dir', path.join(dir, name),
      '--listen-client-urls', clientUrl,
      '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', peers,
      '--initial-cluster-token', `gos-test-${path.basename(dir)}`,
      '--initial-cluster-state', 'new',
      '--logger=zap',
      '--log-level', 'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  members.push({ name, clientUrl, proc, exited: new Promise((r) => proc.once('exit', r)) });
}
const hosts = members.map((m) => m.clientUrl);

const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 500, etcdHosts: hosts });
after(async () => {
  await cluster.cleanup();
  for (const m of members) if (m.proc.exitCode === null) m.proc.kill('SIGKILL');
  await Promise.all(members.map((m) => m.exited));
  await rm(dir, { recursive: true, force: true });
});

test('three etcd members, one killed with SIGKILL: players keep playing and new ones can join', { timeout: 120_000 }, async () => {
  const config = loadConfig({ file: cluster.configFile, env: {} });
  // The members elect an etcd leader among themselves first.
  await waitFor(() => readStatus(config, 2000), { timeoutMs: 30_000, message: 'the etcd members to answer a status read', intervalMs: 200 });
  const coordinators = [cluster.start('coordinator', 'coordinator-1'), cluster.start('coordinator', 'coordinator-2')];
  const engine = cluster.start('engine', 'engine-1');
  await Promise.all([...coordinators, engine].map((m) => m.ready));
  const gateway = cluster.start('gateway', 'gateway-1');
  const baseUrl = String((await gateway.ready)['http']);

  const join = async (): Promise<{ client: GameClient<typeof protocol>; api: ReturnType<typeof createApi>; closes: number[] }> => {
    const auth = await guest(baseUrl);
    const client = new GameClient({ url: auth.gateway, token: auth.token, protocol, WebSocket, reconnect: false });
    const closes: number[] = [];
    client.on('close', (e) => closes.push(e.code));
    await client.connect();
    return { client, api: createApi(client), closes };
  };
  const a = await join();
  await a.api.move({ seq: 1, x: 10, y: 10 });

  // Kill the member the processes most likely talk to (the first host), then keep playing.
  const victim = members[0]!;
  victim.proc.kill('SIGKILL');
  await victim.exited;
  for (let i = 2; i <= 20; i++) {
    const r = await a.api.move({ seq: i, x: 10 + i, y: 10 });
    assert.equal(r.ack, i);
    // A duration, not a condition: the player keeps playing for about 2 s with one member gone.
    await setTimeout(100);
  }
  // A duration, not a condition: past several lease TTLs (2 s), a lease not kept alive through
  // the other members would have expired.
  await setTimeout(3000);
  const b = await join();
  const whoB = await b.api.whoami({});
  assert.equal(whoB.sceneId, 'world:1');
  const status = await readStatus(config, 5000);
  assert.deepEqual(status.members.map((m) => m.id).sort(), ['coordinator-1', 'coordinator-2', 'engine-1', 'gateway-1']);
  assert.ok(status.leader !== null, 'a coordinator leads');
  assert.deepEqual(a.closes, [], 'player a stayed connected');
  await Promise.all([a.client.close(), b.client.close()]);
});
