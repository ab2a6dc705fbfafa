/**
 * The results file (`bench/results/<scenario>.json`) and what is derived from it: the ratios
 * between targets and the largest client count each target sustained.
 */
import { cpus } from 'node:os';
import type { FailoverRow } from '../failover/run.js';
import type { RunRow } from '../orchestrate.js';
import type { SoakResultsFile } from '../soak.js';
import type { TravelResultsFile } from '../travel.js';
import type { MigrateResultsFile } from '../migrate.js';
import type { ScalingResultsFile } from '../scaling.js';
import type { TimersResultsFile } from '../timers.js';
import type { LeaderboardResultsFile } from '../leaderboard.js';
import type { PlayerLogsResultsFile } from '../player-logs.js';
import type { AoiResultsFile } from '../aoi.js';
import type { AoiTickResultsFile } from '../aoi-tick.js';
import { round } from '../stats.js';

export interface Machine {
  readonly cpus: number;
  readonly model: string;
  readonly node: string;
  /** Server and load generator pinned to separate CPUs. */
  readonly pinned: boolean;
}

export interface ResultsFile {
  readonly scenario: string;
  readonly date: string;
  readonly machine: Machine;
  /** `rounds`: --rounds, when above 1 (each row is then its median round). */
  readonly settings: { readonly warmupSeconds: number; readonly steadySeconds: number; readonly command: string; readonly rounds?: number; readonly idleSeconds?: number };
  readonly runs: readonly RunRow[];
}

/** engine-kill and leader-kill: one row per repeat, and how the cluster was set up. */
export interface FailoverResultsFile {
  readonly scenario: 'engine-kill' | 'leader-kill';
  readonly date: string;
  readonly machine: Machine;
  readonly settings: {
    readonly warmupSeconds: number;
    readonly steadySeconds: number;
    readonly command: string;
    readonly repeats: number;
    readonly coordinators: number;
    readonly engines: number;
    readonly gateways: number;
    readonly leaseTtlSeconds: number;
    /** The engines' periodic save: the data-loss window of an engine crash. */
    readonly persistIntervalMs: number;
    readonly connectPerSecond: number;
  };
  readonly runs: readonly FailoverRow[];
}

export type AnyResultsFile = ResultsFile | FailoverResultsFile | SoakResultsFile | TravelResultsFile | TimersResultsFile | AoiResultsFile | AoiTickResultsFile | MigrateResultsFile | ScalingResultsFile | LeaderboardResultsFile | PlayerLogsResultsFile;

export function isAoiTickFile(file: AnyResultsFile): file is AoiTickResultsFile {
  return file.scenario === 'aoi-tick';
}

export function isAoiFile(file: AnyResultsFile): file is AoiResultsFile {
  return file.scenario === 'mmo-aoi';
}

export function isFailoverFile(file: AnyResultsFile): file is FailoverResultsFile {
  return file.scenario === 'engine-kill' || file.scenario === 'leader-kill';
}

export function isSoakFile(file: AnyResultsFile): file is SoakResultsFile {
  return file.scenario === 'soak';
}

export function isTravelFile(file: AnyResultsFile): file is TravelResultsFile {
  return file.scenario === 'travel';
}

export function isMigrateFile(file: AnyResultsFile): file is MigrateResultsFile {
  return file.scenario === 'migrate';
}

export function isScalingFile(file: AnyResultsFile): file is ScalingResultsFile {
  return file.scenario === 'engine-drain' || file.scenario === 'rolling-restart' || file.scenario === 'scale-out';
}

export function isPlayerLogsFile(file: AnyResultsFile): file is PlayerLogsResultsFile {
  return file.scenario === 'player-logs';
}

export function isLeaderboardFile(file: AnyResultsFile): file is LeaderboardResultsFile {
  return file.scenario === 'leaderboard';
}

export function isTimersFile(file: AnyResultsFile): file is TimersResultsFile {
  return file.scenario === 'timers';
}

export function machine(pinned: boolean): Machine {
  const list = cpus();
  return { cpus: list.length, model: list[0]?.model.trim() ?? 'unknown', node: process.version, pinned };
}

/** Row label: `project` (cluster shape), `project-embedded`, `project-fat`, `project-acked`, `colyseus`, `uws`, `uws-worker`. */
export function labelOf(row: Pick<RunRow, 'target' | 'shape' | 'variant' | 'transport'>): string {
  if (row.target === 'colyseus') return row.transport === 'uws' ? 'colyseus-uws' : 'colyseus';
  if (row.target === 'uws') return row.variant === undefined ? 'uws' : `uws-${row.variant}`;
  if (row.target !== 'project') return row.target;
  if (row.shape === 'embedded') return row.variant === undefined ? 'project-embedded' : `project-embedded-${row.variant}`;
  if (row.shape === 'fat') return 'project-fat';
  return row.variant === undefined ? 'project' : `project-${row.variant}`;
}

export interface Ratio {
  readonly clients: number;
  /** Which shape of this framework: `project` (separate processes), `project-fat`, `project-embedded`. */
  readonly project: string;
  readonly versus: string;
  /** project ÷ other, for CPU-µs per message (lower is better for the project). */
  readonly cpuUsPerMsg: number | null;
  readonly p99Ms: number | null;
  readonly rssMb: number | null;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? round(a / b, 2) : null);

/** The shapes of this framework compared with the other targets. */
const PROJECT_SHAPES = ['project', 'project-fat', 'project-embedded'];

/** Each shape of this framework against uws and colyseus, at every client count both ran. */
export function ratios(runs: readonly RunRow[]): Ratio[] {
  const out: Ratio[] = [];
  const byKey = new Map(runs.map((r) => [`${labelOf(r)}@${r.clients}`, r]));
  for (const p of runs) {
    const project = labelOf(p);
    if (!PROJECT_SHAPES.includes(project)) continue;
    for (const versus of ['uws', 'uws-worker', 'colyseus-uws', 'colyseus']) {
      const o = byKey.get(`${versus}@${p.clients}`);
      if (o === undefined) continue;
      out.push({ clients: p.clients, project, versus, cpuUsPerMsg: ratio(p.cpuUsPerMsg, o.cpuUsPerMsg), p99Ms: ratio(p.p99Ms, o.p99Ms), rssMb: ratio(p.rssMb, o.rssMb) });
    }
  }
  return out.sort((a, b) => a.clients - b.clients || PROJECT_SHAPES.indexOf(a.project) - PROJECT_SHAPES.indexOf(b.project));
}

/** A run counts as sustained when p99 < 200 ms, nothing failed, the server stayed under 95% CPU and the generator was not saturated. */
export function sustained(r: RunRow): boolean {
  return r.p99Ms < 200 && r.failures === 0 && r.cpuPercent < 95 * r.serverCpus && !r.loadGenSaturated;
}

/**
 * Largest client count (login-storm: offered rate) each target ran within `ok` (null: none of
 * its runs). @default ok = {@link sustained}
 */
export function maxCcu(runs: readonly RunRow[], ok: (r: RunRow) => boolean = sustained): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const r of runs) {
    const label = labelOf(r);
    if (!(label in out)) out[label] = null;
    if (ok(r) && r.clients > (out[label] ?? 0)) out[label] = r.clients;
  }
  return out;
}
