/**
 * The scenarios measured from this process alone, with no load generator and no server of
 * this framework started as a process: timers and player-logs (one engine in this process, on
 * MariaDB), leaderboard (one board in Redis) and aoi-tick (one scene's replication, no sockets).
 */
import { aoiTickSettings, runAoiTick, type AoiTickResultsFile } from '../aoi-tick.js';
import { runLeaderboard, type LeaderboardResultsFile } from '../leaderboard.js';
import { runPlayerLogs, type PlayerLogsResultsFile } from '../player-logs.js';
import { machine } from '../report/results.js';
import { runTimers, type TimersResultsFile } from '../timers.js';
import { keep, print, progressLine, type BenchContext } from './context.js';

/** Run timers for every --timers count, then write its results and one summary line a count. */
export async function benchTimers(ctx: BenchContext): Promise<void> {
  const { session, services, timerCounts, warmupSeconds, steadySeconds, firesPerSecond, persistIntervalMs } = ctx;
  const runs: TimersResultsFile['runs'][number][] = [];
  try {
    const left = timerCounts.reduce((sum, n) => sum + 20 + warmupSeconds + 2 * steadySeconds + n / 20_000, 0);
    const rows = await runTimers({
      counts: timerCounts,
      warmupSeconds,
      steadySeconds,
      firesPerSecond,
      mysqlUrl: services.mysqlUrl,
      persistIntervalMs,
      onProgress: progressLine(0, 1, left),
      onAbortable: session.onAbortable,
    });
    for (const row of rows) keep(runs, row);
  } finally {
    await session.cleanup();
  }
  const file: TimersResultsFile = {
    scenario: 'timers',
    date: new Date().toISOString(),
    machine: machine(false),
    settings: { warmupSeconds, steadySeconds, command: ctx.command, firesPerSecond, tickMs: 50, store: 'mysql (MariaDB)', persistIntervalMs },
    runs,
  };
  await session.write(file);
  for (const r of runs) {
    print(`bench: ${r.pendingTimers} timers pending: tick p99 ${r.tickP99Ms} ms (baseline ${r.baselineTickP99Ms} ms), fired late p99 ${r.lateP99Ms} ms over ${r.firings} firings`);
  }
}

/** Run leaderboard at every --members size (--seconds per operation), then write its results. */
export async function benchLeaderboard(ctx: BenchContext): Promise<void> {
  const { session, services, memberCounts: sizes, steadySeconds: seconds } = ctx;
  const { fills, runs } = await runLeaderboard({ sizes, seconds, concurrency: [1, 64], fillConcurrency: 256, redisUrl: services.redisUrl, onProgress: (line) => process.stderr.write(`[bench] leaderboard: ${line}\n`) });
  const file: LeaderboardResultsFile = {
    scenario: 'leaderboard',
    date: new Date().toISOString(),
    machine: machine(false),
    settings: { command: ctx.command, warmupSeconds: 1, steadySeconds: seconds, concurrency: [1, 64], fillConcurrency: 256, redis: 'Redis 7 (Debian), on loopback' },
    fills,
    runs,
  };
  await session.write(file);
  for (const r of runs) print(`bench: ${r.members} members, ${r.op} ×${r.concurrency}: p99 ${r.p99Ms} ms, ${r.opsPerSec}/s`);
}

/** Run player-logs at every --rates rate, then write its results. */
export async function benchPlayerLogs(ctx: BenchContext): Promise<void> {
  const { session, services, logRates: rates, warmupSeconds, steadySeconds } = ctx;
  const runs = await runPlayerLogs({ rates, warmupSeconds, steadySeconds, mysqlUrl: services.mysqlUrl, onProgress: (line) => process.stderr.write(`[bench] player-logs: ${line}\n`) });
  const file: PlayerLogsResultsFile = {
    scenario: 'player-logs',
    date: new Date().toISOString(),
    machine: machine(false),
    settings: { warmupSeconds, steadySeconds, command: ctx.command, tickMs: 50, store: 'mysql (MariaDB)', flushMs: 500 },
    runs,
  };
  await session.write(file);
  for (const r of runs) print(`bench: ${r.eventsPerSec} player-log events/s: tick p99 ${r.tickP99Ms} ms, ${r.writtenPerSec} written/s, ${r.dropped} dropped`);
}

/** Run aoi-tick for every viewer count × NPC count (--seconds × 10 ticks), then write its results. */
export async function benchAoiTick(ctx: BenchContext): Promise<void> {
  const { session, clientCounts, npcCounts, warmupSeconds, steadySeconds, cellSize, hysteresis } = ctx;
  const runs: AoiTickResultsFile['runs'][number][] = [];
  for (const viewers of clientCounts) {
    for (const npcs of npcCounts) {
      process.stderr.write(`[bench] aoi-tick: ${npcs + viewers} entities, ${viewers} viewers\n`);
      runs.push(runAoiTick({ npcs, viewers, ticks: steadySeconds * 10, warmupTicks: warmupSeconds * 10, cellSize, hysteresis }));
    }
  }
  const file: AoiTickResultsFile = { scenario: 'aoi-tick', date: new Date().toISOString(), machine: machine(false), settings: aoiTickSettings(ctx.command, warmupSeconds * 10, cellSize, hysteresis), runs };
  await session.write(file);
  for (const r of runs) print(`bench: ${r.entities} entities, ${r.viewers} viewers: replication p50 ${r.replicationP50Ms} ms p99 ${r.replicationP99Ms} ms (mean ${r.replicationMeanMs}), move p50 ${r.moveP50Ms} ms, ${r.bytesPerTick} bytes a tick`);
}
