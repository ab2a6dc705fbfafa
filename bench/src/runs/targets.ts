/**
 * The scenarios run against the targets (mmo-move, idle-ccu, chat-fanout, login-storm,
 * reconnect-storm, mmo-aoi): every target for every client count, one server and one load
 * generator at a time ({@link runOne}); with `--rounds K`, all of that K times over, and each
 * (target, client count) reported by its median round ({@link medianRounds}).
 */
import { aoiRow } from '../aoi.js';
import { IDLE_SETTLE_SECONDS, runOne, type RunRow, type Scenario } from '../orchestrate.js';
import { labelOf, machine, ratios, type ResultsFile } from '../report/results.js';
import { medianRounds } from '../report/rounds.js';
import { AOI_MAP, AOI_VIEW } from '../targets/project/aoi-map.js';
import { keep, print, progressLine, type BenchContext } from './context.js';

/** Run `scenario` for every client count × target (× NPC count × layout for mmo-aoi), then write its results. */
export async function benchTargets(ctx: BenchContext, scenario: Scenario): Promise<void> {
  const { session, targets, clientCounts, npcCounts, layouts, maxClientsUws, warmupSeconds, steadySeconds, connectPerSecond, pin, cellSize, hysteresis, nearRadius, rounds, idleSeconds } = ctx;
  let runs: RunRow[] = [];
  try {
    const etcd = targets.some((t) => t.needsEtcd) ? await session.etcd() : null;
    // Every run, in order: the targets alternate their order per client count and per round, so
    // slow drift (thermal, page cache, neighbours on the host) does not always favour one;
    // mmo-aoi runs this framework once per NPC count, and the bare server up to --max-clients-uws.
    const plan = Array.from({ length: rounds }, (_, round) => round).flatMap((round) =>
      clientCounts.flatMap((clients, i) =>
        targets
          .map((_, k) => targets[(k + i + round) % targets.length]!)
          .flatMap((spec) => (scenario !== 'mmo-aoi' ? [0] : spec.target === 'project' ? npcCounts : spec.name === 'uws' && clients > maxClientsUws ? [] : [npcCounts[0]!]).map((npcs) => ({ clients, spec, npcs })))
          .flatMap((p) => layouts.map((layout) => ({ ...p, layout }))),
      ),
    );
    const perRun = warmupSeconds + steadySeconds + (idleSeconds > 0 ? IDLE_SETTLE_SECONDS + idleSeconds : 0);
    for (const [done, { clients, spec, npcs, layout }] of plan.entries()) {
      const left = plan.slice(done).reduce((sum, p) => sum + perRun + p.clients / connectPerSecond + 3, 0);
      const row = await runOne({
        scenario,
        spec,
        clients,
        warmupSeconds,
        steadySeconds,
        connectPerSecond,
        pin,
        idleSeconds,
        ...(etcd === null ? {} : { etcdUrl: etcd.url }),
        ...(scenario === 'mmo-aoi' ? { serverEnv: { BENCH_AOI_NPCS: String(npcs), BENCH_AOI_CELL: String(cellSize), BENCH_AOI_HYSTERESIS: String(hysteresis), ...(nearRadius === null ? {} : { BENCH_AOI_NEAR: String(nearRadius) }) }, layout } : {}),
        onProgress: progressLine(done, plan.length, left),
        onAbortable: session.onAbortable,
      });
      keep(runs, scenario === 'mmo-aoi' ? { ...row, npcs, layout } : row);
    }
  } finally {
    await session.cleanup();
  }
  if (rounds > 1) runs = medianRounds(runs, (r) => `${labelOf(r)}@${r.clients}@${r.npcs ?? 0}@${r.layout ?? ''}`);

  if (scenario === 'mmo-aoi') {
    await session.write({
      scenario,
      date: new Date().toISOString(),
      machine: machine(pin),
      settings: { warmupSeconds, steadySeconds, command: ctx.command, ...(rounds > 1 ? { rounds } : {}), map: AOI_MAP, viewRadius: AOI_VIEW, cellSize, hysteresis, ...(nearRadius === null ? {} : { nearRadius }) },
      runs: runs.map((r) => aoiRow(r, r.npcs ?? 0, r.layout ?? 'mixed')),
    });
    return;
  }
  const file: ResultsFile = {
    scenario,
    date: new Date().toISOString(),
    machine: machine(pin),
    settings: { warmupSeconds, steadySeconds, command: ctx.command, ...(rounds > 1 ? { rounds } : {}), ...(idleSeconds > 0 ? { idleSeconds } : {}) },
    runs,
  };
  await session.write(file);
  for (const r of scenario === 'mmo-move' ? ratios(runs) : []) {
    print(`bench: N=${r.clients} ${r.project}/${r.versus}: CPU-µs/msg ×${r.cpuUsPerMsg ?? '–'}, p99 ×${r.p99Ms ?? '–'}, RSS ×${r.rssMb ?? '–'}`);
  }
}
