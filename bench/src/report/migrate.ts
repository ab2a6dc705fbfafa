/**
 * The migrate report (issue 14): one row per scene size with each player's stall against the
 * goals, the moves' frozen time, and the disconnects, errors and inputs lost or applied twice.
 */
import { MIGRATE_SCENE, type MigrateResultsFile } from '../migrate.js';
import { round } from '../stats.js';
import type { ChartPoint } from './failover.js';

/** Goals on this box: p99 of the longest per-player stall (issue 14). */
export function migrateStallGoalMs(playersPerScene: number): number {
  return playersPerScene <= 100 ? 100 : 250;
}

/** The report's table. */
export function migrateMarkdown(file: MigrateResultsFile): string[] {
  const s = file.settings;
  const lines = [
    `One \`${MIGRATE_SCENE}\` scene ticking every ${s.tickMs} ms, its players each sending ${s.inputsPerSecond} numbered inputs a second, moved live between two engines ${s.moves} times, every ${s.moveEveryMs / 1000} s, by \`npm run status -- migrate\`'s call. Stall: each player's longest gap between two ticks minus ${s.tickMs} ms (p99 and max over players). Frozen: how long each move kept the scene stopped on its engine (hold, final save, hand-over), as the engine reports it. Inputs: counted by the scene in the player's data (which moves with it).`,
    '',
    '| players in the scene | moves | frozen p50 ms | frozen max ms | stall p50 ms | stall p99 ms | stall max ms | p99 goal ms | stall p99 of each move ms | disconnects | errors | inputs | lost | duplicated |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|',
  ];
  for (const r of file.runs) {
    const g = migrateStallGoalMs(r.playersPerScene);
    lines.push(
      `| ${r.playersPerScene} | ${r.moves} | ${round(r.frozenP50Ms, 1)} | ${round(r.frozenMaxMs, 1)} | ${round(r.stallP50Ms, 1)} | ${round(r.stallP99Ms, 1)} | ${round(r.stallMaxMs, 1)} | ${g} ${r.stallP99Ms <= g ? '(met)' : '(**not met**)'} | ${r.stallP99ByMoveMs.map((v) => Math.round(v)).join(', ')} | ${r.disconnects} | ${r.errors} | ${r.inputs} | ${r.lostInputs} | ${r.duplicatedInputs} |`,
    );
  }
  return lines;
}

/** Stall p99 and max by scene size, for a bar chart. */
export function migratePoints(file: MigrateResultsFile): ChartPoint[] {
  return file.runs.flatMap((r) => [
    { run: `${r.playersPerScene} players`, series: 'stall p99', value: r.stallP99Ms },
    { run: `${r.playersPerScene} players`, series: 'stall max', value: r.stallMaxMs },
  ]);
}
