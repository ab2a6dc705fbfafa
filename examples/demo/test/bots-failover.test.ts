/**
 * `npm run bots` through an engine failover, on real processes: while the scene resumes on the
 * other engine the gateway answers GW_ERR_NO_ENGINE ("retry shortly"); the bots retry those and
 * count them as `retried`, not as errors.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ConnectionClosedError, ServerError } from '@gos/client';
import { readStatus } from '@gos/cluster';
import { CodedError, ErrorCodes } from '@gos/schema';
import { isRetryable, runBots } from '../src/bots.js';
import { testCluster } from './cluster-helpers.js';

test('isRetryable: what the server marked retryable, nothing else', () => {
  assert.equal(isRetryable(new ServerError(ErrorCodes.GW_ERR_NO_ENGINE, 'scene resuming, retry shortly', true)), true);
  assert.equal(isRetryable(new ServerError(ErrorCodes.GW_ERR_SCENE_MOVED, 'engine lost before answering', true)), true);
  assert.equal(isRetryable(new ServerError(ErrorCodes.ENG_ERR_HANDLER_FAILED, 'boom', false)), false);
  // A code alone is not enough: only the server's flag says so.
  assert.equal(isRetryable(new CodedError(ErrorCodes.GW_ERR_NO_ENGINE, 'x')), false);
  assert.equal(isRetryable(new ConnectionClosedError('closed', 1006, '')), false);
  assert.equal(isRetryable(new Error('no code')), false);
  assert.equal(isRetryable(null), false);
  assert.equal(isRetryable('GW_ERR_NO_ENGINE'), false);
});

const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 500 });
after(() => cluster.cleanup());

test('bots while their engine is killed: refusals during the failover are retried, not errors', { timeout: 120_000 }, async () => {
  const { baseUrl, engines } = await cluster.startRoles({ engines: 2 });
  let walking!: () => void;
  const connected = new Promise<void>((resolve) => (walking = resolve));
  const run = runBots({ baseUrl, count: 3, seconds: 12, movesPerSecond: 10, onConnected: () => walking() });
  await connected;
  const host = (await readStatus(cluster.config)).placements.find((p) => p.sceneId === 'world:1');
  assert.ok(host !== undefined, 'world:1 is placed');
  const victim = engines.find((e) => e.id === host.engineId)!;
  victim.signal('SIGKILL');

  const result = await run;
  assert.equal(result.connected, 3, result.firstError);
  // A move already on its way to the engine when it died is answered GW_ERR_SCENE_MOVED
  // (retryable) by the gateway, not left to time out: a player sees no error at all.
  assert.deepEqual(result.errorsByCode, {}, `${result.firstError ?? ''}\nlogs:\n${cluster.logs()}`);
  assert.equal(result.errors, 0, JSON.stringify(result));
  assert.ok(result.retried > 0, `moves were refused while the scene resumed: ${JSON.stringify(result)}`);
  assert.ok(result.moves > 0 && result.seenOthers, JSON.stringify(result));
  const placed = (await readStatus(cluster.config)).placements.find((p) => p.sceneId === 'world:1');
  assert.notEqual(placed?.engineId, victim.id, 'the scene runs on the other engine');
});
