/**
 * Scenario mmo-aoi (bench/README.md): one large map, N walkers. What this module adds to a
 * run of the common harness: the scene's tick time over the window (this framework: the
 * engine's tick histogram on GET /metrics; the bare uWS server: its own list on GET
 * /bench-ticks), and the results rows in the shape bench/results/mmo-aoi.json keeps.
 */
import type { AoiLayout } from './targets/project/aoi-map.js';
import type { RunRow } from './orchestrate.js';
import type { Machine } from './report/results.js';
import { round } from './stats.js';

/** What a target's tick record looks like at one moment. */
export type TickSnapshot =
  | { readonly kind: 'histogram'; readonly buckets: ReadonlyMap<number, number>; readonly replication: ReadonlyMap<number, number> }
  | { readonly kind: 'list'; readonly durationsMs: readonly number[] };

/** A bucket line of the aoi scene's tick or replication histogram: (metric, le, count). */
const BUCKET = /^gos_scene_(tick|replication)_duration_seconds_bucket\{(?=[^}]*scene_type="aoi")[^}]*le="([^"]+)"[^}]*\}\s+(\S+)/;

/** Read the tick record of `baseUrl`'s target: the aoi scene's histogram, or (bare uWS) the durations since the last read. Null when it does not answer. */
export async function tickSnapshot(target: string, baseUrl: string): Promise<TickSnapshot | null> {
  try {
    if (target === 'project') {
      const text = await (await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      const buckets = new Map<number, number>();
      const replication = new Map<number, number>();
      for (const line of text.split('\n')) {
        const m = BUCKET.exec(line);
        if (m !== null) (m[1] === 'tick' ? buckets : replication).set(m[2] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[2]), Number(m[3]));
      }
      return { kind: 'histogram', buckets, replication };
    }
    const body = (await (await fetch(`${baseUrl}/bench-ticks`, { signal: AbortSignal.timeout(5000) })).json()) as { durationsMs?: unknown };
    return Array.isArray(body.durationsMs) ? { kind: 'list', durationsMs: body.durationsMs.filter((v): v is number => typeof v === 'number') } : null;
  } catch {
    return null;
  }
}

/**
 * The 99th percentile tick time (ms) between two snapshots. From a histogram: interpolated in
 * the bucket that holds it (an upper bound past the last finite bucket). From a list: the
 * second snapshot holds the window's ticks (the first read emptied it).
 */
export function tickP99Ms(first: TickSnapshot | null, last: TickSnapshot | null): number | null {
  if (last === null) return null;
  if (last.kind === 'list') {
    const sorted = [...last.durationsMs].sort((a, b) => a - b);
    return sorted.length === 0 ? null : round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!, 2);
  }
  return histogramP99Ms(first?.kind === 'histogram' ? first.buckets : new Map(), last.buckets);
}

/** The 99th percentile of the scene's entity replication per tick (ms) between two snapshots; null for a target without it. */
export function replicationP99Ms(first: TickSnapshot | null, last: TickSnapshot | null): number | null {
  if (last === null || last.kind !== 'histogram') return null;
  return histogramP99Ms(first?.kind === 'histogram' ? first.replication : new Map(), last.replication);
}

function histogramP99Ms(before: ReadonlyMap<number, number>, last: ReadonlyMap<number, number>): number | null {
  const bounds = [...last.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (last.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total <= 0) return null;
  const want = total * 0.99;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! < want) continue;
    const hi = bounds[i]!;
    const lo = i === 0 ? 0 : bounds[i - 1]!;
    if (!Number.isFinite(hi)) return round(lo * 1000, 2);
    const below = i === 0 ? 0 : counts[i - 1]!;
    const inBucket = counts[i]! - below;
    return round((lo + (inBucket === 0 ? 0 : ((want - below) / inBucket) * (hi - lo))) * 1000, 2);
  }
  return null;
}

/** One run in bench/results/mmo-aoi.json. */
export interface AoiRow {
  /** `project` (this framework, with AOI) or `uws-broadcast` (bare uWS sending the whole map to everyone). */
  readonly target: string;
  readonly shape?: string;
  /** Colyseus: `ws` or `uws`. */
  readonly transport?: string;
  readonly clients: number;
  /** Wandering NPC entities on the map besides the players (this framework only). */
  readonly npcs: number;
  /** Where the walkers went: `mixed` (crowds at points of interest), `uniform`, `crowd` (one cell). */
  readonly layout: AoiLayout;
  readonly bytesPerClientPerSec: number;
  readonly cpuUsPerClientPerSec: number;
  readonly tickP99Ms: number | null;
  /** This framework: the entity replication's share of a tick (interest management and cell frames), p99 over the window. */
  readonly replicationP99Ms: number | null;
  readonly entitiesPerClient: number | null;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
  readonly loadGenSaturated: boolean;
  readonly cpuPercent: number;
  readonly rssMb: number;
  readonly outBytesPerSec: number;
  readonly connected: number;
}

export interface AoiResultsFile {
  readonly scenario: 'mmo-aoi';
  readonly date: string;
  readonly machine: Machine;
  readonly settings: { readonly warmupSeconds: number; readonly steadySeconds: number; readonly command: string; readonly rounds?: number; readonly map: number; readonly viewRadius: number; readonly cellSize: number; readonly hysteresis?: number; readonly nearRadius?: number };
  readonly runs: AoiRow[];
}

export function aoiRow(r: RunRow, npcs: number, layout: AoiLayout): AoiRow {
  const n = Math.max(1, r.connected);
  return {
    target: r.target === 'uws' ? (r.variant === 'filter' ? 'uws-filter' : 'uws-broadcast') : r.target,
    ...(r.shape === undefined ? {} : { shape: r.shape }),
    ...(r.transport === undefined ? {} : { transport: r.transport }),
    clients: r.clients,
    npcs: r.target === 'project' ? npcs : 0,
    layout,
    bytesPerClientPerSec: round(r.outBytesPerSec / n, 0),
    cpuUsPerClientPerSec: round(((r.cpuPercent / 100) * 1e6) / n, 1),
    tickP99Ms: r.tickP99Ms ?? null,
    replicationP99Ms: r.replicationP99Ms ?? null,
    entitiesPerClient: r.entitiesPerClient ?? null,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    failures: r.failures,
    loadGenSaturated: r.loadGenSaturated,
    cpuPercent: r.cpuPercent,
    rssMb: r.rssMb,
    outBytesPerSec: r.outBytesPerSec,
    connected: r.connected,
  };
}
