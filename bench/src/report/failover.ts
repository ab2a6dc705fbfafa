/**
 * Reports of the failover scenarios (engine-kill, leader-kill): a table with one row per
 * repeat, a summary per client count over the repeats (medians of the p50s, worst of the p99s
 * and maxima, totals of the counts), and the chart data for the HTML page.
 */
import type { FailoverRow } from '../failover/run.js';
import type { WindowStats } from '../loadgen/failover.js';
import type { FailoverResultsFile } from './results.js';

const fmt = (v: number | null | undefined, digits = 0): string => (v === null || v === undefined ? '–' : v.toFixed(digits));
const median = (xs: readonly number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const worst = (xs: readonly number[]): number | null => (xs.length === 0 ? null : Math.max(...xs));
const sum = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0);

/** Sockets closed, ERROR frames and inputs never acknowledged: what a player would notice. */
export function issues(w: WindowStats): number {
  return w.closes + w.errors + w.unacked;
}

export interface EngineKillSummary {
  readonly clients: number;
  readonly repeats: number;
  readonly affected: number;
  readonly resumed: number;
  readonly closed: number;
  readonly notResumed: number;
  /** Median of the repeats' p50; worst p99; worst max (ms). */
  readonly resumeP50Ms: number | null;
  readonly resumeP99Ms: number | null;
  readonly resumeMaxMs: number | null;
  readonly firstAckP50Ms: number | null;
  readonly firstAckP99Ms: number | null;
  readonly firstAckMaxMs: number | null;
  readonly playersLosingMoves: number;
  readonly lostMovesTotal: number;
  readonly lostMovesMax: number;
  readonly unverified: number;
  readonly unaffectedBeforeP99Ms: number | null;
  readonly unaffectedDuringP99Ms: number | null;
  /** Closes, errors and unacknowledged inputs of the unaffected players, every window. */
  readonly unaffectedIssues: number;
}

export interface LeaderKillSummary {
  readonly clients: number;
  readonly repeats: number;
  readonly newLeaderMinMs: number | null;
  readonly newLeaderMedianMs: number | null;
  readonly newLeaderMaxMs: number | null;
  /** Repeats where no new leader was seen before the window ended. */
  readonly noNewLeader: number;
  readonly windows: Readonly<Record<'before' | 'during' | 'after', { p50Ms: number | null; p99Ms: number | null; maxMs: number | null; issues: number }>>;
}

function byClients(runs: readonly FailoverRow[]): Map<number, FailoverRow[]> {
  const out = new Map<number, FailoverRow[]>();
  for (const r of [...runs].sort((a, b) => a.clients - b.clients || a.repeat - b.repeat)) {
    const list = out.get(r.clients);
    if (list === undefined) out.set(r.clients, [r]);
    else list.push(r);
  }
  return out;
}

export function engineKillSummary(runs: readonly FailoverRow[]): EngineKillSummary[] {
  return [...byClients(runs)].map(([clients, rows]) => {
    const a = rows.flatMap((r) => (r.affected === undefined ? [] : [r.affected]));
    const judged = a.filter((x) => x.resumed > 0);
    return {
      clients,
      repeats: rows.length,
      affected: sum(a.map((x) => x.players)),
      resumed: sum(a.map((x) => x.resumed)),
      closed: sum(a.map((x) => x.closed)),
      notResumed: sum(a.map((x) => x.notResumed)),
      resumeP50Ms: median(judged.map((x) => x.resumeMs.p50Ms)),
      resumeP99Ms: worst(judged.map((x) => x.resumeMs.p99Ms)),
      resumeMaxMs: worst(judged.map((x) => x.resumeMs.maxMs)),
      firstAckP50Ms: median(judged.filter((x) => x.firstAckMs.count > 0).map((x) => x.firstAckMs.p50Ms)),
      firstAckP99Ms: worst(judged.filter((x) => x.firstAckMs.count > 0).map((x) => x.firstAckMs.p99Ms)),
      firstAckMaxMs: worst(judged.filter((x) => x.firstAckMs.count > 0).map((x) => x.firstAckMs.maxMs)),
      playersLosingMoves: sum(a.map((x) => x.lostMoves.players)),
      lostMovesTotal: sum(a.map((x) => x.lostMoves.total)),
      lostMovesMax: worst(a.map((x) => x.lostMoves.max)) ?? 0,
      unverified: sum(a.map((x) => x.unverified)),
      unaffectedBeforeP99Ms: worst(rows.filter((r) => r.unaffected.before.acked > 0).map((r) => r.unaffected.before.p99Ms)),
      unaffectedDuringP99Ms: worst(rows.filter((r) => r.unaffected.during.acked > 0).map((r) => r.unaffected.during.p99Ms)),
      unaffectedIssues: sum(rows.map((r) => issues(r.unaffected.before) + issues(r.unaffected.during) + issues(r.unaffected.after))),
    };
  });
}

export function leaderKillSummary(runs: readonly FailoverRow[]): LeaderKillSummary[] {
  return [...byClients(runs)].map(([clients, rows]) => {
    const times = rows.flatMap((r) => (r.newLeaderMs === null || r.newLeaderMs === undefined ? [] : [r.newLeaderMs]));
    const win = (k: 'before' | 'during' | 'after') => {
      const ws = rows.map((r) => r.unaffected[k]).filter((w) => w.acked > 0);
      return { p50Ms: median(ws.map((w) => w.p50Ms)), p99Ms: worst(ws.map((w) => w.p99Ms)), maxMs: worst(ws.map((w) => w.maxMs)), issues: sum(rows.map((r) => issues(r.unaffected[k]))) };
    };
    return {
      clients,
      repeats: rows.length,
      newLeaderMinMs: times.length === 0 ? null : Math.min(...times),
      newLeaderMedianMs: median(times),
      newLeaderMaxMs: worst(times),
      noNewLeader: rows.length - times.length,
      windows: { before: win('before'), during: win('during'), after: win('after') },
    };
  });
}

function setup(file: FailoverResultsFile): string {
  const s = file.settings;
  const at = file.runs.map((r) => r.killAtSeconds);
  const killAt = at.length === 0 ? '' : `${Math.min(...at).toFixed(1)}–${Math.max(...at).toFixed(1)} s`;
  const common = `${s.coordinators} coordinators, ${s.engines} engines and ${s.gateways} gateways, each its own process started from the cluster package's entries, on etcd (lease TTL ${s.leaseTtlSeconds} s), Redis sessions and MariaDB, a fresh etcd prefix, Redis prefix and database per repeat. Each gateway logs its bots into its own scene of the bench game (so ${s.gateways} scenes, spread over the engines by placement); every bot moves 10 times a second over its WebSocket, acknowledged by the scene's 10 Hz ticks. At a random moment in the second quarter of each ${s.steadySeconds} s window (here ${killAt} in)`;
  if (file.scenario === 'engine-kill') {
    return `${common} the engine with the most players is killed with SIGKILL (the random part spans one save period, so the repeats land anywhere in it). Engines save every ${s.persistIntervalMs} ms: the data-loss window (up to ~${Math.round(s.persistIntervalMs / 100)} moves a player at 10 Hz).`;
  }
  return `${common} the coordinator leader is killed with SIGKILL; the status (\`readStatus\`) is polled until another coordinator leads.`;
}

const latencyTriple = (s: { count: number; p50Ms: number; p99Ms: number; maxMs: number }): string => (s.count === 0 ? '–' : `${fmt(s.p50Ms)} / ${fmt(s.p99Ms)} / ${fmt(s.maxMs)}`);
const pair = (w: WindowStats): string => (w.acked === 0 ? '–' : `${fmt(w.p50Ms)} / ${fmt(w.p99Ms)}`);

export function engineKillMarkdown(file: FailoverResultsFile): string[] {
  const lines = [setup(file), ''];
  lines.push('Per repeat. Affected = the bots whose scene was on the killed engine; lost = their socket closed; resume = kill → `SceneResumed` received; first ack = kill → first tick acknowledging a move after it; lost acked moves = moves acknowledged before the kill that the scene, reloaded from its last save, no longer had; dropped inputs = moves sent while the scene had no engine (the gateway drops them); unaffected = the bots on the other engine, input → ack before the kill and during the failover (kill → last `SceneResumed`); their errors = closes, ERROR frames and moves never acknowledged.');
  lines.push('');
  lines.push('| clients | # | killed | affected | resumed | lost | not resumed | resume p50 / p99 / max ms | first ack p50 / p99 / max ms | re-placed ms | players losing acked moves | lost moves total / max | dropped inputs | unaffected p99 before / during ms | unaffected errors |');
  lines.push('|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const r of [...file.runs].sort((a, b) => a.clients - b.clients || a.repeat - b.repeat)) {
    const a = r.affected;
    const u = r.unaffected;
    lines.push(
      `| ${r.clients} | ${r.repeat} | ${r.killed} (${(r.killedScenes ?? []).join(', ')}) | ${a?.players ?? 0} | ${a?.resumed ?? 0} | ${a?.closed ?? 0} | ${a?.notResumed ?? 0} | ${a === undefined ? '–' : latencyTriple(a.resumeMs)} | ${a === undefined ? '–' : latencyTriple(a.firstAckMs)} | ${fmt(r.replacedMs)} | ${a?.lostMoves.players ?? 0}${a !== undefined && a.unverified > 0 ? ` (${a.unverified} not judged)` : ''} | ${a === undefined ? '–' : `${a.lostMoves.total} / ${a.lostMoves.max}`} | ${a?.droppedInputs ?? 0} | ${u.before.acked === 0 ? '–' : fmt(u.before.p99Ms)} / ${u.during.acked === 0 ? '–' : fmt(u.during.p99Ms)} | ${issues(u.before) + issues(u.during) + issues(u.after)} |`,
    );
  }
  lines.push('');
  lines.push(`Summary over the repeats (p50: median of the repeats'; p99 and max: the worst repeat's; counts: totals):`);
  lines.push('');
  lines.push('| clients | repeats | affected | resumed | lost | resume p50 / p99 / max ms | first ack p50 / p99 / max ms | players losing acked moves | lost moves total / max a player | unaffected p99 before / during ms | unaffected errors |');
  lines.push('|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const s of engineKillSummary(file.runs)) {
    lines.push(
      `| ${s.clients} | ${s.repeats} | ${s.affected} | ${s.resumed} | ${s.closed + s.notResumed} | ${fmt(s.resumeP50Ms)} / ${fmt(s.resumeP99Ms)} / ${fmt(s.resumeMaxMs)} | ${fmt(s.firstAckP50Ms)} / ${fmt(s.firstAckP99Ms)} / ${fmt(s.firstAckMaxMs)} | ${s.playersLosingMoves} | ${s.lostMovesTotal} / ${s.lostMovesMax} | ${fmt(s.unaffectedBeforeP99Ms)} / ${fmt(s.unaffectedDuringP99Ms)} | ${s.unaffectedIssues} |`,
    );
  }
  const maxLost = Math.max(0, ...engineKillSummary(file.runs).map((s) => s.lostMovesMax));
  lines.push('');
  lines.push(`Data-loss window: the engines' persist interval, ${file.settings.persistIntervalMs} ms; the most acknowledged moves one player lost was ${maxLost} (${maxLost * 100} ms of moves at 10 Hz).`);
  return lines;
}

export function leaderKillMarkdown(file: FailoverResultsFile): string[] {
  const lines = [setup(file), ''];
  lines.push('Per repeat: input → ack p50 / p99 of every bot, in the windows before the kill, during (kill → a new leader in the status) and after; errors = closes, ERROR frames and moves never acknowledged, before / during / after.');
  lines.push('');
  lines.push('| clients | # | killed leader | new leader | new leader after ms | status read ms | before p50 / p99 ms | during p50 / p99 ms | after p50 / p99 ms | during max ms | errors |');
  lines.push('|--:|--:|---|---|--:|--:|--:|--:|--:|--:|--:|');
  for (const r of [...file.runs].sort((a, b) => a.clients - b.clients || a.repeat - b.repeat)) {
    const u = r.unaffected;
    lines.push(
      `| ${r.clients} | ${r.repeat} | ${r.killed} | ${r.newLeader ?? 'none'} | ${fmt(r.newLeaderMs)} | ${fmt(r.statusReadMs)} | ${pair(u.before)} | ${pair(u.during)} | ${pair(u.after)} | ${u.during.acked === 0 ? '–' : fmt(u.during.maxMs)} | ${issues(u.before)} / ${issues(u.during)} / ${issues(u.after)} |`,
    );
  }
  lines.push('');
  lines.push(`Summary over the repeats (p50: median of the repeats'; p99: the worst repeat's; errors: totals):`);
  lines.push('');
  lines.push('| clients | repeats | new leader after ms min / median / max | before p50 / p99 ms | during p50 / p99 ms | after p50 / p99 ms | errors before / during / after |');
  lines.push('|--:|--:|--:|--:|--:|--:|--:|');
  for (const s of leaderKillSummary(file.runs)) {
    const w = s.windows;
    const p = (x: { p50Ms: number | null; p99Ms: number | null }): string => `${fmt(x.p50Ms)} / ${fmt(x.p99Ms)}`;
    lines.push(
      `| ${s.clients} | ${s.repeats} | ${fmt(s.newLeaderMinMs)} / ${fmt(s.newLeaderMedianMs)} / ${fmt(s.newLeaderMaxMs)}${s.noNewLeader > 0 ? ` (${s.noNewLeader} without)` : ''} | ${p(w.before)} | ${p(w.during)} | ${p(w.after)} | ${w.before.issues} / ${w.during.issues} / ${w.after.issues} |`,
    );
  }
  return lines;
}

/** Chart points: one group per repeat (`N=300 #1`), one bar per series. */
export interface ChartPoint {
  readonly run: string;
  readonly series: string;
  readonly value: number;
}

const runLabel = (r: FailoverRow): string => `N=${r.clients} #${r.repeat}`;

export function failoverCharts(file: FailoverResultsFile): Array<{ title: string; points: ChartPoint[] }> {
  const runs = [...file.runs].sort((a, b) => a.clients - b.clients || a.repeat - b.repeat);
  const windows = (title: string) => ({
    title,
    points: runs.flatMap((r) =>
      (['before', 'during', 'after'] as const).filter((k) => r.unaffected[k].acked > 0).map((k) => ({ run: runLabel(r), series: k, value: r.unaffected[k].p99Ms })),
    ),
  });
  if (file.scenario === 'engine-kill') {
    return [
      {
        title: 'affected players: kill → SceneResumed / first ack (ms)',
        points: runs.flatMap((r) => {
          const a = r.affected;
          if (a === undefined || a.resumed === 0) return [];
          return [
            { run: runLabel(r), series: 'resume p50', value: a.resumeMs.p50Ms },
            { run: runLabel(r), series: 'resume p99', value: a.resumeMs.p99Ms },
            { run: runLabel(r), series: 'first ack p99', value: a.firstAckMs.p99Ms },
          ];
        }),
      },
      windows('unaffected players: input → ack p99 (ms)'),
    ];
  }
  return [
    { title: 'kill → new leader in the status (ms)', points: runs.flatMap((r) => (r.newLeaderMs === null || r.newLeaderMs === undefined ? [] : [{ run: runLabel(r), series: 'new leader', value: r.newLeaderMs }])) },
    windows('input → ack p99 by window (ms)'),
  ];
}
