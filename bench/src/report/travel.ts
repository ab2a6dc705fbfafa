/**
 * The travel report: one row per scope (same engine, across engines) with the travel latency
 * against the goals of issue 12 and the inputs lost or applied twice; the chart data.
 */
import type { TravelResultsFile, TravelScope } from '../travel.js';
import type { ChartPoint } from './failover.js';

/** p99 goals on this box (issue 12). */
export const TRAVEL_P99_GOAL_MS: Readonly<Record<TravelScope, number>> = { 'same-engine': 20, 'cross-engine': 60 };

const fmt = (v: number, digits = 1): string => v.toFixed(digits);

export function travelMarkdown(file: TravelResultsFile): string[] {
  const s = file.settings;
  const lines = [
    `Each client hops to another of ${s.scenes} \`hop:<n>\` scenes (spread over two engines) every ${s.hopEveryMs / 1000} s and sends ${s.inputsPerSecond} numbered inputs a second all along, on the same socket; a phase of hops within an engine, then one of hops across engines, ${s.steadySeconds} s each. Latency: the hop request sent → the first push of the new scene. Inputs: counted by the scenes in the player's data (which travels with it); lost and duplicated must be 0.`,
    '',
    '| scope | clients | travels | failed | p50 ms | p99 ms | max ms | p99 goal ms | inputs | lost | duplicated | hop scenes per engine |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const r of file.runs) {
    const goal = TRAVEL_P99_GOAL_MS[r.scope];
    const perEngine = Object.entries(r.scenesPerEngine)
      .map(([engine, n]) => `${engine}: ${n}`)
      .join(', ');
    lines.push(
      `| ${r.scope} | ${r.clients} | ${r.travels} | ${r.failedTravels} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.maxMs)} | ${goal} ${r.p99Ms <= goal ? '(met)' : '(**not met**)'} | ${r.inputs} | ${r.lostInputs} | ${r.duplicatedInputs} | ${perEngine} |`,
    );
  }
  return lines;
}

/** Travel p50 and p99 by scope, for a bar chart. */
export function travelPoints(file: TravelResultsFile): ChartPoint[] {
  return file.runs.flatMap((r) => [
    { run: r.scope, series: 'p50', value: r.p50Ms },
    { run: r.scope, series: 'p99', value: r.p99Ms },
  ]);
}
