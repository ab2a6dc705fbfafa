/**
 * The auth HTTP API's handling of bodies, over real HTTP on a real gateway: a missing body is
 * a bad request (400), not bad credentials (401); a body that is not application/json is 415;
 * password lengths count Unicode code points.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MemoryCoordinator } from '@gos/coordinator';
import { coreProtocol } from '@gos/schema';
import { SqliteStore } from '@gos/store';
import { Gateway, MemorySessionStore } from '../src/index.js';

const store = new SqliteStore({ file: ':memory:' });
const coordinator = new MemoryCoordinator();
const sessions = new MemorySessionStore();
const gateway = new Gateway({ gatewayId: 'gw-http', clusterSecret: 'http-api-test-secret', coordinator, store, sessions, protocol: coreProtocol, port: 0, scryptCost: 1024 });

before(async () => {
  await store.start();
  await sessions.start();
  await gateway.start();
});
after(async () => {
  await gateway.close();
  await sessions.close();
  await store.close();
  await coordinator.close();
});

interface Answer {
  readonly status: number;
  readonly code: unknown;
}

/** POST `body` (none when undefined) with `contentType` (no header when null). */
async function post(path: string, body: string | undefined, contentType: string | null = 'application/json'): Promise<Answer> {
  const res = await fetch(`${gateway.httpUrl}${path}`, { method: 'POST', ...(contentType === null ? {} : { headers: { 'content-type': contentType } }), ...(body === undefined ? {} : { body }) });
  const json = (await res.json()) as { code?: unknown };
  return { status: res.status, code: json.code };
}

let n = 0;
const name = (): string => `http${process.pid}x${n++}`;
const json = (v: unknown): string => JSON.stringify(v);

test('register and login without a body: 400 GW_ERR_BAD_REQUEST, not 401', async () => {
  for (const path of ['/v1/auth/login', '/v1/auth/register']) {
    assert.deepEqual(await post(path, undefined, null), { status: 400, code: 'GW_ERR_BAD_REQUEST' }, `${path}, no body, no Content-Type`);
    assert.deepEqual(await post(path, undefined), { status: 400, code: 'GW_ERR_BAD_REQUEST' }, `${path}, no body`);
  }
  // Login without username and password strings is malformed too; a wrong password is still 401.
  assert.deepEqual(await post('/v1/auth/login', '{}'), { status: 400, code: 'GW_ERR_BAD_REQUEST' });
  assert.deepEqual(await post('/v1/auth/login', json({ username: 'someone' })), { status: 400, code: 'GW_ERR_BAD_REQUEST' });
  assert.deepEqual(await post('/v1/auth/login', json({ username: 'someone', password: 12345678 })), { status: 400, code: 'GW_ERR_BAD_REQUEST' });
  assert.deepEqual(await post('/v1/auth/login', json({ username: 'someone', password: 'wrong-password' })), { status: 401, code: 'GW_ERR_BAD_CREDENTIALS' });
});

test('a body that is not application/json: 415 GW_ERR_UNSUPPORTED_MEDIA_TYPE on every auth route', async () => {
  const body = json({ username: name(), password: 'correct-horse-1' });
  for (const path of ['/v1/auth/register', '/v1/auth/login', '/v1/auth/guest']) {
    for (const type of ['text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'application/jsonp', null]) {
      assert.deepEqual(await post(path, body, type), { status: 415, code: 'GW_ERR_UNSUPPORTED_MEDIA_TYPE' }, `${path} as ${String(type)}`);
    }
  }
  // The media type is case-insensitive and may carry parameters.
  assert.equal((await post('/v1/auth/register', body, 'Application/JSON; charset=utf-8')).status, 201);
});

test('guest: no body, an empty body or a JSON object; a body must still be JSON', async () => {
  assert.equal((await post('/v1/auth/guest', undefined, null)).status, 200);
  assert.equal((await post('/v1/auth/guest', '')).status, 200);
  assert.equal((await post('/v1/auth/guest', '{}')).status, 200);
  assert.deepEqual(await post('/v1/auth/guest', '{"oops'), { status: 400, code: 'GW_ERR_BAD_REQUEST' });
});

test('password limits count Unicode code points, not UTF-16 units', async () => {
  const emoji = '\u{1F600}'; // one code point, two UTF-16 units
  const register = (password: string): Promise<Answer> => post('/v1/auth/register', json({ username: name(), password }));
  assert.deepEqual(await register(emoji.repeat(7)), { status: 400, code: 'GW_ERR_INVALID_PASSWORD' }, '7 code points (14 units)');
  assert.equal((await register(emoji.repeat(8))).status, 201);
  assert.equal((await register('é'.repeat(8))).status, 201);
  assert.deepEqual(await register(emoji.repeat(129)), { status: 400, code: 'GW_ERR_INVALID_PASSWORD' });

  const username = name();
  const longest = emoji.repeat(128);
  assert.equal((await post('/v1/auth/register', json({ username, password: longest }))).status, 201, '128 code points (256 units)');
  assert.equal((await post('/v1/auth/login', json({ username, password: longest }))).status, 200);
  assert.deepEqual(await post('/v1/auth/login', json({ username, password: longest + emoji })), { status: 401, code: 'GW_ERR_BAD_CREDENTIALS' });
});
