import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatStatus, type ClusterStatus } from '../src/status.js';

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
