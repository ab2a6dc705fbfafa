import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drainWaves } from '../src/drain-waves.js';

test('crowded scenes move alone, crowded first', () => {
  const waves = drainWaves([
    { sceneId: 'a', players: 10 },
    { sceneId: 'b', players: 334 },
    { sceneId: 'c', players: 333 },
  ], 4, 150);
  assert.deepEqual(waves, [['b'], ['c'], ['a']]);
});

test('small and empty scenes share waves within the scene and player limits', () => {
  const scenes = Array.from({ length: 10 }, (_, i) => ({ sceneId: `s${i}`, players: i < 4 ? 60 : 0 }));
  const waves = drainWaves(scenes, 4, 150);
  // 60 + 60 fit, a third 60 would pass 150; the empty scenes fill waves of four.
  assert.deepEqual(waves, [['s0', 's1'], ['s2', 's3', 's4', 's5'], ['s6', 's7', 's8', 's9']]);
  assert.deepEqual(waves.flat().sort(), scenes.map((s) => s.sceneId).sort());
});

test('nothing to move: no waves', () => {
  assert.deepEqual(drainWaves([]), []);
});
