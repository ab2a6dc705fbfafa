/**
 * Leaderboards in Redis sorted sets (ioredis), one Lua script an operation (redis-scripts.ts):
 * for a cluster, where every engine and the admin side see the same boards.
 */
import { Redis } from 'ioredis';
import { CodedError, ErrorCodes, silentLogger, type Logger } from '@gos/schema';
import { decodeStoredDefinition, type BoardDefinition, type StoredDefinition } from './definition.js';
import { SCRIPTS, type ScriptName } from './redis-scripts.js';
import { STALE, type LeaderboardBackend, type RawEntry, type Stale, type SubmitResult, type Target } from './types.js';

export interface RedisLeaderboardOptions {
  /** Redis to connect to; the backend owns this connection. Give `url` or `redis`. @default 'redis://127.0.0.1:6379' */
  readonly url?: string;
  /** An ioredis client to use instead (the caller owns it and closes it). */
  readonly redis?: Redis;
  /** Prefix of every key (after the client's own `keyPrefix`). @default 'gos:' */
  readonly keyPrefix?: string;
  /** Per-command timeout on a connection the backend owns. @default 5000 */
  readonly commandTimeoutMs?: number;
  /** @default silentLogger */
  readonly logger?: Logger;
}

type Reply = unknown;

function backendError(what: string, err: unknown): CodedError {
  if (err instanceof CodedError) return err;
  return new CodedError(ErrorCodes.LB_ERR_BACKEND, `leaderboard ${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

function malformed(what: string): CodedError {
  return new CodedError(ErrorCodes.LB_ERR_BACKEND, `leaderboard ${what}: Redis answered something unexpected`);
}

function list(reply: Reply, what: string): unknown[] {
  if (!Array.isArray(reply)) throw malformed(what);
  return reply;
}

function num(value: unknown, what: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw malformed(what);
  return n;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw malformed(what);
  return value;
}

/** `{items (member, score, …), data}` from a range script, the first at index `first`. */
function entries(items: unknown, data: unknown, first: number, what: string): RawEntry[] {
  const flat = list(items, what);
  const texts = list(data, what);
  const out: RawEntry[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const text = texts[i / 2];
    out.push({ memberId: str(flat[i], what).slice(16), score: num(flat[i + 1], what), index: first + i / 2, data: typeof text === 'string' ? text : null });
  }
  return out;
}

export class RedisLeaderboardBackend implements LeaderboardBackend {
  readonly #redis: Redis;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #log: Logger;
  #closing: Promise<void> | null = null;

  constructor(o: RedisLeaderboardOptions = {}) {
    if (o.url !== undefined && o.redis !== undefined) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'leaderboards: give "url" or "redis", not both');
    if (o.url !== undefined && !/^rediss?:\/\//.test(o.url)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `leaderboards: url must be redis:// or rediss://, got ${o.url}`);
    this.#log = o.logger ?? silentLogger;
    this.#prefix = `${o.keyPrefix ?? 'gos:'}lb:`;
    if (o.redis !== undefined) {
      this.#redis = o.redis;
      this.#owned = false;
    } else {
      this.#redis = new Redis(o.url ?? 'redis://127.0.0.1:6379', { lazyConnect: true, commandTimeout: o.commandTimeoutMs ?? 5000, maxRetriesPerRequest: 2 });
      this.#owned = true;
      // Without a listener ioredis prints every reconnect failure to the console.
      this.#redis.on('error', (err: unknown) => this.#log.warn({ err }, 'leaderboard redis connection error'));
    }
    for (const [name, s] of Object.entries(SCRIPTS)) this.#redis.defineCommand(`gosLb${name}`, s);
  }

  /** Connect (a connection this backend owns) and check Redis answers. @throws LB_ERR_BACKEND */
  async start(): Promise<void> {
    try {
      if (this.#owned && this.#redis.status === 'wait') await this.#redis.connect();
      await this.#redis.ping();
    } catch (err) {
      if (this.#owned) this.#redis.disconnect();
      throw backendError('start (reaching Redis)', err);
    }
  }

  async now(): Promise<number> {
    try {
      const [seconds, micros] = await this.#redis.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    } catch (err) {
      throw backendError('time', err);
    }
  }

  #key(name: string, part: string): string {
    return `${this.#prefix}{${name}}:${part}`;
  }

  /** A key of the board as created with `version` (its standings, counter and list of periods). */
  #dataKey(name: string, version: string, part: string): string {
    return this.#key(name, `${version}:${part}`);
  }

  #periodKeys(name: string, version: string, period: number): [z: string, m: string, d: string] {
    return [this.#dataKey(name, version, `${period}:z`), this.#dataKey(name, version, `${period}:m`), this.#dataKey(name, version, `${period}:d`)];
  }

  async #run(script: ScriptName, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<Reply> {
    if (this.#closing !== null) throw new CodedError(ErrorCodes.LB_ERR_BACKEND, 'the leaderboards are closed');
    const command: unknown = (this.#redis as unknown as Record<string, unknown>)[`gosLb${script}`];
    if (typeof command !== 'function') throw new CodedError(ErrorCodes.LB_ERR_BACKEND, `script ${script} is not defined on the Redis client`);
    try {
      return (await command.call(this.#redis, ...keys, ...args)) as Reply;
    } catch (err) {
      throw backendError(script.toLowerCase(), err);
    }
  }

  /** A board script's reply: STALE, or its fields after 'ok'. */
  async #board(script: ScriptName, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown[] | Stale> {
    const reply = list(await this.#run(script, keys, args), script);
    if (reply[0] === 'stale') return STALE;
    if (reply[0] !== 'ok') throw malformed(script);
    return reply.slice(1);
  }

  async define(name: string, def: StoredDefinition): Promise<StoredDefinition> {
    const reply = list(await this.#run('DEFINE', [this.#key(name, 'def')], [JSON.stringify(def), def.version]), 'define');
    const stored = decodeStoredDefinition(str(reply[1], 'define'));
    try {
      await this.#redis.sadd(`${this.#prefix}boards`, name);
    } catch (err) {
      throw backendError('define', err);
    }
    return stored;
  }

  async definition(name: string): Promise<StoredDefinition | null> {
    let json: string | null;
    try {
      json = await this.#redis.hget(this.#key(name, 'def'), 'json');
    } catch (err) {
      throw backendError('definition', err);
    }
    return json === null ? null : decodeStoredDefinition(json);
  }

  async names(): Promise<string[]> {
    try {
      return (await this.#redis.smembers(`${this.#prefix}boards`)).sort();
    } catch (err) {
      throw backendError('list', err);
    }
  }

  async drop(name: string): Promise<boolean> {
    // The version read first names the keys; the script refuses if the board changed meanwhile (then read again).
    for (let attempt = 0; ; attempt++) {
      const def = await this.definition(name);
      if (def === null) return false;
      const r = list(await this.#run('UNDEFINE', [this.#key(name, 'def'), this.#dataKey(name, def.version, 'periods')], [def.version]), 'drop');
      if (r[0] === 'gone') return false;
      if (r[0] === 'stale') {
        if (attempt < 3) continue;
        throw new CodedError(ErrorCodes.LB_ERR_BACKEND, `leaderboard ${name} kept changing while it was being deleted`);
      }
      try {
        // Out of the list unless created again meanwhile (a create between the two would be unlisted).
        if ((await this.#redis.exists(this.#key(name, 'def'))) === 0) await this.#redis.srem(`${this.#prefix}boards`, name);
        const keys = list(r[1], 'drop').flatMap((p) => [...this.#periodKeys(name, def.version, num(p, 'drop')), this.#dataKey(name, def.version, `${num(p, 'drop')}:lock`)]);
        await this.#redis.unlink(this.#dataKey(name, def.version, 'seq'), this.#dataKey(name, def.version, 'periods'), ...keys);
      } catch (err) {
        throw backendError('delete', err);
      }
      return true;
    }
  }

  async submit(t: Target, memberId: string, score: number, policy: BoardDefinition['policy'], data: string | null | undefined): Promise<SubmitResult | Stale> {
    const [z, m, d] = this.#periodKeys(t.name, t.version, t.period);
    const mode = data === undefined ? 'keep' : data === null ? 'clear' : 'set';
    const r = await this.#board('SUBMIT', [this.#key(t.name, 'def'), this.#dataKey(t.name, t.version, 'seq'), this.#dataKey(t.name, t.version, 'periods'), z, m, d], [t.version, memberId, String(score), policy, t.order, mode, data ?? '', t.period]);
    if (r === STALE) return r;
    return { score: num(r[0], 'submit'), rank: num(r[1], 'submit') + 1, changed: r[2] === 1 };
  }

  async entry(t: Target, memberId: string): Promise<RawEntry | null | Stale> {
    const [z, m, d] = this.#periodKeys(t.name, t.version, t.period);
    const r = await this.#board('ENTRY', [this.#key(t.name, 'def'), z, m, d], [t.version, memberId, t.order]);
    if (r === STALE || r.length === 0) return r === STALE ? r : null;
    return { memberId, score: num(r[0], 'get'), index: num(r[1], 'get'), data: typeof r[2] === 'string' ? r[2] : null };
  }

  async around(t: Target, memberId: string, before: number, after: number): Promise<RawEntry[] | Stale> {
    const [z, m, d] = this.#periodKeys(t.name, t.version, t.period);
    const r = await this.#board('AROUND', [this.#key(t.name, 'def'), z, m, d], [t.version, memberId, t.order, before, after]);
    if (r === STALE || r.length === 0) return r === STALE ? r : [];
    return entries(r[1], r[2], num(r[0], 'around'), 'around');
  }

  async range(t: Target, offset: number, limit: number): Promise<{ entries: RawEntry[]; total: number } | Stale> {
    const [z, , d] = this.#periodKeys(t.name, t.version, t.period);
    const r = await this.#board('RANGE', [this.#key(t.name, 'def'), z, d], [t.version, t.order, offset, limit]);
    if (r === STALE) return r;
    return { total: num(r[0], 'page'), entries: entries(r[1], r[2], offset, 'page') };
  }

  async count(t: Target): Promise<number | Stale> {
    const r = await this.#board('COUNT', [this.#key(t.name, 'def'), this.#periodKeys(t.name, t.version, t.period)[0]], [t.version]);
    return r === STALE ? r : num(r[0], 'count');
  }

  async remove(t: Target, memberId: string): Promise<boolean | Stale> {
    const [z, m, d] = this.#periodKeys(t.name, t.version, t.period);
    const r = await this.#board('REMOVE', [this.#key(t.name, 'def'), z, m, d], [t.version, memberId]);
    return r === STALE ? r : r[0] === 1;
  }

  async counts(targets: readonly Target[]): Promise<number[]> {
    if (targets.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const t of targets) pipeline.zcard(this.#periodKeys(t.name, t.version, t.period)[0]);
    let replies: Array<[Error | null, unknown]> | null;
    try {
      replies = await pipeline.exec();
    } catch (err) {
      throw backendError('list', err);
    }
    return (replies ?? []).map(([err, n]) => {
      if (err !== null) throw backendError('list', err);
      return num(n, 'list');
    });
  }

  async periodsWithData(name: string, version: string): Promise<number[]> {
    try {
      return (await this.#redis.zrange(this.#dataKey(name, version, 'periods'), 0, -1)).map((p) => num(p, 'periods')).sort((a, b) => a - b);
    } catch (err) {
      throw backendError('periods', err);
    }
  }

  async periodRange(name: string, version: string, order: 'desc' | 'asc', period: number, offset: number, limit: number): Promise<RawEntry[]> {
    const [z, , d] = this.#periodKeys(name, version, period);
    const r = list(await this.#run('PERIOD_RANGE', [z, d], [order, offset, limit]), 'archive');
    return entries(r[0], r[1], offset, 'archive');
  }

  async lockPeriod(name: string, version: string, period: number, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.#run('LOCK', [this.#dataKey(name, version, `${period}:lock`)], [owner, ttlMs])) === 1;
  }

  async dropPeriod(name: string, version: string, period: number): Promise<void> {
    try {
      // Out of the list first: a late submit between the two puts it back in the list with its keys, never keys alone.
      await this.#redis.zrem(this.#dataKey(name, version, 'periods'), String(period));
      await this.#redis.unlink(...this.#periodKeys(name, version, period), this.#dataKey(name, version, `${period}:lock`));
    } catch (err) {
      throw backendError('archive', err);
    }
  }

  /** Idempotent; quits the connection only when the backend owns it. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (!this.#owned) return;
    if (this.#redis.status === 'ready') {
      try {
        await this.#redis.quit();
        return;
      } catch (err) {
        this.#log.debug({ err }, 'leaderboard redis quit failed; disconnecting');
      }
    }
    this.#redis.disconnect();
  }
}
