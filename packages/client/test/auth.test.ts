import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, test } from 'node:test';
import { ErrorCodes } from '@gos/schema';
import { AuthClient, HttpError, guest, login, register } from '../src/index.js';
import { leakedHandles } from './helpers.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

type Handler = (path: string, body: Record<string, unknown>, res: ServerResponse) => void;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** The gateway's auth API, as documented; `handler` overrides it per test. */
const documented: Handler = (path, body, res) => {
  switch (path) {
    case '/v1/auth/register':
      if (body.username === 'taken') return json(res, 409, { code: 'GW_ERR_USERNAME_TAKEN', message: 'username is taken' });
      if (typeof body.password !== 'string' || body.password.length < 8) {
        return json(res, 400, { code: 'GW_ERR_INVALID_PASSWORD', message: 'password must be 8–128 characters' });
      }
      return json(res, 201, { accountId: 'acc-1' });
    case '/v1/auth/login':
      if (body.password !== 'right-password') return json(res, 401, { code: 'GW_ERR_BAD_CREDENTIALS', message: 'wrong username or password' });
      return json(res, 200, { accountId: 'acc-1', username: body.username, token: 'tok', gateway: 'ws://127.0.0.1:1/ws', expiresAt: 1_700_000_000_000 });
    case '/v1/auth/guest':
      return json(res, 200, { accountId: 'acc-2', username: 'guest-ab12', token: 'gtok', gateway: 'ws://127.0.0.1:1/ws', expiresAt: 1 });
    default:
      return json(res, 404, { code: 'GW_ERR_NOT_FOUND', message: 'not found' });
  }
};

class AuthServer {
  readonly seen: Seen[] = [];
  handler: Handler = documented;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<AuthServer> {
    let self: AuthServer | undefined;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
        self!.seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
        const path = (req.url ?? '').replace(/^\/game/, '');
        self!.handler(path, body, res);
      });
    });
    self = new AuthServer(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return self;
  }

  get baseUrl(): string {
    const address = this.#server.address();
    if (typeof address === 'string' || address === null) throw new Error('no port');
    return `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function httpError(code: string, status: number): (err: unknown) => boolean {
  return (err) => err instanceof HttpError && err.code === code && err.status === status;
}

test('register, login and guest return the documented results', async () => {
  await using server = await AuthServer.start();
  assert.deepEqual(await register(server.baseUrl, 'alice', 'right-password'), { accountId: 'acc-1' });
  const auth = await login(server.baseUrl, 'alice', 'right-password');
  assert.equal(auth.token, 'tok');
  assert.equal(auth.gateway, 'ws://127.0.0.1:1/ws');
  assert.equal(auth.expiresAt, 1_700_000_000_000);
  const g = await guest(server.baseUrl);
  assert.equal(g.username, 'guest-ab12');
  assert.deepEqual(
    server.seen.map((s) => [s.method, s.url, s.contentType, s.body]),
    [
      ['POST', '/v1/auth/register', 'application/json', { username: 'alice', password: 'right-password' }],
      ['POST', '/v1/auth/login', 'application/json', { username: 'alice', password: 'right-password' }],
      ['POST', '/v1/auth/guest', 'application/json', {}],
    ],
  );
});

test('HTTP errors become HttpError with the server code and the status', async () => {
  await using server = await AuthServer.start();
  await assert.rejects(register(server.baseUrl, 'taken', 'right-password'), httpError('GW_ERR_USERNAME_TAKEN', 409));
  await assert.rejects(register(server.baseUrl, 'bob', 'short'), httpError('GW_ERR_INVALID_PASSWORD', 400));
  await assert.rejects(login(server.baseUrl, 'alice', 'wrong-password'), (err: unknown) => {
    return httpError('GW_ERR_BAD_CREDENTIALS', 401)(err) && (err as Error).message === 'wrong username or password';
  });
});

test('answers that are not the documented JSON become CLI_ERR_HTTP', async () => {
  await using server = await AuthServer.start();
  server.handler = (_path, _body, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
  await assert.rejects(login(server.baseUrl, 'a', 'b'), httpError(ErrorCodes.CLI_ERR_HTTP, 502));
  server.handler = (_path, _body, res) => json(res, 500, { oops: true });
  await assert.rejects(login(server.baseUrl, 'a', 'b'), httpError(ErrorCodes.CLI_ERR_HTTP, 500));
  server.handler = (_path, _body, res) => json(res, 200, { accountId: 'acc-1', token: 'tok' });
  await assert.rejects(login(server.baseUrl, 'a', 'b'), httpError(ErrorCodes.CLI_ERR_HTTP, 200));
  server.handler = (_path, _body, res) => res.writeHead(200).end('OK');
  await assert.rejects(guest(server.baseUrl), httpError(ErrorCodes.CLI_ERR_HTTP, 200));
});

test('network failures are CLI_ERR_HTTP (status 0) and slow answers CLI_ERR_TIMEOUT', async () => {
  const server = await AuthServer.start();
  const baseUrl = server.baseUrl;
  server.handler = () => {}; // never answers
  await assert.rejects(login(baseUrl, 'a', 'b', { timeoutMs: 50 }), httpError(ErrorCodes.CLI_ERR_TIMEOUT, 0));
  await server.close();
  await assert.rejects(login(baseUrl, 'a', 'b'), httpError(ErrorCodes.CLI_ERR_HTTP, 0));
});

test('AuthClient binds a base URL (path prefix kept) and an injected fetch', async () => {
  await using server = await AuthServer.start();
  const auth = new AuthClient({ baseUrl: `${server.baseUrl}/game` });
  assert.equal((await auth.login('alice', 'right-password')).token, 'tok');
  assert.equal(server.seen[0]?.url, '/game/v1/auth/login');
  const calls: string[] = [];
  const fake = new AuthClient({
    baseUrl: 'https://example.test/',
    fetch: async (url, init) => {
      calls.push(`${init.method} ${url} ${init.body}`);
      return { status: 201, ok: true, text: async () => '{"accountId":"x"}' };
    },
  });
  assert.deepEqual(await fake.register('u', 'p'), { accountId: 'x' });
  assert.deepEqual(await fake.register('v', 'p', { groupId: 'guild:7' }), { accountId: 'x' });
  assert.deepEqual(calls, [
    'POST https://example.test/v1/auth/register {"username":"u","password":"p"}',
    'POST https://example.test/v1/auth/register {"username":"v","password":"p","groupId":"guild:7"}',
  ]);
  for (const [name, bad] of [
    ['baseUrl', { baseUrl: '' }],
    ['baseUrl', { baseUrl: 'nope' }],
    ['fetch', { baseUrl: 'http://x', fetch: 5 as never }],
    ['timeoutMs', { baseUrl: 'http://x', timeoutMs: 0 }],
  ] as const) {
    assert.throws(() => new AuthClient(bad), (err: { code?: string; message?: string }) => {
      return err.code === ErrorCodes.OPT_ERR_INVALID && err.message?.includes(`"${name}"`) === true;
    });
  }
  await assert.rejects(login('', 'a', 'b'), { code: ErrorCodes.OPT_ERR_INVALID });
});

after(async () => {
  // fetch's connection pool may keep a timer; sockets must all be closed.
  assert.deepEqual(await leakedHandles((h) => h.startsWith('TCP')), []);
});
