/**
 * Reaching etcd, MySQL and Redis at start (`connect`), against the real clients: a backend that
 * comes up while a role starts is reached; one that never answers, or refuses, ends the start
 * within the timeout with the backend's code naming the URL, password masked; a stop ends the
 * retries at once. (The processes themselves: examples/demo/test/start-timeout.test.ts.)
 */
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { test } from 'node:test';
import { EtcdCoordinator } from '@gos/coordinator';
import { RedisSessionStore } from '@gos/gateway';
import { ErrorCodes } from '@gos/schema';
import { createStore } from '@gos/store';
import { waitFor } from '@gos/testing';
import { connect, maskUrl } from '../src/index.js';
import { captureLogger, closedPort, tcpServer } from './helpers.js';

const REDIS = new URL(process.env['GOS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379');

test('maskUrl hides the password only', () => {
  assert.equal(maskUrl('mysql://gos:s3cret@db:3306/gos'), 'mysql://gos:***@db:3306/gos');
  assert.equal(maskUrl('redis://:s3cret@cache:6379'), 'redis://:***@cache:6379');
  assert.equal(maskUrl('redis://cache:6379'), 'redis://cache:6379');
  assert.equal(maskUrl('http://127.0.0.1:2379'), 'http://127.0.0.1:2379');
  assert.equal(maskUrl('not a url'), 'not a url');
});

test('Redis coming up while a role starts is reached: each refusal logged with its back-off, then connected', async () => {
  const port = await closedPort();
  const log = captureLogger();
  const connecting = connect({
    what: 'Redis',
    urls: [`redis://127.0.0.1:${port}`],
    code: ErrorCodes.GW_ERR_SESSION_STORE,
    open: () => new RedisSessionStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'gos-connect-test:' }),
    timeoutMs: 30_000,
    logger: log,
  });
  const retries = () => log.entries.filter((e) => e.level === 'warn');
  await waitFor(() => retries().length >= 2, { timeoutMs: 5000, message: 'two refused attempts' });
  // Redis appears on that port (a forwarder to the test Redis).
  const forwarder = await tcpServer((socket) => {
    const upstream = tcpConnect(Number(REDIS.port || 6379), REDIS.hostname);
    upstream.on('error', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  }, port);
  try {
    const sessions = await connecting;
    await sessions.close();
  } finally {
    await forwarder.close();
  }
  const msgs = log.entries.map((e) => e.msg ?? '');
  assert.equal(msgs[0], `connecting to Redis at redis://127.0.0.1:${port}`);
  assert.match(retries()[0]!.msg!, new RegExp(`^cannot reach Redis at redis://127\\.0\\.0\\.1:${port} \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\); retrying in 250 ms$`));
  assert.deepEqual(retries().slice(0, 2).map((e) => e.fields['retryInMs']), [250, 500], 'the back-off doubles');
  assert.match(msgs.at(-1)!, new RegExp(`^connected to Redis at redis://127\\.0\\.0\\.1:${port}$`));
});

test('etcd that accepts but never answers: the attempt is abandoned at the start timeout, CRD_ERR_UNAVAILABLE naming the URL', async () => {
  const silent = await tcpServer(() => {});
  const url = `http://127.0.0.1:${silent.port}`;
  const started = Date.now();
  try {
    await assert.rejects(
      connect({ what: 'etcd', urls: [url], code: ErrorCodes.CRD_ERR_UNAVAILABLE, open: () => new EtcdCoordinator({ hosts: [url] }), timeoutMs: 800, logger: captureLogger() }),
      { code: ErrorCodes.CRD_ERR_UNAVAILABLE, message: `cannot reach etcd at ${url}: no answer (1 attempt in 0.8 s; start timeout 0.8 s)` },
    );
  } finally {
    await silent.close();
  }
  assert.ok(Date.now() - started < 1500, `gave up in ${Date.now() - started} ms`);
});

test('MySQL refusing until the timeout: STO_ERR_CONNECTION naming the URL; the password appears nowhere', async () => {
  const port = await closedPort();
  const url = `mysql://gos:hunter2-secret@127.0.0.1:${port}/gos`;
  const log = captureLogger();
  const started = Date.now();
  const err = await connect({ what: 'MySQL', urls: [url], code: ErrorCodes.STO_ERR_CONNECTION, open: () => createStore({ kind: 'mysql', url }), timeoutMs: 1500, logger: log }).then(
    () => assert.fail('connected to nothing'),
    (e: unknown) => e as Error & { code: string },
  );
  assert.ok(Date.now() - started <= 1600, `gave up in ${Date.now() - started} ms`);
  assert.equal(err.code, ErrorCodes.STO_ERR_CONNECTION);
  assert.match(err.message, new RegExp(`^cannot reach MySQL at mysql://gos:\\*\\*\\*@127\\.0\\.0\\.1:${port}/gos: connect ECONNREFUSED 127\\.0\\.0\\.1:${port} \\(3 attempts in`));
  assert.equal(err.cause, undefined, 'the driver error, which may carry the URL, is left out');
  assert.doesNotMatch(JSON.stringify(log.entries), /hunter2/);
});

test('a password the driver echoes in its message is scrubbed (gRPC resolving an etcd URL with credentials)', async () => {
  const port = await closedPort();
  const url = `http://root:hunter2-secret@127.0.0.1:${port}`;
  const log = captureLogger();
  const err = await connect({ what: 'etcd', urls: [url], code: ErrorCodes.CRD_ERR_UNAVAILABLE, open: () => new EtcdCoordinator({ hosts: [url] }), timeoutMs: 600, logger: log }).then(
    () => assert.fail('connected to nothing'),
    (e: unknown) => e as Error,
  );
  assert.match(err.message, /^cannot reach etcd at http:\/\/root:\*\*\*@127\.0\.0\.1:\d+\/: /);
  assert.doesNotMatch(err.message, /hunter2/);
  assert.doesNotMatch(JSON.stringify(log.entries), /hunter2/);
});

test('a stop while retrying ends the start at once with the stop reason', async () => {
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}`;
  const log = captureLogger();
  const stop = new AbortController();
  const connecting = connect({ what: 'etcd', urls: [url], code: ErrorCodes.CRD_ERR_UNAVAILABLE, open: () => new EtcdCoordinator({ hosts: [url] }), timeoutMs: 30_000, logger: log, signal: stop.signal });
  await waitFor(() => log.entries.some((e) => e.level === 'warn'), { timeoutMs: 5000, message: 'a refused attempt' });
  const stoppedAt = Date.now();
  stop.abort(new Error('stopped by SIGTERM while starting'));
  await assert.rejects(connecting, { message: 'stopped by SIGTERM while starting' });
  assert.ok(Date.now() - stoppedAt < 200, `ended ${Date.now() - stoppedAt} ms after the stop`);
});
