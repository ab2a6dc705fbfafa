/**
 * The players of the scaling scenarios (migrate, engine-drain, rolling-restart, scale-out): SDK
 * clients (`@gos/client` over `ws`) in `mig:<n>` scenes, each sending numbered inputs and
 * hearing its scene's 10 Hz tick, and what is judged from them:
 *
 * - each player's stall: its longest gap between two ticks minus the tick interval (a player
 *   who noticed nothing scores about 0);
 * - disconnects (the clients do not reconnect: any close counts) and errors the SDK surfaced;
 * - inputs lost or handled twice, from the counts the scenes keep in each player's data (which
 *   moves with the scene).
 */
import WebSocket from 'ws';
import { GameClient, guest } from '@gos/client';
import { protocol } from './generated/protocol.js';
import { LatencyRecorder, type LatencySummary } from './stats.js';

export const MIG_TICK_MS = 100;
export const MIG_INPUTS_PER_SECOND = 10;
/** How long a player may take to reach its scene at the start. */
const ENTER_TIMEOUT_MS = 15_000;

type Arrival = { readonly sceneId: string } | { readonly refused: string };

/** One player: its inputs, the gaps between the ticks it hears, and what went wrong. */
export class MigBot {
  seq = 0;
  lastTickAt = 0;
  longestGapMs = 0;
  /** The longest gap since {@link resetWindow}. */
  windowGapMs = 0;
  closed = false;
  /** Errors the SDK surfaced (an input refused, a bad frame). */
  errors = 0;
  /** The scene whose `Arrived` came last; null before the first. */
  sceneId: string | null = null;
  readonly #arrived = new Set<(e: Arrival) => void>();

  constructor(readonly client: GameClient<typeof protocol>) {
    client.onPush('Tick', () => {
      const now = performance.now();
      if (this.lastTickAt > 0) {
        this.longestGapMs = Math.max(this.longestGapMs, now - this.lastTickAt);
        this.windowGapMs = Math.max(this.windowGapMs, now - this.lastTickAt);
      }
      this.lastTickAt = now;
    });
    client.onPush('Arrived', ({ sceneId }) => {
      this.sceneId = sceneId;
      for (const f of this.#arrived) f({ sceneId });
    });
    client.onPush('HopRefused', ({ code }) => {
      for (const f of this.#arrived) f({ refused: code });
    });
    client.on('close', () => (this.closed = true));
    client.on('error', () => this.errors++);
  }

  /** Travel to `sceneId` (a `mig:<n>` scene) once in the first one, resolved on its `Arrived`. */
  async enter(sceneId: string): Promise<void> {
    if (this.sceneId === null) await this.#arrival((s) => s !== null, () => true);
    if (this.sceneId === sceneId) return;
    await this.#arrival((s) => s === sceneId, () => this.client.send(protocol.routes.migEnter, { to: sceneId }));
  }

  /** Resolves when an `Arrived` satisfies `done`; rejects on `HopRefused`, a failed `start()` or a timeout. */
  async #arrival(done: (sceneId: string | null) => boolean, start: () => boolean): Promise<void> {
    let listener: ((e: Arrival) => void) | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        listener = (e) => {
          if ('refused' in e) reject(new Error(`travel refused: ${e.refused}`));
          else if (done(e.sceneId)) resolve();
        };
        this.#arrived.add(listener);
        timer = setTimeout(() => reject(new Error(`no Arrived within ${ENTER_TIMEOUT_MS / 1000} s`)), ENTER_TIMEOUT_MS);
        if (done(this.sceneId)) resolve();
        else if (!start()) reject(new Error('the client is not connected'));
      });
    } finally {
      clearTimeout(timer);
      if (listener !== undefined) this.#arrived.delete(listener);
    }
  }

  input(): boolean {
    if (!this.client.send(protocol.routes.migInput, { seq: this.seq + 1 })) return false;
    this.seq++;
    return true;
  }

  resetWindow(): void {
    this.windowGapMs = 0;
  }

  count(): Promise<{ received: number; duplicated: number; lastSeq: number }> {
    return this.client.request(protocol.routes.migCount, {}, { timeoutMs: 15_000 });
  }
}

export interface JoinOptions {
  /** The gateway's HTTP origin (guest logins). */
  readonly baseUrl: string;
  readonly players: number;
  /** The scene of player `i` (`mig:1`, where logins land, or one it travels to). */
  readonly sceneOf: (i: number) => string;
  readonly connectPerSecond: number;
  readonly onProgress?: (line: string) => void;
}

/** Log `players` guests in, each into its scene, at `connectPerSecond`; every bot made lands in `into` (closed on failure by the caller). */
export async function joinMigBots(o: JoinOptions, into: MigBot[]): Promise<void> {
  for (let i = 0; i < o.players; i++) {
    const auth = await guest(o.baseUrl);
    const client = new GameClient({ url: auth.gateway, token: auth.token, protocol, WebSocket, reconnect: false });
    const bot = new MigBot(client);
    into.push(bot);
    await client.connect();
    await bot.enter(o.sceneOf(i));
    if (i % 50 === 49) o.onProgress?.(`${i + 1}/${o.players} players in their scenes`);
    await sleep(1000 / o.connectPerSecond);
  }
}

/** Every bot sends one numbered input each 1/{@link MIG_INPUTS_PER_SECOND} s until stopped. */
export class InputPump {
  sent = 0;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(bots: readonly MigBot[]) {
    this.#timer = setInterval(() => {
      for (const b of bots) if (b.input()) this.sent++;
    }, 1000 / MIG_INPUTS_PER_SECOND);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** A run's players and their inputs, and the run's teardown: inputs stopped, sockets closed, then its cluster. */
export class MigPlayers {
  readonly bots: MigBot[] = [];
  #pump: InputPump | undefined;

  /** Every player sends its numbered inputs from now on. */
  startInputs(): InputPump {
    this.#pump = new InputPump(this.bots);
    return this.#pump;
  }

  async close(cluster: { close(): Promise<void> }): Promise<void> {
    this.#pump?.stop();
    await Promise.allSettled(this.bots.map((b) => b.client.close()));
    await cluster.close();
  }
}

export interface InputTally {
  readonly inputs: number;
  readonly lostInputs: number;
  readonly duplicatedInputs: number;
  /** Players whose counts could not be read. */
  readonly unread: number;
}

/** Stop the inputs, let the last ones land, then read every player's counts from its scene. */
export async function tallyInputs(bots: readonly MigBot[], pump: InputPump): Promise<InputTally> {
  pump.stop();
  // The last inputs land, then the counts are read (a request is answered after every input before it).
  await sleep(500);
  const counts = await Promise.all(bots.map((b) => b.count().catch(() => null)));
  let received = 0;
  let duplicated = 0;
  for (const c of counts) {
    if (c === null) continue;
    received += c.received;
    duplicated += c.duplicated;
  }
  return {
    inputs: pump.sent,
    lostInputs: Math.max(0, pump.sent - (received - duplicated)),
    duplicatedInputs: duplicated,
    unread: counts.filter((c) => c === null).length,
  };
}

/** Each player's stall (longest tick gap minus the tick interval), over players. */
export function stallsOf(bots: readonly MigBot[], gap: (b: MigBot) => number = (b) => b.longestGapMs): LatencySummary {
  const stalls = new LatencyRecorder();
  for (const b of bots) stalls.record(Math.max(0, gap(b) - MIG_TICK_MS));
  return stalls.summary();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
