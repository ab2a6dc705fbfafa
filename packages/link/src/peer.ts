import { EventEmitter } from 'node:events';
import type { CodedError } from '@gos/schema';
import type { LinkConnection } from './connection.js';
import type { GatewayPeer } from './endpoints.js';
import type { LinkStats } from './stats.js';

/** Events of a {@link LinkPeer}. */
export interface LinkPeerEvents {
  /**
   * An upper-layer message (type ≥ 16). `body` is valid while the listener runs: a listener
   * that keeps it copies it (`new Uint8Array(body)`), since over the in-process link it is the
   * sender's own memory (a uWS message, a scene's ring). A listener that throws is logged; the
   * link goes on.
   */
  message: [type: number, channel: number, body: Uint8Array];
  /** The link is gone; `reason` is `null` after a deliberate `close()` on this side. Emitted once. */
  close: [reason: CodedError | null];
}

/**
 * One linked gateway as the engine's {@link LinkServer} sees it, handed out by its 'peer'
 * event once the handshake has authenticated it. Not constructed by users.
 */
export class LinkPeer extends EventEmitter<LinkPeerEvents> implements GatewayPeer {
  readonly #conn: LinkConnection;
  /** The peer's node id, proven in the handshake. */
  readonly nodeId: string;
  readonly transport = 'tcp';

  /** @internal */
  constructor(conn: LinkConnection, nodeId: string) {
    super();
    this.#conn = conn;
    this.nodeId = nodeId;
  }

  /** `host:port` of the peer's socket. */
  get remoteAddress(): string {
    return this.#conn.remoteAddress;
  }

  /** True until the link starts closing. */
  get isOpen(): boolean {
    return this.#conn.isOpen;
  }

  /** Traffic counters of this peer's link. */
  get stats(): LinkStats {
    return this.#conn.stats;
  }

  /**
   * Queue a message; all messages sent in one event-loop turn leave in one socket write. The
   * body is copied before this returns.
   * @param type 16–255 (0–15 are the link's own).
   * @param channel any u32; for the gateway/engine protocol, the connection id.
   * @throws CodedError `LNK_ERR_CLOSED` once the link is closing or closed;
   *   `LNK_ERR_FRAME_TOO_LARGE` when the frame exceeds `maxFrameBytes`; `LNK_ERR_QUEUE_FULL` when
   *   more than `maxQueuedBytes` would wait (the caller decides: drop, or close the peer).
   *   `RangeError` for a bad type or channel.
   */
  send(type: number, channel: number, body: Uint8Array): void {
    this.#conn.send(type, channel, body);
  }

  /** Flush pending writes and end the link; resolves once closed. Idempotent. */
  close(): Promise<void> {
    return this.#conn.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
