/**
 * The client SDK in Node against a gateway whose certificate a private CA signed (a cluster's
 * own CA, or the throw-away one of scripts/make-certs.sh): the SDK takes its `fetch` and its
 * `WebSocket`, and these trust `ca` only. (A whole Node process can trust a CA more simply with
 * `NODE_EXTRA_CA_CERTS=ca.pem`.)
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import WebSocket from 'ws';
import type { FetchLike, WebSocketConstructor } from '@gos/client';

/** A `fetch` for the SDK's auth calls that trusts `ca` (PEM) for https URLs. */
export function fetchTrusting(ca: string | Buffer): FetchLike {
  return (url, init) =>
    new Promise((resolve, reject) => {
      const { signal } = init;
      if (signal?.aborted === true) return reject(signal.reason as Error);
      const request = url.startsWith('https:') ? httpsRequest : httpRequest;
      const req = request(url, { method: init.method, headers: init.headers, ca }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status, ok: status >= 200 && status < 300, text: () => Promise.resolve(body) });
        });
      });
      // The SDK reads a TimeoutError or AbortError (the signal's reason) as its own timeout.
      signal?.addEventListener('abort', () => req.destroy(signal.reason as Error), { once: true });
      req.on('error', reject);
      req.end(init.body);
    });
}

/** The `ws` package's WebSocket, trusting `ca` (PEM) for wss URLs. */
export function webSocketTrusting(ca: string | Buffer): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string) {
      super(url, { ca });
    }
  };
}
