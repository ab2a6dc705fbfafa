/**
 * A gateway given a certificate serves https:// and wss:// (uWS SSLApp); reloadTls() (SIGHUP in
 * the process entries) switches new connections to the files as they are now while open ones
 * keep theirs, and a reload with files that cannot be used keeps the old certificate. The CA and
 * certificates are made at test time with openssl (scripts/make-certs.sh). Players over wss with
 * an engine: examples/demo/test/tls.test.ts.
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, test } from 'node:test';
import { MemoryCoordinator } from '@gos/coordinator';
import { ErrorCodes, coreProtocol, type LogFn, type Logger } from '@gos/schema';
import { SqliteStore } from '@gos/store';
import { Gateway, MemorySessionStore, type GatewayTlsOptions } from '../src/index.js';
import { makeCa } from './certs.js';

const certs = makeCa(['first', 'second', 'other']);
const locked = makeCa(['locked'], { KEY_PASSPHRASE: 'open sesame' });
const ca = certs.read('ca.pem');
const coordinator = new MemoryCoordinator();
const store = new SqliteStore({ file: ':memory:' });
await store.start();
const sessions = new MemorySessionStore();
await sessions.start();
after(async () => {
  await sessions.close();
  await store.close();
  await coordinator.close();
  certs.remove();
  locked.remove();
});

let gatewayNumber = 0;
function gateway(tls: GatewayTlsOptions | null, logger?: Logger): Gateway {
  gatewayNumber++;
  return new Gateway({ gatewayId: `gw-${gatewayNumber}`, clusterSecret: 'tls-test-cluster-secret', coordinator, store, sessions, protocol: coreProtocol, port: 0, scryptCost: 1024, tls, ...(logger === undefined ? {} : { logger }) });
}

/** Files the test may overwrite, as an operator renewing a certificate in place does. */
function liveFiles(name: string): GatewayTlsOptions {
  const cert = certs.file(`live-${gatewayNumber}-${name}.pem`);
  const key = certs.file(`live-${gatewayNumber}-${name}.key`);
  return { certFile: cert, keyFile: key };
}

function install(files: GatewayTlsOptions, from: string): void {
  copyFileSync(certs.file(`${from}.pem`), files.certFile);
  copyFileSync(certs.file(`${from}.key`), files.keyFile);
}

/** The serial number of the certificate a new TLS connection to `port` is served. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** Serial of the certificate of the connection that carried it, and that connection's local port. */
  readonly serial: string;
  readonly localPort: number;
}

/** An HTTPS request trusting only the test CA (through `agent` when given: keep-alive). */
function https(url: string, method: 'GET' | 'POST', body?: object, agent?: Agent, trusted = ca): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: trusted, ...(agent === undefined ? { agent: false } : { agent }), headers: { 'content-type': 'application/json' } }, (res) => {
      const socket = res.socket as TLSSocket;
      const serial = socket.getPeerCertificate().serialNumber;
      const localPort = socket.localPort ?? 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>, serial, localPort }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

test('a gateway with a certificate serves https and hands out wss URLs; plain http is not served', async () => {
  await using g = gateway({ certFile: certs.file('first.pem'), keyFile: certs.file('first.key') });
  await g.start();
  assert.equal(g.httpUrl, `https://127.0.0.1:${g.port}`);
  assert.equal(g.publicUrl, `wss://127.0.0.1:${g.port}/ws`);
  const health = await https(`${g.httpUrl}/healthz`, 'GET');
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'ok');
  const reg = await https(`${g.httpUrl}/v1/auth/register`, 'POST', { username: 'tls-player', password: 'correct-horse-1' });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const login = await https(`${g.httpUrl}/v1/auth/login`, 'POST', { username: 'tls-player', password: 'correct-horse-1' });
  assert.equal(login.status, 200);
  assert.equal(login.body.gateway, g.publicUrl);
  await assert.rejects(fetch(`http://127.0.0.1:${g.port}/healthz`), 'plain http gets no answer from the TLS port');
});

/**
 * What OpenSSL says of an encrypted key read without its passphrase: a wrong one decrypts to
 * garbage, which fails the padding check ("bad decrypt") except about one time in 256, when the
 * padding passes by chance and decoding the garbage fails instead (the key is made afresh, with
 * a new salt, on every run).
 */
const WRONG_PASSPHRASE = /cannot use the key .*locked\.key with the certificate .*locked\.pem: .*(bad decrypt|DECODER routines::unsupported)/;

test('files that cannot be used fail start() with GW_ERR_TLS naming the file; the port is left free', async () => {
  const cases: Array<[GatewayTlsOptions, RegExp]> = [
    [{ certFile: certs.file('missing.pem'), keyFile: certs.file('first.key') }, /cannot read the TLS certificate file .*missing\.pem: ENOENT/],
    [{ certFile: certs.file('first.pem'), keyFile: certs.file('missing.key') }, /cannot read the TLS key file .*missing\.key: ENOENT/],
    [{ certFile: certs.file('first.key'), keyFile: certs.file('first.key') }, /first\.key is not a PEM certificate/],
    [{ certFile: certs.file('first.pem'), keyFile: certs.file('second.key') }, /cannot use the key .*second\.key with the certificate .*first\.pem: .*key values mismatch/],
    [{ certFile: locked.file('locked.pem'), keyFile: locked.file('locked.key') }, WRONG_PASSPHRASE],
    [{ certFile: locked.file('locked.pem'), keyFile: locked.file('locked.key'), passphrase: 'wrong' }, WRONG_PASSPHRASE],
  ];
  for (const [tls, message] of cases) {
    await using g = gateway(tls);
    await assert.rejects(g.start(), (err: { code?: string; message: string }) => {
      assert.equal(err.code, ErrorCodes.GW_ERR_TLS, err.message);
      assert.match(err.message, message);
      return true;
    });
    assert.equal(g.port, 0);
  }
  await using unlocked = gateway({ certFile: locked.file('locked.pem'), keyFile: locked.file('locked.key'), passphrase: 'open sesame' });
  await unlocked.start();
  assert.equal((await https(`${unlocked.httpUrl}/healthz`, 'GET', undefined, undefined, locked.read('ca.pem'))).status, 200);
  assert.throws(() => gateway({ certFile: '', keyFile: 'x' }), { code: ErrorCodes.OPT_ERR_INVALID, message: /tls\.certFile/ });
});

test('reloadTls: new connections get the renewed certificate, an open connection keeps its own', async () => {
  const logs: string[] = [];
  const files = liveFiles('reload');
  install(files, 'first');
  await using g = gateway(files, recordingLogger(logs));
  await g.start();
  const first = await servedSerial(g.port);
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1, ca });
  const before = await https(`${g.httpUrl}/healthz`, 'GET', undefined, keepAlive);
  assert.equal(before.serial, first);

  install(files, 'second');
  await g.reloadTls();
  const second = await servedSerial(g.port);
  assert.notEqual(second, first, 'a new connection is served the new certificate');
  const after = await https(`${g.httpUrl}/healthz`, 'GET', undefined, keepAlive);
  assert.equal(after.status, 200);
  assert.equal(after.localPort, before.localPort, 'the keep-alive connection was not dropped');
  assert.equal(after.serial, first, 'and keeps the certificate it was opened with');
  keepAlive.destroy();
  assert.ok(logs.some((l) => l.startsWith('info TLS certificate reloaded')), logs.join('\n'));

  // Again, while the first app still holds its connection: three apps, the newest listening.
  install(files, 'other');
  await g.reloadTls();
  assert.notEqual(await servedSerial(g.port), second);
  assert.equal((await https(`${g.httpUrl}/healthz`, 'GET')).status, 200);
});

test('a reload with files that cannot be used keeps the old certificate: GW_ERR_TLS, logged, still serving', async () => {
  const logs: string[] = [];
  const files = liveFiles('broken');
  install(files, 'first');
  await using g = gateway(files, recordingLogger(logs));
  await g.start();
  const served = await servedSerial(g.port);
  // A renewal caught half-way: the new certificate, the old key.
  copyFileSync(certs.file('second.pem'), files.certFile);
  await assert.rejects(g.reloadTls(), { code: ErrorCodes.GW_ERR_TLS, message: /key values mismatch/ });
  assert.ok(logs.some((l) => l.startsWith('error TLS certificate reload failed: still serving the previous one')), logs.join('\n'));
  assert.equal(await servedSerial(g.port), served);
  assert.equal((await https(`${g.httpUrl}/healthz`, 'GET')).status, 200);
  // Finished: the next reload takes it.
  copyFileSync(certs.file('second.key'), files.keyFile);
  await g.reloadTls();
  assert.notEqual(await servedSerial(g.port), served);
});

test('reloadTls on a gateway without TLS does nothing', async () => {
  await using g = gateway(null);
  await g.start();
  await g.reloadTls();
  assert.equal(g.httpUrl, `http://127.0.0.1:${g.port}`);
  assert.equal((await fetch(`${g.httpUrl}/healthz`)).status, 200);
});

/** A logger keeping `level message` lines. */
function recordingLogger(lines: string[]): Logger {
  const fn =
    (level: string): LogFn =>
    (objOrMsg: object | string, msg?: string) =>
      lines.push(`${level} ${typeof objOrMsg === 'string' ? objOrMsg : (msg ?? '')}`);
  const logger: Logger = { trace: fn('trace'), debug: fn('debug'), info: fn('info'), warn: fn('warn'), error: fn('error'), fatal: fn('fatal'), child: () => logger };
  return logger;
}
