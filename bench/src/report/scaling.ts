/**
 * The report of engine-drain, rolling-restart and scale-out (issue 14): one row per run with each
 * player's stall against the goals of `migrate`, and for scale-out the time until the engines
 * were balanced against its 30 s goal.
 */
import { BALANCE_TOLERANCE, type ScalingResultsFile } from '../scaling.js';
import { round } from '../stats.js';
import type { ChartPoint } from './failover.js';
import { migrateStallGoalMs } from './migrate.js';

/** scale-out's goal: every engine within the tolerance of the mean load this soon after the second one starts. */
export const BALANCE_GOAL_SECONDS = 30;

const WHAT: Record<ScalingResultsFile['scenario'], string> = {
  'engine-drain':
    'Every engine of the start is replaced in turn, as an operator replaces machines: a new engine is started, then the old one is drained with `npm run status -- drain`\'s call (it moves each of its scenes live, then stops).',
  'rolling-restart':
    'Every engine is drained and restarted in turn with `npm run cluster -- --rolling-restart engines`\'s call, the engines supervised as `npm run cluster` supervises them (a drained engine that exits is started again).',
  'scale-out': `Every scene starts on one engine with the leader's rebalancing on; a second engine is started and the engines' loads (players against capacity, from their member records) are watched: balanced once every engine stays within ±${BALANCE_TOLERANCE * 100} % of the mean (goal: within ${BALANCE_GOAL_SECONDS} s).`,
};

/** The report's table. */
export function scalingMarkdown(file: ScalingResultsFile): string[] {
  const s = file.settings;
  const scaleOut = file.scenario === 'scale-out';
  const lines = [
    `${WHAT[file.scenario]} The players are spread over \`mig:<n>\` scenes ticking every ${s.tickMs} ms, each player sending ${s.inputsPerSecond} numbered inputs a second${scaleOut && s.balanceWindowSeconds !== undefined ? `; the loads are watched for ${s.balanceWindowSeconds} s` : ''}. Stall: each player's longest gap between two ticks over the whole phase minus ${s.tickMs} ms (p99 and max over players; goal as for \`migrate\`). Inputs: counted by the scenes in the players' data (which moves with them).`,
    '',
    `| players | scenes | players a scene | engines at start | scenes moved | phase s |${scaleOut ? ' balanced after s | largest deviation at the end % |' : ''} stall p50 ms | stall p99 ms | stall max ms | p99 goal ms | disconnects | errors | inputs | lost | duplicated |`,
    `|--:|--:|--:|--:|--:|--:|${scaleOut ? '--:|--:|' : ''}--:|--:|--:|--:|--:|--:|--:|--:|--:|`,
  ];
  for (const r of file.runs) {
    const g = migrateStallGoalMs(r.playersPerScene);
    const balance = scaleOut
      ? ` ${r.secondsToBalance === null || r.secondsToBalance === undefined ? '**never**' : `${r.secondsToBalance}${r.secondsToBalance <= BALANCE_GOAL_SECONDS ? ' (met)' : ' (**not met**)'}`} | ${r.maxDeviationPct ?? '–'} |`
      : '';
    lines.push(
      `| ${r.players} | ${r.scenes} | ${r.playersPerScene} | ${r.engines} | ${r.movedScenes} | ${r.phaseSeconds} |${balance} ${round(r.stallP50Ms, 1)} | ${round(r.stallP99Ms, 1)} | ${round(r.stallMaxMs, 1)} | ${g} ${r.stallP99Ms <= g ? '(met)' : '(**not met**)'} | ${r.disconnects} | ${r.errors} | ${r.inputs} | ${r.lostInputs} | ${r.duplicatedInputs} |`,
    );
  }
  return lines;
}

/** Stall p99 and max by run, for a bar chart. */
export function scalingPoints(file: ScalingResultsFile): ChartPoint[] {
  return file.runs.flatMap((r) => [
    { run: `${r.players} players`, series: 'stall p99', value: r.stallP99Ms },
    { run: `${r.players} players`, series: 'stall max', value: r.stallMaxMs },
  ]);
}
