/**
 * The mmo-aoi report: per target and client count, bytes and server CPU per client, the scene's
 * tick p99, entities per client and latency; and the goals of issue 13 read off the same run.
 */
import type { AoiResultsFile, AoiRow } from '../aoi.js';
import type { ChartPoint } from './failover.js';

const fmt = (v: number | null, digits = 1): string => (v === null ? '–' : v.toFixed(digits));
const label = (r: AoiRow): string => [r.target, r.shape, r.transport === 'uws' ? 'uws' : undefined].filter((p) => p !== undefined).join('-');

export function aoiMarkdown(file: AoiResultsFile): string[] {
  const s = file.settings;
  const lines = [
    `One map of ${s.map} × ${s.map} units, everyone on it, walking between random waypoints (one in five near one of five points of interest: crowds), 10 moves and 10 ticks a second. This framework: cells of ${s.cellSize}, view radius ${s.viewRadius} (about 1 % of the map), hysteresis ${s.hysteresis ?? s.cellSize / 2}, each client hears the cells around its player (docs/aoi.md)${s.nearRadius === undefined ? '' : `; distance bands: within ${s.nearRadius} of a player every change every tick, beyond it positions (and a player's move ack) every 3rd tick, entering and leaving at once`}. uws-broadcast: bare uWebSockets.js sending every moved player to everyone each tick (the naive baseline); uws-filter: the same server sending each client only the moved players within the view radius of its own, encoded once per client. colyseus: Colyseus 0.18 with one room for the map, its players map tagged .view() and each client's StateView kept to the players within the view radius (its per-client filtering), one patch encoded per view. Latency: a move → the first frame that carries it back to its sender. Entities per client: what a client knew at the end of the window. Layouts: mixed (one waypoint in five near one of the points of interest), uniform (waypoints anywhere: uniform density), crowd (every client inside one cell at the map's centre). Replication p99: the part of the tick spent in entity replication (interest management and cell frames; the engine metric gos_scene_replication_duration_seconds), the rest being the scene's own code (the NPCs' walk) and its inputs.`,
    '',
    '| target | clients | NPCs | layout | bytes/client/s | server CPU-µs/client/s | tick p99 ms | replication p99 ms | entities/client | p50 ms | p99 ms | server CPU % | RSS MB | failures | gen saturated |',
    '|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const r of [...file.runs].sort((a, b) => a.clients - b.clients || label(a).localeCompare(label(b)) || (a.layout ?? '').localeCompare(b.layout ?? ''))) {
    lines.push(
      `| ${label(r)} | ${r.clients} | ${r.npcs} | ${r.layout ?? 'mixed'} | ${r.bytesPerClientPerSec} | ${fmt(r.cpuUsPerClientPerSec)} | ${fmt(r.tickP99Ms, 2)} | ${fmt(r.replicationP99Ms ?? null, 2)} | ${fmt(r.entitiesPerClient)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.cpuPercent)} | ${fmt(r.rssMb)} | ${r.failures} | ${r.loadGenSaturated ? '**yes**' : 'no'} |`,
    );
  }
  // Against the broadcast: the runs without NPCs (the broadcast has none).
  // Per layout (a run of the broadcast with the same walkers): the crowd has no comparison of interest.
  const layoutOf = (r: AoiRow): string => r.layout ?? 'mixed';
  const project = file.runs.filter((r) => r.target === 'project' && r.npcs === 0 && layoutOf(r) !== 'crowd');
  const base = file.runs.filter((r) => r.target === 'uws-broadcast');
  const notes: string[] = [];
  for (const p of project) {
    const b = base.find((x) => x.clients === p.clients && layoutOf(x) === layoutOf(p));
    if (b !== undefined && p.bytesPerClientPerSec > 0) notes.push(`N=${p.clients}, ${layoutOf(p)}: ${(b.bytesPerClientPerSec / p.bytesPerClientPerSec).toFixed(1)}× fewer bytes per client than the whole-map broadcast${b.loadGenSaturated ? ' (its generator saturated: the broadcast sent more than it could read)' : ''}`);
  }
  const lo = project.filter((r) => layoutOf(r) === layoutOf(project[0]!)).sort((a, b) => a.clients - b.clients);
  if (lo.length >= 2) {
    const a = lo[0]!;
    const z = lo.at(-1)!;
    notes.push(`server CPU per client at N=${z.clients} is ${(z.cpuUsPerClientPerSec / a.cpuUsPerClientPerSec).toFixed(2)}× its value at N=${a.clients}${z.loadGenSaturated ? ' (the generator saturated at N=' + z.clients + ': the server was not given the full load)' : ''}`);
  }
  for (const p of project) {
    const f = file.runs.find((x) => x.target === 'uws-filter' && x.clients === p.clients && layoutOf(x) === layoutOf(p));
    if (f !== undefined && p.bytesPerClientPerSec > 0) notes.push(`N=${p.clients}, ${layoutOf(p)}: against bare uWS filtering per client (one frame per client and tick), ${(p.bytesPerClientPerSec / Math.max(f.bytesPerClientPerSec, 1)).toFixed(1)}× its bytes per client and ${(p.cpuUsPerClientPerSec / Math.max(f.cpuUsPerClientPerSec, 1e-9)).toFixed(2)}× its server CPU per client`);
  }
  for (const p of file.runs.filter((r) => r.target === 'project' && r.npcs === 0)) {
    const c = file.runs.find((x) => x.target === 'colyseus' && x.clients === p.clients && layoutOf(x) === layoutOf(p));
    if (c === undefined || p.bytesPerClientPerSec <= 0) continue;
    const why = c.cpuPercent >= 95 ? ' (Colyseus\'s core saturated)' : '';
    notes.push(`N=${p.clients}, ${layoutOf(p)}: against Colyseus with a StateView per client, ${(p.bytesPerClientPerSec / Math.max(c.bytesPerClientPerSec, 1)).toFixed(1)}× its bytes per client and ${(p.cpuUsPerClientPerSec / Math.max(c.cpuUsPerClientPerSec, 1e-9)).toFixed(2)}× its server CPU per client${why}`);
  }
  for (const c of file.runs.filter((r) => r.target === 'project' && r.layout === 'crowd')) {
    notes.push(`crowd of ${c.clients} in one cell: ${c.bytesPerClientPerSec} bytes per client per second, tick p99 ${fmt(c.tickP99Ms, 2)} ms (replication ${fmt(c.replicationP99Ms ?? null, 2)} ms), ${fmt(c.entitiesPerClient)} entities known per client`);
  }
  if (notes.length > 0) lines.push('', ...notes.map((n) => `- ${n}`));
  return lines;
}

/** Bytes per client per second by target and N, for a bar chart. */
export function aoiPoints(file: AoiResultsFile): ChartPoint[] {
  return file.runs.map((r) => ({ run: `${r.clients}${r.npcs > 0 ? `+${r.npcs}` : ''}`, series: label(r), value: r.bytesPerClientPerSec / 1000 }));
}
