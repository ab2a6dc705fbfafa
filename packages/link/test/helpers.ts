import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Logger, LogFn } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { FrameParser, LinkFrameType, encodeLinkFrame, type LinkFrame } from '../src/frame.js';
import { computeProof, decodeChallenge, decodeHello, encodeChallenge, encodeHello, newNonce } from '../src/handshake.js';

export const SECRET = 'a-cluster-secret-of-32-bytes!!!!';
export const OTHER_SECRET = 'another-secret-entirely-32bytes!';

export interface LogEntry {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly msg: string | undefined;
}

/** A logger that records everything (bindings merged into each entry). */
export function captureLogger(): Logger & { readonly entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const fn =
      (level: string): LogFn =>
      (objOrMsg: object | string, msg?: string) => {
        if (typeof objOrMsg === 'string') entries.push({ level, fields: { ...bindings }, msg: objOrMsg });
        else entries.push({ level, fields: { ...bindings, ...(objOrMsg as Record<string, unknown>) }, msg });
      };
    return {
      trace: fn('trace'),
      debug: fn('debug'),
      info: fn('info'),
      warn: fn('warn'),
      error: fn('error'),
      fatal: fn('fatal'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return Object.assign(make({}), { entries });
}

export function hasCode(entries: readonly LogEntry[], code: string, filter: (e: LogEntry) => boolean = () => true): boolean {
  return entries.some((e) => e.fields.code === code && filter(e));
}

export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Reads link frames off a raw socket, for tests that play one side by hand. */
export class FrameReader {
  readonly socket: Socket;
  readonly #parser = new FrameParser(16 * 1024 * 1024);
  readonly #frames: LinkFrame[] = [];
  #wake: (() => void) | null = null;
  closed = false;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#parser.push(chunk);
      for (let f = this.#parser.next(); f !== null; f = this.#parser.next()) this.#frames.push(f);
      this.#wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake?.();
    });
    socket.on('error', () => undefined);
  }

  async next(timeoutMs = 3000): Promise<LinkFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.#frames.shift();
      if (frame !== undefined) return frame;
      if (this.closed) throw new Error('socket closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no frame in time');
      // Not a sleep: woken by the next frame or the close, this timer is only the deadline.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = null;
          resolve();
        };
      });
    }
  }

  async closedWithin(timeoutMs: number): Promise<void> {
    await waitFor(() => this.closed, { timeoutMs, message: 'the raw socket to close' });
  }
}

export async function rawConnect(port: number): Promise<FrameReader> {
  const socket = connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  return new FrameReader(socket);
}

/**
 * Play a LinkClient by hand up to the end of the handshake, then leave the socket to the test
 * (e.g. to stay silent). `proofSecret` lets a test send a wrong proof without checking the server's.
 */
export async function rawLinkedClient(port: number, nodeId: string, proofSecret = SECRET): Promise<FrameReader> {
  const reader = await rawConnect(port);
  const nonce = newNonce();
  reader.socket.write(encodeLinkFrame(LinkFrameType.HELLO, 0, encodeHello(nonce, nodeId)));
  const challengeFrame = await reader.next();
  if (challengeFrame.type !== LinkFrameType.CHALLENGE) throw new Error(`expected CHALLENGE, got ${challengeFrame.type}`);
  const challenge = decodeChallenge(challengeFrame.body);
  const proof = computeProof(Buffer.from(proofSecret), 'client', nonce, challenge.nonce, nodeId, challenge.nodeId);
  reader.socket.write(encodeLinkFrame(LinkFrameType.PROOF, 0, proof));
  return reader;
}

/** A raw server that completes the handshake as `nodeId`, then never sends anything again. */
export async function silentLinkServer(
  nodeId: string,
): Promise<{ server: Server; port: number; sockets: Socket[]; [Symbol.asyncDispose](): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    const reader = new FrameReader(socket);
    void (async () => {
      try {
        const helloFrame = await reader.next();
        const hello = decodeHello(helloFrame.body);
        const nonce = newNonce();
        const proof = computeProof(Buffer.from(SECRET), 'server', hello.nonce, nonce, hello.nodeId, nodeId);
        socket.write(encodeLinkFrame(LinkFrameType.CHALLENGE, 0, encodeChallenge(nonce, proof, nodeId)));
        await reader.next(); // PROOF, trusted without checking: this server only tests liveness
        socket.write(encodeLinkFrame(LinkFrameType.READY, 0, new Uint8Array(0)));
      } catch {
        socket.destroy();
      }
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    server,
    port: address.port,
    sockets,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Deterministic body for message `i`: size varies a lot, content depends on `i`. */
export function bodyFor(i: number): Uint8Array {
  const size = i % 97 === 0 ? 200_000 + (i % 13) * 1000 : i % 7 === 0 ? 4000 + (i % 50) * 300 : i % 11;
  const body = new Uint8Array(size);
  for (let j = 0; j < size; j++) body[j] = (i * 31 + j * 7) & 0xff;
  return body;
}

export function bodyMatches(i: number, body: Uint8Array): boolean {
  const expected = bodyFor(i);
  return Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength).equals(
    Buffer.from(body.buffer, body.byteOffset, body.byteLength),
  );
}

/**
 * TCP handles still open in this process (node:test itself holds none). libuv releases a
 * closed handle some loop iterations after its 'close' event (later on a loaded machine), so
 * give them up to a second; a real leak stays.
 */
export async function openTcpHandles(): Promise<string[]> {
  const tcp = (): string[] => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP'));
  // A timeout is not an error here: the caller's assertion lists the handles left.
  await waitFor(() => tcp().length === 0, { timeoutMs: 1000, message: 'the TCP handles to close' }).catch(() => undefined);
  return tcp();
}
