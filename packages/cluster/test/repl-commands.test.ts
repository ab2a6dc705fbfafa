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
  assert.throws(() => parseReplLine('state'), /usage: state <sceneId>/);
  assert.throws(() => parseReplLine('call guild:K join {bad'), /not JSON/);
  assert.throws(() => parseReplLine('eval world:1'), /usage: eval/);
  assert.throws(() => parseReplLine('drop table'), /unknown command "drop"/);
});
