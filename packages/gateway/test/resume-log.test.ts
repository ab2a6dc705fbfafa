/**
 * Resumed players are logged once per move, not once each: an engine lost under 250 players used
 * to write 250 INFO lines. A real pino logger writes into memory; timers are driven by hand.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { pino } from 'pino';
import { memoryLog, type LogLine } from '@gos/testing';
import { ResumeLog } from '../src/resume-log.js';

/** A real pino logger at debug level writing into memory; `lines()` parses what it wrote. */
function memoryLogger(): { logger: pino.Logger; lines(): LogLine[] } {
  const log = memoryLog();
  return { logger: pino({ level: 'debug' }, log.stream), lines: log.lines };
}

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
afterEach(() => mock.timers.reset());

test('250 players resumed from one lost engine give one info line with the count; each player is at debug', () => {
  const log = memoryLogger();
  const resumes = new ResumeLog(log.logger, { quietMs: 1000, maxWaitMs: 10_000 });
  for (let i = 0; i < 250; i++) {
    resumes.add({ sceneId: `world:${i % 3}`, from: 'engine-1', to: 'engine-2', why: 'lost', pausedMs: 2000 + i });
    mock.timers.tick(2); // resumes trickle in over half a second
  }
  resumes.add({ sceneId: 'world:9', from: 'engine-3', to: 'engine-2', why: 'drain', pausedMs: 40 });
  assert.deepEqual(log.lines().filter((l) => l.level > 20), [], 'nothing above debug while players still resume');
  mock.timers.tick(1000);
  const info = log.lines().filter((l) => l.level === 30);
  assert.deepEqual(
    info.map((l) => [l.msg, l.from, l.to, l.why, l.players, l.sceneCount, l.maxPausedMs]),
    [
      ['players resumed', 'engine-1', 'engine-2', 'lost', 250, 3, 2249],
      ['players resumed', 'engine-3', 'engine-2', 'drain', 1, 1, 40],
    ],
  );
  assert.deepEqual((info[0]!.scenes as string[]).sort(), ['world:0', 'world:1', 'world:2']);
  const debug = log.lines().filter((l) => l.level === 20);
  assert.equal(debug.length, 251);
  assert.ok(debug.every((l) => l.msg === 'player resumed' && typeof l.sceneId === 'string'));
});

test('resumes that keep coming are summed up at least every maxWaitMs', () => {
  const log = memoryLogger();
  const resumes = new ResumeLog(log.logger, { quietMs: 100, maxWaitMs: 300 });
  for (let i = 0; i < 50; i++) {
    resumes.add({ sceneId: 'world:1', from: 'engine-1', to: 'engine-2', why: 'lost', pausedMs: 10 });
    mock.timers.tick(20);
  }
  mock.timers.tick(100);
  const counts = log.lines().filter((l) => l.level === 30).map((l) => l.players as number);
  assert.ok(counts.length >= 3, `a line per ${300} ms at least, got ${JSON.stringify(counts)}`);
  assert.equal(counts.reduce((a, b) => a + b, 0), 50);
});
