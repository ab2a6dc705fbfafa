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
  /** See {@link LinkClient.send}. */
  send(type: number, channel: number, body: Uint8Array): void;
  close(): Promise<void>;
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
  close(): Promise<void>;
}
