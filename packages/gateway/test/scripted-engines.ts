/**
 * Fixtures of the gateway tests that play the engines: a scripted engine on an in-process link
 * (it records what the gateway sends and answers what the test tells it to), and a client socket
 * that sends numbered `act` requests and keeps every frame it gets.
 */
import WebSocket from 'ws';
import { EngineToGateway, GatewayToEngine, decodeJoinBody, encodeJoinedBody, type LocalLinks, type LocalLinkPeer } from '@gos/link';
import { ErrorReplyCodec, FrameKind, encodeFrame, framePayload, readFrameHeader, type Codec, type Protocol, type RouteDef } from '@gos/schema';
import { waitFor } from '@gos/testing';

export const bytes: Codec<Uint8Array> = { name: 'Bytes', encode: (v) => v, decode: (b) => b.slice() };
export const act: RouteDef = { id: 1, name: 'act', scene: 'world', request: bytes, response: bytes, idempotent: false };
export const protocol: Protocol = { namespace: 'scripted-test', version: 1, routes: { act }, pushes: {}, routeById: new Map([[1, act]]), pushById: new Map() };

export interface Message {
  readonly type: number;
  readonly channel: number;
  readonly body: Uint8Array;
  /** A client frame handed over on the connection's lane (FrameLane) rather than sent on the link. */
  readonly lane?: true;
}

/** An engine played by the test: what the gateway sends it, and a way to answer. */
export class ScriptedEngine {
  readonly inbox: Message[] = [];
  peer: LocalLinkPeer | undefined;
  /** When set, plain JOINs are left to the test too. */
  holdJoins = false;
  /** With `lanes`: whether its lanes take frames now (false: refused, the gateway sends them on the link). */
  lanesOpen = true;
  readonly stop: () => Promise<void>;

  constructor(
    readonly id: string,
    links: LocalLinks,
    /** Offer the gateway a lane for every connection, as a real engine does for a joined one. */
    lanes = false,
  ) {
    this.stop = links.serve(id, (peer) => {
      this.peer = peer;
      if (lanes) {
        // Lanes it gave (a connection id each), checked when they come back, as an engine does.
        const issued = new WeakMap<object, number>();
        peer.serveLanes({
          lane: (channel) => {
            const lane = {};
            issued.set(lane, channel);
            return lane;
          },
          deliver: (lane, body) => {
            const channel = issued.get(lane);
            if (channel === undefined || !this.lanesOpen) return false;
            this.inbox.push({ type: GatewayToEngine.CLIENT_FRAME, channel, body: body.slice(), lane: true });
            return true;
          },
        });
      }
      peer.on('message', (type: number, channel: number, body: Uint8Array) => {
        this.inbox.push({ type, channel, body: body.slice() });
        // A plain JOIN is answered at once; a reserved one is left to the test.
        if (type === GatewayToEngine.JOIN) {
          const join = decodeJoinBody(body);
          if (!join.reserve && !this.holdJoins) peer.send(EngineToGateway.JOINED, channel, encodeJoinedBody({ sceneId: join.sceneId }));
        }
      });
    });
  }

  send(type: number, channel: number, body: Uint8Array = new Uint8Array(0)): void {
    this.peer!.send(type, channel, body);
  }

  /** Take the first message `pred` matches out of the inbox, waiting for it. */
  take(pred: (m: Message) => boolean, message: string): Promise<Message> {
    return waitFor(
      () => {
        const i = this.inbox.findIndex(pred);
        return i === -1 ? undefined : this.inbox.splice(i, 1)[0];
      },
      { timeoutMs: 5000, message },
    );
  }

  /** The request ids of the client frames it received, in order. */
  frames(): number[] {
    return this.inbox.filter((m) => m.type === GatewayToEngine.CLIENT_FRAME).map((m) => readFrameHeader(m.body)!.requestId);
  }
}

/** A client socket: sends `act` requests, keeps every frame it gets. */
export class Client {
  readonly got: Uint8Array[] = [];
  #nextId = 1;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.got.push(new Uint8Array(data)));
  }

  static async open(url: string): Promise<Client> {
    const ws = new WebSocket(url);
    const client = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  act(flags = 0): number {
    const id = this.#nextId++;
    this.ws.send(encodeFrame(FrameKind.REQUEST, act.id, id, new Uint8Array([id]), flags));
    return id;
  }

  /**
   * Resolves once the gateway has handled every frame sent before: it answers a route it does
   * not know itself, in order.
   */
  async barrier(): Promise<void> {
    const id = this.#nextId++;
    this.#barriers.add(id);
    this.ws.send(encodeFrame(FrameKind.REQUEST, 99, id, new Uint8Array(0)));
    await waitFor(() => this.got.some((f) => readFrameHeader(f)?.requestId === id) || undefined, { timeoutMs: 5000, message: 'the gateway to answer the barrier' });
  }

  readonly #barriers = new Set<number>();

  /** How many ERROR frames were received (barriers aside). */
  errorCount(): number {
    return this.got.filter((f) => {
      const h = readFrameHeader(f);
      return h?.kind === FrameKind.ERROR && !this.#barriers.has(h.requestId);
    }).length;
  }

  /** The ERROR frames received (barriers aside): requestId → code (retryable). */
  errors(): Map<number, string> {
    const out = new Map<number, string>();
    for (const f of this.got) {
      const h = readFrameHeader(f);
      if (h?.kind !== FrameKind.ERROR || this.#barriers.has(h.requestId)) continue;
      const e = ErrorReplyCodec.decode(framePayload(f));
      out.set(h.requestId, `${e.code}${e.retryable ? ' (retryable)' : ''}`);
    }
    return out;
  }
}
