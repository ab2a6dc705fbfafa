/**
 * The migrate scenario (issue 14): one `mig:1` scene full of players on a real cluster of
 * processes ({@link BenchCluster}: etcd, Redis, MariaDB, one coordinator, two engines, one
 * gateway), moved live between the two engines again and again by the operator's command
 * (`migrateScene`, what `npm run status -- migrate` runs), while every player sends 10
 * numbered inputs a second and hears the scene's 10 Hz tick.
 *
 * Per player: its longest gap between two ticks during the moves, minus the tick interval (its
 * stall: a player who noticed nothing scores about 0); whether its socket closed; whether its
 * inputs were all handled once (the scene counts them in the player's data, which moves with
 * the scene). Per move: how long the scene was frozen (hold, save, hand-over), from the engine.
 *
 * The clients are SDK clients ({@link MigBot}) in this process; the cluster's members
 * are pinned to CPU 0 when pinning, this process to CPU 1.
 */
import { migrateScene, type MigrationReport } from '@gos/cluster';
import { BenchCluster, pin } from './failover/cluster.js';
import { joinMigBots, MigPlayers, MIG_INPUTS_PER_SECOND, MIG_TICK_MS, sleep, stallsOf, tallyInputs } from './mig-bots.js';
import type { Machine } from './report/results.js';
import { LatencyRecorder } from './stats.js';

export interface MigrateRow {
  readonly playersPerScene: number;
  readonly players: number;
  /** Live moves made during the measured phase. */
  readonly moves: number;
  /** How long each move kept the scene frozen on its engine (hold, final save, hand-over), ms. */
  readonly frozenP50Ms: number;
  readonly frozenMaxMs: number;
  /** Per player: the longest gap between two ticks minus the tick interval; p50/p99/max over players. */
  readonly stallP50Ms: number;
  readonly stallP99Ms: number;
  readonly stallMaxMs: number;
  /** The p99 over players of each move's stall alone (the gap during that move's window), in move order. */
  readonly stallP99ByMoveMs: readonly number[];
  /** Sockets closed during the phase. */
  readonly disconnects: number;
  /** Moves refused, errors the players' SDK surfaced, and counts that could not be read. */
  readonly errors: number;
  readonly inputs: number;
  readonly lostInputs: number;
  readonly duplicatedInputs: number;
}

export interface MigrateResultsFile {
  readonly scenario: 'migrate';
  readonly date: string;
  readonly machine: Machine;
  readonly settings: {
    readonly warmupSeconds: number;
    readonly command: string;
    readonly moves: number;
    readonly moveEveryMs: number;
    readonly inputsPerSecond: number;
    readonly tickMs: number;
  };
  readonly runs: readonly MigrateRow[];
}

export interface MigrateOptions {
  readonly players: number;
  readonly warmupSeconds: number;
  readonly moves: number;
  readonly moveEveryMs: number;
  readonly connectPerSecond: number;
  readonly pin: boolean;
  readonly etcdUrl: string;
  readonly redisUrl: string;
  readonly mysqlUrl: string;
  readonly onProgress?: (line: string) => void;
  readonly onAbortable?: (abort: (() => Promise<void>) | null) => void;
}

export const MIGRATE_TICK_MS = MIG_TICK_MS;
export const MIGRATE_INPUTS_PER_SECOND = MIG_INPUTS_PER_SECOND;
export const MIGRATE_SCENE = 'mig:1';

export async function runMigrate(o: MigrateOptions): Promise<MigrateRow> {
  const cluster = new BenchCluster({
    etcdUrl: o.etcdUrl,
    redisUrl: o.redisUrl,
    mysqlUrl: o.mysqlUrl,
    coordinators: 1,
    engines: 2,
    gateways: 1,
    sceneType: 'mig',
    leaseTtlSeconds: 5,
    persistIntervalMs: 5000,
    pinCpu: o.pin ? 0 : null,
  });
  const players = new MigPlayers();
  const { bots } = players;
  const abort = (): Promise<void> => players.close(cluster);
  o.onAbortable?.(abort);
  try {
    o.onProgress?.('starting a cluster of 1 coordinator, 2 engines, 1 gateway');
    await cluster.start();
    if (o.pin) pin(process.pid, 1);
    await joinMigBots({ baseUrl: cluster.gatewayUrls[0]!, players: o.players, sceneOf: () => MIGRATE_SCENE, connectPerSecond: o.connectPerSecond, ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }) }, bots);
    const pump = players.startInputs();
    o.onProgress?.(`warm-up: ${o.warmupSeconds} s`);
    await sleep(o.warmupSeconds * 1000);
    for (const b of bots) b.longestGapMs = 0;
    const closedBefore = bots.filter((b) => b.closed).length;
    const frozen = new LatencyRecorder();
    let moves = 0;
    let errors = 0;
    const byMove: number[] = [];
    for (let i = 0; i < o.moves; i++) {
      for (const b of bots) b.resetWindow();
      const placed = (await cluster.status()).placements.find((p) => p.sceneId === MIGRATE_SCENE);
      o.onProgress?.(`move ${i + 1}/${o.moves}: ${MIGRATE_SCENE} off ${placed?.engineId ?? '?'}`);
      const report: MigrationReport | null = await migrateScene(cluster.config, MIGRATE_SCENE).catch((err: unknown) => {
        o.onProgress?.(`move ${i + 1} refused: ${err instanceof Error ? err.message : String(err)}`);
        return null;
      });
      if (report === null) errors++;
      else {
        moves++;
        frozen.record(report.frozenMs);
        process.stderr.write(`\n[migrate] ${report.from} → ${report.to}: frozen ${report.frozenMs} ms (hold ${report.holdMs}, save ${report.saveMs})\n`);
      }
      await sleep(o.moveEveryMs);
      byMove.push(stallsOf(bots, (b) => b.windowGapMs).p99Ms);
    }
    const tally = await tallyInputs(bots, pump);
    errors += tally.unread + bots.reduce((sum, b) => sum + b.errors, 0);
    const s = stallsOf(bots);
    const f = frozen.summary();
    return {
      playersPerScene: o.players,
      players: o.players,
      moves,
      frozenP50Ms: f.p50Ms,
      frozenMaxMs: f.maxMs,
      stallP50Ms: s.p50Ms,
      stallP99Ms: s.p99Ms,
      stallMaxMs: s.maxMs,
      stallP99ByMoveMs: byMove,
      disconnects: bots.filter((b) => b.closed).length - closedBefore,
      errors,
      inputs: tally.inputs,
      lostInputs: tally.lostInputs,
      duplicatedInputs: tally.duplicatedInputs,
    };
  } finally {
    o.onAbortable?.(null);
    await abort();
  }
}
