/**
 * A fake gateway for the SDK's unit tests: a `ws` server on port 0 that speaks the frame format
 * (PING → PONG like the real gateway; everything else is up to the test), and a tiny protocol
 * with JSON-in-bytes codecs.
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import {
  CodedError,
  ErrorCodes,
  FrameKind,
  encodeFrame,
  framePayload,
  readFrameHeader,
  type Codec,
  type FrameHeader,
  type Protocol,
  type PushDef,
  type RouteDef,
} from '@gos/schema';
import { waitFor } from '@gos/testing';
import { GameClient, type ClientEventMap, type GameClientOptions } from '../src/index.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function jsonCodec<T>(name: string): Codec<T> {
  return {
    name,
    encode: (value) => encoder.encode(JSON.stringify(value)),
    decode: (bytes) => {
      try {
        return JSON.parse(decoder.decode(bytes)) as T;
      } catch (cause) {
        throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `bad ${name} payload`, { cause });
      }
    },
  };
}

export interface EchoReq {
  n: number;
}
export interface EchoRes {
  n: number;
}
export interface FireReq {
  x: number;
}
export interface Tick {
  t: number;
}

const echo: RouteDef<EchoReq, EchoRes> = Object.freeze({ id: 1, name: 'echo', scene: 'test', request: jsonCodec<EchoReq>('EchoReq'), response: jsonCodec<EchoRes>('EchoRes'), idempotent: false });
const fire: RouteDef<FireReq, void> = Object.freeze({ id: 2, name: 'fire', scene: 'test', request: jsonCodec<FireReq>('FireReq'), response: null, idempotent: false });
/** Like echo, marked idempotent: the SDK sends it again after a retryable error. */
const peek: RouteDef<EchoReq, EchoRes> = Object.freeze({ id: 3, name: 'peek', scene: 'test', request: jsonCodec<EchoReq>('EchoReq'), response: jsonCodec<EchoRes>('EchoRes'), idempotent: true });
const tick: PushDef<Tick> = Object.freeze({ id: 100, name: 'Tick', codec: jsonCodec<Tick>('Tick') });

export interface TestProtocol extends Protocol {
  readonly routes: { readonly echo: RouteDef<EchoReq, EchoRes>; readonly fire: RouteDef<FireReq, void>; readonly peek: RouteDef<EchoReq, EchoRes> };
  readonly pushes: { readonly Tick: PushDef<Tick> };
}

export const testProtocol: TestProtocol = Object.freeze({
  namespace: 'test',
  version: 7,
  routes: Object.freeze({ echo, fire, peek }),
  pushes: Object.freeze({ Tick: tick }),
  routeById: new Map<number, RouteDef>([
    [echo.id, echo as RouteDef],
    [fire.id, fire as RouteDef],
    [peek.id, peek as RouteDef],
  ]),
  pushById: new Map<number, PushDef>([[tick.id, tick as PushDef]]),
});

export interface ReceivedFrame {
  readonly header: FrameHeader;
  readonly payload: Uint8Array;
}

/** One socket accepted by the fake gateway. */
export class FakeConn {
  readonly ws: WebSocket;
  readonly url: URL;
  readonly frames: ReceivedFrame[] = [];
  closeCode: number | undefined;

  constructor(ws: WebSocket, req: IncomingMessage) {
    this.ws = ws;
    this.url = new URL(req.url ?? '/', 'ws://fake');
  }

  get requests(): ReceivedFrame[] {
    return this.frames.filter((f) => f.header.kind === FrameKind.REQUEST);
  }

  get pings(): ReceivedFrame[] {
    return this.frames.filter((f) => f.header.kind === FrameKind.PING);
  }

  send(kind: FrameKind, opcode: number, requestId: number, payload: Uint8Array | null): void {
    this.ws.send(encodeFrame(kind, opcode, requestId, payload));
  }

  respond(req: ReceivedFrame, body: unknown): void {
    this.send(FrameKind.RESPONSE, req.header.opcode, req.header.requestId, body === undefined ? null : encoder.encode(JSON.stringify(body)));
  }

  push(id: number, body: unknown): void {
    this.send(FrameKind.PUSH, id, 0, encoder.encode(JSON.stringify(body)));
  }

  raw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }
}

export interface FakeGatewayOptions {
  /** Answer PING frames with PONG, like the real gateway. @default true */
  readonly answerPings?: boolean;
  /** Called for each new socket, before any frame. */
  readonly onConnection?: (conn: FakeConn) => void;
  /** Called for each REQUEST frame. */
  readonly onRequest?: (conn: FakeConn, frame: ReceivedFrame) => void;
}

export class FakeGateway {
  readonly #wss: WebSocketServer;
  readonly conns: FakeConn[] = [];
  options: FakeGatewayOptions;

  private constructor(wss: WebSocketServer, options: FakeGatewayOptions) {
    this.#wss = wss;
    this.options = options;
    wss.on('connection', (ws, req) => {
      const conn = new FakeConn(ws, req);
      this.conns.push(conn);
      ws.on('close', (code) => {
        conn.closeCode = code;
      });
      ws.on('message', (data, isBinary) => {
        if (!isBinary) return;
        const buf = data as Buffer;
        const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength).slice();
        const header = readFrameHeader(bytes);
        if (header === null) return;
        const frame = { header, payload: framePayload(bytes) };
        conn.frames.push(frame);
        if (header.kind === FrameKind.PING && this.options.answerPings !== false) conn.send(FrameKind.PONG, 0, header.requestId, null);
        if (header.kind === FrameKind.REQUEST) this.options.onRequest?.(conn, frame);
      });
      this.options.onConnection?.(conn);
    });
  }

  static async start(options: FakeGatewayOptions = {}): Promise<FakeGateway> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
    await once(wss, 'listening');
    return new FakeGateway(wss, options);
  }

  get port(): number {
    const address = this.#wss.address();
    if (typeof address === 'string' || address === null) throw new Error('no port');
    return address.port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  /** Wait until `n` sockets have connected in total. */
  async connections(n: number, timeoutMs = 2000): Promise<FakeConn> {
    await waitFor(() => this.conns.length >= n, { timeoutMs, message: `${n} connection(s)` });
    return this.conns[n - 1]!;
  }

  #closed: Promise<void> | undefined;

  /** Drop every socket and stop listening. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const client of this.#wss.clients) client.terminate();
      await new Promise<void>((resolve, reject) => this.#wss.close((err) => (err === undefined ? resolve() : reject(err))));
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export type RecordedEvent = { [E in keyof ClientEventMap]: { readonly type: E; readonly arg: ClientEventMap[E] } }[keyof ClientEventMap];

/** Every lifecycle event of `client`, in order. */
export function record(client: GameClient<TestProtocol>): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  client.on('open', (arg) => events.push({ type: 'open', arg }));
  client.on('moved', (arg) => events.push({ type: 'moved', arg }));
  client.on('close', (arg) => events.push({ type: 'close', arg }));
  client.on('reconnecting', (arg) => events.push({ type: 'reconnecting', arg }));
  client.on('error', (arg) => events.push({ type: 'error', arg }));
  return events;
}

/** A client of the test protocol on `gw`; `ws` passed as the WebSocket constructor, without a cast. */
export function clientFor(gw: FakeGateway, overrides: Partial<GameClientOptions<TestProtocol>> = {}): GameClient<TestProtocol> {
  return new GameClient({
    url: gw.url,
    token: 'tok-123',
    protocol: testProtocol,
    WebSocket,
    reconnect: { minDelayMs: 5, maxDelayMs: 40 },
    ...overrides,
  });
}

/** TCP handles and timers still open in this process (node:test itself holds none). */
export function openHandles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP') || r === 'Timeout');
}

/**
 * The handles left once those being closed have finished closing (libuv closes them a few
 * ticks after `close()` resolves): a real leak stays, so it still fails the check.
 */
export async function leakedHandles(filter: (handle: string) => boolean = () => true): Promise<string[]> {
  // A timeout is not an error here: the caller's assertion lists the handles left.
  await waitFor(() => openHandles().filter(filter).length === 0, { timeoutMs: 5000, message: 'the handles to close' }).catch(() => undefined);
  return openHandles().filter(filter);
}
