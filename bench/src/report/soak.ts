/**
 * The soak report: one row per target (memory at the start sample and at the end, growth,
 * errors, moves and resumes) and the chart data (RSS and heap after each collection over the
 * run).
 */
import type { SoakResultsFile } from '../soak.js';
import { labelOf } from './results.js';

const fmt = (v: number, digits = 1): string => v.toFixed(digits);

export function soakMarkdown(file: SoakResultsFile): string[] {
  const s = file.settings;
  const lines = [
    `Every client moves 10 times a second in scenes of 100 (as mmo-move); ${s.churn.fraction === 0 ? 'none of them drops its connection.' : `every ${s.churn.everySeconds} s, ${Math.round(s.churn.fraction * 1000) / 10} % of them drop their connection without a closing handshake and resume their session on a new one.`} Every ${s.sampleSeconds} s the server runs a full collection in every thread (\`--expose-gc\`; the scene threads answer on the engine's collection channel) and its memory is read: RSS of its process tree, V8 heap of all its threads. Growth is from the start sample (minute 2) to the end; the scenario asks for under ${s.maxGrowthPercent} % and no errors.`,
    '',
    '| target | clients | minutes | moves | resumes | RSS start MB | RSS end MB | RSS growth % | heap start MB | heap end MB | heap growth % | errors | p99 ms | server CPU % | verdict |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const r of file.runs) {
    const ok = r.collected && r.errors === 0 && r.rssGrowthPercent < s.maxGrowthPercent && r.heapGrowthPercent < s.maxGrowthPercent;
    lines.push(
      `| ${labelOf(r)} | ${r.clients} | ${r.minutes} | ${r.moves} | ${r.resumes} | ${fmt(r.rssStartMb)} | ${fmt(r.rssEndMb)} | ${fmt(r.rssGrowthPercent, 2)} | ${fmt(r.heapStartMb, 2)} | ${fmt(r.heapEndMb, 2)} | ${fmt(r.heapGrowthPercent, 2)} | ${r.errors} | ${fmt(r.p99Ms)} | ${fmt(r.cpuPercent)} | ${ok ? 'pass' : '**fail**'} |`,
    );
  }
  const hostileRuns = file.runs.filter((r) => r.hostile !== undefined);
  if (hostileRuns.length > 0 && s.hostile !== undefined) {
    lines.push(
      '',
      `Beside the players, ${s.hostile.sockets} hostile sockets (guests) sent ${s.hostile.framesPerSecond} frames a second each, under the gateway's budget of 60: valid headers for real routes with mutated payloads (bits flipped, cut short, offsets overwritten), routes that do not exist, and one frame in 500 that breaks the protocol and gets the socket closed; a closed socket opened again with its token. Their errors are theirs, not counted above.`,
      '',
      '| target | clients | hostile sockets | hostile frames | error frames they got | sockets closed (by code) | reopened | connect failures |',
      '|---|--:|--:|--:|---|---|--:|--:|',
    );
    for (const r of hostileRuns) {
      const h = r.hostile!;
      const byCode = (m: Readonly<Record<string, number>>): string =>
        Object.entries(m)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ') || 'none';
      lines.push(`| ${labelOf(r)} | ${r.clients} | ${h.sockets} | ${h.frames} | ${byCode(h.errorsByCode)} | ${byCode(h.closesByCode)} | ${h.reopened} | ${h.connectFailures} |`);
    }
  }
  for (const r of file.runs) {
    if (!r.collected) lines.push('', `${labelOf(r)}: the server ran without --expose-gc; its figures include garbage.`);
    if (r.errorSamples !== undefined) lines.push('', `${labelOf(r)} errors, first few: ${r.errorSamples.join('; ')}`);
  }
  return lines;
}

export interface SoakPoint {
  readonly minute: number;
  readonly series: string;
  readonly value: number;
}

/** RSS and heap after each collection, per target, by minute of the run. */
export function soakCharts(file: SoakResultsFile): Array<{ title: string; points: SoakPoint[] }> {
  const series = (pick: 'rssMb' | 'heapMb' | 'heapCommittedMb'): SoakPoint[] =>
    file.runs.flatMap((r) => r.samples.map((p) => ({ minute: Math.round((p.second / 60) * 100) / 100, series: labelOf(r), value: p[pick] })));
  return [
    { title: 'server RSS after a full collection (MB)', points: series('rssMb') },
    { title: 'server V8 heap, every thread, after full collections (MB)', points: series('heapMb') },
    { title: 'server V8 heap committed, every thread (MB)', points: series('heapCommittedMb') },
  ];
}
