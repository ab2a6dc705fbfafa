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
 * Idle full buckets and ended cool-downs are dropped by sweep().
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

export class RateLimits {
  readonly #o: RateLimitOptions;
  readonly #messages = new Map<string, Bucket>();
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

  /** The frame bucket of an account: shared by its sockets, kept across reconnects. */
  messageBucket(accountId: string, now: number): Bucket {
    let bucket = this.#messages.get(accountId);
    if (bucket === undefined) {
      bucket = { tokens: this.#o.messageBurst, at: now };
      this.#messages.set(accountId, bucket);
    }
    return bucket;
  }

  /** Whether one more frame fits in `bucket` (takes a token). */
  allowMessage(bucket: Bucket, now: number): boolean {
    return takeToken(bucket, now, this.#o.messagesPerSecond, this.#o.messageBurst);
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
    for (const [account, bucket] of this.#messages) if (now - bucket.at > messageRefillMs) this.#messages.delete(account);
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
