/**
 * Bot players for the demo: each registers, logs in, connects through the client SDK and walks
 * around, counting acknowledged moves and whether it saw other bots. Refusals the framework
 * documents as retryable (a scene resuming or moving during a failover) are retried and counted
 * apart from errors, which are what a player would see fail.
 */
import WebSocket from 'ws';
import { EntityTable, GameClient, login, register, ServerError } from '@gos/client';
import { createApi, protocol } from './generated/protocol.js';
import { FIELD_SIZE } from './field-map.js';
import { fetchTrusting, webSocketTrusting } from './tls-client.js';

export interface BotRunOptions {
  /** Gateway HTTP base URL, e.g. http://127.0.0.1:3000 */
  readonly baseUrl: string;
  readonly count: number;
  readonly seconds: number;
  /** Moves per second per bot. @default 10 */
  readonly movesPerSecond?: number;
  /** Registrations in flight at once (scrypt is deliberately slow). @default 16 */
  readonly concurrency?: number;
  /** Called once every bot has connected (or failed to), before they start walking. */
  readonly onConnected?: (connected: number) => void;
  /** Trust this CA (PEM) for an https gateway whose certificate a private CA signed. */
  readonly ca?: string | Buffer;
  /**
   * `world` (default): walk on the world maps with `move`, each answered. `field`: travel to the
   * large map `field:1` and walk there with `walk` (fire-and-forget; docs/aoi.md); the first ten
   * bots keep an entity table, for `seenOthers`.
   */
  readonly map?: 'world' | 'field';
}

/** Bots that keep an entity table on the large map (the others only walk). */
const WATCHERS = 10;

export interface BotRunResult {
  connected: number;
  moves: number;
  seenOthers: boolean;
  /** Requests refused with a retryable error (see {@link isRetryable}) and retried. */
  retried: number;
  /** Failures a player would see: anything not retryable, or retryable refusals for longer than {@link RETRY_FOR_MS}. */
  errors: number;
  /** `errors` by error code (`ERR` for an error without one). */
  errorsByCode: Record<string, number>;
  snapshots: number;
  chatLines: number;
  ackP50Ms: number;
  ackP99Ms: number;
  durationMs: number;
  firstError?: string;
}

interface Bot {
  readonly client: GameClient<typeof protocol>;
  readonly api: ReturnType<typeof createApi>;
  readonly id: string;
  readonly name: string;
  x: number;
  y: number;
}


/** How long a bot may be refused as retryable, in a row, before it counts an error: the gateway's own wait for an engine. */
export const RETRY_FOR_MS = 30_000;

/**
 * True for a refusal a player's client should simply retry: the server marked it `retryable`
 * (its scene is being placed again after a failover, moving, or an engine drains).
 */
export function isRetryable(err: unknown): boolean {
  return err instanceof ServerError && err.retryable;
}

/** Retry an auth call the gateway refused with 429 (its per-address limit), with back-off. */
async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if ((err as { code?: string }).code !== 'GW_ERR_RATE_LIMITED' || attempt >= 30) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random())));
    }
  }
}

async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  const results = new Array<PromiseSettledResult<T>>(n);
  let next = 0;
  const workers = Array.from({ length: Math.min(n, concurrency) }, async () => {
    while (next < n) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(i) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  });
  await Promise.all(workers);
  return results;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! * 100) / 100;
}

export async function runBots(o: BotRunOptions): Promise<BotRunResult> {
  const started = performance.now();
  const result: BotRunResult = { connected: 0, moves: 0, seenOthers: false, retried: 0, errors: 0, errorsByCode: {}, snapshots: 0, chatLines: 0, ackP50Ms: 0, ackP99Ms: 0, durationMs: 0 };
  const noteError = (err: unknown): void => {
    const code = (err as { code?: unknown } | null)?.code;
    const key = typeof code === 'string' ? code : 'ERR';
    result.errors++;
    result.errorsByCode[key] = (result.errorsByCode[key] ?? 0) + 1;
    result.firstError ??= err instanceof Error ? `${key}: ${err.message}` : String(err);
  };
  /** A request a player's client would repeat until it is answered: retryable refusals are retried for up to RETRY_FOR_MS. */
  const untilAnswered = async <T>(fn: () => Promise<T>): Promise<T> => {
    const since = performance.now();
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!isRetryable(err) || performance.now() - since > RETRY_FOR_MS) throw err;
        result.retried++;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const field = o.map === 'field';
  const size = field ? FIELD_SIZE : 1000;
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  const password = 'bot-password-1';
  const trusting = o.ca === undefined ? {} : { fetch: fetchTrusting(o.ca) };
  const Socket = o.ca === undefined ? WebSocket : webSocketTrusting(o.ca);
  const settled = await pool(o.count, o.concurrency ?? 16, async (i): Promise<Bot> => {
    const username = `bot-${run}-${i}`;
    await withRetry(() => register(o.baseUrl, username, password, trusting));
    const auth = await withRetry(() => login(o.baseUrl, username, password, trusting));
    const client = new GameClient({ url: auth.gateway, fallbackUrls: (auth.gateways ?? []).slice(1), token: auth.token, protocol, WebSocket: Socket });
    if (field && i < WATCHERS) {
      const table = new EntityTable(client);
      table.onEnter((e) => {
        if (e.type === 'Avatar' && e.values['name'] !== username) result.seenOthers = true;
      });
    }
    client.onPush('WorldSnapshot', (snap) => {
      result.snapshots++;
      // On the large map, only its entities count (the world map is passed through on the way).
      if (!field && snap.players.some((p) => p.id !== auth.accountId)) result.seenOthers = true;
    });
    // Fire-and-forget walks are refused through error events: counted like any error.
    if (field) client.on('error', (err) => noteError(err));
    client.onPush('ChatLine', () => {
      result.chatLines++;
    });
    await client.connect();
    const api = createApi(client);
    const me = await untilAnswered(() => api.whoami({}));
    if (!field) {
      result.connected++;
      return { client, api, id: auth.accountId, name: username, x: me.x, y: me.y };
    }
    const at = { x: Math.random() * FIELD_SIZE, y: Math.random() * FIELD_SIZE };
    // The travel is answered at once; SceneChanged says it happened, a server ChatLine that it did not.
    const offs: (() => void)[] = [];
    const arrived = new Promise<void>((resolve, reject) => {
      offs.push(client.onPush('SceneChanged', () => resolve()));
      offs.push(client.onPush('ChatLine', (l) => l.from === 'server' && l.text.startsWith('cannot go') && reject(new Error(l.text))));
      const timer = setTimeout(() => reject(new Error(`no SceneChanged to field:1 within ${RETRY_FOR_MS / 1000} s`)), RETRY_FOR_MS);
      offs.push(() => clearTimeout(timer));
    });
    try {
      await untilAnswered(() => api.travel({ sceneId: 'field:1', ...at }));
      await arrived;
    } finally {
      for (const off of offs) off();
    }
    result.connected++;
    return { client, api, id: auth.accountId, name: username, ...at };
  });
  const bots: Bot[] = [];
  for (const s of settled) {
    if (s.status === 'fulfilled') bots.push(s.value);
    else noteError(s.reason);
  }
  o.onConnected?.(bots.length);

  const latencies: number[] = [];
  const periodMs = 1000 / (o.movesPerSecond ?? 10);
  const endAt = performance.now() + o.seconds * 1000;
  let seq = 0;
  await Promise.all(
    bots.map(async (bot, i) => {
      // Spread the bots over the period so their moves do not arrive in lockstep.
      await new Promise((r) => setTimeout(r, (i * periodMs) / Math.max(1, bots.length)));
      let heading = Math.random() * Math.PI * 2;
      /** Since when this bot's moves have been refused as retryable (null: its last move went through). */
      let refusedSince: number | null = null;
      while (performance.now() < endAt) {
        const tickAt = performance.now();
        heading += (Math.random() - 0.5) * 0.6;
        const x = Math.min(size, Math.max(0, bot.x + Math.cos(heading) * 15));
        const y = Math.min(size, Math.max(0, bot.y + Math.sin(heading) * 15));
        if (x <= 0 || x >= size || y <= 0 || y >= size) heading += Math.PI;
        if (field) {
          // Fire-and-forget: the bot's Avatar entity shows where it is (a refusal comes as an error event).
          try {
            if (bot.client.send(protocol.routes.walk, { x, y })) {
              bot.x = x;
              bot.y = y;
              result.moves++;
            } else {
              noteError(new Error(`walk not sent: the client is ${bot.client.state}`));
            }
          } catch (err) {
            noteError(err);
          }
          const wait = periodMs - (performance.now() - tickAt);
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          continue;
        }
        try {
          const res = await bot.api.move({ seq: ++seq, x, y });
          latencies.push(performance.now() - tickAt);
          bot.x = res.x;
          bot.y = res.y;
          result.moves++;
          refusedSince = null;
        } catch (err) {
          if (!isRetryable(err)) {
            noteError(err);
          } else {
            // Retried by the next move (a new step from the same place).
            refusedSince ??= performance.now();
            if (performance.now() - refusedSince <= RETRY_FOR_MS) {
              result.retried++;
            } else {
              noteError(err);
              refusedSince = null;
            }
          }
        }
        const wait = periodMs - (performance.now() - tickAt);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }),
  );
  if (bots[0] !== undefined && !field) {
    try {
      const speaker = bots[0];
      await untilAnswered(() => speaker.api.say({ text: 'bots done' }));
      await new Promise((r) => setTimeout(r, 300));
    } catch (err) {
      noteError(err);
    }
  }
  await Promise.all(bots.map((b) => b.client.close()));
  latencies.sort((a, b) => a - b);
  result.ackP50Ms = percentile(latencies, 50);
  result.ackP99Ms = percentile(latencies, 99);
  result.durationMs = Math.round(performance.now() - started);
  return result;
}
