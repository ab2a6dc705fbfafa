import { CloseCode, ErrorCodes, FrameKind, type Logger } from '@gos/schema';
import { EngineToGateway, decodeBroadcastBody, decodeCellsBody, decodeInterestBody, decodeJoinFailedBody, decodeJoinedBody, decodeKickBody, decodeMigratedBody, decodeTravelBody } from '@gos/link';
import type { EngineLinks } from './engine-links.js';
import type { GatewayMetrics } from './metrics.js';
import type { PendingRequests } from './pending-requests.js';
import type { PlayerRouting } from './routing.js';
import type { PlayerTravel } from './travel.js';
import type { PlayerMigration } from './migration.js';
import { cellTopic, connOf, errorCodeOf, subscribeScene, unsubscribeCells, type ConnData, type Socket } from './socket.js';

const decoder = new TextDecoder();

/** The client sockets, as engine messages reach them. */
export interface AddressedSockets {
  /** The open socket with this connection id (the link channel). */
  get(connId: number): Socket | undefined;
  sendTo(ws: Socket, frame: Uint8Array): void;
  end(ws: Socket, code: number, reason: string): void;
}

/** What the engine messages act on. */
export interface EngineMessagesDeps {
  readonly sockets: AddressedSockets;
  /** The engine links, for a joined connection's lane on an in-process one. */
  readonly links: Pick<EngineLinks, 'get'>;
  readonly pending: Pick<PendingRequests, 'answered' | 'failAll'>;
  readonly routing: Pick<PlayerRouting, 'joined' | 'resume'>;
  readonly travel: Pick<PlayerTravel, 'requested' | 'ready' | 'released' | 'joined' | 'joinFailed' | 'sourceFailed' | 'sceneCrashed' | 'toClient' | 'afterJoined'>;
  readonly migration: Pick<PlayerMigration, 'migrating' | 'aborted' | 'migrated' | 'sync'>;
  readonly metrics: GatewayMetrics;
  /** Fan a frame out to the sockets subscribed to `topic`. */
  readonly publish: (topic: string, frame: Uint8Array) => void;
  /** Whether the gateway serves (not closing): only then does a refused join resume elsewhere. */
  readonly ready: () => boolean;
  readonly logger: Logger;
}

/**
 * What engines send the gateway, on their links: frames for one client (relayed as they are),
 * broadcasts (fanned out by topic), join outcomes, crashed scenes and kicks. A message that
 * cannot be read is logged and dropped.
 */
export class EngineMessages {
  readonly #sockets: AddressedSockets;
  readonly #links: Pick<EngineLinks, 'get'>;
  readonly #pending: Pick<PendingRequests, 'answered' | 'failAll'>;
  readonly #routing: Pick<PlayerRouting, 'joined' | 'resume'>;
  readonly #travel: EngineMessagesDeps['travel'];
  readonly #migration: EngineMessagesDeps['migration'];
  readonly #metrics: GatewayMetrics;
  readonly #publish: (topic: string, frame: Uint8Array) => void;
  readonly #ready: () => boolean;
  readonly #log: Logger;

  constructor(deps: EngineMessagesDeps) {
    this.#sockets = deps.sockets;
    this.#links = deps.links;
    this.#pending = deps.pending;
    this.#routing = deps.routing;
    this.#travel = deps.travel;
    this.#migration = deps.migration;
    this.#metrics = deps.metrics;
    this.#publish = deps.publish;
    this.#ready = deps.ready;
    this.#log = deps.logger;
  }

  /** One message from `engineId`; `channel` is the connection id of the client it concerns. */
  handle(engineId: string, type: number, channel: number, body: Uint8Array): void {
    try {
      switch (type) {
        case EngineToGateway.TO_CLIENT: {
          const ws = this.#sockets.get(channel);
          if (ws === undefined) break;
          if (body[0] === FrameKind.ERROR) this.#metrics.errors.inc({ code: errorCodeOf(body) });
          const data = connOf(ws);
          this.#pending.answered(data.pending, body);
          // A travelling player's SceneChanged: its broadcasts switch scene at that very frame.
          if (data.travel !== null) this.#travel.toClient(ws, data, body);
          this.#sockets.sendTo(ws, body);
          break;
        }
        case EngineToGateway.BROADCAST: {
          const { topic, frame } = decodeBroadcastBody(body);
          this.#metrics.framesOut[0]!++;
          this.#publish(topic, frame);
          break;
        }
        case EngineToGateway.CELLS: {
          // One tick of a scene's entities: each cell's frame to the sockets that hear the cell.
          const { sceneId, cells, frames } = decodeCellsBody(body);
          this.#metrics.framesOut[0]! += frames.length;
          for (let i = 0; i < cells.length; i++) this.#publish(cellTopic(sceneId, cells[i]!), frames[i]!);
          break;
        }
        case EngineToGateway.INTEREST: {
          const ws = this.#sockets.get(channel);
          if (ws === undefined) break;
          const data = connOf(ws);
          const change = decodeInterestBody(body);
          // Only for the scene the socket is in (an INTEREST racing a travel out is stale).
          if (data.state !== 'joined' || data.session?.sceneId !== change.sceneId) break;
          if (change.reset === true) unsubscribeCells(ws, change.sceneId);
          for (const cell of change.remove) ws.unsubscribe(cellTopic(change.sceneId, cell));
          for (const cell of change.add) ws.subscribe(cellTopic(change.sceneId, cell));
          for (const frame of change.frames) this.#sockets.sendTo(ws, frame);
          break;
        }
        case EngineToGateway.JOINED: {
          const ws = this.#sockets.get(channel);
          if (ws === undefined) break;
          const data = connOf(ws);
          const { sceneId, inputTickMs } = decodeJoinedBody(body);
          if (data.travel !== null && this.#travel.joined(ws, data, engineId, sceneId)) {
            this.#travel.afterJoined(ws, data);
            this.#joinedOn(data, engineId, channel, inputTickMs);
            break;
          }
          if (data.state !== 'joining') break;
          data.state = 'joined';
          subscribeScene(ws, sceneId);
          this.#routing.joined(ws, data, sceneId, engineId);
          this.#travel.afterJoined(ws, data);
          this.#joinedOn(data, engineId, channel, inputTickMs);
          break;
        }
        case EngineToGateway.SCENE_CRASHED: {
          const ws = this.#sockets.get(channel);
          if (ws === undefined) break;
          // The restarted scene starts every view again: the old cells are stale.
          const crashedIn = connOf(ws).session?.sceneId;
          if (crashedIn !== undefined) unsubscribeCells(ws, crashedIn);
          if (connOf(ws).travel !== null) this.#travel.sceneCrashed(ws, connOf(ws));
          else this.#pending.failAll(ws, connOf(ws), 'the scene crashed before answering and restarts from its last save; retry shortly');
          break;
        }
        case EngineToGateway.KICK: {
          const ws = this.#sockets.get(channel);
          const kick = decodeKickBody(body);
          if (ws !== undefined) this.#sockets.end(ws, kick.closeCode, kick.reason);
          break;
        }
        case EngineToGateway.JOIN_FAILED: {
          const ws = this.#sockets.get(channel);
          const error = decodeJoinFailedBody(body);
          if (ws !== undefined && connOf(ws).travel !== null && this.#travel.joinFailed(ws, connOf(ws), engineId, error)) break;
          if (ws !== undefined && error.code === ErrorCodes.ENG_ERR_SHUTTING_DOWN && this.#ready()) {
            // The engine is draining: the player waits, connected, until its scene is placed elsewhere.
            this.#routing.resume(ws, engineId, 'drain', performance.now());
            break;
          }
          if (ws !== undefined && error.code === ErrorCodes.ENG_ERR_SCENE_MOVED && this.#ready()) {
            // The scene was stopped there (idle, or its placement was taken away): follow the placement.
            this.#routing.resume(ws, engineId, 'moved', performance.now());
            break;
          }
          if (ws !== undefined) {
            connOf(ws).state = 'routing'; // nothing to LEAVE on the engine
            this.#sockets.end(ws, CloseCode.JOIN_FAILED, `${error.code}: ${error.message}`);
          }
          break;
        }
        case EngineToGateway.TRAVEL: {
          const ws = this.#sockets.get(channel);
          if (ws !== undefined) void this.#travel.requested(ws, connOf(ws), engineId, decodeTravelBody(body));
          break;
        }
        case EngineToGateway.TRAVEL_READY: {
          const ws = this.#sockets.get(channel);
          if (ws !== undefined) this.#travel.ready(connOf(ws), engineId);
          break;
        }
        case EngineToGateway.TRAVEL_RELEASED: {
          const ws = this.#sockets.get(channel);
          if (ws !== undefined) this.#travel.released(ws, connOf(ws), engineId);
          break;
        }
        case EngineToGateway.TRAVEL_FAILED: {
          const ws = this.#sockets.get(channel);
          if (ws !== undefined) this.#travel.sourceFailed(ws, connOf(ws), engineId, decodeJoinFailedBody(body));
          break;
        }
        case EngineToGateway.MIGRATING: {
          const ws = this.#sockets.get(channel);
          this.#migration.migrating(ws === undefined ? undefined : connOf(ws), engineId, channel, body);
          break;
        }
        case EngineToGateway.MIGRATE_ABORTED: {
          const ws = this.#sockets.get(channel);
          if (ws !== undefined) this.#migration.aborted(connOf(ws), engineId);
          break;
        }
        case EngineToGateway.SYNC:
          this.#migration.sync(engineId, channel);
          break;
        case EngineToGateway.MIGRATED: {
          const ws = this.#sockets.get(channel);
          if (ws !== undefined) this.#migration.migrated(ws, connOf(ws), engineId, decodeMigratedBody(body));
          break;
        }
        default:
          this.#log.warn({ engineId, type }, 'unknown message from engine');
      }
    } catch (err) {
      this.#log.error({ err, engineId, type, body: decoder.decode(body.subarray(0, 64)) }, 'bad message from engine');
    }
  }

  /**
   * A player just joined on `engineId`: what its frames travel by from now on. They take the
   * engine's lane when the link is in-process (FrameLanes), and its fire-and-forget inputs may
   * wait for the scene's tick on a TCP link when the scene takes them at its ticks (input-hold.ts).
   */
  #joinedOn(data: ConnData, engineId: string, connId: number, inputTickMs: number): void {
    if (data.state !== 'joined' || data.engineId !== engineId) return;
    const link = this.#links.get(engineId);
    data.lane = link?.lane?.(connId) ?? null;
    data.laneLink = data.lane === null ? null : link!;
    data.inputTickMs = inputTickMs;
  }
}
