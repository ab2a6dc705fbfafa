import { CloseCode, CodedError, ErrorCodes, encodeSceneMovedFrame, encodeSceneResumedFrame, isCodedError, type Logger } from '@gos/schema';
import type { Coordinator, PlacementRecord } from '@gos/coordinator';
import { GatewayToEngine, encodeJoinBody } from '@gos/link';
import type { EngineLinks } from './engine-links.js';
import type { GatewayMetrics } from './metrics.js';
import type { PendingRequests } from './pending-requests.js';
import { ResumeLog } from './resume-log.js';
import { connOf, resumeReason, setEngine, unsubscribeScene, type ConnData, type ResumeReason, type Socket } from './socket.js';

/** How long a player whose engine was lost waits, connected, for its scene to be placed again. */
const RESUME_TIMEOUT_MS = 30_000;
/**
 * How soon a waiting player checks again whether its scene has a live engine: doubling from
 * this up to RESUME_POLL_MAX_MS (each check may write a placement request when the scene is
 * placed nowhere).
 */
const RESUME_POLL_MS = 100;
const RESUME_POLL_MAX_MS = 1600;

/** The client sockets, as routing uses them. */
export interface RoutedSockets {
  values(): IterableIterator<Socket>;
  sendTo(ws: Socket, frame: Uint8Array): void;
  end(ws: Socket, code: number, reason: string): void;
}

/** What routing needs from the gateway. */
export interface PlayerRoutingDeps {
  /** Where scenes are placed (`placement`). */
  readonly coordinator: Pick<Coordinator, 'placement'>;
  readonly links: Pick<EngineLinks, 'connect' | 'get' | 'drop'>;
  readonly sockets: RoutedSockets;
  readonly pending: Pick<PendingRequests, 'failAll'>;
  readonly metrics: GatewayMetrics;
  /** Whether the gateway serves (not closing): only then does a resuming player keep waiting. */
  readonly ready: () => boolean;
  /** A player is placed again while travelling: its travel ends (PlayerTravel.abandon). */
  readonly abandonTravel: (data: ConnData) => void;
  /** The engine a player was travelling to was lost (PlayerTravel.targetLost). */
  readonly travelTargetLost: (ws: Socket, data: ConnData, engineId: string) => void;
  readonly logger: Logger;
}

/**
 * Routes each player to the engine hosting its scene (placing the scene when it is placed
 * nowhere), and resumes it there or elsewhere when that engine is lost, drains or stops the
 * scene: the player stays connected, its waiting requests are refused (retryable), and once
 * joined again it is told with a SceneResumed push; resumed players are logged in summary.
 */
export class PlayerRouting {
  readonly #d: PlayerRoutingDeps;
  /** Resumed players: one info line per move (from, to, why), created with the first. */
  #resumeLog: ResumeLog | undefined;

  constructor(deps: PlayerRoutingDeps) {
    this.#d = deps;
  }

  /**
   * Send the player's JOIN to the engine hosting its scene, then the frames held meanwhile. A
   * resuming player tries again (backing off) until RESUME_TIMEOUT_MS; otherwise, or past that,
   * the socket is closed with ENGINE_UNAVAILABLE.
   */
  async route(ws: Socket, data: ConnData): Promise<void> {
    const session = data.session!;
    let retries = 0;
    for (;;) {
      try {
        const { placement } = this.#d.coordinator;
        let placed = await this.ensurePlaced(session.sceneId);
        if (data.state === 'closed') return;
        const resuming = data.resuming;
        // The engine stopped the scene, and our view still names it: read the placement itself
        // rather than send the player back to be refused again.
        if ((resuming?.why === 'moved' || resuming?.why === 'migrated') && placed.engineId === resuming.from) {
          placed = (await placement.fetch(session.sceneId)) ?? (await placement.ensure(session.sceneId));
          if ((data.state as ConnData['state']) === 'closed') return;
        }
        // Still placed on the engine that was lost, and its link is not back (or it drains):
        // wait for the placement to be released (its lease expires) or for the link to return.
        if (resuming !== null && placed.engineId === resuming.from && (resuming.why === 'drain' || this.#d.links.get(resuming.from)?.isUp !== true)) {
          throw new CodedError(ErrorCodes.GW_ERR_NO_ENGINE, `scene ${session.sceneId} is still placed on the lost engine ${resuming.from}`);
        }
        const link = await this.#d.links.connect(placed.engineId);
        if ((data.state as ConnData['state']) === 'closed') return;
        setEngine(data, placed.engineId);
        data.state = 'joining';
        data.joinSentAt = performance.now();
        const join = { playerId: session.accountId, name: session.username, sceneId: session.sceneId };
        link.send(GatewayToEngine.JOIN, data.connId, encodeJoinBody(join));
        const early = data.early.splice(0);
        for (const frame of early) link.send(GatewayToEngine.CLIENT_FRAME, data.connId, frame);
        this.#d.metrics.forwarded[link.transport === 'tcp' ? 0 : 1]! += early.length;
        return;
      } catch (err) {
        const resuming = data.resuming;
        if (data.state === 'closed') return;
        if (resuming === null || !this.#d.ready() || performance.now() - resuming.since > RESUME_TIMEOUT_MS) {
          this.#d.logger.warn({ err, sceneId: session.sceneId }, 'cannot route player to an engine');
          this.#d.sockets.end(ws, CloseCode.ENGINE_UNAVAILABLE, ErrorCodes.GW_ERR_NO_ENGINE);
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(RESUME_POLL_MAX_MS, RESUME_POLL_MS * 2 ** retries++)));
      }
    }
  }

  /** The scene's placement; a scene placed nowhere waits for the leader (timed for metrics). */
  async ensurePlaced(sceneId: string): Promise<PlacementRecord> {
    const { placement } = this.#d.coordinator;
    const known = placement.lookup(sceneId);
    if (known !== undefined) return known;
    const startedAt = performance.now();
    try {
      const placed = await placement.ensure(sceneId);
      this.#d.metrics.placementSeconds.observe({ result: 'placed' }, (performance.now() - startedAt) / 1000);
      return placed;
    } catch (err) {
      this.#d.metrics.placementSeconds.observe({ result: isCodedError(err) ? err.code : 'error' }, (performance.now() - startedAt) / 1000);
      throw err;
    }
  }

  /** The engine confirmed the join: a resumed player is logged, and told unless it never was in. */
  joined(ws: Socket, data: ConnData, sceneId: string, engineId: string): void {
    const resumed = data.resuming;
    const wasIn = data.joinedOnce;
    data.joinedOnce = true;
    if (resumed !== null) {
      data.resuming = null;
      const pausedMs = Math.round(performance.now() - resumed.since);
      (this.#resumeLog ??= new ResumeLog(this.#d.logger)).add({ sceneId, from: resumed.from, to: engineId, pausedMs, why: resumed.why });
      // A first join that was sent back (a stale view of placement) is no resume to the player.
      const reason = resumeReason(resumed.from, engineId, resumed.why);
      if (wasIn) this.#d.sockets.sendTo(ws, resumed.why === 'migrated' ? encodeSceneMovedFrame(sceneId, reason) : encodeSceneResumedFrame(sceneId, reason));
    }
  }

  /** The link to `engineId` went down (it may come back by itself). */
  linkDown(engineId: string): void {
    // Its players stay connected while their scene is placed again: on another engine once the
    // lost one's placement is released (its lease expires), or on the same one if the link
    // comes back (the engine dropped them when the link went down). They are told with a
    // SceneResumed push once joined again, or closed with ENGINE_UNAVAILABLE after
    // RESUME_TIMEOUT_MS.
    const since = performance.now();
    for (const ws of [...this.#d.sockets.values()]) {
      const data = connOf(ws);
      if (data.engineId === engineId && data.state !== 'closed') this.resume(ws, engineId, 'lost', since);
      else if (data.travel?.toEngine === engineId && data.state !== 'closed') this.#d.travelTargetLost(ws, data, engineId);
    }
  }

  /** Take a player off `engineId` and place its scene again (see ConnData.resuming). */
  resume(ws: Socket, engineId: string, why: ResumeReason, now: number): void {
    const data = connOf(ws);
    this.#d.abandonTravel(data);
    this.#d.pending.failAll(ws, data, why === 'moved' ? `the scene moved off engine ${engineId} before answering; retry shortly` : `engine ${engineId} ${why === 'drain' ? 'shut down' : 'was lost'} before answering; retry shortly`);
    if (data.session !== null) unsubscribeScene(ws, data.session.sceneId);
    data.state = 'routing';
    setEngine(data, null);
    data.early.length = 0;
    // A live move of the scene under way is over too: what it held is dropped with the rest.
    data.migrating = null;
    // Sent back twice in a row: give placement a moment to settle rather than bounce at once.
    const again = why === 'moved' && data.resuming?.why === 'moved';
    // The latest engine lost; the budget runs from the first loss. Only joining or joined
    // sockets get here: none has a route loop running already.
    data.resuming = { from: engineId, since: data.resuming?.since ?? now, why };
    if (again) setTimeout(() => void this.route(ws, data), RESUME_POLL_MS);
    else void this.route(ws, data);
  }

  /** An engine left the cluster: its players resume elsewhere, its link is closed. */
  dropLink(engineId: string): void {
    if (this.#d.links.get(engineId) === undefined) return;
    this.linkDown(engineId);
    this.#d.links.drop(engineId);
  }

  /** Log the resumed players not summarised yet (the gateway is closing). */
  flushLog(): void {
    this.#resumeLog?.flush();
  }
}
