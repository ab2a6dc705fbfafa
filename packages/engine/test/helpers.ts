/**
 * Fixtures of the engine tests: a real engine on real worker threads and a real SQLite file, and
 * a fake gateway (a real LinkClient) that joins players and sends their frames.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorReplyCodec, FrameKind, encodeFrame, framePayload, readFrameHeader } from '@gos/schema';
import { CoordinatorNode, MemoryCoordinator, type Coordinator } from '@gos/coordinator';
import { EngineToGateway, GatewayToEngine, LinkClient, decodeJoinedBody, encodeJoinBody, type EngineLink, type JoinedBody } from '@gos/link';
import { SqliteStore, type Store } from '@gos/store';
import { waitFor } from '@gos/testing';
import { Engine, type EngineOptions } from '../src/index.js';
import { jsonCodec, testProtocol } from './fixtures/json-protocol.js';

export const SECRET = 'engine-test-secret-0123456789';
export const GAME = fileURLToPath(new URL('./fixtures/test-game.js', import.meta.url));

export interface Received {
  type: number;
  channel: number;
  body: Uint8Array;
}

/** A fake gateway: one link (TCP to `port`, or an in-process one given), helpers to join, request and wait for messages. */
export class FakeGateway {
  readonly link: EngineLink;
  readonly inbox: Received[] = [];
  #nextRequest = 1;

  constructor(port: number | EngineLink, id = 'gw-test') {
    this.link = typeof port === 'number' ? new LinkClient({ nodeId: id, secret: SECRET, host: '127.0.0.1', port }) : port;
    this.link.on('message', (type: number, channel: number, body: Uint8Array) => {
      this.inbox.push({ type, channel, body: body.slice() });
    });
  }

  async start(): Promise<void> {
    if (this.link.isUp && this.link.transport === 'in-process') return; // up from the start
    const up = new Promise<void>((r) => this.link.once('up', () => r()));
    void this.link.start();
    await up;
  }

  /** A REQUEST frame for `route`, as `send` makes it (with the next request id), and that id. */
  frame(route: string, payload: unknown, flags = 0): { frame: Uint8Array; requestId: number } {
    const def = testProtocol.routes[route]!;
    const requestId = this.#nextRequest++;
    return { frame: encodeFrame(FrameKind.REQUEST, def.id, requestId, jsonCodec.encode(payload), flags), requestId };
  }

  /** The answer (RESPONSE or ERROR) to request `requestId` of `connId`, waited for. */
  async answer(connId: number, requestId: number, timeoutMs = 5000): Promise<{ kind: number; body: unknown }> {
    const m = await this.waitFor((x) => {
      if (x.type !== EngineToGateway.TO_CLIENT || x.channel !== connId) return false;
      const h = readFrameHeader(x.body);
      return h !== null && h.requestId === requestId && h.kind !== FrameKind.PUSH;
    }, timeoutMs);
    return decodeAnswer(m.body);
  }

  /** Take the first message `pred` matches out of the inbox, waiting up to `timeoutMs` for it. */
  async waitFor(pred: (m: Received) => boolean, timeoutMs = 5000): Promise<Received> {
    try {
      return await waitFor(
        () => {
          const i = this.inbox.findIndex(pred);
          return i === -1 ? undefined : this.inbox.splice(i, 1)[0];
        },
        { timeoutMs, message: 'a matching message from the engine' },
      );
    } catch (err) {
      const inbox = this.inbox.map((m) => `${m.type}@${m.channel}:${new TextDecoder().decode(m.body).slice(0, 80)}`).join(' | ');
      throw new Error(`${(err as Error).message}; inbox: ${inbox}`, { cause: err });
    }
  }

  /** Put `playerId` in `sceneId` on connection `connId`: the JOINED the engine answers with. */
  async join(connId: number, playerId: string, sceneId = 'arena:1', timeoutMs = 5000): Promise<JoinedBody> {
    this.link.send(GatewayToEngine.JOIN, connId, encodeJoinBody({ playerId, name: playerId, sceneId }));
    return decodeJoinedBody((await this.waitFor((m) => m.type === EngineToGateway.JOINED && m.channel === connId, timeoutMs)).body);
  }

  /** Send a REQUEST frame for `route` without waiting (with `flags`, e.g. NO_REPLY); returns its request id. */
  send(connId: number, route: string, payload: unknown, flags = 0): number {
    const { frame, requestId } = this.frame(route, payload, flags);
    this.link.send(GatewayToEngine.CLIENT_FRAME, connId, frame);
    return requestId;
  }

  request(connId: number, route: string, payload: unknown, timeoutMs = 5000): Promise<{ kind: number; body: unknown }> {
    return this.answer(connId, this.send(connId, route, payload), timeoutMs);
  }

  leave(connId: number): void {
    this.link.send(GatewayToEngine.LEAVE, connId, new Uint8Array(0));
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

/** A RESPONSE frame's JSON body, or an ERROR frame's ErrorReply. */
export function decodeAnswer(frame: Uint8Array): { kind: number; body: unknown } {
  const h = readFrameHeader(frame)!;
  const body = framePayload(frame);
  if (h.kind === FrameKind.ERROR) return { kind: h.kind, body: ErrorReplyCodec.decode(body) };
  return { kind: h.kind, body: body.byteLength === 0 ? null : jsonCodec.decode(body) };
}

export interface ClusterOptions {
  persistIntervalMs?: number;
  coordinator?: Coordinator;
  workers?: number;
  scenesPerWorker?: number;
  capacity?: number;
  idleSceneMs?: number;
  /** The store (started by startCluster); a SqliteStore in `dir/<name>.db` by default. */
  store?: Store;
  /** Further engine options. */
  engine?: Partial<EngineOptions>;
}

/**
 * An engine (`engine-t`) with its store in `dir/<name>.db`, a coordinator leader, the scene
 * `arena:1` placed on it (not started: the first join starts it) and a linked fake gateway.
 */
export async function startCluster(dir: string, name: string, opts: ClusterOptions = {}) {
  const store = opts.store ?? new SqliteStore({ file: join(dir, `${name}.db`) });
  await store.start();
  const coordinator = opts.coordinator ?? new MemoryCoordinator();
  // The leader places scenes (only it writes placement).
  const leader = new CoordinatorNode({ id: 'coordinator-t', coordinator });
  await leader.start();
  const engine = new Engine({
    engineId: 'engine-t',
    clusterSecret: SECRET,
    gameModule: GAME,
    store,
    coordinator,
    workers: opts.workers ?? 2,
    ...(opts.scenesPerWorker === undefined ? {} : { scenesPerWorker: opts.scenesPerWorker }),
    ...(opts.capacity === undefined ? {} : { capacity: opts.capacity }),
    ...(opts.idleSceneMs === undefined ? {} : { idleSceneMs: opts.idleSceneMs }),
    persistIntervalMs: opts.persistIntervalMs ?? 200,
    workerLogLevel: 'silent',
    ...opts.engine,
  });
  await engine.start();
  await coordinator.placement.ensure('arena:1');
  const port = Number(engine.address.split(':')[1]);
  const gw = new FakeGateway(port);
  await gw.start();
  return {
    store,
    coordinator,
    leader,
    engine,
    gw,
    port,
    async close() {
      await gw.close();
      await engine.close();
      await leader.close();
      await store.close();
      await coordinator.close();
    },
  };
}
