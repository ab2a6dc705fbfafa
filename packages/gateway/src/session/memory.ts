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
} from './token.js';
import type { CreateSessionInput, CreateSessionResult, Presence, Session, SessionStore } from './types.js';

export interface MemorySessionStoreOptions {
  /** Sliding lifetime: every `get`/`touch` extends a session to now + ttlMs. @default 1800000 (30 min) */
  readonly ttlMs?: number;
  /** How often expired sessions and group assignments are swept out (the timer is unref'd). @default 60000 */
  readonly sweepIntervalMs?: number;
  /** Most entries (sessions and group assignments) one sweep removes, so a sweep never stalls the event loop. @default 10000 */
  readonly sweepBatchSize?: number;
  /** Clock in milliseconds since the epoch; inject one in tests. @default Date.now */
  readonly now?: () => number;
}

interface ResolvedOptions {
  readonly ttlMs: number;
  readonly sweepIntervalMs: number;
  readonly sweepBatchSize: number;
  readonly now: () => number;
}

interface Entry {
  readonly token: string;
  readonly accountId: string;
  readonly username: string;
  sceneId: string;
  readonly groupId: string | null;
  readonly createdAt: number;
  expiresAt: number;
  /** The gateway its socket last connected to (presence), or null. */
  connectedTo: string | null;
}

interface GroupEntry {
  readonly gatewayId: string;
  expiresAt: number;
}

function resolve(o: MemorySessionStoreOptions): ResolvedOptions {
  if (o.now !== undefined && typeof o.now !== 'function') optionError('now', 'must be a function');
  return Object.freeze({
    ttlMs: intOption('ttlMs', o.ttlMs, DEFAULT_SESSION_TTL_MS, 1),
    sweepIntervalMs: intOption('sweepIntervalMs', o.sweepIntervalMs, 60_000, 10),
    sweepBatchSize: intOption('sweepBatchSize', o.sweepBatchSize, 10_000, 1),
    now: o.now ?? Date.now,
  });
}

function snapshot(e: Entry, floodCooldownMs = 0): Session {
  return Object.freeze({
    token: e.token,
    accountId: e.accountId,
    username: e.username,
    sceneId: e.sceneId,
    groupId: e.groupId,
    createdAt: e.createdAt,
    expiresAt: e.expiresAt,
    floodCooldownMs,
  });
}

/**
 * Sessions in this process: the embedded default (`npm start`, one gateway). Tokens are kept
 * as they are (no dump to leak); use {@link RedisSessionStore} when several gateways share
 * sessions.
 *
 * Every method rejects with `GW_ERR_SESSION_STORE` once the store is closed.
 */
export class MemorySessionStore implements SessionStore {
  readonly #o: ResolvedOptions;
  /**
   * Ordered by last extension: an entry is re-inserted whenever its expiry moves, so expiry
   * times grow along the map and a sweep can stop at the first live entry.
   */
  readonly #sessions = new Map<string, Entry>();
  readonly #byAccount = new Map<string, string>();
  /** groupId → its gateway; ordered by expiry like #sessions. */
  readonly #groups = new Map<string, GroupEntry>();
  /** accountId → end of its flood cool-down (ms since the epoch). */
  readonly #cooldowns = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  /** @throws CodedError `OPT_ERR_INVALID` naming the bad option */
  constructor(options: MemorySessionStoreOptions = {}) {
    this.#o = resolve(options);
  }

  /** The sliding lifetime in force. */
  get ttlMs(): number {
    return this.#o.ttlMs;
  }

  /** Live sessions held, expired ones not yet swept included. */
  get size(): number {
    return this.#sessions.size;
  }

  async start(): Promise<void> {
    if (this.#closed) throw closedError();
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.sweep(), this.#o.sweepIntervalMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#sessions.clear();
    this.#byAccount.clear();
    this.#groups.clear();
    this.#cooldowns.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async create(input: CreateSessionInput): Promise<CreateSessionResult> {
    this.#assertOpen();
    const groupId = sessionGroup(input.groupId);
    const previous = this.#byAccount.get(input.accountId);
    let replaced: string | null = null;
    if (previous !== undefined && this.#live(previous) !== null) replaced = previous;
    if (previous !== undefined) this.#remove(previous);
    const now = this.#o.now();
    const entry: Entry = {
      token: newSessionToken(),
      accountId: input.accountId,
      username: input.username,
      sceneId: input.sceneId,
      groupId,
      createdAt: now,
      expiresAt: now + this.#o.ttlMs,
      connectedTo: null,
    };
    this.#sessions.set(entry.token, entry);
    this.#byAccount.set(entry.accountId, entry.token);
    return { session: snapshot(entry), replaced };
  }

  async get(token: string, options?: { readonly gatewayId?: string }): Promise<Session | null> {
    this.#assertOpen();
    const entry = this.#slide(token);
    if (entry === null) return null;
    if (options?.gatewayId !== undefined && options.gatewayId !== '') entry.connectedTo = options.gatewayId;
    const coolUntil = this.#cooldowns.get(entry.accountId) ?? 0;
    return snapshot(entry, Math.max(0, coolUntil - this.#o.now()));
  }

  async coolDown(accountId: string, ms: number): Promise<void> {
    this.#assertOpen();
    checkCooldown(accountId, ms);
    // Re-inserted at the back: with one cool-down length the map stays ordered by its ends.
    this.#cooldowns.delete(accountId);
    this.#cooldowns.set(accountId, this.#o.now() + ms);
  }

  async locate(accountId: string): Promise<Presence | null> {
    this.#assertOpen();
    const token = this.#byAccount.get(accountId);
    const entry = token === undefined ? null : this.#live(token);
    return entry === null ? null : { sceneId: entry.sceneId, gatewayId: entry.connectedTo };
  }

  async touch(token: string): Promise<boolean> {
    this.#assertOpen();
    return this.#slide(token) !== null;
  }

  async revoke(token: string): Promise<void> {
    this.#assertOpen();
    if (isWellFormedSessionToken(token)) this.#remove(token);
  }

  async setScene(token: string, sceneId: string): Promise<void> {
    this.#assertOpen();
    const entry = this.#live(token);
    if (entry === null) throw expiredError();
    entry.sceneId = sceneId;
  }

  async groupGateway(groupId: string): Promise<string | null> {
    this.#assertOpen();
    const entry = this.#liveGroup(checkGroupId(groupId));
    if (entry === null) return null;
    this.#extendGroup(groupId, entry);
    return entry.gatewayId;
  }

  async assignGroupGateway(groupId: string, gatewayId: string, replaces: string | null): Promise<string> {
    this.#assertOpen();
    checkGroupId(groupId);
    checkGatewayId('gatewayId', gatewayId);
    if (replaces !== null) checkGatewayId('replaces', replaces);
    const current = this.#liveGroup(groupId);
    // Check and set in one synchronous step: concurrent calls cannot interleave here.
    const entry = current === null || current.gatewayId === replaces ? { gatewayId, expiresAt: 0 } : current;
    this.#extendGroup(groupId, entry);
    return entry.gatewayId;
  }

  /**
   * Remove expired sessions and group assignments, at most `sweepBatchSize` in all. Runs on the
   * timer; public so a test with an injected clock can drive it.
   * @returns how many entries were removed
   */
  sweep(): number {
    const now = this.#o.now();
    let removed = 0;
    for (const entry of this.#sessions.values()) {
      if (removed >= this.#o.sweepBatchSize || entry.expiresAt > now) break;
      this.#remove(entry.token);
      removed++;
    }
    for (const [groupId, entry] of this.#groups) {
      if (removed >= this.#o.sweepBatchSize || entry.expiresAt > now) break;
      this.#groups.delete(groupId);
      removed++;
    }
    for (const [accountId, until] of this.#cooldowns) {
      if (removed >= this.#o.sweepBatchSize || until > now) break;
      this.#cooldowns.delete(accountId);
      removed++;
    }
    return removed;
  }

  #assertOpen(): void {
    if (this.#closed) throw closedError();
  }

  /** The entry if it is live; an expired one is dropped on the way. */
  #live(token: string): Entry | null {
    if (!isWellFormedSessionToken(token)) return null;
    const entry = this.#sessions.get(token);
    if (entry === undefined) return null;
    if (entry.expiresAt <= this.#o.now()) {
      this.#remove(token);
      return null;
    }
    return entry;
  }

  #slide(token: string): Entry | null {
    const entry = this.#live(token);
    if (entry === null) return null;
    entry.expiresAt = this.#o.now() + this.#o.ttlMs;
    // Move to the back to keep the map ordered by expiry (see #sessions).
    this.#sessions.delete(token);
    this.#sessions.set(token, entry);
    // A connected member keeps its group's gateway assignment alive (see CreateSessionInput.groupId).
    if (entry.groupId !== null) {
      const group = this.#liveGroup(entry.groupId);
      if (group !== null) this.#extendGroup(entry.groupId, group);
    }
    return entry;
  }

  /** The group's assignment if it is live; an expired one is dropped on the way. */
  #liveGroup(groupId: string): GroupEntry | null {
    const entry = this.#groups.get(groupId);
    if (entry === undefined) return null;
    if (entry.expiresAt <= this.#o.now()) {
      this.#groups.delete(groupId);
      return null;
    }
    return entry;
  }

  #extendGroup(groupId: string, entry: GroupEntry): void {
    entry.expiresAt = this.#o.now() + this.#o.ttlMs;
    // Re-insert at the back: the map stays ordered by expiry for the sweep.
    this.#groups.delete(groupId);
    this.#groups.set(groupId, entry);
  }

  #remove(token: string): void {
    const entry = this.#sessions.get(token);
    if (entry === undefined) return;
    this.#sessions.delete(token);
    if (this.#byAccount.get(entry.accountId) === token) this.#byAccount.delete(entry.accountId);
  }
}
