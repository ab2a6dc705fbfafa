import { Redis } from 'ioredis';
import { CodedError, ErrorCodes, silentLogger, type Logger } from '@gos/schema';
import {
  checkCooldown,
  checkGatewayId,
  checkGroupId,
  closedError,
  DEFAULT_SESSION_TTL_MS,
  expiredError,
  intOption,
  isWellFormedSessionToken,
  newSessionToken,
  optionError,
  sessionGroup,
  sessionTokenId,
} from './token.js';
import type { CreateSessionInput, CreateSessionResult, Presence, Session, SessionStore } from './types.js';
import { CREATE, GROUP_ASSIGN, GROUP_GET, LOCATE, REVOKE, SCRIPTS, SET_SCENE, SLIDE, type Script } from './redis-scripts.js';

export interface RedisSessionStoreOptions {
  /**
   * Redis to connect to; the store owns this connection and closes it. Give `url` or `redis`,
   * not both.
   * @default 'redis://127.0.0.1:6379' (when `redis` is not given either)
   */
  readonly url?: string;
  /** An ioredis client to use instead of `url`; the caller owns it and the store never closes it. */
  readonly redis?: Redis;
  /** Prefix of every key the store writes (after the client's own `keyPrefix`, if any). @default 'gos:' */
  readonly keyPrefix?: string;
  /** Sliding lifetime: every `get`/`touch` extends a session to now + ttlMs. @default 1800000 (30 min) */
  readonly ttlMs?: number;
  /** Per-command timeout on a connection the store owns (`url`). @default 5000 */
  readonly commandTimeoutMs?: number;
  /**
   * Tokens this instance remembers in memory (by id), so that `create` can report the raw token
   * it replaced: Redis holds only token ids. Least recently used are forgotten first.
   * @default 100000
   */
  readonly maxKnownTokens?: number;
  /** How often expired remembered tokens are forgotten (the timer is unref'd). @default 60000 */
  readonly sweepIntervalMs?: number;
  /** @default silentLogger */
  readonly logger?: Logger;
}

interface ResolvedOptions {
  readonly url: string | null;
  readonly redis: Redis | null;
  readonly keyPrefix: string;
  readonly ttlMs: number;
  readonly commandTimeoutMs: number;
  readonly maxKnownTokens: number;
  readonly sweepIntervalMs: number;
  readonly logger: Logger;
}

function resolve(o: RedisSessionStoreOptions): ResolvedOptions {
  if (o.url !== undefined && o.redis !== undefined) optionError('url', 'and "redis" are exclusive: give one');
  if (o.url !== undefined && (typeof o.url !== 'string' || !/^rediss?:\/\//.test(o.url))) {
    optionError('url', `must be a redis:// or rediss:// URL, got ${String(o.url)}`);
  }
  if (o.redis !== undefined && (typeof o.redis !== 'object' || o.redis === null || typeof o.redis.evalsha !== 'function')) {
    optionError('redis', 'must be an ioredis client');
  }
  if (o.keyPrefix !== undefined && typeof o.keyPrefix !== 'string') optionError('keyPrefix', 'must be a string');
  return Object.freeze({
    url: o.redis === undefined ? (o.url ?? 'redis://127.0.0.1:6379') : null,
    redis: o.redis ?? null,
    keyPrefix: o.keyPrefix ?? 'gos:',
    ttlMs: intOption('ttlMs', o.ttlMs, DEFAULT_SESSION_TTL_MS, 1),
    commandTimeoutMs: intOption('commandTimeoutMs', o.commandTimeoutMs, 5000, 1),
    maxKnownTokens: intOption('maxKnownTokens', o.maxKnownTokens, 100_000, 0),
    sweepIntervalMs: intOption('sweepIntervalMs', o.sweepIntervalMs, 60_000, 10),
    logger: o.logger ?? silentLogger,
  });
}

interface Known {
  readonly token: string;
  expiresAt: number;
}

/**
 * Sessions in Redis, shared by every gateway. Layout (after `keyPrefix`):
 * - `sess:<id>`: hash `accountId username sceneId createdAt expiresAt groupId gatewayId`, PEXPIRE
 *   ttlMs (`sceneId` and `gatewayId` are the player's presence: `locate`);
 * - `acct:<accountId>`: the id of the account's current session, same expiry;
 * - `group:<groupId>`: the id of the group's gateway, PEXPIRE ttlMs, extended by the group
 *   methods and by `get`/`touch` of any session of the group;
 * - `cool:<accountId>`: set while the account cools down after a flood (`coolDown`), PX ms.
 *
 * `<id>` is {@link sessionTokenId}(token), sha256 in hex: Redis never holds a usable token.
 * Each operation is one Lua script, so replace-on-login and read-and-extend are atomic.
 * Not for Redis Cluster: the create and revoke scripts touch keys they discover.
 *
 * Every method rejects with `GW_ERR_SESSION_STORE` (with the Redis error as `cause`) when
 * Redis fails or the store is closed.
 */
export class RedisSessionStore implements SessionStore {
  readonly #o: ResolvedOptions;
  readonly #redis: Redis;
  readonly #owned: boolean;
  readonly #sessPrefix: string;
  readonly #acctPrefix: string;
  readonly #groupPrefix: string;
  readonly #coolPrefix: string;
  /** Full prefixes for keys built inside scripts, where the client's keyPrefix is not applied. */
  readonly #scriptSessPrefix: string;
  readonly #scriptAcctPrefix: string;
  readonly #scriptGroupPrefix: string;
  readonly #scriptCoolPrefix: string;
  /** id → raw token, for tokens this instance issued or resolved; ordered by expiry. */
  readonly #known = new Map<string, Known>();
  readonly #log: Logger;
  #starting: Promise<void> | null = null;
  #closing: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lastConnectionError: unknown = null;

  /** @throws CodedError `OPT_ERR_INVALID` naming the bad option */
  constructor(options: RedisSessionStoreOptions = {}) {
    this.#o = resolve(options);
    this.#log = this.#o.logger.child({ component: 'sessions' });
    this.#sessPrefix = `${this.#o.keyPrefix}sess:`;
    this.#acctPrefix = `${this.#o.keyPrefix}acct:`;
    this.#groupPrefix = `${this.#o.keyPrefix}group:`;
    this.#coolPrefix = `${this.#o.keyPrefix}cool:`;
    if (this.#o.redis !== null) {
      this.#redis = this.#o.redis;
      this.#owned = false;
    } else {
      this.#redis = new Redis(this.#o.url ?? 'redis://127.0.0.1:6379', {
        lazyConnect: true,
        commandTimeout: this.#o.commandTimeoutMs,
        maxRetriesPerRequest: 2,
      });
      this.#owned = true;
      // Without a listener ioredis prints every reconnect failure to the console.
      this.#redis.on('error', (err: unknown) => {
        this.#lastConnectionError = err;
        this.#log.warn({ err }, 'redis connection error');
      });
    }
    const clientPrefix = this.#redis.options.keyPrefix ?? '';
    this.#scriptSessPrefix = clientPrefix + this.#sessPrefix;
    this.#scriptAcctPrefix = clientPrefix + this.#acctPrefix;
    this.#scriptGroupPrefix = clientPrefix + this.#groupPrefix;
    this.#scriptCoolPrefix = clientPrefix + this.#coolPrefix;
  }

  /** The sliding lifetime in force. */
  get ttlMs(): number {
    return this.#o.ttlMs;
  }

  /** The prefix of every key this store writes (without the client's own prefix). */
  get keyPrefix(): string {
    return this.#o.keyPrefix;
  }

  /**
   * Connect (when the store owns the connection) and load the scripts. Idempotent.
   * @throws CodedError `GW_ERR_SESSION_STORE` when Redis cannot be reached
   */
  start(): Promise<void> {
    if (this.#closing !== null) return Promise.reject(closedError());
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    try {
      if (this.#owned && this.#redis.status === 'wait') await this.#redis.connect();
      for (const s of SCRIPTS) await this.#redis.script('LOAD', s.lua);
    } catch (err) {
      // A failed connect keeps retrying in the background: stop it.
      if (this.#owned) this.#redis.disconnect();
      throw new CodedError(ErrorCodes.GW_ERR_SESSION_STORE, `cannot reach Redis: ${messageOf(this.#lastConnectionError ?? err)}`, {
        cause: this.#lastConnectionError ?? err,
      });
    }
    this.#timer = setInterval(() => this.#sweepKnown(), this.#o.sweepIntervalMs);
    this.#timer.unref();
  }

  /** Idempotent. Quits the connection only when the store owns it. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#known.clear();
    await this.#starting?.catch(() => {});
    if (!this.#owned) return;
    if (this.#redis.status === 'ready') {
      try {
        await this.#redis.quit();
        return;
      } catch (err) {
        this.#log.debug({ err }, 'redis quit failed; disconnecting');
      }
    }
    this.#redis.disconnect();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async create(input: CreateSessionInput): Promise<CreateSessionResult> {
    const groupId = sessionGroup(input.groupId);
    const token = newSessionToken();
    const id = sessionTokenId(token);
    const reply = await this.#eval('create', CREATE, [this.#acctPrefix + input.accountId, this.#sessPrefix + id], [
      this.#scriptSessPrefix,
      id,
      input.accountId,
      input.username,
      input.sceneId,
      this.#o.ttlMs,
      groupId ?? '',
    ]);
    const [oldId, nowText] = strings(reply, 2, 'create');
    const createdAt = Number(nowText);
    const session: Session = Object.freeze({
      token,
      accountId: input.accountId,
      username: input.username,
      sceneId: input.sceneId,
      groupId,
      createdAt,
      expiresAt: createdAt + this.#o.ttlMs,
      floodCooldownMs: 0,
    });
    let replaced: string | null = null;
    if (oldId !== '') {
      replaced = this.#known.get(oldId)?.token ?? oldId;
      this.#known.delete(oldId);
    }
    this.#remember(id, token, session.expiresAt);
    return { session, replaced };
  }

  async get(token: string, options?: { readonly gatewayId?: string }): Promise<Session | null> {
    this.#assertOpen();
    if (!isWellFormedSessionToken(token)) return null;
    const id = sessionTokenId(token);
    const reply = await this.#eval('get', SLIDE, [this.#sessPrefix + id], [this.#scriptAcctPrefix, id, this.#o.ttlMs, this.#scriptGroupPrefix, options?.gatewayId ?? '', this.#scriptCoolPrefix]);
    if (reply === null) {
      this.#known.delete(id);
      return null;
    }
    const [accountId, username, sceneId, createdAt, expiresAt, groupId, coolMs] = strings(reply, 7, 'get');
    const session: Session = Object.freeze({
      token,
      accountId,
      username,
      sceneId,
      groupId: groupId === '' ? null : groupId,
      createdAt: Number(createdAt),
      expiresAt: Number(expiresAt),
      floodCooldownMs: Number(coolMs),
    });
    this.#remember(id, token, session.expiresAt);
    return session;
  }

  async coolDown(accountId: string, ms: number): Promise<void> {
    this.#assertOpen();
    checkCooldown(accountId, ms);
    try {
      await this.#redis.set(this.#coolPrefix + accountId, '1', 'PX', ms);
    } catch (err) {
      throw new CodedError(ErrorCodes.GW_ERR_SESSION_STORE, `session coolDown failed: ${messageOf(err)}`, { cause: err });
    }
  }

  async touch(token: string): Promise<boolean> {
    this.#assertOpen();
    if (!isWellFormedSessionToken(token)) return false;
    const id = sessionTokenId(token);
    const reply = await this.#eval('touch', SLIDE, [this.#sessPrefix + id], [this.#scriptAcctPrefix, id, this.#o.ttlMs, this.#scriptGroupPrefix]);
    if (reply === null) {
      this.#known.delete(id);
      return false;
    }
    const expiresAt = strings(reply, 7, 'touch')[4];
    this.#remember(id, token, Number(expiresAt));
    return true;
  }

  async revoke(token: string): Promise<void> {
    this.#assertOpen();
    if (!isWellFormedSessionToken(token)) return;
    const id = sessionTokenId(token);
    this.#known.delete(id);
    await this.#eval('revoke', REVOKE, [this.#sessPrefix + id], [this.#scriptAcctPrefix, id]);
  }

  async setScene(token: string, sceneId: string): Promise<void> {
    this.#assertOpen();
    if (!isWellFormedSessionToken(token)) throw expiredError();
    const reply = await this.#eval('setScene', SET_SCENE, [this.#sessPrefix + sessionTokenId(token)], [sceneId]);
    if (reply !== 1) throw expiredError();
  }

  async locate(accountId: string): Promise<Presence | null> {
    this.#assertOpen();
    if (typeof accountId !== 'string' || accountId === '') return null;
    const reply = await this.#eval('locate', LOCATE, [this.#acctPrefix + accountId], [this.#scriptSessPrefix]);
    if (reply === null) return null;
    const [sceneId, gatewayId] = strings(reply, 2, 'locate');
    return { sceneId, gatewayId: gatewayId === '' ? null : gatewayId };
  }

  async groupGateway(groupId: string): Promise<string | null> {
    this.#assertOpen();
    const reply = await this.#eval('groupGateway', GROUP_GET, [this.#groupPrefix + checkGroupId(groupId)], [this.#o.ttlMs]);
    if (reply === null) return null;
    if (typeof reply !== 'string') throw new CodedError(ErrorCodes.GW_ERR_SESSION_STORE, 'session groupGateway: unexpected reply from Redis');
    return reply;
  }

  async assignGroupGateway(groupId: string, gatewayId: string, replaces: string | null): Promise<string> {
    this.#assertOpen();
    const key = this.#groupPrefix + checkGroupId(groupId);
    const args = [checkGatewayId('gatewayId', gatewayId), replaces === null ? '' : checkGatewayId('replaces', replaces), this.#o.ttlMs];
    const reply = await this.#eval('assignGroupGateway', GROUP_ASSIGN, [key], args);
    if (typeof reply !== 'string') throw new CodedError(ErrorCodes.GW_ERR_SESSION_STORE, 'session assignGroupGateway: unexpected reply from Redis');
    return reply;
  }

  #assertOpen(): void {
    if (this.#closing !== null) throw closedError();
  }

  /** EVALSHA, falling back to EVAL when Redis lost the script (restart, SCRIPT FLUSH). */
  async #eval(op: string, s: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    this.#assertOpen();
    try {
      try {
        return await this.#redis.evalsha(s.sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        return await this.#redis.eval(s.lua, keys.length, ...keys, ...args);
      }
    } catch (err) {
      throw new CodedError(ErrorCodes.GW_ERR_SESSION_STORE, `session ${op} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  #remember(id: string, token: string, expiresAt: number): void {
    if (this.#o.maxKnownTokens === 0) return;
    // Re-insert to keep the map ordered by expiry (oldest first).
    this.#known.delete(id);
    this.#known.set(id, { token, expiresAt });
    if (this.#known.size > this.#o.maxKnownTokens) {
      const oldest = this.#known.keys().next();
      if (oldest.done !== true) this.#known.delete(oldest.value);
    }
  }

  #sweepKnown(): void {
    const now = Date.now();
    let removed = 0;
    for (const [id, k] of this.#known) {
      if (removed >= 10_000 || k.expiresAt > now) break;
      this.#known.delete(id);
      removed++;
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type Strings<N extends number, Acc extends string[] = []> = Acc['length'] extends N ? Acc : Strings<N, [...Acc, string]>;

/** The scripts' array replies, checked: a mismatch means a foreign key or a script bug. */
function strings<N extends 2 | 7>(reply: unknown, n: N, op: string): Strings<N> {
  if (!Array.isArray(reply) || reply.length !== n || !reply.every((v) => typeof v === 'string')) {
    throw new CodedError(ErrorCodes.GW_ERR_SESSION_STORE, `session ${op}: unexpected reply from Redis`);
  }
  return reply as Strings<N>;
}
