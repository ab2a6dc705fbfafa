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
 * The clients are SDK clients (`@gos/client` over `ws`) in this process; the cluster's members
 * are pinned to CPU 0 when pinning, this process to CPU 1.
 */
import WebSocket from 'ws';
import { GameClient, guest } from '@gos/client';
import { migrateScene, type MigrationReport } from '@gos/cluster';
import { BenchCluster, pin } from './failover/cluster.js';
import { protocol } from './generated/protocol.js';
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
  /** Moves refused, and counts that could not be read. */
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

export const MIGRATE_TICK_MS = 100;
export const MIGRATE_INPUTS_PER_SECOND = 10;
export const MIGRATE_SCENE = 'mig:1';

/** One player: its inputs, and the gaps between the ticks it hears. */
class Bot {
  seq = 0;
  lastTickAt = 0;
  longestGapMs = 0;
  /** The longest gap since the last move began. */
  moveGapMs = 0;
  closed = false;

  constructor(readonly client: GameClient<typeof protocol>) {
    client.onPush('Tick', () => {
      const now = performance.now();
      if (this.lastTickAt > 0) {
        this.longestGapMs = Math.max(this.longestGapMs, now - this.lastTickAt);
        this.moveGapMs = Math.max(this.moveGapMs, now - this.lastTickAt);
      }
      this.lastTickAt = now;
    });
    client.on('close', () => (this.closed = true));
  }

  input(): boolean {
    if (!this.client.send(protocol.routes.migInput, { seq: this.seq + 1 })) return false;
    this.seq++;
    return true;
  }

  count(): Promise<{ received: number; duplicated: number; lastSeq: number }> {
    return this.client.request(protocol.routes.migCount, {}, { timeoutMs: 15_000 });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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
  const bots: Bot[] = [];
  let inputs: ReturnType<typeof setInterval> | undefined;
  const abort = async (): Promise<void> => {
    clearInterval(inputs);
    await Promise.allSettled(bots.map((b) => b.client.close()));
    await cluster.close();
  };
  o.onAbortable?.(abort);
  try {
    o.onProgress?.('starting a cluster of 1 coordinator, 2 engines, 1 gateway');
    await cluster.start();
    if (o.pin) pin(process.pid, 1);
    const baseUrl = cluster.gatewayUrls[0]!;
    for (let i = 0; i < o.players; i++) {
      const auth = await guest(baseUrl);
      const client = new GameClient({ url: auth.gateway, token: auth.token, protocol, WebSocket, reconnect: false });
      const bot = new Bot(client);
      await client.connect();
      bots.push(bot);
      if (i % 50 === 49) o.onProgress?.(`${i + 1}/${o.players} players in ${MIGRATE_SCENE}`);
      await sleep(1000 / o.connectPerSecond);
    }
    let sent = 0;
    inputs = setInterval(() => {
      for (const b of bots) if (b.input()) sent++;
    }, 1000 / MIGRATE_INPUTS_PER_SECOND);
    o.onProgress?.(`warm-up: ${o.warmupSeconds} s`);
    await sleep(o.warmupSeconds * 1000);
    for (const b of bots) b.longestGapMs = 0;
    const closedBefore = bots.filter((b) => b.closed).length;
    const frozen = new LatencyRecorder();
    let moves = 0;
    let errors = 0;
    const byMove: number[] = [];
    for (let i = 0; i < o.moves; i++) {
      for (const b of bots) b.moveGapMs = 0;
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
      const window = new LatencyRecorder();
      for (const b of bots) window.record(Math.max(0, b.moveGapMs - MIGRATE_TICK_MS));
      byMove.push(window.summary().p99Ms);
    }
    clearInterval(inputs);
    inputs = undefined;
    // The last inputs land, then the counts are read (a request answered after every input before it).
    await sleep(500);
    const counts = await Promise.all(bots.map((b) => b.count().catch(() => null)));
    errors += counts.filter((c) => c === null).length;
    let received = 0;
    let duplicated = 0;
    for (const c of counts) {
      if (c === null) continue;
      received += c.received;
      duplicated += c.duplicated;
    }
    const stalls = new LatencyRecorder();
    for (const b of bots) stalls.record(Math.max(0, b.longestGapMs - MIGRATE_TICK_MS));
    const s = stalls.summary();
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
      inputs: sent,
      lostInputs: Math.max(0, sent - (received - duplicated)),
      duplicatedInputs: duplicated,
    };
  } finally {
    o.onAbortable?.(null);
    await abort();
  }
}
