/**
 * Human-readable output of a results file: a Markdown section (table, ratios, max CCU, machine,
 * how to rerun) and an HTML page with charts (CPU-µs per message and p99 latency against the
 * number of clients, one line per target), drawn with Vega-Lite into inline SVG.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { IDLE_SETTLE_SECONDS, type RunRow } from '../orchestrate.js';
import { engineKillMarkdown, failoverCharts, leaderKillMarkdown, type ChartPoint } from './failover.js';
import { isAoiFile, isAoiTickFile, isFailoverFile, isLeaderboardFile, isMigrateFile, isPlayerLogsFile, isScalingFile, isSoakFile, isTimersFile, isTravelFile, labelOf, maxCcu, ratios, type AnyResultsFile, type FailoverResultsFile, type ResultsFile } from './results.js';
import { soakCharts, soakMarkdown, type SoakPoint } from './soak.js';
import { travelMarkdown, travelPoints } from './travel.js';
import { migrateMarkdown, migratePoints } from './migrate.js';
import { scalingMarkdown, scalingPoints } from './scaling.js';
import { timersMarkdown, timersPoints } from './timers.js';
import { leaderboardMarkdown, leaderboardPoints } from './leaderboard.js';
import { playerLogsMarkdown, playerLogsPoints } from './player-logs.js';
import { aoiMarkdown, aoiPoints } from './aoi.js';
import { aoiTickMarkdown, aoiTickPoints } from './aoi-tick.js';

const fmt = (v: number | null, digits = 1): string => (v === null ? '–' : v.toFixed(digits));

/** CPU-µs per message; a row that stands for several rounds (--rounds) adds the range of its rounds: `28.51 (26.44–35.03)`. */
export function cpuCell(r: Pick<RunRow, 'cpuUsPerMsg' | 'cpuUsPerMsgRounds'>): string {
  const all = r.cpuUsPerMsgRounds;
  if (all === undefined || all.length < 2) return fmt(r.cpuUsPerMsg, 2);
  return `${fmt(r.cpuUsPerMsg, 2)} (${fmt(Math.min(...all), 2)}–${fmt(Math.max(...all), 2)})`;
}

/** kB of server memory per connection above the server's baseline. */
/** `name rss · name rss` for a run of several server processes; `–` for one (its RSS is the run's). */
export function byProcess(r: { processes?: readonly { name: string; rssMb: number }[] }): string {
  const ps = r.processes ?? [];
  return ps.length < 2 ? '–' : ps.map((p) => `${p.name} ${fmt(p.rssMb)}`).join(' · ');
}

export function kbPerClient(r: { rssMb: number; baselineRssMb: number; connected: number }): number | null {
  return r.connected > 0 ? ((r.rssMb - r.baselineRssMb) * 1024) / r.connected : null;
}

/** How many rounds each row of `file` is the median of (`--rounds`; 1 for a scenario without them). */
export function roundsOf(file: AnyResultsFile): number {
  return 'rounds' in file.settings && file.settings.rounds !== undefined ? file.settings.rounds : 1;
}

export function markdown(file: AnyResultsFile): string {
  if (isFailoverFile(file)) return failoverMarkdown(file);
  if (isSoakFile(file)) return [...header(file), ...soakMarkdown(file)].join('\n');
  if (isTravelFile(file)) return [...header(file), ...travelMarkdown(file)].join('\n');
  if (isTimersFile(file)) return [...header(file), ...timersMarkdown(file)].join('\n');
  if (isLeaderboardFile(file)) return [...header(file), ...leaderboardMarkdown(file)].join('\n');
  if (isPlayerLogsFile(file)) return [...header(file), ...playerLogsMarkdown(file)].join('\n');
  if (isMigrateFile(file)) return [...header(file), ...migrateMarkdown(file)].join('\n');
  if (isScalingFile(file)) return [...header(file), ...scalingMarkdown(file)].join('\n');
  if (isAoiFile(file)) return [...header(file), ...aoiMarkdown(file)].join('\n');
  if (isAoiTickFile(file)) return [...header(file), ...aoiTickMarkdown(file)].join('\n');
  const body =
    file.scenario === 'idle-ccu' ? idleMarkdown(file)
    : file.scenario === 'chat-fanout' ? chatMarkdown(file)
    : file.scenario === 'login-storm' ? loginMarkdown(file)
    : file.scenario === 'reconnect-storm' ? reconnectMarkdown(file)
    : mmoMarkdown(file);
  return [body, ...idleCpuMarkdown(file)].join('\n');
}

/**
 * `--idle-seconds`: each server's CPU with no client (its fixed cost: timers, polls, leases), and
 * what share of its CPU under load that is. Nothing when the run did not measure it.
 */
function idleCpuMarkdown(file: ResultsFile): string[] {
  const rows = sortedRuns(file).filter((r) => r.idleCpuPercent !== undefined);
  if (rows.length === 0) return [];
  const lines = [
    '',
    `Idle server CPU (\`--idle-seconds ${file.settings.idleSeconds ?? '?'}\`: sampled with no client, ${IDLE_SETTLE_SECONDS} s after the server was ready, before its clients came), and its share of the server's CPU under load:`,
    '',
    '| target | clients | idle CPU % of a core | CPU % under load | idle share of it |',
    '|---|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    const idle = r.idleCpuPercent!;
    lines.push(`| ${labelOf(r)} | ${r.clients} | ${fmt(idle, 2)} | ${fmt(r.cpuPercent)} | ${r.cpuPercent > 0 ? `${fmt((idle / r.cpuPercent) * 100)} %` : '–'} |`);
  }
  return lines;
}

function loginMarkdown(file: ResultsFile): string {
  const lines = header(file);
  lines.push('Password logins (scrypt N=16384) offered at a fixed rate, open loop, over 32 accounts. `clients` is the offered rate.');
  lines.push('');
  lines.push('| target | offered logins/s | completed/s | p50 ms | p99 ms | max ms | failures | failure causes | server CPU % | CPU-ms per login |');
  lines.push('|---|--:|--:|--:|--:|--:|--:|---|--:|--:|');
  for (const r of sortedRuns(file)) {
    const cpuMs = r.outPerSec > 0 ? (r.cpuPercent * 10) / r.outPerSec : null;
    lines.push(`| ${labelOf(r)} | ${r.clients} | ${fmt(r.outPerSec)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.maxMs)} | ${r.failures} | ${(r.failureSamples ?? []).join('; ')} | ${fmt(r.cpuPercent)} | ${fmt(cpuMs, 2)} |`);
  }
  lines.push('');
  const best = maxCcu(file.runs, (r) => r.p99Ms < 1000 && r.failures === 0);
  lines.push('Highest offered rate with p99 < 1 s and no failures: ' + Object.entries(best).map(([t, n]) => `${t} ${n === null ? 'none' : `${n}/s`}`).join(', ') + '.');
  return lines.join('\n');
}

/** Server CPU time over the storm per client back, ms. */
export function cpuMsPerReconnect(r: Pick<RunRow, 'cpuPercent' | 'stormSeconds' | 'reconnected'>): number | null {
  if (r.reconnected === undefined || r.stormSeconds === undefined || r.reconnected === 0) return null;
  return (r.cpuPercent * 10 * r.stormSeconds) / r.reconnected;
}

function reconnectMarkdown(file: ResultsFile): string {
  const lines = header(file);
  lines.push(`Every client is in an idle scene (room) of 100; at once, all drop their connection without a closing handshake and reconnect, resuming their session where the target has one. Per client: drop → back in the scene. Storm = first drop → last client back; a client not back within ${file.settings.steadySeconds} s is a failure. Server CPU is read over the storm.`);
  lines.push('');
  lines.push('| target | clients | back | failures | storm s | reconnects/s | p50 ms | p99 ms | max ms | server CPU % | CPU-ms per reconnect | RSS MB | gen CPU % | gen saturated |');
  lines.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|');
  for (const r of sortedRuns(file)) {
    const seconds = r.stormSeconds ?? null;
    const rate = seconds !== null && seconds > 0 && r.reconnected !== undefined ? r.reconnected / seconds : null;
    lines.push(
      `| ${labelOf(r)} | ${r.clients} | ${r.reconnected ?? '–'} | ${r.failures} | ${fmt(seconds, 2)} | ${fmt(rate, 0)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.maxMs)} | ${fmt(r.cpuPercent)} | ${fmt(cpuMsPerReconnect(r), 2)} | ${fmt(r.rssMb)} | ${fmt(r.loadGenCpuPercent)} | ${r.loadGenSaturated ? '**yes**' : 'no'} |`,
    );
  }
  return lines.join('\n');
}

function chatMarkdown(file: ResultsFile): string {
  const lines = header(file);
  lines.push('One client says a line every 500 ms; every client in the scene (room) receives it. Delivery = line sent → received, over every receipt.');
  lines.push('');
  lines.push('| target | clients | lines/s | deliveries/s | delivery p50 ms | p99 ms | max ms | server CPU % | CPU-µs/delivery | RSS MB | failures | gen CPU % | gen saturated |');
  lines.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|');
  for (const r of sortedRuns(file)) {
    lines.push(
      `| ${labelOf(r)} | ${r.clients} | ${fmt(r.inPerSec)} | ${Math.round(r.outPerSec)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.maxMs)} | ${fmt(r.cpuPercent)} | ${cpuCell(r)} | ${fmt(r.rssMb)} | ${r.failures} | ${fmt(r.loadGenCpuPercent)} | ${r.loadGenSaturated ? '**yes**' : 'no'} |`,
    );
  }
  return lines.join('\n');
}

/** Runs by client count (or rate), then target label: the order of every table. */
function sortedRuns(file: ResultsFile): RunRow[] {
  return [...file.runs].sort((a, b) => a.clients - b.clients || labelOf(a).localeCompare(labelOf(b)));
}

function header(file: AnyResultsFile): string[] {
  const m = file.machine;
  const repeats = isFailoverFile(file) ? ` per repeat, ${file.settings.repeats} repeat${file.settings.repeats === 1 ? '' : 's'}` : '';
  if (isAoiTickFile(file)) {
    return [`Run ${file.date} on ${m.cpus} × ${m.model}, Node ${m.node}; one thread, not pinned.`, '', `Rerun: \`${file.settings.command}\``, ''];
  }
  if (isScalingFile(file)) {
    return [
      `Run ${file.date} on ${m.cpus} × ${m.model}, Node ${m.node}; ${m.pinned ? 'cluster pinned to CPU 0, players to CPU 1 (taskset)' : 'not pinned'}; ${file.settings.warmupSeconds} s warm-up, then the phase.`,
      '',
      `Rerun: \`${file.settings.command}\``,
      '',
    ];
  }
  if (isMigrateFile(file)) {
    return [
      `Run ${file.date} on ${m.cpus} × ${m.model}, Node ${m.node}; ${m.pinned ? 'cluster pinned to CPU 0, players to CPU 1 (taskset)' : 'not pinned'}; ${file.settings.warmupSeconds} s warm-up, then ${file.settings.moves} moves.`,
      '',
      `Rerun: \`${file.settings.command}\``,
      '',
    ];
  }
  if (isSoakFile(file)) {
    return [
      `Run ${file.date} on ${m.cpus} × ${m.model}, Node ${m.node}; ${m.pinned ? 'server pinned to CPU 0, load generator to CPU 1 (taskset)' : 'not pinned'}; ${file.settings.steadySeconds} s measured.`,
      '',
      `Rerun: \`${file.settings.command}\``,
      '',
    ];
  }
  const rounds = roundsOf(file) > 1 ? roundsOf(file) : null;
  return [
    `Run ${file.date} on ${m.cpus} × ${m.model}, Node ${m.node}; ${m.pinned ? 'servers pinned to CPU 0, load generator to CPU 1 (taskset)' : 'not pinned'}; ${file.settings.warmupSeconds} s warm-up, ${file.settings.steadySeconds} s measured${repeats}.`,
    ...(rounds === null ? [] : ['', `Every run was made ${rounds} times, the rounds alternating with the other targets'; each row is its median round by CPU-µs/msg (the whole run, not field-by-field medians), with the range of the rounds in brackets.`]),
    '',
    `Rerun: \`${file.settings.command}\``,
    '',
  ];
}

function idleMarkdown(file: ResultsFile): string {
  const lines = header(file);
  lines.push('| target | clients | connected | failures | server RSS MB | RSS before clients MB | kB per connection | idle server CPU % | procs |');
  lines.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const r of sortedRuns(file)) {
    lines.push(`| ${labelOf(r)} | ${r.clients} | ${r.connected} | ${r.failures} | ${fmt(r.rssMb)} | ${fmt(r.baselineRssMb)} | ${fmt(kbPerClient(r))} | ${fmt(r.cpuPercent)} | ${r.serverProcesses} |`);
  }
  return lines.join('\n');
}

function mmoMarkdown(file: ResultsFile): string {
  const lines = header(file);
  lines.push('| target | clients | p50 ms | p99 ms | max ms | server delay p99 ms | in msg/s | out msg/s | out MB/s | server CPU % | CPU-µs/msg | RSS MB | procs | RSS MB by process | frames over TCP % | failures | ticks/client/s | gen CPU % | gen saturated |');
  lines.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|---|');
  for (const r of sortedRuns(file)) {
    const tcp = r.tcpFrameShare === undefined ? '–' : fmt(r.tcpFrameShare * 100, 0);
    lines.push(
      `| ${labelOf(r)} | ${r.clients} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.maxMs)} | ${fmt(r.serverDelayP99Ms)} | ${Math.round(r.inPerSec)} | ${Math.round(r.outPerSec)} | ${fmt(r.outBytesPerSec / 1e6, 2)} | ${fmt(r.cpuPercent)} | ${cpuCell(r)} | ${fmt(r.rssMb)} | ${r.serverProcesses} | ${byProcess(r)} | ${tcp} | ${r.failures} | ${fmt(r.ticksPerClientPerSec, 2)} | ${fmt(r.loadGenCpuPercent)} | ${r.loadGenSaturated ? '**yes**' : 'no'} |`,
    );
  }
  const rs = ratios(file.runs);
  if (rs.length > 0) {
    lines.push('');
    lines.push('Ratios, each shape of this framework ÷ other target (below 1: the project is cheaper / faster):');
    lines.push('');
    lines.push('| clients | project | versus | CPU-µs/msg | p99 | RSS |');
    lines.push('|--:|---|---|--:|--:|--:|');
    for (const r of rs) lines.push(`| ${r.clients} | ${r.project} | ${r.versus} | ${fmt(r.cpuUsPerMsg, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.rssMb, 2)} |`);
  }
  lines.push('');
  lines.push('Max CCU among the client counts run (p99 < 200 ms, no failures, server CPU < 95%, generator not saturated): ' +
    Object.entries(maxCcu(file.runs)).map(([t, n]) => `${t} ${n === null ? 'none' : n}`).join(', ') + '.');
  return lines.join('\n');
}

type ChartField = 'cpuUsPerMsg' | 'p99Ms' | 'kbPerClient' | 'cpuMsPerReconnect';

function chartValue(r: RunRow, field: ChartField): number | null {
  if (field === 'kbPerClient') return kbPerClient(r);
  if (field === 'cpuMsPerReconnect') return cpuMsPerReconnect(r);
  return r[field];
}

function chartSpec(file: ResultsFile, field: ChartField, title: string): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 260,
    data: { values: file.runs.map((r) => ({ target: labelOf(r), clients: r.clients, value: chartValue(r, field) })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'clients', type: 'quantitative', title: 'clients' },
      y: { field: 'value', type: 'quantitative', title },
      color: { field: 'target', type: 'nominal', title: 'target' },
    },
  };
}

function failoverMarkdown(file: FailoverResultsFile): string {
  return [...header(file), ...(file.scenario === 'engine-kill' ? engineKillMarkdown(file) : leaderKillMarkdown(file))].join('\n');
}

/** Grouped bars: one group per repeat, one bar per series. */
function barSpec(title: string, points: readonly ChartPoint[]): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 260,
    data: { values: points.map((p) => ({ ...p })) },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'run', type: 'nominal', title: 'repeat', sort: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'series', type: 'nominal', sort: null },
      y: { field: 'value', type: 'quantitative', title: 'ms' },
      color: { field: 'series', type: 'nominal', title: '', sort: null },
    },
  };
}

/** Lines: memory against minutes, one line per target. */
function memorySpec(title: string, points: readonly SoakPoint[]): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 260,
    data: { values: points.map((p) => ({ ...p })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'minute', type: 'quantitative', title: 'minute' },
      y: { field: 'value', type: 'quantitative', title: 'MB', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: 'target' },
    },
  };
}

async function svgOf(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

export async function html(file: AnyResultsFile): Promise<string> {
  const charts = isFailoverFile(file)
    ? await Promise.all(failoverCharts(file).map((c) => svgOf(barSpec(c.title, c.points))))
    : isSoakFile(file)
      ? await Promise.all(soakCharts(file).map((c) => svgOf(memorySpec(c.title, c.points))))
    : isTravelFile(file)
      ? [await svgOf(barSpec('travel latency (ms): hop request → first push of the new scene', travelPoints(file)))]
    : isMigrateFile(file)
      ? [await svgOf(barSpec('per-player stall during live moves (ms): longest tick gap minus the tick interval', migratePoints(file)))]
    : isScalingFile(file)
      ? [await svgOf(barSpec(`per-player stall during ${file.scenario} (ms): longest tick gap minus the tick interval`, scalingPoints(file)))]
    : isTimersFile(file)
      ? [await svgOf(barSpec('tick time and firing lateness p99 (ms) by pending durable timers', timersPoints(file)))]
    : isPlayerLogsFile(file)
      ? [await svgOf(barSpec('scene tick p99 (ms) by player-log events appended a second', playerLogsPoints(file)))]
    : isLeaderboardFile(file)
      ? [await svgOf(barSpec('leaderboard operation p99 (ms), by operation and requests in flight', leaderboardPoints(file)))]
    : isAoiFile(file)
      ? [await svgOf(barSpec('kB per client per second, by clients (+ NPCs)', aoiPoints(file)))]
    : isAoiTickFile(file)
      ? [await svgOf(barSpec('entity replication per tick (ms), by entities and viewers', aoiTickPoints(file)))]
    : file.scenario === 'idle-ccu'
      ? [await svgOf(chartSpec(file, 'kbPerClient', 'server kB per idle connection'))]
      : file.scenario === 'reconnect-storm'
      ? [await svgOf(chartSpec(file, 'cpuMsPerReconnect', 'server CPU-ms per reconnect')), await svgOf(chartSpec(file, 'p99Ms', 'drop → back p99 (ms)'))]
      : [
          await svgOf(chartSpec(file, 'cpuUsPerMsg', 'server CPU-µs per delivered message')),
          await svgOf(chartSpec(file, 'p99Ms', file.scenario === 'chat-fanout' ? 'delivery p99 (ms)' : 'input → ack latency p99 (ms)')),
        ];
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(file.scenario)} — bench results</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px} .charts{display:flex;flex-wrap:wrap;gap:2em} table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style>
</head><body>
<h1>${esc(file.scenario)}</h1>
<p>${esc(file.date)} · ${file.machine.cpus} × ${esc(file.machine.model)} · Node ${esc(file.machine.node)} · ${file.machine.pinned ? 'server on CPU 0, load generator on CPU 1' : 'not pinned'}</p>
<div class="charts">${charts.join('')}</div>
<p>Data: <code>${esc(file.scenario)}.json</code>. Rerun: <code>${esc(file.settings.command)}</code></p>
</body></html>
`;
}

/** Replace the text between `<!-- name:start -->` and `<!-- name:end -->` (appending the block when absent). */
export function replaceSection(doc: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${body}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i === -1 || j === -1 || j < i) return `${doc.trimEnd()}\n\n${block}\n`;
  return doc.slice(0, i) + block + doc.slice(j + end.length);
}
