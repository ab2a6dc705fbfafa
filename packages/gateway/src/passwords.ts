import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { CodedError, ErrorCodes } from '@gos/schema';

const KEY_BYTES = 32;
const SALT_BYTES = 16;

function scryptAsync(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, options, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}

/** `scrypt$N$r$p$salt$key`, base64url parts: the parameters travel with the hash so they can grow. */
export async function hashPassword(password: string, cost: number): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(password, salt, { N: cost, r: 8, p: 1, maxmem: 256 * cost * 8 });
  return ['scrypt', cost, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(key, 'base64url');
  const N = Number(n);
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), { N, r: Number(r), p: Number(p), maxmem: 256 * N * Number(r) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash no password matches, to spend the same time on unknown usernames as on known ones. */
export async function dummyHash(cost: number): Promise<string> {
  return hashPassword(randomBytes(16).toString('hex'), cost);
}

/**
 * Bounds the password hashing in flight. scrypt runs on libuv's thread pool (4 threads by
 * default), which file and DNS work share: a flood of logins must queue here, boundedly, rather
 * than starve everything else. Past `maxQueued` waiting, calls fail with GW_ERR_RATE_LIMITED.
 */
export class KdfLimiter {
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  readonly #queue: Array<() => void> = [];
  #active = 0;

  constructor(maxConcurrent: number, maxQueued: number) {
    this.#maxConcurrent = maxConcurrent;
    this.#maxQueued = maxQueued;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#maxConcurrent) {
      if (this.#queue.length >= this.#maxQueued) {
        throw new CodedError(ErrorCodes.GW_ERR_RATE_LIMITED, 'too many logins in progress; retry shortly');
      }
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = this.#queue.shift();
      if (next !== undefined) next();
      else this.#active--;
    }
  }
}
