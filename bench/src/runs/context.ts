/**
 * What every scenario runner of the harness (bin/bench.ts) is handed: the command line, parsed
 * and checked once ({@link BenchContext}), and the helpers the runs share: progress lines,
 * finished rows printed as they come, the results written, and ({@link BenchSession}) the stop
 * of whatever a run started, when it ends or when the harness is interrupted.
 */
import path from 'node:path';
import { ensureEtcd, type EtcdHandle } from '../etcd.js';
import type { AoiLayout } from '../targets/project/aoi-map.js';
import type { TargetSpec } from '../targets/index.js';
import type { AnyResultsFile } from '../report/results.js';
import { roundsOf } from '../report/render.js';
import { writeResults } from '../report/write.js';
import type { Churn, Hostility } from '../soak.js';

/** The services a cluster of processes needs (engine-kill, leader-kill, travel…; etcd also for targets on etcd). */
export interface BenchServices {
  /** GOS_ETCD_URL; a private etcd is started when none answers there. */
  readonly etcdUrl: string;
  /** GOS_REDIS_URL. */
  readonly redisUrl: string;
  /** GOS_MYSQL_URL. */
  readonly mysqlUrl: string;
}

/** The parsed command line and the session of one harness run; built once by bin/bench.ts. */
export interface BenchContext {
  readonly session: BenchSession;
  readonly services: BenchServices;
  /** `npm run bench -- <the arguments>`, as the results' settings record it. */
  readonly command: string;
  /** --clients (players, viewers for aoi-tick), in order. */
  readonly clientCounts: readonly number[];
  /** --targets: empty for the scenarios that start their own cluster of processes. */
  readonly targets: readonly TargetSpec[];
  readonly warmupSeconds: number;
  /** --seconds: the measured window. */
  readonly steadySeconds: number;
  /** --rounds: how many times the targets' runs are made, alternating (each row is its median round). */
  readonly rounds: number;
  /** --idle-seconds: each target server's CPU with no client, sampled this long before its run (0: not measured; orchestrate.ts idleCpuPercent). */
  readonly idleSeconds: number;
  /** --connect-rate: connections (or logins) a second. */
  readonly connectPerSecond: number;
  /** Servers and load generator on CPUs of their own (taskset). */
  readonly pin: boolean;
  /** soak: --minutes, --sample-seconds, churn and hostile sockets (null: none). */
  readonly soakMinutes: number;
  readonly sampleSeconds: number;
  readonly churn: Churn;
  readonly hostility: Hostility | null;
  /** engine-kill and leader-kill: --repeats, --lease-ttl (seconds). */
  readonly repeats: number;
  readonly leaseTtlSeconds: number;
  /** --persist-ms: the engines' save period (failover, timers). */
  readonly persistIntervalMs: number;
  /** travel: --hop-every (ms). */
  readonly hopEveryMs: number;
  /** migrate: --moves, --move-every (ms). */
  readonly moves: number;
  readonly moveEveryMs: number;
  /** travel, engine-drain, rolling-restart, scale-out: --scenes. */
  readonly sceneCount: number;
  /** scale-out: --balance-window (seconds). */
  readonly balanceWindowSeconds: number;
  /** timers: --timers, --fires (a second). */
  readonly timerCounts: readonly number[];
  readonly firesPerSecond: number;
  /** leaderboard: --members (empty for other scenarios). */
  readonly memberCounts: readonly number[];
  /** player-logs: --rates, events a second (empty for other scenarios). */
  readonly logRates: readonly number[];
  /** mmo-aoi and aoi-tick: --npcs; mmo-aoi runs this framework once per NPC count (the bare server once, with the first). */
  readonly npcCounts: readonly number[];
  /** mmo-aoi: how the walkers spread (LoadOptions.layout); each client count runs once per layout. */
  readonly layouts: readonly AoiLayout[];
  /** mmo-aoi and aoi-tick: the aoi scene's cell size and hysteresis. */
  readonly cellSize: number;
  readonly hysteresis: number;
  /** mmo-aoi: the aoi scene's interest.nearRadius (docs/aoi.md "Distance bands"); null: no far band. */
  readonly nearRadius: number | null;
  /** mmo-aoi: the whole-map broadcast is skipped above this many clients (its bytes grow with N²). */
  readonly maxClientsUws: number;
}

export interface BenchSessionOptions {
  /** --out, resolved. */
  readonly outDir: string;
  /** The RESULTS.md to update as well (when writing to the default folder), or null. */
  readonly resultsMd: string | null;
  readonly etcdUrl: string;
  /** A private etcd is pinned with the servers (CPU 0). */
  readonly pin: boolean;
}

/**
 * One harness run's state: when it started, the etcd it uses and the abort of the run in
 * progress, so that everything a run started is stopped when it ends or on SIGINT/SIGTERM.
 */
export class BenchSession {
  private readonly started = Date.now();
  private etcdHandle: EtcdHandle | null = null;
  /** Kills whatever the run in progress started (its servers or cluster, and load generator). */
  private abortRun: (() => Promise<void>) | null = null;

  constructor(private readonly o: BenchSessionOptions) {}

  /** The runs' `onAbortable`: how to stop what the run in progress started (null: nothing). */
  readonly onAbortable = (abort: (() => Promise<void>) | null): void => {
    this.abortRun = abort;
  };

  /** The etcd at the configured URL, or a private one started now; stopped by {@link cleanup}. */
  async etcd(): Promise<EtcdHandle> {
    this.etcdHandle = await ensureEtcd(this.o.etcdUrl, this.o.pin ? 0 : null);
    return this.etcdHandle;
  }

  /** Stop the run in progress and the etcd started for it. */
  readonly cleanup = async (): Promise<void> => {
    await this.abortRun?.();
    await this.etcdHandle?.stop();
  };

  /** On SIGINT and SIGTERM: {@link cleanup}, then exit 130 or 143. */
  cleanupOnSignals(): void {
    process.on('SIGINT', () => void this.cleanup().finally(() => process.exit(130)));
    process.on('SIGTERM', () => void this.cleanup().finally(() => process.exit(143)));
  }

  /** Write the results (JSON, Markdown, HTML; RESULTS.md when writing to the default folder) and say where. */
  async write(file: AnyResultsFile): Promise<void> {
    const { outDir } = this.o;
    await writeResults(outDir, file, this.o.resultsMd);
    const rounds = roundsOf(file);
    const made = rounds > 1 ? `${file.runs.length * rounds} runs (${file.runs.length} rows, each the median of ${rounds} rounds)` : `${file.runs.length} runs`;
    print(`\nbench: ${made} in ${Math.round((Date.now() - this.started) / 1000)} s → ${path.relative(process.cwd(), outDir) || outDir}/${file.scenario}.{json,md,html}`);
  }
}

/** One line on stdout (what the harness reports; progress goes to stderr). */
export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The progress line of run `done + 1` of `total`, about `left` seconds before the end. */
export function progressLine(done: number, total: number, left: number): (line: string) => void {
  return (line) => process.stderr.write(`\r[bench ${done + 1}/${total}, ~${Math.round(left)} s left] ${line}`.padEnd(110).slice(0, 140));
}

/** A finished run: kept, and printed as one JSON line. */
export function keep<R>(runs: R[], row: R): void {
  runs.push(row);
  process.stderr.write('\n');
  print(JSON.stringify(row));
}
