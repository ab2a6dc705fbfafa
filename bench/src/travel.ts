/**
 * The travel scenario (issue 12): players hop between `hop:<n>` scenes spread over two engines
 * of a real cluster ({@link BenchCluster}: etcd, Redis, MariaDB, one process per member), on the
 * same socket, while sending numbered inputs 10 times a second. After a warm-up that places
 * every scene, two measured phases: hops between scenes of the same engine, then hops to a scene
 * of the other engine. Per phase: travel latency (the hop request sent → the first push of the
 * new scene), travels refused or never finished, and the inputs lost or applied twice (the
 * scenes count them in the player's data, which travels with the player).
 *
 * The clients are SDK clients (`@gos/client` over `ws`) in this process; the cluster's members
 * are pinned to CPU 0 when pinning, this process to CPU 1.
 */
import WebSocket from 'ws';
import { GameClient, guest } from '@gos/client';
import { readStatus } from '@gos/cluster';
import { BenchCluster, pin } from './failover/cluster.js';
import { protocol } from './generated/protocol.js';
import type { Machine } from './report/results.js';
import { LatencyRecorder } from './stats.js';

export type TravelScope = 'same-engine' | 'cross-engine';

export interface TravelRow {
  readonly scope: TravelScope;
  readonly clients: number;
  /** Travels that finished (the new scene's first push arrived) in the phase. */
  readonly travels: number;
  /** Travels refused (HopRefused) or not finished within 10 s. */
  readonly failedTravels: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Inputs sent in the phase. */
  readonly inputs: number;
  /** Inputs sent that no scene handled. */
  readonly lostInputs: number;
  /** Inputs handled more than once (or out of order). */
  readonly duplicatedInputs: number;
  /** Hop scenes on each engine during the phase. */
  readonly scenesPerEngine: Readonly<Record<string, number>>;
}

export interface TravelResultsFile {
  readonly scenario: 'travel';
  readonly date: string;
  readonly machine: Machine;
  readonly settings: {
    readonly warmupSeconds: number;
    /** Each phase's length. */
    readonly steadySeconds: number;
    readonly command: string;
    readonly hopEveryMs: number;
    readonly inputsPerSecond: number;
    readonly scenes: number;
  };
  readonly runs: readonly TravelRow[];
}

export interface TravelOptions {
  readonly clients: number;
  readonly warmupSeconds: number;
  /** Each measured phase. */
  readonly steadySeconds: number;
  /** How often each client hops (its hops are spread over the period). */
  readonly hopEveryMs: number;
  readonly inputsPerSecond: number;
  readonly scenes: number;
  readonly connectPerSecond: number;
  readonly pin: boolean;
  readonly etcdUrl: string;
  readonly redisUrl: string;
  readonly mysqlUrl: string;
  readonly onProgress?: (line: string) => void;
  readonly onAbortable?: (abort: (() => Promise<void>) | null) => void;
}

/** A travel that has not finished after this counts as failed. */
const TRAVEL_TIMEOUT_MS = 10_000;

interface Hop {
  readonly to: string;
  readonly at: number;
  /** The phase it was started in: only a hop of the phase counts in it. */
  readonly scope: TravelScope | 'warmup';
}

/** One player: where it is, the hop under way, the inputs it sent. */
class Hopper {
  sceneId = '';
  hop: Hop | null = null;
  seq = 0;
  readonly api: ReturnType<typeof apiOf>;

  constructor(
    readonly client: GameClient<typeof protocol>,
    onArrived: (h: Hopper, hop: Hop | null) => void,
    onRefused: (h: Hopper, hop: Hop | null) => void,
  ) {
    this.api = apiOf(client);
    client.onPush('Arrived', ({ sceneId }) => {
      this.sceneId = sceneId;
      const hop = this.hop?.to === sceneId ? this.hop : null;
      if (hop !== null) this.hop = null;
      onArrived(this, hop);
    });
    client.onPush('HopRefused', () => {
      const hop = this.hop;
      this.hop = null;
      onRefused(this, hop);
    });
  }
}

function apiOf(client: GameClient<typeof protocol>) {
  return {
    hop: (to: string): boolean => client.send(protocol.routes.hop, { to }),
    input: (seq: number): boolean => client.send(protocol.routes.input, { seq }),
    count: () => client.request(protocol.routes.count, {}, { timeoutMs: 15_000 }),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runTravel(o: TravelOptions): Promise<TravelRow[]> {
  const cluster = new BenchCluster({
    etcdUrl: o.etcdUrl,
    redisUrl: o.redisUrl,
    mysqlUrl: o.mysqlUrl,
    coordinators: 1,
    engines: 2,
    gateways: 1,
    sceneType: 'hop',
    leaseTtlSeconds: 5,
    persistIntervalMs: 5000,
    pinCpu: o.pin ? 0 : null,
  });
  const clients: GameClient<typeof protocol>[] = [];
  /** Timers to stop, whatever happens. */
  const stops: Array<() => void> = [];
  const abort = async (): Promise<void> => {
    for (const stop of stops) stop();
    await Promise.allSettled(clients.map((c) => c.close()));
    await cluster.close();
  };
  o.onAbortable?.(abort);
  try {
    o.onProgress?.('starting a cluster of 1 coordinator, 2 engines, 1 gateway');
    await cluster.start();
    // The clients run here: on the other CPU than the cluster's.
    if (o.pin) pin(process.pid, 1);
    const baseUrl = cluster.gatewayUrls[0]!;
    const scenes = Array.from({ length: o.scenes }, (_, i) => `hop:${i + 1}`);
    let scope: TravelScope | 'warmup' = 'warmup';
    const latency = new LatencyRecorder();
    let travels = 0;
    let failed = 0;
    const hoppers: Hopper[] = [];
    const onArrived = (_h: Hopper, hop: Hop | null): void => {
      if (hop === null || hop.scope !== scope || scope === 'warmup') return;
      latency.record(performance.now() - hop.at);
      travels++;
    };
    const onRefused = (_h: Hopper, hop: Hop | null): void => {
      if (hop !== null && hop.scope === scope && scope !== 'warmup') failed++;
    };
    for (let i = 0; i < o.clients; i++) {
      const auth = await guest(baseUrl);
      const client = new GameClient({ url: auth.gateway, token: auth.token, protocol, WebSocket, reconnect: false });
      clients.push(client);
      const h = new Hopper(client, onArrived, onRefused);
      await client.connect();
      hoppers.push(h);
      if (i % 20 === 19) o.onProgress?.(`${i + 1}/${o.clients} clients connected`);
      await sleep(1000 / o.connectPerSecond);
    }

    // Inputs all along (paused while the counts are read), hops by the phase's rule; a hop that
    // never finishes is given up.
    let inputsSent = 0;
    const sendInputs = (): ReturnType<typeof setInterval> =>
      setInterval(() => {
        for (const h of hoppers) {
          if (!h.api.input(h.seq + 1)) continue;
          h.seq++;
          inputsSent++;
        }
      }, 1000 / o.inputsPerSecond);
    let inputs = sendInputs();
    stops.push(() => clearInterval(inputs));
    let engineOf = new Map<string, string>();
    const pick = (h: Hopper): string | undefined => {
      const here = engineOf.get(h.sceneId);
      const candidates = scenes.filter((s) => {
        if (s === h.sceneId) return false;
        if (scope === 'warmup') return true;
        const there = engineOf.get(s);
        return there !== undefined && here !== undefined && (scope === 'same-engine' ? there === here : there !== here);
      });
      return candidates[Math.floor(Math.random() * candidates.length)];
    };
    const hopTimers: Array<ReturnType<typeof setTimeout>> = [];
    stops.push(() => hopTimers.forEach((t) => clearInterval(t)));
    hoppers.forEach((h, i) => {
      hopTimers[i] = 
      setTimeout(() => {
        const hopNow = (): void => {
          if (h.hop !== null && performance.now() - h.hop.at > TRAVEL_TIMEOUT_MS) {
            if (h.hop.scope === scope && scope !== 'warmup') failed++;
            h.hop = null;
          }
          if (h.hop !== null || h.sceneId === '') return;
          const to = pick(h);
          if (to === undefined) return;
          h.hop = { to, at: performance.now(), scope };
          if (!h.api.hop(to)) h.hop = null;
        };
        hopNow();
        hopTimers[i] = setInterval(hopNow, o.hopEveryMs);
      }, (i * o.hopEveryMs) / hoppers.length);
    });

    const counts = async (): Promise<{ received: number; duplicated: number; sent: number }> => {
      // Hops finish first: a count asked of a player on its way waits for the target anyway.
      const sent = inputsSent;
      const all = await Promise.all(hoppers.map((h) => h.api.count()));
      return { received: all.reduce((n, c) => n + c.received, 0), duplicated: all.reduce((n, c) => n + c.duplicated, 0), sent };
    };

    o.onProgress?.(`warm-up: ${o.warmupSeconds} s of hops to every scene`);
    await sleep(o.warmupSeconds * 1000);
    const rows: TravelRow[] = [];
    for (const phase of ['same-engine', 'cross-engine'] as const) {
      const placements = (await readStatus(cluster.config)).placements.filter((p) => scenes.includes(p.sceneId));
      engineOf = new Map(placements.map((p) => [p.sceneId, p.engineId]));
      const scenesPerEngine: Record<string, number> = {};
      for (const p of placements) scenesPerEngine[p.engineId] = (scenesPerEngine[p.engineId] ?? 0) + 1;
      clearInterval(inputs);
      const before = await counts();
      inputs = sendInputs();
      latency.reset();
      travels = 0;
      failed = 0;
      scope = phase;
      o.onProgress?.(`${phase}: ${o.steadySeconds} s`);
      await sleep(o.steadySeconds * 1000);
      scope = 'warmup';
      clearInterval(inputs);
      const summary = latency.summary();
      const finished = travels;
      const refused = failed;
      // Let the hops under way land (they are not counted), then read the counts.
      const settleUntil = performance.now() + TRAVEL_TIMEOUT_MS;
      while (hoppers.some((h) => h.hop !== null) && performance.now() < settleUntil) await sleep(50);
      const after = await counts();
      inputs = sendInputs();
      const received = after.received - before.received;
      const duplicated = after.duplicated - before.duplicated;
      const sent = after.sent - before.sent;
      rows.push({
        scope: phase,
        clients: o.clients,
        travels: finished,
        failedTravels: refused,
        p50Ms: summary.p50Ms,
        p99Ms: summary.p99Ms,
        maxMs: summary.maxMs,
        inputs: sent,
        lostInputs: Math.max(0, sent - (received - duplicated)),
        duplicatedInputs: duplicated,
        scenesPerEngine,
      });
    }
    return rows;
  } finally {
    o.onAbortable?.(null);
    await abort();
  }
}
