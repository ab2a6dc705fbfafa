/**
 * Chat state in Redis (ioredis), for a cluster: every gateway sees the same histories, held
 * lines, mutes and block lists, and hears every frame published. Operations that read and write
 * are one Lua script each (redis-scripts.ts, which also gives the key layout); the fan-out is one
 * pub/sub channel (`<prefix>fanout`, messages as fanout.ts encodes them) heard on a second
 * connection, opened by the first `subscribe`.
 */
import { Redis } from 'ioredis';
import { CodedError, ErrorCodes, silentLogger, type Logger } from '@gos/schema';
import {
  asLine,
  checkChannel,
  checkFrame,
  checkHandler,
  checkHistoryLimit,
  checkHoldLimits,
  checkLine,
  checkLineId,
  checkNewLine,
  checkPair,
  checkPlayerId,
  checkRetention,
  checkTime,
  MAX_BLOCKED,
  parseLineId,
  tooManyBlocked,
} from './args.js';
import { decodeFanout, encodeFanout } from './fanout.js';
import { SCRIPTS, type ScriptName } from './redis-scripts.js';
import { Subscribers, type FrameHandler } from './subscribers.js';
import type { ChannelName, ChatBackend, ChatLine, ChatRetention, NewChatLine } from './types.js';

export interface RedisChatOptions {
  /** Redis to connect to (`redis://` or `rediss://`); the backend owns its connections. */
  readonly url: string;
  /** Prefix of every key and of the fan-out channel. @default 'gos:chat:' */
  readonly keyPrefix?: string;
  /** Per-command timeout: a command unanswered this long fails with CHAT_ERR_BACKEND. @default 5000 */
  readonly commandTimeoutMs?: number;
  /** @default silentLogger */
  readonly logger?: Logger;
}

const DEFAULT_KEY_PREFIX = 'gos:chat:';
const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
/**
 * Reconnect attempts a command waits through before it fails: a Redis that is down fails calls
 * within a reconnect or two (the connection keeps reconnecting in the background).
 */
const MAX_RETRIES_PER_REQUEST = 1;
/** Reconnect backoff once started: this much more each attempt, up to the cap. */
const RECONNECT_STEP_MS = 50;
const MAX_RECONNECT_DELAY_MS = 2000;
/** Where a held entry's JSON starts: after `<expiresAtMs> `. */
const HELD_ENTRY = /^(\d{1,16}) ([\s\S]*)$/;
/** What the block script answers when the list is full. */
const BLOCK_FULL = -1;

function backendError(what: string, err: unknown): CodedError {
  if (err instanceof CodedError) return err;
  return new CodedError(ErrorCodes.CHAT_ERR_BACKEND, `chat ${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

function malformed(what: string): CodedError {
  return new CodedError(ErrorCodes.CHAT_ERR_BACKEND, `chat ${what}: Redis answered something unexpected`);
}

function list(reply: unknown, what: string): unknown[] {
  if (!Array.isArray(reply)) throw malformed(what);
  return reply;
}

function num(value: unknown, what: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw malformed(what);
  return n;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw malformed(what);
  return value;
}

export class RedisChatBackend implements ChatBackend {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #subs: Subscribers;
  /** The subscriber connection, once a `subscribe` opened it (kept until close). */
  #subscriber: Promise<Redis> | null = null;
  #closing: Promise<void> | null = null;
  /**
   * Whether a start reached Redis. Until then a lost connection is not retried (start fails,
   * and calls fail at once); from then on it reconnects for as long as the backend is open.
   */
  #started = false;

  constructor(o: RedisChatOptions) {
    if (typeof o.url !== 'string' || !/^rediss?:\/\//.test(o.url)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'chat: url must be a redis:// or rediss:// URL');
    if (o.keyPrefix !== undefined && typeof o.keyPrefix !== 'string') throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'chat: keyPrefix must be a string');
    const timeout = o.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    if (!Number.isSafeInteger(timeout) || timeout < 1) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `chat: commandTimeoutMs must be a positive integer, got ${timeout}`);
    this.#log = o.logger ?? silentLogger;
    this.#prefix = o.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.#subs = new Subscribers(this.#log);
    this.#redis = new Redis(o.url, {
      lazyConnect: true,
      commandTimeout: timeout,
      maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
      // The subscriber connection (a duplicate) shares this: it reconnects and subscribes again.
      retryStrategy: (attempt) => (this.#started ? Math.min(attempt * RECONNECT_STEP_MS, MAX_RECONNECT_DELAY_MS) : null),
    });
    // Without a listener ioredis prints every reconnect failure to the console.
    this.#redis.on('error', (err: unknown) => this.#log.warn({ err }, 'chat redis connection error'));
    for (const [name, s] of Object.entries(SCRIPTS)) this.#redis.defineCommand(`gosChat${name}`, s);
  }

  #key(kind: 'ch' | 'held' | 'mute' | 'block', id: string): string {
    return `${this.#prefix}${kind}:${id}`;
  }

  get #fanout(): string {
    return `${this.#prefix}fanout`;
  }

  #checkOpen(): void {
    if (this.#closing !== null) throw new CodedError(ErrorCodes.CHAT_ERR_BACKEND, 'the chat backend is closed');
  }

  /** One Redis call, its failure CHAT_ERR_BACKEND. */
  async #call<T>(what: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
    this.#checkOpen();
    try {
      return await fn(this.#redis);
    } catch (err) {
      throw backendError(what, err);
    }
  }

  async #run(script: ScriptName, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    this.#checkOpen();
    const command: unknown = Reflect.get(this.#redis, `gosChat${script}`);
    if (typeof command !== 'function') throw new CodedError(ErrorCodes.CHAT_ERR_BACKEND, `script ${script} is not defined on the Redis client`);
    try {
      const reply: unknown = await command.call(this.#redis, ...keys, ...args);
      return reply;
    } catch (err) {
      throw backendError(script.toLowerCase(), err);
    }
  }

  /** Connect and check Redis answers. Idempotent; after a failure, call it again to retry. @throws CHAT_ERR_BACKEND */
  async start(): Promise<void> {
    this.#checkOpen();
    try {
      if (this.#redis.status === 'wait' || this.#redis.status === 'end') await this.#redis.connect();
      await this.#redis.ping();
      this.#started = true;
    } catch (err) {
      // Never started: drop a connection that opened but did not answer (a later start connects
      // again). Started before: the connection keeps reconnecting, as it does for every call.
      if (!this.#started && this.#redis.status !== 'end') this.#redis.disconnect();
      throw backendError('start (reaching Redis)', err);
    }
  }

  /** Idempotent: subscriptions end, both connections quit. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#subs.clear();
    const subscriber = this.#subscriber;
    this.#subscriber = null;
    const connections = [this.#redis];
    if (subscriber !== null) {
      try {
        connections.push(await subscriber);
      } catch {
        // It never opened (its subscribe failed, and disconnected it).
      }
    }
    await Promise.all(connections.map((c) => this.#quit(c)));
  }

  async #quit(redis: Redis): Promise<void> {
    if (redis.status === 'ready') {
      try {
        await redis.quit();
        return;
      } catch (err) {
        this.#log.debug({ err }, 'chat redis quit failed; disconnecting');
      }
    }
    redis.disconnect();
  }

  async append(line: NewChatLine, retention: ChatRetention): Promise<ChatLine> {
    const l = checkNewLine(line);
    const r = checkRetention(retention);
    const id = str(await this.#run('APPEND', [this.#key('ch', l.channel)], [r.maxLines, r.maxAgeMs, l.from, l.name, l.text]), 'append');
    const parsed = parseLineId(id);
    if (parsed === null) throw malformed('append');
    return { id, channel: l.channel, from: l.from, name: l.name, text: l.text, at: parsed.ms };
  }

  async history(channel: ChannelName, limit: number, before?: string): Promise<ChatLine[]> {
    const ch = checkChannel(channel);
    const n = checkHistoryLimit(limit);
    const bound = before === undefined ? undefined : checkLineId(before, 'before');
    // Nothing comes before the first id there can be (and Redis refuses the exclusive range).
    if (bound === '0-0') return [];
    const key = this.#key('ch', ch);
    const reply: unknown = await this.#call('history', (redis) => redis.xrevrange(key, bound === undefined ? '+' : `(${bound}`, '-', 'COUNT', n));
    const lines: ChatLine[] = [];
    for (const entry of list(reply, 'history')) {
      const [id, fields] = list(entry, 'history');
      const f = list(fields, 'history');
      const field = (name: string): unknown => {
        for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === name) return f[i + 1];
        return undefined;
      };
      const idText = str(id, 'history');
      const line = asLine({ id: idText, channel: ch, from: field('from'), name: field('name'), text: field('text'), at: parseLineId(idText)?.ms });
      if (line === null) this.#log.warn({ channel: ch, id: idText }, 'chat history: a malformed line was skipped');
      else lines.push(line);
    }
    return lines.reverse();
  }

  async hold(playerId: string, line: ChatLine, max: number, ttlMs: number): Promise<void> {
    const id = checkPlayerId(playerId);
    const l = checkLine(line);
    const limits = checkHoldLimits(max, ttlMs);
    const json = JSON.stringify({ id: l.id, channel: l.channel, from: l.from, name: l.name, text: l.text, at: l.at });
    num(await this.#run('HOLD', [this.#key('held', id)], [json, limits.max, limits.ttlMs]), 'hold');
  }

  async release(playerId: string, lineId: string): Promise<boolean> {
    const id = checkPlayerId(playerId);
    const line = checkLineId(lineId);
    return num(await this.#run('RELEASE_HELD', [this.#key('held', id)], [line]), 'release') === 1;
  }

  async takeHeld(playerId: string): Promise<ChatLine[]> {
    const id = checkPlayerId(playerId);
    const [nowReply, items] = list(await this.#run('TAKE_HELD', [this.#key('held', id)], []), 'take held');
    const now = num(nowReply, 'take held');
    const lines: ChatLine[] = [];
    for (const item of list(items, 'take held')) {
      const m = HELD_ENTRY.exec(str(item, 'take held'));
      // Expired lines are dropped as they would have been had the key expired.
      if (m !== null && Number(m[1]) <= now) continue;
      let line: ChatLine | null = null;
      try {
        line = m === null ? null : asLine(JSON.parse(m[2] ?? ''));
      } catch {
        // Not JSON: logged below.
      }
      if (line === null) this.#log.warn({ playerId: id }, 'chat held lines: a malformed entry was skipped');
      else lines.push(line);
    }
    return lines;
  }

  async mute(playerId: string, until: number): Promise<void> {
    const id = checkPlayerId(playerId);
    const t = checkTime(until, 'until');
    num(await this.#run('MUTE', [this.#key('mute', id)], [t]), 'mute');
  }

  async mutedUntil(playerId: string): Promise<number> {
    const key = this.#key('mute', checkPlayerId(playerId));
    const value = await this.#call('muted until', (redis) => redis.get(key));
    return value === null ? 0 : num(value, 'muted until');
  }

  async block(playerId: string, other: string): Promise<boolean> {
    const [a, b] = checkPair(playerId, other);
    const r = num(await this.#run('BLOCK', [this.#key('block', a)], [b, MAX_BLOCKED]), 'block');
    if (r === BLOCK_FULL) throw tooManyBlocked(a);
    return r === 1;
  }

  async unblock(playerId: string, other: string): Promise<boolean> {
    const [a, b] = checkPair(playerId, other);
    const key = this.#key('block', a);
    return num(await this.#call('unblock', (redis) => redis.srem(key, b)), 'unblock') === 1;
  }

  async blocked(playerId: string): Promise<string[]> {
    const key = this.#key('block', checkPlayerId(playerId));
    const reply: unknown = await this.#call('blocked', (redis) => redis.smembers(key));
    return list(reply, 'blocked')
      .map((m) => str(m, 'blocked'))
      .sort();
  }

  async blocks(playerId: string, other: string): Promise<boolean> {
    const [a, b] = checkPair(playerId, other);
    const key = this.#key('block', a);
    return num(await this.#call('blocks', (redis) => redis.sismember(key, b)), 'blocks') === 1;
  }

  async publish(channel: ChannelName, frame: Uint8Array): Promise<void> {
    const message = encodeFanout(checkChannel(channel), checkFrame(frame));
    await this.#call('publish', (redis) => redis.publish(this.#fanout, message));
  }

  async subscribe(onFrame: FrameHandler): Promise<() => Promise<void>> {
    const fn = checkHandler(onFrame);
    this.#checkOpen();
    this.#subscriber ??= this.#openSubscriber();
    const opening = this.#subscriber;
    try {
      await opening;
    } catch (err) {
      // A later subscribe tries again.
      if (this.#subscriber === opening) this.#subscriber = null;
      throw backendError('subscribe', err);
    }
    // Closed while the connection opened: nothing is heard.
    this.#checkOpen();
    const sub = this.#subs.add(fn);
    return async () => {
      this.#subs.remove(sub);
    };
  }

  /** The connection in subscriber mode, subscribed to the fan-out channel. */
  async #openSubscriber(): Promise<Redis> {
    const sub = this.#redis.duplicate();
    sub.on('error', (err: unknown) => this.#log.warn({ err }, 'chat redis subscriber connection error'));
    sub.on('messageBuffer', (channel: unknown, message: unknown) => this.#onMessage(channel, message));
    try {
      await sub.subscribe(this.#fanout);
    } catch (err) {
      if (sub.status !== 'end') sub.disconnect();
      throw err;
    }
    return sub;
  }

  #onMessage(channel: unknown, message: unknown): void {
    if (!Buffer.isBuffer(channel) || channel.toString() !== this.#fanout) return;
    if (!(message instanceof Uint8Array)) {
      this.#log.warn({ channel: this.#fanout }, 'chat fan-out: a message that is not bytes was dropped');
      return;
    }
    const decoded = decodeFanout(message);
    if ('malformed' in decoded) {
      this.#log.warn({ channel: this.#fanout, bytes: message.byteLength, reason: decoded.malformed }, 'chat fan-out: a malformed message was dropped');
      return;
    }
    this.#subs.deliver(decoded.channel, decoded.frame);
  }
}
