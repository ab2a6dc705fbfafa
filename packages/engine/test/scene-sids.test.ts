/**
 * SceneSids: a scene's players by sid, and the gateway links they came through, each counted
 * (a broadcast goes once to each link with players in the scene).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SceneSids } from '../src/scene-sids.js';

test('a link stays while any of its players is in the scene, and goes with the last', () => {
  const sids = new SceneSids<string>();
  sids.add(1, 'gw-a');
  sids.add(2, 'gw-a');
  sids.add(3, 'gw-b');
  assert.equal(sids.size, 3);
  assert.deepEqual([...sids.gateways()], ['gw-a', 'gw-b']);
  assert.equal(sids.delete(1), true);
  assert.deepEqual([...sids.gateways()], ['gw-a', 'gw-b']);
  assert.equal(sids.delete(2), true);
  assert.deepEqual([...sids.gateways()], ['gw-b']);
  assert.deepEqual([...sids], [3]);
  assert.equal(sids.has(2), false);
});

test('adding a sid again counts it once; a sid unknown to the scene deletes nothing', () => {
  const sids = new SceneSids<string>();
  sids.add(7, 'gw-a');
  sids.add(7, 'gw-a');
  assert.equal(sids.size, 1);
  assert.equal(sids.delete(8), false);
  assert.equal(sids.delete(7), true);
  assert.equal(sids.delete(7), false);
  assert.deepEqual([...sids.gateways()], []);
  // Added again with another link: counted under that link only.
  sids.add(9, 'gw-a');
  sids.add(9, 'gw-b');
  assert.deepEqual([...sids.gateways()], ['gw-b']);
});
