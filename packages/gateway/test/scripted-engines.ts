/**
 * Fixtures of the gateway tests that play the engines: a scripted engine on an in-process link
 * (it records what the gateway sends and answers what the test tells it to), a gateway started
 * with scripted engines beside it, and a client socket that sends numbered `act` requests and
 * keeps every frame it gets.
 */
import WebSocket from 'ws';
import { MemoryCoordinator } from '@gos/coordinator';
import { EngineToGateway, GatewayToEngine, LinkServer, LocalLinks, decodeJoinBody, encodeJoinedBody, type GatewayPeer } from '@gos/link';
import { ErrorReplyCodec, FrameKind, encodeFrame, framePayload, readFrameHeader, type Codec, type Protocol, type RouteDef } from '@gos/schema';
import { SqliteStore } from '@gos/store';
import { waitFor } from '@gos/testing';
import { Gateway, MemorySessionStore } from '../src/index.js';

export const bytes: Codec<Uint8Array> = { name: 'Bytes', encode: (v) => v, decode: (b) => b.slice() };
export const act: RouteDef = { id: 1, name: 'act', scene: 'world', request: bytes, response: bytes, idempotent: false };
export const protocol: Protocol = { namespace: 'scripted-test', version: 1, routes: { act }, pushes: {}, routeById: new Map([[1, act]]), pushById: new Map() };

export interface Message {
  readonly type: number;
  readonly channel: number;
  readonly body: Uint8Array;
  /** When it arrived (performance.now()). */
  readonly at: number;
  /** A client frame handed over on the connection's lane (FrameLane) rather than sent on the link. */
  readonly lane?: true;
}

/** An engine played by the test: what the gateway sends it, and a way to answer. */
export class ScriptedEngine {
  readonly inbox: Message[] = [];
  peer: GatewayPeer | undefined;
  /** When set, plain JOINs are left to the test too. */
  holdJoins = false;
  /** With `lanes`: whether its lanes take frames now (false: refused, the gateway sends them on the link). */
  lanesOpen = true;
  /** What its JOINED says of the scene's inputs: its tick interval when it takes them at its ticks (0: as they come). */
  inputTickMs = 0;
  readonly stop: () => Promise<void>;

  constructor(
    readonly id: string,
    /** In-process links to serve it on, or a TCP link server (started) whose peers it takes. */
    transport: LocalLinks | LinkServer,
    /** Offer the gateway a lane for every connection, as a real engine does for a joined one (in-process only). */
    lanes = false,
  ) {
    if (transport instanceof LinkServer) {
      transport.on('peer', (peer) => this.#attach(peer, false));
      this.stop = () => transport.close();
    } else {
      this.stop = transport.serve(id, (peer) => this.#attach(peer, lanes));
    }
  }

  /** A scripted engine on a TCP link server of its own (127.0.0.1, a free port): its address for the membership. */
  static async tcp(id: string, secret: string): Promise<{ engine: ScriptedEngine; address: string }> {
    const server = new LinkServer({ nodeId: id, secret, host: '127.0.0.1', port: 0 });
    await server.start();
    return { engine: new ScriptedEngine(id, server), address: `127.0.0.1:${server.port}` };
  }

  #attach(peer: GatewayPeer, lanes: boolean): void {
    this.peer = peer;
    if (lanes && peer.serveLanes !== undefined) {
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
          this.inbox.push({ type: GatewayToEngine.CLIENT_FRAME, channel, body: body.slice(), at: performance.now(), lane: true });
          return true;
        },
      });
    }
    peer.on('message', (type: number, channel: number, body: Uint8Array) => {
      this.inbox.push({ type, channel, body: body.slice(), at: performance.now() });
      // A plain JOIN is answered at once; a reserved one is left to the test.
      if (type === GatewayToEngine.JOIN) {
        const join = decodeJoinBody(body);
        if (!join.reserve && !this.holdJoins) peer.send(EngineToGateway.JOINED, channel, encodeJoinedBody({ sceneId: join.sceneId, inputTickMs: this.inputTickMs }));
      }
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

/** A gateway linked in-process to scripted engines, on an in-memory coordinator, store and session store. */
export interface ScriptedCluster {
  readonly coordinator: MemoryCoordinator;
  readonly store: SqliteStore;
  readonly sessions: MemorySessionStore;
  readonly links: LocalLinks;
  /** By id, in the order given. */
  readonly engines: ReadonlyMap<string, ScriptedEngine>;
  readonly gateway: Gateway;
  /** Stop the gateway, the engines and the stores. */
  close(): Promise<void>;
}

/**
 * Start a gateway (`gw`, the test protocol, new players in `defaultSceneId`) with a scripted
 * engine for each key of `engines`, each a member with the scenes listed placed on it.
 */
export async function startScriptedCluster(o: {
  readonly engines: Readonly<Record<string, readonly string[]>>;
  readonly defaultSceneId: string;
  readonly clusterSecret: string;
  /** The session store (a MemorySessionStore by default; started here either way). */
  readonly sessions?: MemorySessionStore;
  /** The engines offer frame lanes (FrameLanes), as a real engine does. */
  readonly lanes?: boolean;
  /** The engines' links: in-process (the default), or TCP on ports of their own. */
  readonly transport?: 'in-process' | 'tcp';
  /** The gateway's `inputHoldLeadMs` (its default when absent). */
  readonly inputHoldLeadMs?: number;
}): Promise<ScriptedCluster> {
  const coordinator = new MemoryCoordinator();
  const store = new SqliteStore({ file: ':memory:' });
  const sessions = o.sessions ?? new MemorySessionStore();
  await Promise.all([coordinator.start(), store.start(), sessions.start()]);
  const links = new LocalLinks();
  const engines = new Map<string, ScriptedEngine>();
  for (const [id, scenes] of Object.entries(o.engines)) {
    let address = '127.0.0.1:9'; // in-process: never dialled
    if (o.transport === 'tcp') {
      const tcp = await ScriptedEngine.tcp(id, o.clusterSecret);
      engines.set(id, tcp.engine);
      address = tcp.address;
    } else {
      engines.set(id, new ScriptedEngine(id, links, o.lanes === true));
    }
    await coordinator.membership.register({ id, role: 'engine', address, capacity: 100 });
    for (const sceneId of scenes) await coordinator.placement.assign(sceneId, id);
  }
  const gateway = new Gateway({
    gatewayId: 'gw',
    clusterSecret: o.clusterSecret,
    coordinator,
    store,
    sessions,
    protocol,
    port: 0,
    scryptCost: 1024,
    localLinks: links,
    defaultSceneId: o.defaultSceneId,
    ...(o.inputHoldLeadMs === undefined ? {} : { inputHoldLeadMs: o.inputHoldLeadMs }),
  });
  await gateway.start();
  return {
    coordinator,
    store,
    sessions,
    links,
    engines,
    gateway,
    async close() {
      await gateway.close();
      for (const e of engines.values()) await e.stop();
      await sessions.close();
      await store.close();
      await coordinator.close();
    },
  };
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
