/**
 * The gateway's flood limits, kept per account and per client address rather than per socket,
 * so that reconnecting does not buy a fresh burst:
 *
 * - frames: one token bucket per account (`messagesPerSecond` sustained, `messageBurst` at
 *   once), shared by the account's sockets on this gateway and kept across reconnects until it
 *   is full again;
 * - after a socket is closed for flooding (4006), the account may not open a socket on this
 *   gateway, nor on any other gateway sharing its session store (`share`, which the gateway
 *   points at `SessionStore.coolDown`), for `rateLimitCooldownMs`; an address whose sockets were closed for flooding
 *   `addressStrikes` times within that time is cooled down too (one player behind a shared
 *   address does not lock the others out; an attacker rotating accounts is stopped);
 * - auth API requests: one bucket per address.
 *
 * Buckets and address strikes are per gateway process; an account's cool-down is also shared.
 * Idle full buckets that no open socket holds, and ended cool-downs, are dropped by sweep().
 */

/** A token bucket: `tokens` as of `at` (performance.now() ms). */
export interface Bucket {
  tokens: number;
  at: number;
}

export interface RateLimitOptions {
  readonly messagesPerSecond: number;
  readonly messageBurst: number;
  readonly authRequestsPerSecond: number;
  readonly authBurst: number;
  readonly rateLimitCooldownMs: number;
  readonly addressStrikes: number;
}

/** Refill `bucket` up to `now`, then take one token if there is one. */
export function takeToken(bucket: Bucket, now: number, perSecond: number, burst: number): boolean {
  bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * perSecond) / 1000);
  bucket.at = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

interface Strikes {
  count: number;
  /** Cool-down end (performance.now() ms); strikes older than a cool-down are forgotten. */
  until: number;
}

/**
 * The accounts' frame buckets, checked on every client frame: slots of one Float64Array
 * (tokens, then as of when) rather than an object per account. V8 keeps each double field of an
 * object in a heap number of its own, and a small typed array's reads check its ArrayBuffer: an
 * object bucket cost three cache misses a frame, a quarter of the frame handler's time in `perf
 * annotate`. A socket holds its account's slot (a number in its ConnData) from its admission to
 * its close, and a held slot is never swept, so a slot is never reused under a socket.
 */
class MessageBuckets {
  readonly #slots = new Map<string, number>();
  /** [2 × slot] tokens, [2 × slot + 1] as of when (performance.now() ms). */
  #state = new Float64Array(2 * 64);
  /** Open sockets holding each slot. */
  #holders = new Int32Array(64);
  readonly #free: number[] = [];
  #used = 0;

  get size(): number {
    return this.#slots.size;
  }

  /** The slot of `accountId`'s bucket (a new one full at `now`), held once more. */
  acquire(accountId: string, burst: number, now: number): number {
    let slot = this.#slots.get(accountId);
    if (slot === undefined) {
      slot = this.#free.pop() ?? this.#grow();
      this.#state[2 * slot] = burst;
      this.#state[2 * slot + 1] = now;
      this.#slots.set(accountId, slot);
    }
    this.#holders[slot]!++;
    return slot;
  }

  release(slot: number): void {
    if (this.#holders[slot]! > 0) this.#holders[slot]!--;
  }

  /** Refill `slot` up to `now`, then take one token if there is one. */
  take(slot: number, now: number, perSecond: number, burst: number): boolean {
    const state = this.#state;
    const tokens = Math.min(burst, state[2 * slot]! + ((now - state[2 * slot + 1]!) * perSecond) / 1000);
    state[2 * slot + 1] = now;
    if (tokens < 1) {
      state[2 * slot] = tokens;
      return false;
    }
    state[2 * slot] = tokens - 1;
    return true;
  }

  /** Forget the buckets no socket holds that have been idle for `refillMs` (full again). */
  sweep(now: number, refillMs: number): void {
    for (const [account, slot] of this.#slots) {
      if (this.#holders[slot] === 0 && now - this.#state[2 * slot + 1]! > refillMs) {
        this.#slots.delete(account);
        this.#free.push(slot);
      }
    }
  }

  #grow(): number {
    if (this.#used === this.#holders.length) {
      const state = new Float64Array(this.#state.length * 2);
      state.set(this.#state);
      this.#state = state;
      const holders = new Int32Array(this.#holders.length * 2);
      holders.set(this.#holders);
      this.#holders = holders;
    }
    return this.#used++;
  }
}

export class RateLimits {
  readonly #o: RateLimitOptions;
  readonly #messages = new MessageBuckets();
  readonly #auth = new Map<string, Bucket>();
  readonly #accountCooldowns = new Map<string, number>();
  readonly #addressStrikes = new Map<string, Strikes>();
  readonly #share: (accountId: string, ms: number) => void;

  /** @param share tells the other gateways of an account's cool-down (the session store); by default nobody */
  constructor(options: RateLimitOptions, share: (accountId: string, ms: number) => void = () => {}) {
    this.#o = options;
    this.#share = share;
  }

  /** Whether an auth API request from `ip` is within its address's limit (takes a token). */
  allowAuth(ip: string, now: number): boolean {
    let bucket = this.#auth.get(ip);
    if (bucket === undefined) {
      bucket = { tokens: this.#o.authBurst, at: now };
      this.#auth.set(ip, bucket);
    }
    return takeToken(bucket, now, this.#o.authRequestsPerSecond, this.#o.authBurst);
  }

  /**
   * The frame bucket of an account, for a socket of it that opens: shared by its sockets, kept
   * across reconnects. The socket holds it until it gives it back with {@link releaseMessageBucket}.
   */
  messageBucket(accountId: string, now: number): number {
    return this.#messages.acquire(accountId, this.#o.messageBurst, now);
  }

  /** A socket that held `bucket` closed: once no socket holds it, it may be swept when full. */
  releaseMessageBucket(bucket: number): void {
    this.#messages.release(bucket);
  }

  /** Whether one more frame fits in `bucket` (takes a token). */
  allowMessage(bucket: number, now: number): boolean {
    return this.#messages.take(bucket, now, this.#o.messagesPerSecond, this.#o.messageBurst);
  }

  /** Milliseconds left of a cool-down of the account or the address; 0 when neither is cooling down. */
  cooldownLeft(accountId: string, ip: string, now: number): number {
    const account = this.#accountCooldowns.get(accountId) ?? 0;
    const strikes = this.#addressStrikes.get(ip);
    const address = strikes !== undefined && strikes.count >= this.#o.addressStrikes ? strikes.until : 0;
    return Math.max(0, Math.ceil(Math.max(account, address) - now));
  }

  /** A socket of `accountId` (null: its token was not valid) from `ip` was closed for flooding: start their cool-downs. */
  flooded(accountId: string | null, ip: string, now: number): void {
    const until = now + this.#o.rateLimitCooldownMs;
    if (accountId !== null) {
      this.#accountCooldowns.set(accountId, until);
      this.#share(accountId, this.#o.rateLimitCooldownMs);
    }
    const strikes = this.#addressStrikes.get(ip);
    if (strikes === undefined || strikes.until <= now) this.#addressStrikes.set(ip, { count: 1, until });
    else {
      strikes.count++;
      strikes.until = until;
    }
  }

  /** Forget what carries no information any more: full idle buckets, ended cool-downs. */
  sweep(now: number): void {
    const messageRefillMs = (this.#o.messageBurst / this.#o.messagesPerSecond) * 1000;
    this.#messages.sweep(now, messageRefillMs);
    const authRefillMs = (this.#o.authBurst / this.#o.authRequestsPerSecond) * 1000;
    for (const [ip, bucket] of this.#auth) if (now - bucket.at > authRefillMs) this.#auth.delete(ip);
    for (const [account, until] of this.#accountCooldowns) if (until <= now) this.#accountCooldowns.delete(account);
    for (const [ip, strikes] of this.#addressStrikes) if (strikes.until <= now) this.#addressStrikes.delete(ip);
  }

  /** Entries held (for tests and metrics). */
  get size(): { messages: number; auth: number; cooldowns: number; addresses: number } {
    return { messages: this.#messages.size, auth: this.#auth.size, cooldowns: this.#accountCooldowns.size, addresses: this.#addressStrikes.size };
  }
}
