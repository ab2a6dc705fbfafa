/**
 * The timers report: per count of pending durable timers, the scene's tick time against the
 * same scene with none (same run), and how late the timers fired.
 */
import type { TimersResultsFile } from '../timers.js';
import type { ChartPoint } from './failover.js';

const fmt = (v: number, digits = 2): string => v.toFixed(digits);

export function timersMarkdown(file: TimersResultsFile): string[] {
  const s = file.settings;
  const lines = [
    `One engine (one worker thread) in the bench process, store ${s.store}, periodic save every ${s.persistIntervalMs / 1000} s. A \`ticker\` scene does fixed work every tick (${s.tickMs} ms): its ticks are measured for ${s.steadySeconds} s with no timer, then it schedules N durable timers due from 10 s on at ${s.firesPerSecond} a second and its ticks are measured again for ${s.steadySeconds} s while ~N are pending and they fire. Tick time: how long after its due time a tick finished. Late: due time → onTimer.`,
    '',
    '| pending timers | tick p50 ms | tick p99 ms | baseline p50 ms | baseline p99 ms | late p50 ms | late p99 ms | firings | schedule N ms | saved after ms |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of file.runs) {
    lines.push(
      `| ${r.pendingTimers} | ${fmt(r.tickP50Ms)} | ${fmt(r.tickP99Ms)} | ${fmt(r.baselineTickP50Ms)} | ${fmt(r.baselineTickP99Ms)} | ${fmt(r.lateP50Ms)} | ${fmt(r.lateP99Ms)} | ${r.firings} | ${fmt(r.scheduleMs, 0)} | ${r.savedAfterMs} |`,
    );
  }
  return lines;
}

/** Tick p99 with and without the timers, per count, for a bar chart. */
export function timersPoints(file: TimersResultsFile): ChartPoint[] {
  return file.runs.flatMap((r) => [
    { run: String(r.pendingTimers), series: 'baseline tick p99', value: r.baselineTickP99Ms },
    { run: String(r.pendingTimers), series: 'tick p99', value: r.tickP99Ms },
    { run: String(r.pendingTimers), series: 'late p99', value: r.lateP99Ms },
  ]);
}
