import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatStatus, scaleStatus, type ClusterStatus } from '../src/status.js';

const now = 1_000_000_000;

test('status tables: members, placements with idle and missing-engine notes, waiting and refused requests', () => {
  const status: ClusterStatus = {
    etcd: ['http://127.0.0.1:2379'],
    prefix: 'gos/',
    leader: 'coordinator-1',
    members: [
      { id: 'coordinator-1', role: 'coordinator', address: 'vm:1', load: 0, capacity: 1, startedAt: now - 30_000 },
      { id: 'engine-1', role: 'engine', address: '127.0.0.1:4000', load: 12, capacity: 6000, startedAt: now - 90_000, idleScenes: { 'world:2': 7 }, scenes: 1, utilisation: 0.37 },
    ],
    placements: [
      { sceneId: 'world:1', sceneType: 'world', engineId: 'engine-1', epoch: 5 },
      { sceneId: 'world:2', sceneType: 'world', engineId: 'engine-1', epoch: 7 },
      { sceneId: 'world:3', sceneType: 'world', engineId: 'engine-9', epoch: 8 },
    ],
    requests: [
      { sceneId: 'arena:1', requestedBy: 'vm:42', at: now - 3000 },
      { sceneId: 'arena:2', requestedBy: 'vm:42', at: now - 1000, refused: { code: 'CRD_ERR_NO_ENGINE', message: 'every engine (1) is at its CCU cap' } },
    ],
    scale: null,
    readAt: now,
  };
  const text = formatStatus(status);
  assert.match(text, /leader: coordinator-1/);
  assert.match(text, /engine\s+engine-1\s+127\.0\.0\.1:4000\s+12\s+6000\s+1\s+37%\s+90 s/);
  assert.match(text, /coordinator\s+coordinator-1\s+vm:1\s+0\s+1\s+30 s/);
  assert.match(text, /placement \(3 scenes; engine-1: 2, engine-9: 1\)/);
  assert.match(text, /world:1\s+engine-1\s+5\n/);
  assert.match(text, /world:2\s+engine-1\s+7\s+idle: stopped, to be released/);
  assert.match(text, /world:3\s+engine-9\s+8\s+engine missing/);
  assert.match(text, /placement requests waiting \(2\):/);
  assert.match(text, /arena:1\s+vm:42\s+3 s\n/);
  assert.match(text, /arena:2\s+vm:42\s+1 s\s+refused: CRD_ERR_NO_ENGINE/);
  // No request: no section.
  assert.doesNotMatch(formatStatus({ ...status, requests: [] }), /requests/);
});

test("status: the leader's scale decision beside the live counts (draining members left out), only the leader's", () => {
  const member = (id: string, role: 'coordinator' | 'engine' | 'gateway', extra: object = {}) => ({ id, role, address: id, load: 0, capacity: 1, startedAt: now, ...extra });
  const members = [
    member('coordinator-1', 'coordinator', { desired: { engines: 3, gateways: 1 } }),
    member('coordinator-2', 'coordinator', { desired: { engines: 9, gateways: 9 } }),
    member('engine-1', 'engine'),
    member('engine-2', 'engine'),
    member('engine-3', 'engine', { draining: true }),
    member('gateway-1', 'gateway'),
  ];
  const scale = scaleStatus(members, 'coordinator-1');
  assert.deepEqual(scale, { engines: { now: 2, desired: 3 }, gateways: { now: 1, desired: 1 } });
  assert.equal(scaleStatus(members, null), null, 'no leader, no decision');
  assert.equal(scaleStatus([member('coordinator-1', 'coordinator')], 'coordinator-1'), null, 'none published yet');
  const text = formatStatus({ etcd: [], prefix: 'gos/', leader: 'coordinator-1', members, placements: [], requests: [], scale, readAt: now });
  assert.match(text, /scale \(the leader's decision for the load\): engines 2 → 3, gateways 1\n/);
  assert.match(formatStatus({ etcd: [], prefix: 'gos/', leader: 'coordinator-1', members, placements: [], requests: [], scale: { engines: { now: 2, desired: 2 }, gateways: { now: 1, desired: 1 } }, readAt: now }), /engines 2, gateways 1 \(as it should be\)/);
});
