/**
 * Live scene migration, the gateway's side (docs/scaling.md): the player's engine moves its
 * scene to another engine, and the player follows on the same socket, its frames held in order.
 *
 * - MIGRATING: from now on the player's frames wait in `early` (bounded); the gateway answers
 *   MIGRATE_HOLD at once, behind every frame it already sent (always, even for a socket gone or
 *   travelling, so the engine never waits on a player that cannot answer).
 * - MIGRATE_ABORTED: the move was given up; the held frames go to the same engine, in order.
 * - MIGRATED: the scene was saved and its placement handed over. Requests the old engine had
 *   and did not answer are refused (retryable); the player joins the scene where it is placed
 *   now, the held frames follow the JOIN, and the client gets the core push SceneMoved.
 */
import type { Logger } from '@gos/schema';
import { GatewayToEngine, decodeMigratingBody, encodeMigratingBody, type MigratedBody } from '@gos/link';
import type { EngineLinks } from './engine-links.js';
import type { GatewayMetrics } from './metrics.js';
import type { PendingRequests } from './pending-requests.js';
import type { PlayerRouting } from './routing.js';
import { setEngine, unsubscribeScene, type ConnData, type Socket } from './socket.js';

export interface PlayerMigrationDeps {
  readonly links: Pick<EngineLinks, 'get'>;
  readonly routing: Pick<PlayerRouting, 'route'>;
  readonly pending: Pick<PendingRequests, 'failSome'>;
  /** A travel the player's scene had started is given up when the scene moves (PlayerTravel.abandon). */
  readonly abandonTravel: (data: ConnData) => void;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

export class PlayerMigration {
  readonly #d: PlayerMigrationDeps;

  constructor(deps: PlayerMigrationDeps) {
    this.#d = deps;
  }

  /**
   * MIGRATING from `engineId` for connection `connId` (its socket, when still open). A player
   * still `joining` there is held too: the engine counts it in the scene before its JOINED comes.
   * A travelling player's frames are held by its travel already.
   */
  migrating(data: ConnData | undefined, engineId: string, connId: number, body: Uint8Array): void {
    const { move } = decodeMigratingBody(body);
    if (data !== undefined && (data.state === 'joined' || data.state === 'joining') && data.engineId === engineId && data.travel === null && data.migrating === null) {
      data.migrating = { from: engineId, sentBefore: new Set(data.pending.keys()) };
    }
    try {
      this.#d.links.get(engineId)?.send(GatewayToEngine.MIGRATE_HOLD, connId, encodeMigratingBody({ move }));
    } catch (err) {
      // The link is going down: the engine gives the move up or sees its players leave.
      this.#d.logger.warn({ err, engineId }, 'cannot answer MIGRATING');
    }
  }

  /** SYNC from `engineId`: everything it sent before has been handled; say so (SYNC_ACK). */
  sync(engineId: string, id: number): void {
    try {
      this.#d.links.get(engineId)?.send(GatewayToEngine.SYNC_ACK, id, new Uint8Array(0));
    } catch (err) {
      this.#d.logger.warn({ err, engineId }, 'cannot answer SYNC');
    }
  }

  /** MIGRATE_ABORTED: the scene stays on `engineId`; the frames held meanwhile go there. */
  aborted(data: ConnData, engineId: string): void {
    if (data.migrating?.from !== engineId) return;
    data.migrating = null;
    if ((data.state !== 'joined' && data.state !== 'joining') || data.engineId !== engineId || data.travel !== null) return;
    const link = this.#d.links.get(engineId);
    const early = data.early.splice(0);
    if (link === undefined) return; // the link dropped: the player resumes (linkDown), like any other
    for (const frame of early) link.send(GatewayToEngine.CLIENT_FRAME, data.connId, frame);
    this.#d.metrics.forwarded[link.transport === 'tcp' ? 0 : 1]! += early.length;
  }

  /** MIGRATED: follow the scene to where it is placed now, with the held frames (ConnData.migrating is cleared by every other way out: PlayerRouting.resume). */
  migrated(ws: Socket, data: ConnData, engineId: string, body: MigratedBody): void {
    if (data.engineId !== engineId || data.state === 'closed' || data.session?.sceneId !== body.sceneId) return;
    const held = data.migrating;
    data.migrating = null;
    // A travel still starting when the scene moved: its source scene is gone, the player follows the scene.
    this.#d.abandonTravel(data);
    // Requests the scene had and did not answer (an async handler cut by the move) never will be.
    if (held !== null) this.#d.pending.failSome(ws, data, held.sentBefore, `the scene moved to engine ${body.to} before answering; retry shortly`);
    unsubscribeScene(ws, body.sceneId);
    data.state = 'routing';
    setEngine(data, null);
    data.resuming = { from: engineId, since: data.resuming?.since ?? performance.now(), why: 'migrated' };
    void this.#d.routing.route(ws, data);
  }
}
