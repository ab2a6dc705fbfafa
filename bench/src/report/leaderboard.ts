/** The leaderboard report: fill rates and memory, then each operation's latency and rate by board size and requests in flight. */
import type { LeaderboardResultsFile } from '../leaderboard.js';
import type { ChartPoint } from './failover.js';

const fmt = (v: number, digits = 2): string => v.toFixed(digits);

export function leaderboardMarkdown(file: LeaderboardResultsFile): string[] {
  const s = file.settings;
  const lines = [
    `One board (policy best) in Redis (${s.redis}), through \`Leaderboards\` of @gos/leaderboard (one Lua script an operation), filled with \`submit\` (${s.fillConcurrency} in flight), then each operation for ${s.steadySeconds} s (after ${s.warmupSeconds} s of warm-up) at each size, with 1 and more requests in flight. rank = \`get\`, around-me = \`around\` (5 each side), page = 20 at a random offset, update = \`submit\` of an existing member.`,
    '',
    '| members | fill submits/s | Redis bytes per member |',
    '|--:|--:|--:|',
    ...file.fills.map((f) => `| ${f.members.toLocaleString('en')} | ${f.submitsPerSec.toLocaleString('en')} | ${f.redisBytesPerMember} |`),
    '',
    '| members | op | in flight | p50 ms | p99 ms | max ms | ops/s |',
    '|--:|---|--:|--:|--:|--:|--:|',
  ];
  for (const r of file.runs) lines.push(`| ${r.members.toLocaleString('en')} | ${r.op} | ${r.concurrency} | ${fmt(r.p50Ms, 3)} | ${fmt(r.p99Ms, 3)} | ${fmt(r.maxMs, 1)} | ${r.opsPerSec.toLocaleString('en')} |`);
  return lines;
}

/** p99 by operation at the largest size, one request at a time. */
export function leaderboardPoints(file: LeaderboardResultsFile): ChartPoint[] {
  return file.runs.map((r) => ({ run: `${r.op} ×${r.concurrency}`, series: `${(r.members / 1e6).toLocaleString('en')} M members`, value: r.p99Ms }));
}
