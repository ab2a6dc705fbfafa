/**
 * Frame lanes (docs/link.md "Frame lanes"): an in-process gateway hands a joined player's client
 * frames straight to this engine, which writes them into the scene's ring without the link's
 * message dispatch or a lookup of the connection and its scene.
 */
import { ErrorCodes, FrameFlag, toErrorData } from '@gos/schema';
import type { FrameLane, FrameLanes, GatewayPeer } from '@gos/link';
import { Conn } from './connections.js';
import { refuseFrame, type EngineContext } from './engine-context.js';
import { ToScene } from './records.js';
import type { SceneHost } from './scene-host.js';

/** Write a joined player's frame into its scene's ring; a full ring is answered with a code. */
export function sendFrameToScene(ctx: EngineContext, host: SceneHost, conn: Conn, frame: Uint8Array): void {
  try {
    // A fire-and-forget input (NO_REPLY; the gateway checked the 8-byte header) need not wake a
    // scene that drains its inputs at its tick; a request waits for its answer, so it does.
    host.send(ToScene.FRAME, conn.sid, frame, (frame[1]! & FrameFlag.NO_REPLY) === 0);
  } catch (err) {
    const data = toErrorData(err, ErrorCodes.ENG_ERR_QUEUE_FULL);
    refuseFrame(ctx, conn.peer, conn.connId, frame, data.code, data.message);
  }
}

/**
 * The lanes of one in-process gateway's joined connections. A connection's lane is its `Conn`,
 * which knows the scene instance it joined (Conn.host): a frame on it touches the `Conn`, that
 * scene's host and its ring, and nothing else of the engine. A lane takes the plain case only
 * (joined, that instance still the scene's running one here); anything else is refused (false)
 * and comes again as a CLIENT_FRAME, which Players.frame holds or answers with a code.
 */
export class PeerLanes implements FrameLanes {
  readonly #ctx: EngineContext;
  readonly #peer: GatewayPeer;

  constructor(ctx: EngineContext, peer: GatewayPeer) {
    this.#ctx = ctx;
    this.#peer = peer;
  }

  lane(connId: number): FrameLane | null {
    const conn = this.#ctx.conns.of(this.#peer, connId);
    return conn === undefined || conn.state !== 'joined' ? null : conn;
  }

  deliver(lane: FrameLane, frame: Uint8Array): boolean {
    // What the gateway hands back is checked, not trusted: a joined connection of this very link.
    if (!(lane instanceof Conn) || lane.peer !== this.#peer || lane.state !== 'joined') return false;
    const host = lane.host;
    if (host === null || !host.current) return false;
    sendFrameToScene(this.#ctx, host, lane, frame);
    return true;
  }
}
