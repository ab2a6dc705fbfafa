/** The player-logs report: a scene's tick time while it appends player-log events at each rate, against none (same run), and what the store received. */
import type { PlayerLogsResultsFile } from '../player-logs.js';
import type { ChartPoint } from './failover.js';

const fmt = (v: number, digits = 2): string => v.toFixed(digits);

export function playerLogsMarkdown(file: PlayerLogsResultsFile): string[] {
  const s = file.settings;
  const lines = [
    `One engine (one worker thread) in the bench process, store ${s.store}. A \`ticker\` scene does fixed work every tick (${s.tickMs} ms) and appends player-log events (\`scene.logFor\`, three fields) at each rate, spread over its ticks; rate 0 is the baseline. Tick time: how long after its due time a tick finished. Written: events the store received a second in the phase (batches at least every ${s.flushMs} ms).`,
    '',
    '| events/s appended | written/s | tick p50 ms | tick p99 ms | ticks | queue max | dropped |',
    '|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of file.runs) lines.push(`| ${r.eventsPerSec.toLocaleString('en')} | ${r.writtenPerSec.toLocaleString('en')} | ${fmt(r.tickP50Ms)} | ${fmt(r.tickP99Ms)} | ${r.ticks} | ${r.queuedMax.toLocaleString('en')} | ${r.dropped} |`);
  return lines;
}

export function playerLogsPoints(file: PlayerLogsResultsFile): ChartPoint[] {
  return file.runs.map((r) => ({ run: `${r.eventsPerSec.toLocaleString('en')}/s`, series: 'tick p99', value: r.tickP99Ms }));
}
