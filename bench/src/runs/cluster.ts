/**
 * The scenarios on a real cluster of processes of this framework, other than failover: travel
 * (players hop between scenes on two engines), migrate (one scene moved live, again and
 * again) and the scaling scenarios (engine-drain, rolling-restart, scale-out). Each starts a
 * fresh cluster per client count, on etcd, Redis and MariaDB.
 */
import { MIGRATE_INPUTS_PER_SECOND, MIGRATE_TICK_MS, runMigrate, type MigrateResultsFile } from '../migrate.js';
import { machine } from '../report/results.js';
import { runScaling, type ScalingResultsFile, type ScalingScenario } from '../scaling.js';
import { runTravel, type TravelResultsFile } from '../travel.js';
import { keep, print, progressLine, type BenchContext } from './context.js';

/** Run travel for every client count (two phases each: hops within an engine and across), then write its results. */
export async function benchTravel(ctx: BenchContext): Promise<void> {
  const { session, services, clientCounts, warmupSeconds, steadySeconds, hopEveryMs, sceneCount, connectPerSecond, pin } = ctx;
  const runs: TravelResultsFile['runs'][number][] = [];
  try {
    const etcd = await session.etcd();
    for (const [done, clients] of clientCounts.entries()) {
      const left = (clientCounts.length - done) * (15 + warmupSeconds + 2 * steadySeconds + clients / connectPerSecond);
      const rows = await runTravel({
        clients,
        warmupSeconds,
        steadySeconds,
        hopEveryMs,
        inputsPerSecond: 10,
        scenes: sceneCount,
        connectPerSecond,
        pin,
        etcdUrl: etcd.url,
        redisUrl: services.redisUrl,
        mysqlUrl: services.mysqlUrl,
        onProgress: progressLine(done, clientCounts.length, left),
        onAbortable: session.onAbortable,
      });
      for (const row of rows) keep(runs, row);
    }
  } finally {
    await session.cleanup();
  }
  const file: TravelResultsFile = {
    scenario: 'travel',
    date: new Date().toISOString(),
    machine: machine(pin),
    settings: { warmupSeconds, steadySeconds, command: ctx.command, hopEveryMs, inputsPerSecond: 10, scenes: sceneCount },
    runs,
  };
  await session.write(file);
  for (const r of runs) {
    print(`bench: ${r.scope} N=${r.clients}: ${r.travels} travels (${r.failedTravels} failed), p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms, inputs lost ${r.lostInputs} duplicated ${r.duplicatedInputs} of ${r.inputs}`);
  }
}

/** Run migrate for every player count, then write its results and one summary line a run. */
export async function benchMigrate(ctx: BenchContext): Promise<void> {
  const { session, services, clientCounts, warmupSeconds, moves, moveEveryMs, connectPerSecond, pin } = ctx;
  const runs: MigrateResultsFile['runs'][number][] = [];
  try {
    const etcd = await session.etcd();
    for (const [done, players] of clientCounts.entries()) {
      const left = (clientCounts.length - done) * (15 + warmupSeconds + (moves * moveEveryMs) / 1000 + players / connectPerSecond);
      const common = { warmupSeconds, moves, moveEveryMs, connectPerSecond, pin, etcdUrl: etcd.url, redisUrl: services.redisUrl, mysqlUrl: services.mysqlUrl };
      keep(runs, await runMigrate({ ...common, players, onProgress: progressLine(done, clientCounts.length, left), onAbortable: session.onAbortable }));
    }
  } finally {
    await session.cleanup();
  }
  const settings = { warmupSeconds, command: ctx.command, moves, moveEveryMs, inputsPerSecond: MIGRATE_INPUTS_PER_SECOND, tickMs: MIGRATE_TICK_MS };
  await session.write({ scenario: 'migrate', date: new Date().toISOString(), machine: machine(pin), settings, runs });
  for (const r of runs) {
    print(`bench: ${r.playersPerScene} players: ${r.moves} moves (frozen p50 ${r.frozenP50Ms} ms), stall p99 ${r.stallP99Ms} ms max ${r.stallMaxMs} ms, ${r.disconnects} disconnects, ${r.errors} errors, inputs lost ${r.lostInputs} duplicated ${r.duplicatedInputs} of ${r.inputs}`);
  }
}

/** Run one scaling scenario for every player count, then write its results and one summary line a run. */
export async function benchScaling(ctx: BenchContext, which: ScalingScenario): Promise<void> {
  const { session, services, clientCounts, sceneCount, warmupSeconds, balanceWindowSeconds, connectPerSecond, pin } = ctx;
  const runs: ScalingResultsFile['runs'][number][] = [];
  try {
    const etcd = await session.etcd();
    for (const [done, players] of clientCounts.entries()) {
      const left = (clientCounts.length - done) * (40 + warmupSeconds + (which === 'scale-out' ? balanceWindowSeconds : 30) + players / connectPerSecond);
      const common = { scenario: which, scenes: sceneCount, warmupSeconds, balanceWindowSeconds, connectPerSecond, pin, etcdUrl: etcd.url, redisUrl: services.redisUrl, mysqlUrl: services.mysqlUrl };
      keep(runs, await runScaling({ ...common, players, onProgress: progressLine(done, clientCounts.length, left), onAbortable: session.onAbortable }));
    }
  } finally {
    await session.cleanup();
  }
  const settings = {
    warmupSeconds,
    command: ctx.command,
    inputsPerSecond: MIGRATE_INPUTS_PER_SECOND,
    tickMs: MIGRATE_TICK_MS,
    ...(which === 'scale-out' ? { balanceWindowSeconds } : {}),
  };
  await session.write({ scenario: which, date: new Date().toISOString(), machine: machine(pin), settings, runs });
  for (const r of runs) {
    const balance = r.secondsToBalance === undefined ? '' : `, balanced after ${r.secondsToBalance ?? 'never'} s (largest deviation ${r.maxDeviationPct} %)`;
    print(`bench: ${which} ${r.players} players in ${r.scenes} scenes: ${r.movedScenes} scenes moved${balance}, stall p99 ${r.stallP99Ms} ms max ${r.stallMaxMs} ms, ${r.disconnects} disconnects, ${r.errors} errors, inputs lost ${r.lostInputs} duplicated ${r.duplicatedInputs} of ${r.inputs}`);
  }
}
