/**
 * A scene that crashed on this engine (its thread threw or died): its players are held while it
 * is started again from its last save and each is joined to it anew (SceneRestarted), unless it
 * crashed more than `maxSceneRestartsPerMinute` times in the last minute, or the restart fails:
 * then its players are closed (4011).
 */
import { CloseCode, CodedError, ErrorCodes, encodeSceneRestartedFrame } from '@gos/schema';
import { EngineToGateway } from '@gos/link';
import { takeEarly, type Conn } from './connections.js';
import { kick, loadPlayer, sendTo, type EngineContext } from './engine-context.js';
import { sendFrameToScene } from './frame-lanes.js';
import { ToScene, encodeJoinPayload, type JoinPayload } from './records.js';
import type { SceneHost } from './scene-host.js';

const MINUTE_MS = 60_000;

export class SceneCrashes {
  readonly #ctx: EngineContext;
  /** sceneId → when it crashed within the last minute. */
  readonly #restarts = new Map<string, number[]>();

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /**
   * `host` crashed with `err` and is no longer the engine's: tell its players' gateways, then
   * start the scene again with `obtain` and join them to it, or close them.
   */
  async restart(host: SceneHost, err: unknown, obtain: (sceneId: string, epoch: number) => Promise<SceneHost>): Promise<void> {
    const ctx = this.#ctx;
    // Calls it had not answered will not be: their callers are told now.
    ctx.calls.sceneEnded(host);
    const players = ctx.conns.inScene(host.sids);
    // Until each is joined to the restarted scene, their frames wait (a scene that does not know
    // them yet would answer ENG_ERR_NOT_JOINED). Frames already in the dead ring are lost: the
    // gateways answer the requests among them.
    for (const conn of players) {
      conn.state = 'joining';
      sendTo(ctx, conn.peer, EngineToGateway.SCENE_CRASHED, conn.connId, new Uint8Array(0));
    }
    // Players who left just before the crash will not get their last save handed over.
    ctx.seats.sceneLost(host.sceneId);
    if (!ctx.running()) return;
    const now = Date.now();
    const recent = (this.#restarts.get(host.sceneId) ?? []).filter((t) => now - t < MINUTE_MS);
    recent.push(now);
    this.#restarts.set(host.sceneId, recent);
    ctx.log.error({ err, sceneId: host.sceneId, players: players.length, restarts: recent.length }, 'scene crashed');
    if (recent.length > ctx.o.maxSceneRestartsPerMinute) {
      ctx.log.error({ sceneId: host.sceneId }, 'scene crashes too often; not restarting');
      this.#giveUp(players);
      return;
    }
    let restarted: SceneHost;
    try {
      restarted = await obtain(host.sceneId, host.epoch);
    } catch (restartErr) {
      ctx.log.error({ err: restartErr, sceneId: host.sceneId }, 'scene restart failed');
      this.#giveUp(players);
      return;
    }
    // One player that cannot rejoin (its data unreadable, a full ring) is closed alone: the
    // others, rejoined before or after it, stay.
    for (const conn of players) {
      try {
        await this.#rejoin(host.sceneId, restarted, conn);
      } catch (joinErr) {
        ctx.log.error({ err: joinErr, sceneId: host.sceneId, playerId: conn.playerId }, 'cannot rejoin a player to its restarted scene');
        this.#giveUp([conn]);
      }
    }
  }

  /** Join one of the crashed scene's players to its restarted instance, with its saved data. */
  async #rejoin(sceneId: string, restarted: SceneHost, conn: Conn): Promise<void> {
    const ctx = this.#ctx;
    if (conn.state === 'gone') return;
    const data = await loadPlayer(ctx, conn.playerId);
    // The socket may have closed, or the player connected again, while the data loaded.
    if ((conn.state as Conn['state']) === 'gone') return;
    if (ctx.seats.holder(conn.playerId) !== conn.sid) {
      ctx.conns.drop(conn);
      kick(ctx, conn, CloseCode.SESSION_REPLACED, 'connected again');
      return;
    }
    // Crashed again while the data loaded: a JOIN written there would be lost unseen.
    if (!restarted.current) throw new CodedError(ErrorCodes.ENG_ERR_SCENE_MOVED, `scene ${sceneId} crashed again before the player rejoined`);
    const join: JoinPayload = { playerId: conn.playerId, name: conn.name, data, takeover: false };
    // In the scene once its JOIN is in the ring (the last thing that can fail here).
    restarted.send(ToScene.JOIN, conn.sid, encodeJoinPayload(join));
    restarted.sids.add(conn.sid, conn.peer);
    conn.joinedTo(restarted);
    // A held frame the ring cannot take is answered with a code, as a live one would be.
    for (const frame of takeEarly(conn)) sendFrameToScene(ctx, restarted, conn, frame);
    sendTo(ctx, conn.peer, EngineToGateway.TO_CLIENT, conn.connId, encodeSceneRestartedFrame(sceneId, 'the scene crashed and was restarted from its last saved state'));
  }

  /** A crashed scene that will not run again: its players are closed. */
  #giveUp(players: readonly Conn[]): void {
    for (const conn of players) {
      this.#ctx.seats.vacate(conn.playerId, conn.sid);
      this.#ctx.conns.drop(conn);
      kick(this.#ctx, conn, CloseCode.ENGINE_UNAVAILABLE, 'scene unavailable');
    }
  }
}
