import type { EventEmitter } from 'node:events';
import type { LinkClientEvents } from './client.js';
import type { LinkStats } from './stats.js';
import type { LinkPeerEvents } from './peer.js';

/** A link over a TCP (or TLS) socket, or inside one process. */
export type LinkTransport = 'tcp' | 'in-process';

/**
 * The gateway's end of its link to one engine, whatever carries it: a {@link LinkClient} over
 * TCP, or a {@link LocalLinkClient} when the engine runs in the same process. The contract
 * suite (packages/link/test/contract.ts) holds both to the same behaviour:
 *
 * - messages arrive in the order they were sent, with their type, channel and body;
 * - a message body is valid while its listener runs: a listener that keeps it copies it;
 * - a send made while a listener of this link runs is delivered after that listener returns
 *   (no handler ever runs inside another one);
 * - the sender may reuse its buffer as soon as `send` returns;
 * - a listener that throws is logged, and the link goes on;
 * - `close()` delivers what was sent before it; the closing side sees `null` as the reason,
 *   the other side `LNK_ERR_CLOSED`; afterwards `send` throws `LNK_ERR_CLOSED`.
 */
export interface EngineLink extends EventEmitter<LinkClientEvents> {
  /** What carries it. */
  readonly transport: LinkTransport;
  /** True between 'up' and 'down': `send` works. */
  readonly isUp: boolean;
  /** The engine's node id while up, else `null`. */
  readonly peerNodeId: string | null;
  readonly stats: LinkStats;
  /** Start (idempotent); 'up' tells when the link is usable. */
  start(): Promise<void>;
  /**
   * See {@link LinkClient.send}. With `holdUntil` (performance.now() ms) the message may wait
   * until then to leave with others that may wait (one socket write, one wake-up of the engine,
   * where it would have been many); anything sent without it goes at the end of this turn and
   * takes what waits with it, in order. An in-process link delivers at once either way.
   */
  send(type: number, channel: number, body: Uint8Array, holdUntil?: number): void;
  /**
   * In-process links only: connection `connId`'s lane (see {@link FrameLanes}), or null when the
   * engine offers none (the connection is not joined there, or the engine serves no lanes).
   */
  lane?(connId: number): FrameLane | null;
  /** In-process links only: hand `frame` over on `lane` (from this link's {@link lane}), or return false: not taken, nothing done. */
  deliverOnLane?(lane: FrameLane, frame: Uint8Array): boolean;
  close(): Promise<void>;
}

/** A lane of one connection (see {@link FrameLanes}): what the engine handed out, opaque to the gateway. */
export type FrameLane = object;

/**
 * Shortcuts for joined players' client frames on an in-process link: the gateway hands a frame
 * straight to the engine's part that writes it into the player's scene, without the link's
 * message dispatch and the engine's lookups of the connection. A lane takes only the plain case
 * (the player is joined and its scene runs, nothing sent on the link waits before it) and refuses
 * anything else: `deliver` returns false having done nothing, and the gateway sends the frame on
 * the link as `CLIENT_FRAME`, where the engine holds it or answers it with a code as usual. A
 * delivered frame counts in the link's stats as a message would; order with the link's messages
 * is kept, since the link refuses a lane's frame while any of them waits to be delivered.
 */
export interface FrameLanes {
  /** Connection `connId`'s lane, or null: none to give (not joined). */
  lane(connId: number): FrameLane | null;
  /**
   * Take `frame` as a CLIENT_FRAME of `lane`'s connection would be taken, or return false: not
   * taken, nothing done. `lane` comes back from the gateway: the engine checks it is one of the
   * lanes it gave this link.
   */
  deliver(lane: FrameLane, frame: Uint8Array): boolean;
}

/** The engine's end of its link to one gateway: a {@link LinkPeer} over TCP, or a {@link LocalLinkPeer}. Same contract as {@link EngineLink}. */
export interface GatewayPeer extends EventEmitter<LinkPeerEvents> {
  /** What carries it. */
  readonly transport: LinkTransport;
  /** The gateway's node id. */
  readonly nodeId: string;
  /** `host:port` of the peer's socket, or `in-process`. */
  readonly remoteAddress: string;
  /** True until the link starts closing. */
  readonly isOpen: boolean;
  readonly stats: LinkStats;
  /** See {@link LinkPeer.send}. */
  send(type: number, channel: number, body: Uint8Array): void;
  /**
   * In-process links only: offer the gateway {@link FrameLanes}; a connection's lane is asked for
   * once the gateway learns it joined.
   */
  serveLanes?(lanes: FrameLanes): void;
  close(): Promise<void>;
}
