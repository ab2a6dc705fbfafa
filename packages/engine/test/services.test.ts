/**
 * Services (defineService): an actor with persisted state and no players, started on its first
 * call, one message at a time in arrival order, answering a throwing handler's caller with an
 * error and going on, restarted from its last save after a crash, and saved across engines.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ErrorCodes, FrameKind, readFrameHeader } from '@gos/schema';
import { EngineToGateway, GatewayToEngine, decodeJoinFailedBody, encodeJoinBody } from '@gos/link';
import { waitFor } from '@gos/testing';
import { Engine } from '../src/index.js';
import { GAME, SECRET, decodeAnswer, startCluster } from './helpers.js';

/** The test game with a `desk` service that calls and casts to a `ledger` service. */
const SERVICES_GAME = fileURLToPath(new URL('./fixtures/services-game.js', import.meta.url));

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-services-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Cluster = Awaited<ReturnType<typeof startCluster>>;
type Outcome = { ok: true; result: unknown } | { ok: false; code: string };

async function call(c: Cluster, req: { to: string; message: string; payload?: unknown; timeoutMs?: number; place?: boolean }): Promise<Outcome> {
  return (await c.gw.request(1, 'callScene', req)).body as Outcome;
}

interface CounterState {
  n: number;
  log: string[];
}

async function state(c: Cluster, to = 'counter:1'): Promise<CounterState> {
  const out = await call(c, { to, message: 'state' });
  assert.equal(out.ok, true, JSON.stringify(out));
  return (out as { result: CounterState }).result;
}

test('a service starts on its first call, answers, takes casts, and keeps its state across engines', async () => {
  const c = await startCluster(dir, 'svc-basic', { workers: 1 });
  try {
    await c.gw.join(1, 'ann');
    assert.deepEqual(await call(c, { to: 'counter:1', message: 'add', payload: { by: 5 } }), { ok: true, result: { n: 5 } });
    assert.equal(c.coordinator.placement.lookup('counter:1')?.engineId, 'engine-t', 'placed on demand');
    assert.deepEqual(await call(c, { to: 'counter:1', message: 'whoami' }), { ok: true, result: { id: 'counter:1', type: 'counter', from: 'arena:1' } });
    await c.gw.request(1, 'castScene', { to: 'counter:1', message: 'bump', count: 3 });
    assert.deepEqual(await state(c), { n: 8, log: ['started'] });
    // Another instance of the type is another actor.
    assert.deepEqual(await call(c, { to: 'counter:2', message: 'add', payload: { by: 1 } }), { ok: true, result: { n: 1 } });
    assert.equal((await state(c)).n, 8);
    // A service calls on: its id is the caller's `from`.
    assert.deepEqual(await call(c, { to: 'counter:1', message: 'relay', payload: { to: 'arena:2', message: 'echo', payload: 7 } }), {
      ok: true,
      result: { payload: 7, from: 'counter:1', at: 'arena:2' },
    });
    assert.deepEqual(await call(c, { to: 'counter:1', message: 'relay', payload: { to: 'counter:2', message: 'whoami' } }), {
      ok: true,
      result: { id: 'counter:2', type: 'counter', from: 'counter:1' },
    });
  } finally {
    await c.gw.close();
    await c.engine.close();
  }
  // A new engine on the same store: the service comes back with its saved state (terminate ran before the save).
  const next = new Engine({ engineId: 'engine-v', clusterSecret: SECRET, gameModule: GAME, store: c.store, coordinator: c.coordinator, workers: 1, persistIntervalMs: 200, workerLogLevel: 'silent' });
  await next.start();
  try {
    await c.coordinator.placement.ensure('arena:1');
    const { FakeGateway } = await import('./helpers.js');
    const gw = new FakeGateway(Number(next.address.split(':')[1]));
    await gw.start();
    try {
      await gw.join(1, 'ann');
      const out = (await gw.request(1, 'callScene', { to: 'counter:1', message: 'state' })).body as Outcome;
      assert.deepEqual(out, { ok: true, result: { n: 8, log: ['started', 'terminated', 'started'] } });
    } finally {
      await gw.close();
    }
  } finally {
    await next.close();
    await c.leader.close();
    await c.store.close();
    await c.coordinator.close();
  }
});

test('a service takes one message at a time, in arrival order, even with async handlers', async () => {
  const c = await startCluster(dir, 'svc-serial', { workers: 1 });
  try {
    await c.gw.join(1, 'bo');
    // Three calls sent at once; each handler awaits. They run one after the other, in order.
    const ids = ['a', 'b', 'c'].map((item, i) => c.gw.send(1, 'callScene', { to: 'counter:1', message: 'slowAppend', payload: { item, ms: 60 - i * 20 } }));
    const answers = await Promise.all(
      ids.map(async (requestId) => {
        const m = await c.gw.waitFor((x) => x.type === EngineToGateway.TO_CLIENT && x.channel === 1 && readFrameHeader(x.body)?.requestId === requestId && readFrameHeader(x.body)?.kind !== FrameKind.PUSH);
        return decodeAnswer(m.body).body;
      }),
    );
    assert.deepEqual(answers, [
      { ok: true, result: 3 },
      { ok: true, result: 5 },
      { ok: true, result: 7 },
    ]);
    assert.deepEqual((await state(c)).log, ['started', 'start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  } finally {
    await c.close();
  }
});

test('a throwing handler answers its caller with an error and the service goes on; a crash restarts it from its last save', async () => {
  // One scene a worker: the service's crash does not take the caller's thread with it.
  const c = await startCluster(dir, 'svc-errors', { workers: 2, scenesPerWorker: 1 });
  try {
    await c.gw.join(1, 'cy');
    assert.deepEqual(await call(c, { to: 'counter:1', message: 'add', payload: { by: 2 } }), { ok: true, result: { n: 2 } });
    assert.deepEqual(await call(c, { to: 'counter:1', message: 'refuse' }), { ok: false, code: 'GAME_ERR_NOPE' });
    assert.deepEqual(await call(c, { to: 'counter:1', message: 'boom' }), { ok: false, code: ErrorCodes.ENG_ERR_HANDLER_FAILED });
    assert.deepEqual(await call(c, { to: 'counter:1', message: 'nosuch' }), { ok: false, code: ErrorCodes.ENG_ERR_NO_HANDLER });
    assert.deepEqual(await call(c, { to: 'counter:1', message: 'add', payload: { by: 1 } }), { ok: true, result: { n: 3 } });
    // Saved (the periodic save), then crashed: back from the save, answering again.
    await waitFor(async () => JSON.stringify((await c.store.loadScene('counter:1'))?.data ?? null).includes('"n":3'), { timeoutMs: 5000, message: 'the saved state' });
    assert.deepEqual(await call(c, { to: 'counter:1', message: 'crashSoon', timeoutMs: 20_000 }), { ok: false, code: ErrorCodes.ENG_ERR_SCENE_MOVED });
    const back = await waitFor(
      async () => {
        const out = await call(c, { to: 'counter:1', message: 'state' });
        return out.ok ? (out.result as CounterState) : undefined;
      },
      { timeoutMs: 10_000, message: 'counter:1 back after its crash' },
    );
    assert.equal(back.n, 3);
    assert.deepEqual(back.log, ['started', 'started'], 'restarted (onStart again), from the last save');
  } finally {
    await c.close();
  }
});

test('players cannot enter a service', async () => {
  const c = await startCluster(dir, 'svc-join', { workers: 1 });
  try {
    await c.coordinator.placement.ensure('counter:1');
    c.gw.link.send(GatewayToEngine.JOIN, 2, encodeJoinBody({ playerId: 'dee', name: 'dee', sceneId: 'counter:1' }));
    const failed = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 2);
    assert.equal(decodeJoinFailedBody(failed.body).code, ErrorCodes.ENG_ERR_SCENE_TYPE_UNKNOWN);
    // The service itself is fine.
    await c.gw.join(1, 'eve');
    assert.deepEqual(await call(c, { to: 'counter:1', message: 'add', payload: { by: 1 } }), { ok: true, result: { n: 1 } });
  } finally {
    await c.close();
  }
});

test('a service stopping finishes the handler at work before terminate, and answers what waited (retryable); a call that waited past its timeout is dropped', async () => {
  const c = await startCluster(dir, 'svc-stop', { workers: 1 });
  try {
    await c.gw.join(1, 'fay');
    assert.deepEqual(await call(c, { to: 'counter:1', message: 'add', payload: { by: 1 } }), { ok: true, result: { n: 1 } });
    // A call that waits behind a slow one longer than its own timeout: its caller is told so, and it never runs.
    const slow = c.gw.send(1, 'callScene', { to: 'counter:1', message: 'slowAppend', payload: { item: 'x', ms: 400 } });
    assert.deepEqual(await call(c, { to: 'counter:1', message: 'add', payload: { by: 100 }, timeoutMs: 100 }), { ok: false, code: ErrorCodes.ENG_ERR_CALL_TIMEOUT });
    await c.gw.waitFor((m) => m.type === EngineToGateway.TO_CLIENT && readFrameHeader(m.body)?.requestId === slow);
    assert.equal((await state(c)).n, 1, 'the expired call did not run');

    // Another slow call, two more behind it, then the service is released (it stops).
    const started = c.gw.send(1, 'callScene', { to: 'counter:1', message: 'slowAppend', payload: { item: 'y', ms: 300 } });
    const queued = [c.gw.send(1, 'callScene', { to: 'counter:1', message: 'add', payload: { by: 10 } }), c.gw.send(1, 'callScene', { to: 'counter:1', message: 'add', payload: { by: 10 } })];
    // All three delivered to the service (waiting for their answers): then it is released.
    await waitFor(() => c.engine.callsPending.waiting >= 3, { timeoutMs: 5000, message: 'three calls in the service' });
    const placed = c.coordinator.placement.lookup('counter:1')!;
    await c.coordinator.placement.release('counter:1', placed.epoch);
    const answerOf = async (requestId: number): Promise<unknown> => {
      const m = await c.gw.waitFor((x) => x.type === EngineToGateway.TO_CLIENT && x.channel === 1 && readFrameHeader(x.body)?.requestId === requestId && readFrameHeader(x.body)?.kind !== FrameKind.PUSH);
      return decodeAnswer(m.body).body;
    };
    const answers = await Promise.all([started, ...queued].map(answerOf));
    // The handler at work finished before the stop (its answer may not reach the caller: the
    // scene's answers stop with it); the two behind it never ran and were told to retry.
    assert.deepEqual(answers.slice(1), [
      { ok: false, code: ErrorCodes.ENG_ERR_SCENE_MOVED },
      { ok: false, code: ErrorCodes.ENG_ERR_SCENE_MOVED },
    ]);
    const saved = await waitFor(async () => {
      const data = (await c.store.loadScene('counter:1'))?.data as CounterState | undefined;
      return data?.log.includes('terminated') === true ? data : undefined;
    }, { timeoutMs: 5000, message: 'the final save' });
    assert.equal(saved.n, 1, 'nothing queued ran');
    assert.deepEqual(saved.log.slice(-3), ['start y', 'end y', 'terminated'], 'the handler at work finished before terminate');
  } finally {
    await c.close();
  }
});

test('a service calls another service and waits for its answer, on its engine and across engines; its casts arrive in order', async () => {
  const c = await startCluster(dir, 'svc-to-svc', { workers: 1, engine: { gameModule: SERVICES_GAME } });
  const other = new Engine({ engineId: 'engine-u', clusterSecret: SECRET, gameModule: SERVICES_GAME, store: c.store, coordinator: c.coordinator, workers: 1, persistIntervalMs: 200, workerLogLevel: 'silent' });
  await other.start();
  try {
    await c.gw.join(1, 'gus');
    // The caller and one callee on engine-t, another callee on engine-u.
    await c.coordinator.placement.assign('desk:1', 'engine-t');
    await c.coordinator.placement.assign('ledger:near', 'engine-t');
    await c.coordinator.placement.assign('ledger:far', 'engine-u');
    await c.coordinator.placement.assign('ledger:stuck', 'engine-u');
    const ask = async (req: { to: string; message: string; payload?: unknown; timeoutMs?: number }): Promise<unknown> => {
      const out = await call(c, { to: 'desk:1', message: 'ask', payload: req });
      assert.equal(out.ok, true, JSON.stringify(out));
      return (out as { result: unknown }).result;
    };
    // desk:1 calls, waits, gets the answer (the callee saw desk:1 as its caller) and keeps it.
    assert.deepEqual(await ask({ to: 'ledger:near', message: 'add', payload: { n: 5 } }), { ok: true, answer: { total: 5, from: 'desk:1', at: 'ledger:near' }, kept: 1 });
    assert.deepEqual(await ask({ to: 'ledger:far', message: 'add', payload: { n: 7 } }), { ok: true, answer: { total: 7, from: 'desk:1', at: 'ledger:far' }, kept: 2 });
    assert.equal(c.coordinator.placement.lookup('ledger:far')?.engineId, 'engine-u');
    // The callee's failures reach the calling service as coded errors; the caller goes on.
    assert.deepEqual(await ask({ to: 'ledger:far', message: 'refuse' }), { ok: false, code: 'GAME_ERR_LEDGER_CLOSED' });
    assert.deepEqual(await ask({ to: 'ledger:far', message: 'nosuch' }), { ok: false, code: ErrorCodes.ENG_ERR_NO_HANDLER });
    assert.deepEqual(await ask({ to: 'ledger:stuck', message: 'silent', timeoutMs: 300 }), { ok: false, code: ErrorCodes.ENG_ERR_CALL_TIMEOUT });
    assert.deepEqual(await ask({ to: 'ledger:far', message: 'add', payload: { n: 1 } }), { ok: true, answer: { total: 8, from: 'desk:1', at: 'ledger:far' }, kept: 3 });
    // A cycle: ledger:near, called by desk:1, calls desk:1 back. desk:1 is still in its handler, so
    // the call back waits behind it and times out; desk:1 then gets ledger:near's answer.
    assert.deepEqual(await ask({ to: 'ledger:near', message: 'callBack', payload: { to: 'desk:1', timeoutMs: 300 }, timeoutMs: 3000 }), {
      ok: true,
      answer: { ok: false, code: ErrorCodes.ENG_ERR_CALL_TIMEOUT },
      kept: 4,
    });

    // Casts from desk:1 to the ledger on the other engine: all of them, in the order sent, from desk:1.
    assert.deepEqual(await call(c, { to: 'desk:1', message: 'tell', payload: { to: 'ledger:far', count: 100 } }), { ok: true, result: { sent: 100 } });
    const entries = await waitFor(
      async () => {
        const out = await call(c, { to: 'ledger:far', message: 'state' });
        const s = out.ok ? (out.result as { entries: Array<{ n: number; from: string }> }) : undefined;
        return s !== undefined && s.entries.length >= 100 ? s.entries : undefined;
      },
      { timeoutMs: 5000, message: 'the 100 casts in ledger:far' },
    );
    assert.deepEqual(entries, Array.from({ length: 100 }, (_, i) => ({ n: i + 1, from: 'desk:1' })));

    // Casts to desk:1 whose handler calls ledger:far and waits: one at a time, each with its answer.
    await c.gw.request(1, 'castScene', { to: 'desk:1', message: 'forward', count: 2, wrap: true });
    const answers = await waitFor(
      async () => {
        const out = await call(c, { to: 'desk:1', message: 'state' });
        const s = out.ok ? (out.result as { answers: unknown[] }) : undefined;
        return s !== undefined && s.answers.length >= 6 ? s.answers : undefined;
      },
      { timeoutMs: 5000, message: 'the two forwarded calls answered' },
    );
    assert.deepEqual(answers.slice(4), [
      { total: 9, from: 'desk:1', at: 'ledger:far' },
      { total: 11, from: 'desk:1', at: 'ledger:far' },
    ]);
    // Nothing left waiting (the timed-out call's way back is kept a grace second past its timeout).
    await waitFor(() => JSON.stringify(c.engine.callsPending) === JSON.stringify({ waiting: 0, queues: 0, pushes: 0 }), { timeoutMs: 5000, message: 'no call left waiting on engine-t' });
  } finally {
    await other.close();
    await c.close();
  }
});
