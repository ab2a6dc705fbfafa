/**
 * The soak scenario's runs: each client count on each of this framework's targets for
 * --minutes, its memory sampled after full collections ({@link runSoak}).
 */
import { labelOf, machine } from '../report/results.js';
import { runSoak, SOAK_MAX_GROWTH_PERCENT, type SoakResultsFile, type SoakRow } from '../soak.js';
import { keep, print, progressLine, type BenchContext } from './context.js';

/** Run soak for every client count × target, then write its results and one summary line a run. */
export async function benchSoak(ctx: BenchContext): Promise<void> {
  const { session, targets, clientCounts, soakMinutes, sampleSeconds, churn, hostility, connectPerSecond, pin } = ctx;
  const runs: SoakRow[] = [];
  try {
    const etcd = targets.some((t) => t.needsEtcd) ? await session.etcd() : null;
    const total = clientCounts.length * targets.length;
    let done = 0;
    for (const clients of clientCounts) {
      for (const spec of targets) {
        const left = (total - done) * (soakMinutes * 60 + clients / connectPerSecond + 3);
        const row = await runSoak({
          spec,
          clients,
          minutes: soakMinutes,
          sampleSeconds,
          churn,
          hostile: hostility,
          connectPerSecond,
          pin,
          ...(etcd === null ? {} : { etcdUrl: etcd.url }),
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
  const file: SoakResultsFile = {
    scenario: 'soak',
    date: new Date().toISOString(),
    machine: machine(pin),
    settings: {
      warmupSeconds: 0,
      steadySeconds: Math.round(soakMinutes * 60),
      command: ctx.command,
      sampleSeconds,
      churn,
      ...(hostility === null ? {} : { hostile: hostility }),
      maxGrowthPercent: SOAK_MAX_GROWTH_PERCENT,
    },
    runs,
  };
  await session.write(file);
  for (const r of runs) {
    print(
      `bench: ${labelOf(r)} N=${r.clients}, ${r.minutes} min: RSS ${r.rssStartMb} → ${r.rssEndMb} MB (${r.rssGrowthPercent} %), heap ${r.heapStartMb} → ${r.heapEndMb} MB (${r.heapGrowthPercent} %), ${r.errors} errors, ${r.moves} moves, ${r.resumes} resumes`,
    );
  }
}
