/**
 * The apps behind a TLS gateway across certificate reloads (served-apps.ts), with real uWS
 * apps and raw TLS sockets: a WebSocket opened before a reload keeps its app, receives what is
 * published after it, and its app is closed (with its keep-alive HTTP connections) once that
 * socket is gone.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFileSync } from 'node:fs';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, test } from 'node:test';
import { waitFor } from '@gos/testing';
import { ServedApps } from '../src/served-apps.js';
import { makeCa } from './certs.js';

const certs = makeCa(['first', 'second']);
const ca = certs.read('ca.pem');
after(() => certs.remove());

/** A TLS connection to `port`, and the serial of the certificate it was served. */
async function connect(port: number): Promise<{ socket: TLSSocket; serial: string; received: Buffer[] }> {
  const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  await once(socket, 'secureConnect');
  return { socket, serial: socket.getPeerCertificate().serialNumber, received };
}

/** Bytes arrived on `c`, once they pass `test`. */
async function received(c: { socket: TLSSocket; received: Buffer[] }, test: (text: string) => boolean, what: string): Promise<string> {
  return waitFor(
    () => {
      const text = Buffer.concat(c.received).toString('latin1');
      return test(text) ? text : undefined;
    },
    { timeoutMs: 5000, message: what },
  );
}

test('a WebSocket opened before a reload keeps its app and its broadcasts; the app closes once it is gone', async () => {
  const certFile = certs.file('live.pem');
  const keyFile = certs.file('live.key');
  copyFileSync(certs.file('first.pem'), certFile);
  copyFileSync(certs.file('first.key'), keyFile);
  const apps = new ServedApps({
    host: '127.0.0.1',
    port: 0,
    tls: { certFile, keyFile, passphrase: null },
    retiredGraceMs: 50,
    routes: (app, sockets) => {
      app.ws('/ws', {
        open: (ws) => {
          sockets.opened();
          ws.subscribe('t');
        },
        close: () => sockets.closed(),
      });
      app.get('/*', (res) => void res.end('ok'));
    },
  });
  await apps.listen();
  try {
    // On the first app: a WebSocket, and an idle keep-alive HTTP connection.
    const ws = await connect(apps.port);
    ws.socket.write('GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await received(ws, (t) => t.startsWith('HTTP/1.1 101'), 'the WebSocket upgrade');
    const http = await connect(apps.port);
    http.socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await received(http, (t) => t.endsWith('ok'), 'the HTTP answer');

    copyFileSync(certs.file('second.pem'), certFile);
    copyFileSync(certs.file('second.key'), keyFile);
    const certificate = await apps.reload();
    assert.equal(certificate?.subject, 'CN=second');
    assert.equal(apps.retired, 1);
    const fresh = await connect(apps.port);
    assert.notEqual(fresh.serial, ws.serial, 'a new connection gets the new certificate');
    fresh.socket.destroy();

    apps.publish('t', Buffer.from('after the reload'));
    await received(ws, (t) => t.includes('after the reload'), 'the message published after the reload');

    // The WebSocket goes: the old app is closed after its grace, its keep-alive connection with it.
    const httpClosed = once(http.socket, 'close');
    ws.socket.destroy();
    await httpClosed;
    assert.equal(apps.retired, 0);
  } finally {
    apps.stopListening();
  }
});
