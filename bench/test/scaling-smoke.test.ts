/**
 * A small run of each scaling scenario (engine-drain, rolling-restart, scale-out) so they cannot
 * rot: a real cluster of processes on etcd, Redis and MariaDB, scenes moved live while players
 * play, the result files. Only what must hold whatever the machine's speed: the scenes moved,
 * nobody was disconnected or saw an error, no input was lost or handled twice, scale-out ended
 * balanced, and the files are complete.
 *
 * Needs etcd, Redis and MariaDB: `npm test` starts them and names them in GOS_TEST_*; without
 * those variables the local defaults are tried, and the tests are skipped when one is missing.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { ScalingResultsFile, ScalingRow } from '../src/scaling.js';
import { missingServices, runBench } from './run-bench.js';

const skip = await missingServices();

async function resultOf(out: string, scenario: ScalingResultsFile['scenario']): Promise<ScalingRow> {
  const file = JSON.parse(await readFile(path.join(out, `${scenario}.json`), 'utf8')) as ScalingResultsFile;
  assert.equal(file.scenario, scenario);
  assert.equal((await readFile(path.join(out, `${scenario}.html`), 'utf8')).match(/<svg/g)?.length, 1);
  const [r] = file.runs;
  assert.ok(r !== undefined);
  assert.deepEqual({ disconnects: r.disconnects, errors: r.errors, lost: r.lostInputs, duplicated: r.duplicatedInputs }, { disconnects: 0, errors: 0, lost: 0, duplicated: 0 });
  assert.ok(r.inputs > 0 && r.stallMaxMs >= r.stallP99Ms);
  return r;
}

test('smoke: engine-drain with 12 players in 3 scenes: every engine replaced, every scene moved live', { timeout: 240_000, skip }, async () => {
  await runBench(['engine-drain', '--clients', '12', '--scenes', '3', '--warmup', '1'], async (out, stdout) => {
    assert.match(stdout, /bench: engine-drain 12 players in 3 scenes: 3 scenes moved/);
    const r = await resultOf(out, 'engine-drain');
    assert.deepEqual([r.players, r.scenes, r.engines, r.movedScenes], [12, 3, 2, 3]);
    assert.match(await readFile(path.join(out, 'engine-drain.md'), 'utf8'), /\| 12 \| 3 \| 4 \| 2 \| 3 \|/);
  });
});

test('smoke: rolling-restart with 12 players in 3 scenes: both engines restarted, their scenes moved live', { timeout: 240_000, skip }, async () => {
  await runBench(['rolling-restart', '--clients', '12', '--scenes', '3', '--warmup', '1'], async (out) => {
    const r = await resultOf(out, 'rolling-restart');
    // engine-1's scenes move to engine-2, then engine-2's (all three) to engine-1.
    assert.deepEqual([r.players, r.scenes, r.engines, r.movedScenes], [12, 3, 2, 5]);
  });
});

test('smoke: scale-out with 40 players in 4 scenes: the second engine takes half, and it stays balanced', { timeout: 240_000, skip }, async () => {
  await runBench(['scale-out', '--clients', '40', '--scenes', '4', '--warmup', '1', '--balance-window', '40'], async (out, stdout) => {
    assert.match(stdout, /balanced after [\d.]+ s/);
    const r = await resultOf(out, 'scale-out');
    assert.deepEqual([r.players, r.engines, r.movedScenes, r.maxDeviationPct], [40, 1, 2, 0]);
    assert.ok(typeof r.secondsToBalance === 'number' && r.secondsToBalance > 0);
    assert.match(await readFile(path.join(out, 'scale-out.md'), 'utf8'), /\| 40 \| 4 \| 10 \| 1 \| 2 \|/);
  });
});
