/**
 * The failover scenarios' runs (engine-kill, leader-kill): --repeats fresh clusters of
 * processes for each client count, one member SIGKILLed in each ({@link runFailover}).
 */
import { runFailover, type FailoverRow } from '../failover/run.js';
import type { FailoverScenario } from '../loadgen/failover.js';
import { engineKillSummary, leaderKillSummary } from '../report/failover.js';
import { machine, type FailoverResultsFile } from '../report/results.js';
import { keep, print, progressLine, type BenchContext } from './context.js';

/** The failover cluster: three coordinators, two engines, two gateways (one scene each). */
const FAILOVER_CLUSTER = { coordinators: 3, engines: 2, gateways: 2 } as const;

/** Run `scenario` --repeats times for every client count, then write its results and a summary a client count. */
export async function benchFailover(ctx: BenchContext, scenario: FailoverScenario): Promise<void> {
  const { session, services, clientCounts, repeats, warmupSeconds, steadySeconds, connectPerSecond, leaseTtlSeconds, persistIntervalMs, pin } = ctx;
  const runs: FailoverRow[] = [];
  try {
    const etcd = await session.etcd();
    const total = clientCounts.length * repeats;
    // Cluster start and stop, ramp, warm-up and window.
    const perRun = 15 + warmupSeconds + steadySeconds;
    let done = 0;
    for (const clients of clientCounts) {
      for (let repeat = 1; repeat <= repeats; repeat++) {
        const left = (total - done) * (perRun + clients / connectPerSecond);
        const row = await runFailover({
          scenario,
          clients,
          repeat,
          warmupSeconds,
          steadySeconds,
          connectPerSecond,
          leaseTtlSeconds,
          persistIntervalMs,
          pin,
          etcdUrl: etcd.url,
          redisUrl: services.redisUrl,
          mysqlUrl: services.mysqlUrl,
          onProgress: progressLine(done, total, left),
          onAbortable: session.onAbortable,
        });
        done++;
        keep(runs, row);
      }
    }
  } finally {
    await session.cleanup();
  }

  const file: FailoverResultsFile = {
    scenario,
    date: new Date().toISOString(),
    machine: machine(pin),
    settings: {
      warmupSeconds,
      steadySeconds,
      command: ctx.command,
      repeats,
      ...FAILOVER_CLUSTER,
      leaseTtlSeconds,
      persistIntervalMs,
      connectPerSecond,
    },
    runs,
  };
  await session.write(file);
  if (scenario === 'engine-kill') {
    for (const s of engineKillSummary(runs)) {
      print(`bench: N=${s.clients}: ${s.resumed}/${s.affected} resumed, kill → SceneResumed p50 ${s.resumeP50Ms ?? '–'} ms p99 ${s.resumeP99Ms ?? '–'} ms, acked moves lost ≤ ${s.lostMovesMax} a player, unaffected p99 during ${s.unaffectedDuringP99Ms ?? '–'} ms`);
    }
  } else {
    for (const s of leaderKillSummary(runs)) {
      print(`bench: N=${s.clients}: new leader after ${s.newLeaderMinMs ?? '–'}–${s.newLeaderMaxMs ?? '–'} ms, p99 during ${s.windows.during.p99Ms ?? '–'} ms, errors ${s.windows.before.issues}/${s.windows.during.issues}/${s.windows.after.issues}`);
    }
  }
}
