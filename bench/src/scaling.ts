/**
 * The scaling scenarios of issue 14 beside `migrate`, each on a real cluster of processes
 * ({@link BenchCluster}: etcd, Redis, MariaDB, one coordinator, engines, one gateway) with its
 * players spread over `mig:<n>` scenes, every player sending 10 numbered inputs a second and
 * hearing its scene's 10 Hz tick ({@link MigBot}):
 *
 * - `engine-drain`: every engine is replaced in turn, as an operator replaces machines: a new
 *   engine is started, then the old one is drained with the operator's command (`drainEngine`,
 *   what `npm run status -- drain` runs): it moves its scenes live and stops.
 * - `rolling-restart`: what `npm run cluster -- --rolling-restart engines` runs (`rollingRestart`),
 *   the engines supervised as `npm run cluster` supervises them (a drained engine that exits is
 *   started again): each engine drained, gone and back, one after the other.
 * - `scale-out`: every scene on one engine, the leader's rebalancing on, a second engine started:
 *   how long until every engine's load (players against capacity, as the leader reckons it) is
 *   within ±15 % of the mean for good.
 *
 * What each player noticed over the whole phase is judged as in `migrate`: its stall, whether its
 * socket closed, errors its SDK surfaced, and its inputs lost or handled twice.
 */
import { drainEngine, migrateScene, rollingRestart, type ClusterStatus } from '@gos/cluster';
import { BenchCluster, pin } from './failover/cluster.js';
import { joinMigBots, MigPlayers, sleep, stallsOf, tallyInputs } from './mig-bots.js';
import type { Machine } from './report/results.js';

export type ScalingScenario = 'engine-drain' | 'rolling-restart' | 'scale-out';
export const SCALING_SCENARIOS: readonly ScalingScenario[] = ['engine-drain', 'rolling-restart', 'scale-out'];

/** scale-out: balanced means every engine within this fraction of the mean load (issue 14's goal). */
export const BALANCE_TOLERANCE = 0.15;
/** Engines at the start: drains and restarts need one to move to; scale-out starts with one. */
const ENGINES: Record<ScalingScenario, number> = { 'engine-drain': 2, 'rolling-restart': 2, 'scale-out': 1 };
/** An engine that has not left (drained) or come back (restarted) by then fails the run. */
const OPERATION_TIMEOUT_MS = 90_000;

export interface ScalingRow {
  readonly playersPerScene: number;
  readonly scenes: number;
  readonly players: number;
  /** Engines at the start of the phase. */
  readonly engines: number;
  /** Scenes moved live during the phase (drains and restarts: the scenes each drained engine ran; scale-out: the leader's moves seen). */
  readonly movedScenes: number;
  /** How long the phase's operations took (every drain, every restart; scale-out: the window watched), s. */
  readonly phaseSeconds: number;
  /** Per player: the longest gap between two ticks during the phase minus the tick interval; p50/p99/max over players. */
  readonly stallP50Ms: number;
  readonly stallP99Ms: number;
  readonly stallMaxMs: number;
  /** Sockets closed during the phase. */
  readonly disconnects: number;
  /** Operations that failed, errors the players' SDK surfaced, and counts that could not be read. */
  readonly errors: number;
  readonly inputs: number;
  readonly lostInputs: number;
  readonly duplicatedInputs: number;
  /** scale-out: from the second engine's start until every engine stayed within ±15 % of the mean load; null if never within the window. */
  readonly secondsToBalance?: number | null;
  /** scale-out: the largest distance of an engine's load from the mean at the end of the window, % of the mean. */
  readonly maxDeviationPct?: number;
}

export interface ScalingResultsFile {
  readonly scenario: ScalingScenario;
  readonly date: string;
  readonly machine: Machine;
  readonly settings: {
    readonly warmupSeconds: number;
    readonly command: string;
    readonly inputsPerSecond: number;
    readonly tickMs: number;
    /** scale-out: how long the engines' loads were watched after the second engine started, s. */
    readonly balanceWindowSeconds?: number;
  };
  readonly runs: readonly ScalingRow[];
}

export interface ScalingOptions {
  readonly scenario: ScalingScenario;
  readonly players: number;
  readonly scenes: number;
  readonly warmupSeconds: number;
  /** scale-out: how long to watch the loads after the second engine started, s. */
  readonly balanceWindowSeconds: number;
  readonly connectPerSecond: number;
  readonly pin: boolean;
  readonly etcdUrl: string;
  readonly redisUrl: string;
  readonly mysqlUrl: string;
  readonly onProgress?: (line: string) => void;
  readonly onAbortable?: (abort: (() => Promise<void>) | null) => void;
}

/** What a phase did to the cluster, for the row. */
interface PhaseOutcome {
  readonly movedScenes: number;
  readonly failed: number;
  readonly balance?: { readonly secondsToBalance: number | null; readonly maxDeviationPct: number };
}

export async function runScaling(o: ScalingOptions): Promise<ScalingRow> {
  const engines = ENGINES[o.scenario];
  const cluster = new BenchCluster({
    etcdUrl: o.etcdUrl,
    redisUrl: o.redisUrl,
    mysqlUrl: o.mysqlUrl,
    coordinators: 1,
    engines,
    gateways: 1,
    sceneType: 'mig',
    leaseTtlSeconds: 5,
    persistIntervalMs: 5000,
    pinCpu: o.pin ? 0 : null,
    rebalance: o.scenario === 'scale-out',
    superviseEngines: o.scenario === 'rolling-restart',
  });
  const players = new MigPlayers();
  const { bots } = players;
  const abort = (): Promise<void> => players.close(cluster);
  o.onAbortable?.(abort);
  const progress = (line: string): void => o.onProgress?.(line);
  try {
    progress(`starting a cluster of 1 coordinator, ${engines} engine${engines === 1 ? '' : 's'}, 1 gateway`);
    await cluster.start();
    if (o.pin) pin(process.pid, 1);
    const sceneOf = (i: number): string => `mig:${(i % o.scenes) + 1}`;
    await joinMigBots({ baseUrl: cluster.gatewayUrls[0]!, players: o.players, sceneOf, connectPerSecond: o.connectPerSecond, onProgress: progress }, bots);
    const pump = players.startInputs();
    if (engines > 1) await spreadScenes(cluster, engines, progress);
    progress(`warm-up: ${o.warmupSeconds} s`);
    await sleep(o.warmupSeconds * 1000);
    for (const b of bots) b.longestGapMs = 0;
    const closedBefore = bots.filter((b) => b.closed).length;
    const began = performance.now();
    const outcome =
      o.scenario === 'engine-drain' ? await replaceEngines(cluster, engines, progress) : o.scenario === 'rolling-restart' ? await restartEngines(cluster, progress) : await scaleOut(cluster, o.balanceWindowSeconds, progress);
    const phaseSeconds = (performance.now() - began) / 1000;
    // The last moves settle (players follow their scene) before the ticks stop being watched.
    await sleep(2000);
    const tally = await tallyInputs(bots, pump);
    const s = stallsOf(bots);
    return {
      playersPerScene: Math.ceil(o.players / o.scenes),
      scenes: o.scenes,
      players: o.players,
      engines,
      movedScenes: outcome.movedScenes,
      phaseSeconds: Math.round(phaseSeconds * 10) / 10,
      stallP50Ms: s.p50Ms,
      stallP99Ms: s.p99Ms,
      stallMaxMs: s.maxMs,
      disconnects: bots.filter((b) => b.closed).length - closedBefore,
      errors: outcome.failed + tally.unread + bots.reduce((sum, b) => sum + b.errors, 0),
      inputs: tally.inputs,
      lostInputs: tally.lostInputs,
      duplicatedInputs: tally.duplicatedInputs,
      ...(outcome.balance ?? {}),
    };
  } finally {
    o.onAbortable?.(null);
    await abort();
  }
}

/** engine-drain: for each engine of the start, start a new one, then drain the old one. */
async function replaceEngines(cluster: BenchCluster, engines: number, progress: (line: string) => void): Promise<PhaseOutcome> {
  let movedScenes = 0;
  let failed = 0;
  for (let i = 1; i <= engines; i++) {
    const old = `engine-${i}`;
    const fresh = `engine-${engines + i}`;
    progress(`starting ${fresh}, then draining ${old}`);
    await cluster.addEngine(fresh);
    await waitForMember(cluster, fresh);
    try {
      const report = await drainEngine(cluster.config, old, { timeoutMs: OPERATION_TIMEOUT_MS, progress });
      movedScenes += report.scenes;
      process.stderr.write(`\n[engine-drain] ${old}: ${report.scenes} scenes moved live, gone after ${report.ms} ms\n`);
    } catch (err) {
      failed++;
      progress(`drain of ${old} failed: ${(err as Error).message}`);
    }
  }
  return { movedScenes, failed };
}

/** rolling-restart: `npm run cluster -- --rolling-restart engines`'s call, the engines supervised. */
async function restartEngines(cluster: BenchCluster, progress: (line: string) => void): Promise<PhaseOutcome> {
  try {
    const report = await rollingRestart(cluster.config, { timeoutMs: OPERATION_TIMEOUT_MS, progress });
    for (const e of report.engines) process.stderr.write(`\n[rolling-restart] ${e.engineId}: ${e.scenes} scenes moved live, back after ${e.ms} ms\n`);
    return { movedScenes: report.engines.reduce((sum, e) => sum + e.scenes, 0), failed: 0 };
  } catch (err) {
    progress(`rolling restart failed: ${(err as Error).message}`);
    return { movedScenes: 0, failed: 1 };
  }
}

/**
 * scale-out: start `engine-2` beside the loaded `engine-1` and watch the engines' loads for
 * `windowSeconds`; balanced from the first sample after which every sample was within the tolerance.
 */
async function scaleOut(cluster: BenchCluster, windowSeconds: number, progress: (line: string) => void): Promise<PhaseOutcome> {
  const startedAt = performance.now();
  progress('starting engine-2 beside the loaded engine-1');
  await cluster.addEngine('engine-2');
  let balancedSince: number | null = null;
  let deviation = Number.POSITIVE_INFINITY;
  const placedOn = new Map<string, string>();
  let moves = 0;
  while (performance.now() - startedAt < windowSeconds * 1000) {
    const status = await cluster.status();
    for (const p of status.placements) {
      const before = placedOn.get(p.sceneId);
      if (before !== undefined && before !== p.engineId) moves++;
      placedOn.set(p.sceneId, p.engineId);
    }
    deviation = loadDeviation(status);
    const now = performance.now();
    if (deviation > BALANCE_TOLERANCE) balancedSince = null;
    else balancedSince ??= now;
    progress(`${((now - startedAt) / 1000).toFixed(0)} s: largest deviation from the mean load ${Number.isFinite(deviation) ? Math.round(deviation * 100) : '–'} %, ${moves} scenes moved`);
    await sleep(250);
  }
  const secondsToBalance = balancedSince === null ? null : Math.round((balancedSince - startedAt) / 100) / 10;
  return { movedScenes: moves, failed: 0, balance: { secondsToBalance, maxDeviationPct: Number.isFinite(deviation) ? Math.round(deviation * 1000) / 10 : 100 } };
}

/**
 * The largest distance of an engine's load (players against capacity, from the engines' member
 * records, as the leader's rebalancing reads them) from the mean, as a fraction of the mean;
 * infinite with fewer than two engines or no load.
 */
export function loadDeviation(status: Pick<ClusterStatus, 'members'>): number {
  const ratios = status.members.filter((m) => m.role === 'engine' && m.draining !== true && m.capacity > 0).map((m) => m.load / m.capacity);
  if (ratios.length < 2) return Number.POSITIVE_INFINITY;
  const mean = ratios.reduce((sum, r) => sum + r, 0) / ratios.length;
  if (mean === 0) return Number.POSITIVE_INFINITY;
  return Math.max(...ratios.map((r) => Math.abs(r - mean) / mean));
}

/**
 * Scene `mig:<k>` onto `engine-<((k - 1) mod engines) + 1>`, moved there live where the leader
 * placed it elsewhere: every engine starts with its share, in the same layout every run,
 * whatever order the placement requests came in.
 */
async function spreadScenes(cluster: BenchCluster, engines: number, progress: (line: string) => void): Promise<void> {
  for (const p of (await cluster.status()).placements) {
    const k = /^mig:(\d+)$/.exec(p.sceneId)?.[1];
    if (k === undefined) continue;
    const target = `engine-${((Number(k) - 1) % engines) + 1}`;
    if (p.engineId === target) continue;
    progress(`spreading the scenes: ${p.sceneId} to ${target}`);
    await migrateScene(cluster.config, p.sceneId, target);
  }
}

/** Until member `id` shows in the cluster's status (registered in etcd), at most 30 s. */
async function waitForMember(cluster: BenchCluster, id: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await cluster.status()).members.some((m) => m.id === id)) {
    if (Date.now() > deadline) throw new Error(`${id} did not register within 30 s\n${cluster.logs()}`);
    await sleep(100);
  }
}
