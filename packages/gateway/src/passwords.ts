import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

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
