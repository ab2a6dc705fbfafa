/**
 * The persister against a real SQLite store, with failures injected in front of it: writes
 * coalesce, survive a store outage with backed-off retries, and stale writes are refused.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { CodedError, silentLogger } from '@gos/schema';
import { SqliteStore, type Store } from '@gos/store';
import { memoryLog, waitFor, type LogLine } from '@gos/testing';
import { Persister } from '../src/persister.js';

async function withStore(fn: (store: SqliteStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gos-persister-'));
  const store = new SqliteStore({ file: join(dir, 'p.db') });
  await store.start();
  try {
    await fn(store);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The real store, whose saveBatch fails while `down` is true. */
function flaky(store: Store): { store: Store; calls: number[]; setDown(v: boolean): void } {
  let down = false;
  const calls: number[] = [];
  const wrapped = Object.create(store) as Store;
  wrapped.saveBatch = async (entries) => {
    calls.push(Date.now());
    if (down) throw new CodedError('STO_ERR_CONNECTION', 'injected outage');
    return store.saveBatch(entries);
  };
  return { store: wrapped, calls, setDown: (v) => (down = v) };
}

test('snapshots of one row coalesce into one write per batch', async () => {
  await withStore(async (store) => {
    const f = flaky(store);
    const p = new Persister(f.store, { batchWindowMs: 20, logger: silentLogger });
    for (let i = 1; i <= 50; i++) p.enqueue('player', 'p1', { n: i });
    await p.flush();
    assert.equal(f.calls.length, 1);
    assert.deepEqual((await store.loadPlayer('p1'))?.data, { n: 50 });
    assert.equal((await store.loadPlayer('p1'))?.version, 1);
    await p.close();
  });
});

test("a player's scene goes with its row when it changes, not with every save; a failed write and a new claim send it again", async () => {
  await withStore(async (store) => {
    const f = flaky(store);
    const sent: Array<string | undefined> = [];
    const spied = Object.create(f.store) as Store;
    spied.saveBatch = async (entries) => {
      for (const e of entries) sent.push(e.sceneId);
      return f.store.saveBatch(entries);
    };
    const p = new Persister(spied, { batchWindowMs: 5, logger: silentLogger });
    const save = async (n: number, sceneId: string): Promise<void> => {
      p.enqueue('player', 'p1', { n }, sceneId);
      await p.flush();
    };
    await save(1, 'world:1');
    await save(2, 'world:1');
    await save(3, 'world:2');
    await save(4, 'world:2');
    assert.deepEqual(sent, ['world:1', undefined, 'world:2', undefined]);
    assert.equal(await store.playerScene('p1'), 'world:2');
    // A failed batch recorded nothing: the next write sends the scene again.
    f.setDown(true);
    p.enqueue('player', 'p1', { n: 5 }, 'world:3');
    await p.flush().catch(() => {});
    f.setDown(false);
    await waitFor(async () => (await store.loadPlayer('p1'))?.version === 5 || undefined, { timeoutMs: 10_000, message: 'the retried write' });
    assert.equal(await store.playerScene('p1'), 'world:3');
    assert.deepEqual(sent.slice(4).filter((s) => s !== 'world:3'), []);
    // Claimed again (another engine may have moved the player meanwhile): sent again.
    const { fence } = await store.claimPlayer('p1');
    p.seed('player', 'p1', 5, fence);
    sent.length = 0;
    await save(6, 'world:3');
    assert.deepEqual(sent, ['world:3']);
    await p.close();
  });
});

test('a store outage loses nothing: writes retry with back-off and land when it returns', async () => {
  await withStore(async (store) => {
    const f = flaky(store);
    const p = new Persister(f.store, { batchWindowMs: 10, logger: silentLogger });
    f.setDown(true);
    p.enqueue('player', 'p2', { gold: 1 });
    await waitFor(() => p.stats.failedBatches >= 4, { timeoutMs: 5000, message: 'four failed attempts' });
    // Back-off: the delay before each retry doubles (20, 40, 80 ms after a 10 ms window). A timer
    // never fires early, so each gap is at least its delay (less 2 ms for clock granularity).
    const gaps = f.calls.slice(1, 4).map((at, i) => at - f.calls[i]!);
    assert.ok(gaps.every((gap, i) => gap >= 10 * 2 ** (i + 1) - 2), `retry gaps ${gaps.join(', ')} ms (back-off expected: at least 20, 40, 80)`);
    p.enqueue('player', 'p2', { gold: 2 }); // a newer snapshot replaces the failed one
    f.setDown(false);
    await p.settle('player', 'p2');
    assert.deepEqual((await store.loadPlayer('p2'))?.data, { gold: 2 });
    assert.equal(p.stats.pending, 0);
    await p.close();
  });
});

test('a write with a stale version is refused and reported, not retried', async () => {
  await withStore(async (store) => {
    await store.savePlayer('p3', { owner: 'other' }, 0);
    await store.savePlayer('p3', { owner: 'other', again: true }, 1);
    const p = new Persister(store, { batchWindowMs: 10, logger: silentLogger });
    p.seed('player', 'p3', 1); // this owner believes version 1
    p.enqueue('player', 'p3', { owner: 'me' });
    await p.flush();
    assert.equal(p.stats.stale, 1);
    assert.equal(p.stats.pending, 0);
    assert.deepEqual((await store.loadPlayer('p3'))?.data, { owner: 'other', again: true });
    await p.close();
  });
});

/** A real pino logger at debug level writing into memory; `lines()` parses what it wrote. */
function memoryLogger(): { logger: pino.Logger; lines(): LogLine[] } {
  const log = memoryLog();
  return { logger: pino({ level: 'debug' }, log.stream), lines: log.lines };
}

test('a batch of fenced writes is logged as one summary line with counts; each row only at debug', async () => {
  await withStore(async (store) => {
    const log = memoryLogger();
    const p = new Persister(store, { batchWindowMs: 10, logger: log.logger });
    const ids = Array.from({ length: 8 }, (_, i) => `fenced-${i}`);
    for (const id of ids) {
      const { fence } = await store.claimPlayer(id);
      p.seed('player', id, 0, fence);
      await store.claimPlayer(id); // another engine takes the player over
    }
    const { fence } = await store.claimScene('arena:fenced');
    p.seed('scene', 'arena:fenced', 0, fence);
    await store.claimScene('arena:fenced');
    for (const id of ids) p.enqueue('player', id, { mine: true });
    p.enqueue('scene', 'arena:fenced', { mine: true });
    await p.flush();
    assert.equal(p.stats.fenced, 9);

    const lines = log.lines().filter((l) => l.msg.startsWith('write refused: fenced'));
    const summaries = lines.filter((l) => l.level >= 30);
    assert.equal(summaries.length, 1, `one line above debug, got ${JSON.stringify(summaries)}`);
    const [summary] = summaries;
    assert.equal(summary!.level, 50);
    assert.equal(summary!.code, 'STO_ERR_FENCED');
    assert.deepEqual([summary!.rows, summary!.players, summary!.scenes], [9, 8, 1]);
    assert.deepEqual(summary!.ids, ids.slice(0, 5).map((id) => `player:${id}`));
    const perRow = lines.filter((l) => l.level === 20);
    assert.deepEqual(perRow.map((l) => `${String(l.kind)}:${String(l.id)}`).sort(), [...ids.map((id) => `player:${id}`), 'scene:arena:fenced'].sort());
    await p.close();
  });
});

test('a mail claim is written with the player row; claimed twice, the second is refused, the row is blocked until loaded again, and the engine is told', async () => {
  await withStore(async (store) => {
    const f = flaky(store);
    const refused: Array<{ id: string; code: string }> = [];
    const p = new Persister(f.store, { batchWindowMs: 20, logger: silentLogger, onClaimRefused: (id, error) => refused.push({ id, code: error.code }) });
    const { fence } = await store.claimPlayer('ann');
    p.seed('player', 'ann', 0, fence);
    const mailId = await store.mail.send({ players: ['ann'] }, { from: 'system', subject: 'coins', body: '', attachments: '{"gold":5}', expiresAt: null }, Date.now());

    // A store outage while the claim waits: it is retried with the row, and resolves once written.
    f.setDown(true);
    const first = p.claim('ann', { gold: 5 }, 'arena:1', mailId);
    await waitFor(() => f.calls.length >= 1);
    // A newer snapshot taken meanwhile goes with the same write (the claim stays with it).
    p.enqueue('player', 'ann', { gold: 5, steps: 1 }, 'arena:1');
    f.setDown(false);
    assert.deepEqual(await first, { ok: true, version: 1 });
    assert.deepEqual((await store.loadPlayer('ann'))?.data, { gold: 5, steps: 1 });
    assert.notEqual((await store.mail.get('ann', mailId))?.claimedAt, null);

    // The same mail again (a copy of the player that granted it twice): refused, nothing written.
    const second = await p.claim('ann', { gold: 10, steps: 1 }, 'arena:1', mailId);
    assert.equal(second.ok, false);
    assert.equal(!second.ok && second.error.code, 'MAIL_ERR_NOT_CLAIMABLE');
    assert.deepEqual(refused, [{ id: 'ann', code: 'MAIL_ERR_NOT_CLAIMABLE' }]);
    // Later snapshots of that copy hold the unsaved grant: never written.
    p.enqueue('player', 'ann', { gold: 10, steps: 2 }, 'arena:1');
    await p.flush();
    assert.deepEqual((await store.loadPlayer('ann'))?.data, { gold: 5, steps: 1 });
    const again = await p.claim('ann', { gold: 10 }, 'arena:1', mailId);
    assert.equal(!again.ok && again.error.code, 'MAIL_ERR_NOT_CLAIMABLE', 'refused at once while blocked');

    // Loaded again (a new claim of the row): written as usual.
    const reclaimed = await store.claimPlayer('ann');
    p.seed('player', 'ann', reclaimed.record?.version ?? 0, reclaimed.fence);
    p.enqueue('player', 'ann', { gold: 5, steps: 3 }, 'arena:1');
    await p.flush();
    assert.deepEqual((await store.loadPlayer('ann'))?.data, { gold: 5, steps: 3 });
    await p.close();
  });
});

test('a mail claim written by a fenced-off engine is refused with the row: the mail stays claimable', async () => {
  await withStore(async (store) => {
    const refused: string[] = [];
    const p = new Persister(store, { batchWindowMs: 20, logger: silentLogger, onClaimRefused: (_id, error) => refused.push(error.code) });
    const { fence } = await store.claimPlayer('bob');
    p.seed('player', 'bob', 0, fence);
    await store.claimPlayer('bob'); // another engine takes the player
    const mailId = await store.mail.send({ players: ['bob'] }, { from: 'system', subject: 'coins', body: '', attachments: '{"gold":5}', expiresAt: null }, Date.now());
    const result = await p.claim('bob', { gold: 5 }, 'arena:1', mailId);
    assert.equal(!result.ok && result.error.code, 'STO_ERR_FENCED');
    assert.deepEqual(refused, ['STO_ERR_FENCED']);
    assert.equal((await store.mail.get('bob', mailId))?.claimedAt, null);
    assert.equal(await store.loadPlayer('bob'), null);
    await p.close();
  });
});
