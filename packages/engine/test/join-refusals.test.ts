/**
 * Joins refused by rule are logged once per scene and code, not once each: a stale placement
 * that sends a scene's 250 players back used to write 250 WARN lines. A real pino logger writes
 * into memory; timers are driven by hand.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { pino } from 'pino';
import { memoryLog, type LogLine } from '@gos/testing';
import { JoinRefusals } from '../src/join-refusals.js';

/** A real pino logger at debug level writing into memory; `lines()` parses what it wrote. */
function memoryLogger(): { logger: pino.Logger; lines(): LogLine[] } {
  const log = memoryLog();
  return { logger: pino({ level: 'debug' }, log.stream), lines: log.lines };
}

const WARN = 40;
const DEBUG = 20;

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
afterEach(() => mock.timers.reset());

test('250 joins refused for one scene give one warn line with the count per code; each player is at debug', () => {
  const log = memoryLogger();
  const refusals = new JoinRefusals(log.logger, { quietMs: 1000, maxWaitMs: 10_000 });
  for (let i = 0; i < 250; i++) {
    refusals.add('world:1', `p${i}`, 'ENG_ERR_SCENE_MOVED', 'scene world:1 is not placed on engine-1');
    mock.timers.tick(2);
  }
  refusals.add('world:1', 'late', 'ENG_ERR_FULL', 'engine engine-1 is at its CCU cap (250 players)');
  assert.equal(log.lines().filter((l) => l.level === WARN).length, 0, 'nothing before a quiet spell');
  mock.timers.tick(1000);
  const warns = log.lines().filter((l) => l.level === WARN);
  assert.deepEqual(
    warns.map((l) => [l.code, l.sceneId, l.players]),
    [
      ['ENG_ERR_SCENE_MOVED', 'world:1', 250],
      ['ENG_ERR_FULL', 'world:1', 1],
    ],
  );
  assert.equal(warns[0]!.msg, 'joins refused: scene world:1 is not placed on engine-1');
  assert.equal(log.lines().filter((l) => l.level === DEBUG && l.msg.startsWith('join refused')).length, 251);
});

test('a burst that never goes quiet is written every maxWaitMs', () => {
  const log = memoryLogger();
  const refusals = new JoinRefusals(log.logger, { quietMs: 1000, maxWaitMs: 10_000 });
  for (let i = 0; i < 300; i++) {
    refusals.add('world:2', `p${i}`, 'ENG_ERR_FULL', 'full');
    mock.timers.tick(100);
  }
  const warns = log.lines().filter((l) => l.level === WARN);
  assert.ok(warns.length >= 2 && warns.length <= 3, `${warns.length} lines for 30 s of refusals`);
  mock.timers.tick(1000);
  const all = log.lines().filter((l) => l.level === WARN);
  assert.equal(all.reduce((n, l) => n + Number(l.players), 0), 300, 'every refusal counted once');
});
