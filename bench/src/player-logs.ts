/**
 * The player-logs scenario (issue 15): does appending player-log events cost a scene tick time,
 * and how many a second does the engine write to the store? One engine in this process (one
 * worker thread, the real store: MariaDB), a `ticker` scene (fixed work per tick, 20 Hz, as in
 * the timers scenario). Its ticks are measured with no logging (baseline), then, for each rate,
 * while it appends that many events a second (`scene.logFor`, spread over its ticks); the
 * events the store received in the phase are counted in MariaDB, and the engine's queue and
 * drops are read from its metrics.
 */
import { CoordinatorNode, MemoryCoordinator } from '@gos/coordinator';
import { Engine } from '@gos/engine';
import { createStore, type Store } from '@gos/store';
import mysql from 'mysql2/promise';
import { Registry } from 'prom-client';
import { fileURLToPath } from 'node:url';
import type { Machine } from './report/results.js';
import { TickerLink, summarize } from './ticker-link.js';

const GAME_MODULE = fileURLToPath(new URL('./targets/project/game.js', import.meta.url));
const SECRET = 'bench-player-logs-secret-0123456789';
const TICKS_PER_SECOND = 20;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface PlayerLogsRow {
  /** Events appended a second (0: the baseline). */
  readonly eventsPerSec: number;
  /** Events the store received a second during the phase. */
  readonly writtenPerSec: number;
  readonly tickP50Ms: number;
  readonly tickP99Ms: number;
  readonly ticks: number;
  /** Most events waiting for the store, sampled every 250 ms. */
  readonly queuedMax: number;
  /** Events dropped (the queue past its bound) during the phase. */
  readonly dropped: number;
}

export interface PlayerLogsResultsFile {
  readonly scenario: 'player-logs';
  readonly date: string;
  readonly machine: Machine;
  readonly settings: { readonly warmupSeconds: number; readonly steadySeconds: number; readonly command: string; readonly tickMs: number; readonly store: string; readonly flushMs: number };
  readonly runs: readonly PlayerLogsRow[];
}

export interface PlayerLogsOptions {
  readonly rates: readonly number[];
  readonly warmupSeconds: number;
  readonly steadySeconds: number;
  readonly mysqlUrl: string;
  readonly onProgress?: (line: string) => void;
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, want]) => x.labels[k] === want));
  return typeof v?.value === 'number' ? v.value : 0;
}

export async function runPlayerLogs(o: PlayerLogsOptions): Promise<PlayerLogsRow[]> {
  const store: Store = createStore({ kind: 'mysql', url: o.mysqlUrl, autoMigrate: true });
  await store.start();
  const sql = await mysql.createConnection(o.mysqlUrl);
  const coordinator = new MemoryCoordinator();
  const leader = new CoordinatorNode({ id: 'bench-coordinator', coordinator });
  await leader.start();
  const registry = new Registry();
  const flushMs = 500;
  const engine = new Engine({ engineId: 'bench-logs-engine', clusterSecret: SECRET, gameModule: GAME_MODULE, store, coordinator, workers: 1, metrics: registry, playerLogs: { flushMs }, workerLogLevel: 'warn' });
  const link = new TickerLink();
  const sceneId = `ticker:logs-${Date.now().toString(36)}`;
  const rows: PlayerLogsRow[] = [];
  const count = async (): Promise<number> => {
    const [r] = await sql.query('SELECT COUNT(*) AS n FROM player_logs WHERE scene_id = ?', [sceneId]);
    return Number((r as Array<{ n: number | string }>)[0]?.n ?? 0);
  };
  try {
    await engine.start();
    // The ticker has no players: started the way a due durable timer starts a scene that runs nowhere.
    const claim = await store.claimScene(sceneId);
    await store.saveBatch([{ kind: 'scene', id: sceneId, data: null, expectedVersion: 0, fence: claim.fence, timers: { set: [{ name: 'start', dueAt: Date.now(), id: `start-${sceneId}`, payload: 'null' }], delete: [] } }]);
    const started = Date.now();
    for (;;) {
      try {
        await link.ask({ type: 'report', sceneId }, 'report', 1000);
        break;
      } catch (err) {
        if (Date.now() - started > 30_000) throw err;
      }
    }
    for (const rate of [0, ...o.rates]) {
      const perTick = Math.round(rate / TICKS_PER_SECOND);
      link.send({ type: 'log', sceneId, perTick });
      o.onProgress?.(`${rate} events/s: warm-up ${o.warmupSeconds} s`);
      await sleep(o.warmupSeconds * 1000);
      const before = await count();
      const droppedBefore = await metric(registry, 'gos_player_log_events_total', { result: 'dropped' });
      link.send({ type: 'measure', sceneId });
      let queuedMax = 0;
      const t0 = Date.now();
      while (Date.now() - t0 < o.steadySeconds * 1000) {
        await sleep(250);
        queuedMax = Math.max(queuedMax, await metric(registry, 'gos_player_log_events_queued'));
      }
      const report = await link.ask({ type: 'report', sceneId }, 'report');
      const seconds = (Date.now() - t0) / 1000;
      const written = (await count()) - before;
      const t = summarize(report.tickMs);
      rows.push({ eventsPerSec: perTick * TICKS_PER_SECOND, writtenPerSec: Math.round(written / seconds), tickP50Ms: t.p50Ms, tickP99Ms: t.p99Ms, ticks: t.count, queuedMax, dropped: (await metric(registry, 'gos_player_log_events_total', { result: 'dropped' })) - droppedBefore });
      o.onProgress?.(`${rate} events/s: tick p99 ${t.p99Ms} ms, ${Math.round(written / seconds)} written/s, queue up to ${queuedMax}`);
    }
    link.send({ type: 'log', sceneId, perTick: 0 });
  } finally {
    link.close();
    await engine.close().catch(() => {});
    await sql.query('DELETE FROM player_logs WHERE scene_id = ?', [sceneId]).catch(() => {});
    await sql.query('DELETE FROM scenes WHERE id = ?', [sceneId]).catch(() => {});
    await sql.query('DELETE FROM timers WHERE owner_id = ?', [sceneId]).catch(() => {});
    await sql.end();
    await leader.close();
    await coordinator.close();
    await store.close();
  }
  return rows;
}
