import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReplLine } from '../src/index.js';

test('REPL lines parse into the engine commands; JSON and code keep their spaces; bad lines say why', () => {
  assert.equal(parseReplLine('   '), null);
  assert.deepEqual(parseReplLine('scenes'), { command: 'scenes', args: [] });
  assert.deepEqual(parseReplLine(' state  world:1 '), { command: 'state', args: ['world:1'] });
  assert.deepEqual(parseReplLine('call guild:K join {"playerId": "p 1", "name": "A"}'), { command: 'call', args: ['guild:K', 'join', { playerId: 'p 1', name: 'A' }] });
  assert.deepEqual(parseReplLine('cast guild:K leave'), { command: 'cast', args: ['guild:K', 'leave', null] });
  assert.deepEqual(parseReplLine('eval world:1 (s) => { return s.state.visits + 1; }'), { command: 'eval', args: ['world:1', '(s) => { return s.state.visits + 1; }'] });
  assert.deepEqual(parseReplLine('logs p1 2026-12-06T00:00Z 1765000000000 50'), { command: 'logs', args: ['p1', '2026-12-06T00:00Z', 1765000000000, 50] });
  assert.deepEqual(parseReplLine('lb page distance-daily {"limit":10}'), { command: 'lb', args: ['page', 'distance-daily', { limit: 10 }] });
  assert.deepEqual(parseReplLine('lb submit kills p-1 12.5'), { command: 'lb', args: ['submit', 'kills', 'p-1', 12.5] });
  assert.deepEqual(parseReplLine('lb around ["kills", "p 1", {"before": 2}]'), { command: 'lb', args: ['around', 'kills', 'p 1', { before: 2 }] });
  assert.throws(() => parseReplLine('lb around [bad'), /not a JSON array/);
  assert.throws(() => parseReplLine('lb'), /usage: lb/);
  assert.throws(() => parseReplLine('logs'), /usage: logs/);
  assert.throws(() => parseReplLine('state'), /usage: state <sceneId>/);
  assert.throws(() => parseReplLine('call guild:K join {bad'), /not JSON/);
  assert.throws(() => parseReplLine('eval world:1'), /usage: eval/);
  assert.throws(() => parseReplLine('drop table'), /unknown command "drop"/);
});
