/**
 * The timers scenario (issue 12): does a large number of pending durable timers cost a scene
 * tick time? One engine runs in this process (real worker threads, the real store: MariaDB),
 * with a coordinator in memory. For each count N, a `ticker:<N>` scene (ticker.ts: fixed work
 * per tick at 20 Hz) is started the way a due timer starts a scene that runs nowhere (the
 * engine's TimerWaker), then:
 *
 * 1. baseline: its ticks are measured with no timer pending;
 * 2. it schedules N durable timers due from 10 s on, spread over N / firesPerSecond seconds
 *    (so they fire at that rate), waits until the store has them all, and its ticks and the
 *    firings' lateness (due time → onTimer) are measured with ~N pending.
 *
 * Tick time is how long after its due time a tick finished: the delay before it started (other
 * work on the thread: firings, saves) plus its own work.
 */
import { CoordinatorNode, MemoryCoordinator } from '@gos/coordinator';
import { Engine } from '@gos/engine';
import { MAX_TIMER_CHANGES, createStore, type Store } from '@gos/store';
import { fileURLToPath } from 'node:url';
import type { Machine } from './report/results.js';
import { round } from './stats.js';
import { TickerLink, summarize } from './ticker-link.js';

const GAME_MODULE = fileURLToPath(new URL('./targets/project/game.js', import.meta.url));

export interface TimersRow {
  /** Timers pending in the scene during the measured phase (at its start). */
  readonly pendingTimers: number;
  /** Tick time p99 with the timers pending. */
  readonly tickP99Ms: number;
  readonly tickP50Ms: number;
  /** The same scene's tick time p99 before any timer was scheduled, same run. */
  readonly baselineTickP99Ms: number;
  readonly baselineTickP50Ms: number;
  /** Due time → onTimer, p99, over the timers that fired in the measured phase. */
  readonly lateP99Ms: number;
  readonly lateP50Ms: number;
  readonly firings: number;
  /** Ticks measured in each phase. */
  readonly ticks: number;
  readonly baselineTicks: number;
  /** How long the scene took to schedule the N timers (once, before the measured phase). */
  readonly scheduleMs: number;
  /** From scheduling to the store holding all N (the owner's save of them). */
  readonly savedAfterMs: number;
}

export interface TimersResultsFile {
  readonly scenario: 'timers';
  readonly date: string;
  readonly machine: Machine;
  readonly settings: {
    readonly warmupSeconds: number;
    readonly steadySeconds: number;
    readonly command: string;
    readonly firesPerSecond: number;
    readonly tickMs: number;
    readonly store: string;
    readonly persistIntervalMs: number;
  };
  readonly runs: readonly TimersRow[];
}

export interface TimersOptions {
  readonly counts: readonly number[];
  readonly warmupSeconds: number;
  readonly steadySeconds: number;
  readonly firesPerSecond: number;
  readonly mysqlUrl: string;
  readonly persistIntervalMs: number;
  readonly onProgress?: (line: string) => void;
  readonly onAbortable?: (abort: (() => Promise<void>) | null) => void;
}

const SECRET = 'bench-timers-secret-0123456789';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runTimers(o: TimersOptions): Promise<TimersRow[]> {
  const store: Store = createStore({ kind: 'mysql', url: o.mysqlUrl, autoMigrate: true });
  await store.start();
  const coordinator = new MemoryCoordinator();
  const leader = new CoordinatorNode({ id: 'bench-coordinator', coordinator });
  await leader.start();
  const engine = new Engine({
    engineId: 'bench-timers-engine',
    clusterSecret: SECRET,
    gameModule: GAME_MODULE,
    store,
    coordinator,
    workers: 1,
    persistIntervalMs: o.persistIntervalMs,
    timerScanIntervalMs: 250,
    workerLogLevel: 'warn',
  });
  const link = new TickerLink();
  const owners: string[] = [];
  const abort = async (): Promise<void> => {
    link.close();
    await engine.close().catch(() => {});
    // Nothing of the run stays due in the store (another engine on it would start the tickers).
    for (const owner of owners) await clearTimers(store, owner).catch(() => {});
    await leader.close();
    await coordinator.close();
    await store.close();
  };
  o.onAbortable?.(abort);
  const rows: TimersRow[] = [];
  try {
    await engine.start();
    const runId = Date.now().toString(36);
    for (const count of o.counts) {
      const sceneId = `ticker:${runId}-${count}`;
      owners.push(sceneId);
      // Started as a scene that runs nowhere is started for its due timer: a row with one timer due now.
      const claim = await store.claimScene(sceneId);
      await store.saveBatch([{ kind: 'scene', id: sceneId, data: null, expectedVersion: 0, fence: claim.fence, timers: { set: [{ name: 'start', dueAt: Date.now(), id: `start-${runId}`, payload: 'null' }], delete: [] } }]);
      o.onProgress?.(`${sceneId}: starting`);
      // The scene answers once it runs (a report of its figures so far).
      const started = Date.now();
      for (;;) {
        try {
          await link.ask({ type: 'report', sceneId }, 'report', 1000);
          break;
        } catch (err) {
          if (Date.now() - started > 30_000) throw err;
        }
      }
      o.onProgress?.(`${sceneId}: warm-up ${o.warmupSeconds} s, baseline ${o.steadySeconds} s`);
      await sleep(o.warmupSeconds * 1000);
      link.send({ type: 'measure', sceneId });
      await sleep(o.steadySeconds * 1000);
      const base = await link.ask({ type: 'report', sceneId }, 'report');
      // N timers due from 10 s on (and the first save of them), at firesPerSecond.
      o.onProgress?.(`${sceneId}: scheduling ${count} timers`);
      const spreadMs = Math.max(1000, Math.round((count / o.firesPerSecond) * 1000));
      const scheduledAt = Date.now();
      const sch = await link.ask({ type: 'schedule', sceneId, count, fromMs: 10_000, spreadMs }, 'scheduled');
      // Saved: the store has them all (the first of them are not due yet).
      for (;;) {
        const saved = (await store.loadTimers(sceneId)).length;
        if (saved >= count) break;
        if (Date.now() - scheduledAt > 120_000) throw new Error(`only ${saved} of ${count} timers saved after 120 s`);
        await sleep(1000);
      }
      const savedAfterMs = Date.now() - scheduledAt;
      // Measure while they fire: from the first due time on.
      await sleep(Math.max(0, scheduledAt + 10_000 - Date.now()));
      o.onProgress?.(`${sceneId}: ${count} pending, measuring ${o.steadySeconds} s`);
      link.send({ type: 'measure', sceneId });
      await sleep(o.steadySeconds * 1000);
      const loaded = await link.ask({ type: 'report', sceneId }, 'report');
      const b = summarize(base.tickMs);
      const t = summarize(loaded.tickMs);
      const late = summarize(loaded.lateMs);
      rows.push({
        pendingTimers: count,
        tickP99Ms: t.p99Ms,
        tickP50Ms: t.p50Ms,
        baselineTickP99Ms: b.p99Ms,
        baselineTickP50Ms: b.p50Ms,
        lateP99Ms: late.p99Ms,
        lateP50Ms: late.p50Ms,
        firings: late.count,
        ticks: t.count,
        baselineTicks: b.count,
        scheduleMs: round(sch.ms),
        savedAfterMs,
      });
      o.onProgress?.(`${sceneId}: done (${loaded.pending} still pending, removed at the end)`);
    }
  } finally {
    await abort();
    o.onAbortable?.(null);
  }
  return rows;
}

/** Remove every timer of `owner` from the store (its engine is closed: the claim fences nobody). */
async function clearTimers(store: Store, owner: string): Promise<void> {
  const names = (await store.loadTimers(owner)).map((t) => t.name);
  const { fence } = await store.claimScene(owner);
  let version = (await store.loadScene(owner))?.version ?? 0;
  for (let i = 0; i < names.length || i === 0; i += MAX_TIMER_CHANGES) {
    const [result] = await store.saveBatch([{ kind: 'scene', id: owner, data: null, expectedVersion: version, fence, timers: { set: [], delete: names.slice(i, i + MAX_TIMER_CHANGES) } }]);
    if (result === undefined || !result.ok) throw new Error(`cannot clear the timers of ${owner}`);
    version = result.version;
  }
}
