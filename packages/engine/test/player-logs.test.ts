/**
 * Player logs (docs/player-logs.md): events appended by scene code on a worker thread reach the
 * store in batches, with who, what, when and where; bad events are refused at the call; an
 * engine closing writes what it holds; a store that fails is retried without losing events,
 * and past the queue's bound the oldest are dropped and counted.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { CodedError, ErrorCodes } from '@gos/schema';
import type { PlayerLogEntry, PlayerLogStore } from '@gos/store';
import { memoryLog, waitFor } from '@gos/testing';
import { PlayerLogWriter } from '../src/player-logs.js';
import { startCluster } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-logs-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('events appended by a scene reach the store with who, what, when and where; bad ones are refused at the call', async () => {
  const c = await startCluster(dir, 'logs', { workers: 1, engine: { playerLogs: { flushMs: 50 } } });
  try {
    await c.gw.join(1, 'ann');
    const t0 = Date.now();
    const out = await c.gw.request(1, 'log', { events: [{ event: 'shop.buy', fields: { item: 'sword', price: 120 } }, { event: 'quest:done' }, { event: 'mail.claimed', for: 'bob', fields: { mail: 7 } }] });
    assert.deepEqual(out.body, { ok: true });
    await waitFor(async () => (await c.store.playerLogs.query({ playerId: 'ann', limit: 10 })).length === 2, { timeoutMs: 5000, message: "ann's two events in the store" });
    const ann = await c.store.playerLogs.query({ playerId: 'ann', limit: 10 });
    assert.deepEqual(
      ann.map((e) => [e.event, e.sceneId, JSON.parse(e.fields) as unknown]),
      [
        ['shop.buy', 'arena:1', { item: 'sword', price: 120 }],
        ['quest:done', 'arena:1', {}],
      ],
    );
    assert.ok(ann.every((e) => e.at >= t0 - 1000 && e.at <= Date.now()), 'when: the scene thread\'s clock at the call');
    assert.equal((await c.store.playerLogs.query({ playerId: 'bob', limit: 10 }))[0]?.event, 'mail.claimed', 'scene.logFor: a player not in the scene');

    for (const bad of [{ event: '' }, { event: 'has space' }, { event: 'x'.repeat(65) }, { event: "drop'; --" }, { event: 'ok', fields: [1, 2] }, { event: 'ok', fields: { big: 'y'.repeat(5000) } }, { event: 'ok', for: '' }]) {
      assert.deepEqual((await c.gw.request(1, 'log', { events: [bad] })).body, { ok: false, code: ErrorCodes.OPT_ERR_INVALID }, JSON.stringify(bad).slice(0, 80));
    }
    // 500 events in one handler: one LOGS record, a few store batches; all arrive, in order.
    const many = Array.from({ length: 500 }, (_, i) => ({ event: 'step', fields: { i } }));
    assert.deepEqual((await c.gw.request(1, 'log', { events: many })).body, { ok: true });
    await waitFor(async () => (await c.store.playerLogs.query({ playerId: 'ann', event: 'step', limit: 1000 })).length === 500, { timeoutMs: 5000, message: '500 steps' });
    const steps = await c.store.playerLogs.query({ playerId: 'ann', event: 'step', limit: 1000 });
    assert.deepEqual(steps.map((e) => (JSON.parse(e.fields) as { i: number }).i), many.map((_, i) => i), 'in the order appended');
  } finally {
    await c.close();
  }
});

test('an engine closing writes the events it holds', async () => {
  const c = await startCluster(dir, 'logs-close', { workers: 1, engine: { playerLogs: { flushMs: 60_000 } } });
  let closed = false;
  try {
    await c.gw.join(1, 'cid');
    assert.deepEqual((await c.gw.request(1, 'log', { events: [{ event: 'last.words' }] })).body, { ok: true });
    await c.gw.close();
    await c.engine.close();
    closed = true;
    assert.equal((await c.store.playerLogs.query({ playerId: 'cid', limit: 10 }))[0]?.event, 'last.words', 'written at close, not after flushMs');
  } finally {
    if (closed) {
      await c.leader.close();
      await c.store.close();
      await c.coordinator.close();
    } else await c.close();
  }
});

/** A store whose appends fail while `failing` is set (the database down), recording what it took. */
function flakyStore(): PlayerLogStore & { failing: boolean; written: PlayerLogEntry[] } {
  return {
    failing: true,
    written: [],
    async append(entries) {
      if (this.failing) throw new Error('database down');
      this.written.push(...entries);
    },
    async query() {
      return [];
    },
    async prune() {
      return 0;
    },
  };
}

const entry = (i: number): { p: string; e: string; t: number; f: string } => ({ p: 'p1', e: 'ev', t: i, f: `{"i":${i}}` });

test('the writer keeps events while the store fails and writes them once it is back', async () => {
  const store = flakyStore();
  const log = memoryLog();
  const w = new PlayerLogWriter({ store, flushMs: 20, maxQueued: 1000, retentionDays: 0, logger: pino({ level: 'debug' }, log.stream) });
  w.start();
  try {
    w.add('s:1', [entry(1), entry(2)]);
    await waitFor(() => log.lines().some((l) => l.msg.includes('cannot write player-log events')), { timeoutMs: 5000, message: 'a failed write, logged' });
    assert.equal(w.queued, 2, 'kept');
    w.add('s:1', [entry(3)]);
    store.failing = false;
    await waitFor(() => store.written.length === 3, { timeoutMs: 15_000, message: 'all three written after the store came back' });
    assert.deepEqual(store.written.map((e) => e.at), [1, 2, 3]);
    assert.deepEqual(w.stats, { written: 3, dropped: 0, queued: 0 });
  } finally {
    await w.close();
  }
});

test('an idle writer sleeps: no timer until an event comes, one flush for the first event since the queue emptied, none once it is empty again', async (t) => {
  const store = flakyStore();
  store.failing = false;
  // A flush interval no other timer of this test uses: the writer's timers are the calls with it.
  const flushMs = 37;
  const timers = t.mock.method(globalThis, 'setTimeout');
  const flushes = (): number => timers.mock.calls.filter((c) => c.arguments[1] === flushMs).length;
  const w = new PlayerLogWriter({ store, flushMs, maxQueued: 1000, retentionDays: 0, logger: pino({ level: 'silent' }) });
  w.start();
  try {
    assert.equal(flushes(), 0, 'nothing to write: nothing scheduled');
    w.add('s:1', [entry(1)]);
    w.add('s:1', [entry(2)]);
    assert.equal(flushes(), 1, 'one flush for both');
    await waitFor(() => store.written.length === 2, { timeoutMs: 5000, message: 'both written' });
    assert.equal(flushes(), 1, 'written, the queue empty: nothing scheduled');
    w.add('s:1', [entry(3)]);
    assert.equal(flushes(), 2, 'the next event schedules the next flush');
    await waitFor(() => store.written.length === 3, { timeoutMs: 5000, message: 'the third written' });
    assert.deepEqual(w.stats, { written: 3, dropped: 0, queued: 0 });
  } finally {
    await w.close();
  }
});

test('events dropped while a batch is being written are the oldest not in it; the batch and the newest are written, each counted once', async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const written: PlayerLogEntry[] = [];
  let appends = 0;
  const store: PlayerLogStore = {
    async append(entries) {
      appends++;
      await gate;
      written.push(...entries);
    },
    query: async () => [],
    prune: async () => 0,
  };
  const log = memoryLog();
  const w = new PlayerLogWriter({ store, flushMs: 10, maxQueued: 3000, retentionDays: 0, logger: pino({ level: 'debug' }, log.stream) });
  w.start();
  try {
    w.add('s:1', Array.from({ length: 2500 }, (_, i) => entry(i)));
    // The first batch (0–1999) is being written; 1,500 more make 4,000, past 3,000.
    await waitFor(() => appends === 1, { timeoutMs: 5000, message: 'the first batch under way' });
    w.add('s:1', Array.from({ length: 1500 }, (_, i) => entry(2500 + i)));
    assert.deepEqual(w.stats, { written: 0, dropped: 1000, queued: 3000 }, 'dropped: 2000–2999, the oldest not being written');
    release();
    await waitFor(() => written.length === 3000, { timeoutMs: 5000, message: 'everything kept is written' });
    const ats = written.map((e) => e.at);
    assert.deepEqual(ats, [...Array.from({ length: 2000 }, (_, i) => i), ...Array.from({ length: 1000 }, (_, i) => 3000 + i)]);
    assert.deepEqual(w.stats, { written: 3000, dropped: 1000, queued: 0 });
  } finally {
    release();
    await w.close();
  }
});

test('an event the store refuses (a malformed player id) is dropped and counted; the rest of its batch and later ones are written', async () => {
  const written: PlayerLogEntry[] = [];
  const store: PlayerLogStore = {
    async append(entries) {
      if (entries.some((e) => !e.playerId.isWellFormed())) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'bad player id');
      written.push(...entries);
    },
    query: async () => [],
    prune: async () => 0,
  };
  const log = memoryLog();
  const w = new PlayerLogWriter({ store, flushMs: 10, maxQueued: 1000, retentionDays: 0, logger: pino({ level: 'debug' }, log.stream) });
  w.start();
  try {
    w.add('s:1', [entry(1), { ...entry(2), p: '\uD800' }, entry(3)]);
    await waitFor(() => written.length === 2, { timeoutMs: 5000, message: 'the two good events written' });
    w.add('s:1', [entry(4)]);
    await waitFor(() => written.length === 3, { timeoutMs: 5000, message: 'and later ones' });
    assert.deepEqual(written.map((e) => e.at), [1, 3, 4]);
    assert.deepEqual(w.stats, { written: 3, dropped: 1, queued: 0 });
    assert.ok(log.lines().some((l) => l.msg === 'player-log event refused by the store; dropped'));
  } finally {
    await w.close();
  }
});

test('past maxQueued the oldest events are dropped, counted and logged; close writes the rest', async () => {
  const store = flakyStore();
  const log = memoryLog();
  const w = new PlayerLogWriter({ store, flushMs: 60_000, maxQueued: 5, retentionDays: 0, logger: pino({ level: 'debug' }, log.stream) });
  w.start();
  w.add('s:1', [1, 2, 3, 4, 5, 6, 7].map(entry));
  assert.deepEqual(w.stats, { written: 0, dropped: 2, queued: 5 });
  assert.ok(log.lines().some((l) => l.level === 50 && l.msg.includes('dropped')));
  store.failing = false;
  await w.close();
  assert.deepEqual(store.written.map((e) => e.at), [3, 4, 5, 6, 7], 'the newest five, written at close');
});
