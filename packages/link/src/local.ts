/**
 * The in-process link: a gateway and an engine running in one process (the embedded
 * `npm start`, a `gateway+engine` cluster member) talk through it instead of TCP. No socket,
 * no syscall, no copy: a message is handed to the other side's listener before `send`
 * returns, so a client frame goes from the uWS callback straight into the scene's ring, and a
 * scene's frame from its ring straight into `ws.send`.
 *
 * Only a send made while a listener of the same link runs waits (the contract: no handler runs
 * inside another); it is copied, queued, and delivered in order from a microtask, as is every
 * send behind it. A joined player's frames may skip the message dispatch on a lane
 * ({@link FrameLanes}, docs/link.md "Frame lanes").
 */
import { EventEmitter } from 'node:events';
import { CodedError, ErrorCodes, silentLogger, type Logger } from '@gos/schema';
import type { LinkClientEvents } from './client.js';
import type { LinkStats } from './stats.js';
import type { EngineLink, FrameLane, FrameLanes, GatewayPeer } from './endpoints.js';
import { FIRST_USER_TYPE, LINK_FRAME_HEADER_BYTES } from './frame.js';
import { guard } from './guard.js';
import { LINK_DEFAULTS } from './options.js';
import type { LinkPeerEvents } from './peer.js';

export interface LocalLinksOptions {
  /** Largest message, with the 9-byte header TCP would add, accepted by `send` (the same bound as over TCP). @default 1048576 */
  readonly maxFrameBytes?: number;
  readonly logger?: Logger;
}

interface Served {
  readonly accept: (peer: LocalLinkPeer) => void;
  readonly peers: Set<LocalLinkPeer>;
}

/**
 * The engines of this process that accept in-process gateways. One instance is shared by the
 * engine and the gateway of a process (pass it to both as `localLinks`).
 */
export class LocalLinks {
  readonly #served = new Map<string, Served>();
  readonly #maxFrameBytes: number;
  readonly #log: Logger;

  constructor(options: LocalLinksOptions = {}) {
    const max = options.maxFrameBytes ?? LINK_DEFAULTS.maxFrameBytes;
    if (!Number.isInteger(max) || max <= LINK_FRAME_HEADER_BYTES) {
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `local link option "maxFrameBytes" must be an integer > ${LINK_FRAME_HEADER_BYTES}, got ${max}`);
    }
    this.#maxFrameBytes = max;
    this.#log = options.logger ?? silentLogger;
  }

  /**
   * Accept in-process gateways as engine `engineId`: `onPeer` receives each one's
   * {@link LocalLinkPeer}, as a {@link LinkServer}'s 'peer' event does. Returns `stop`, which
   * closes every such link (the gateways see 'down') and accepts no more.
   * @throws CodedError `OPT_ERR_INVALID` when `engineId` is served already.
   */
  serve(engineId: string, onPeer: (peer: LocalLinkPeer) => void): () => Promise<void> {
    if (this.#served.has(engineId)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `engine ${engineId} is already served in this process`);
    const served: Served = { accept: onPeer, peers: new Set() };
    this.#served.set(engineId, served);
    return async () => {
      if (this.#served.get(engineId) === served) this.#served.delete(engineId);
      await Promise.all([...served.peers].map((p) => p.close()));
    };
  }

  /** The engines served in this process. */
  engines(): string[] {
    return [...this.#served.keys()];
  }

  /** True when engine `engineId` runs in this process and accepts gateways. */
  serves(engineId: string): boolean {
    return this.#served.has(engineId);
  }

  /**
   * Link gateway `gatewayId` to engine `engineId` of this process. The link is up when this
   * returns (the engine has its peer); 'up' is also emitted, from a microtask.
   * @throws CodedError `LNK_ERR_NOT_CONNECTED` when no such engine is served here.
   */
  connect(engineId: string, gatewayId: string): LocalLinkClient {
    const served = this.#served.get(engineId);
    if (served === undefined) throw new CodedError(ErrorCodes.LNK_ERR_NOT_CONNECTED, `engine ${engineId} does not run in this process`);
    const pair = new LocalPair(this.#maxFrameBytes, this.#log.child({ link: 'local', engineId, gatewayId }));
    const peer = new LocalLinkPeer(pair, gatewayId);
    const client = new LocalLinkClient(pair, engineId);
    pair.attach(client, peer);
    served.peers.add(peer);
    peer.once('close', () => served.peers.delete(peer));
    served.accept(peer);
    queueMicrotask(() => {
      if (client.isUp) guard(pair.log, 'up', () => client.emit('up', engineId));
    });
    return client;
  }
}

interface Queued {
  readonly toPeer: boolean;
  readonly type: number;
  readonly channel: number;
  readonly body: Uint8Array;
}

/** Slots of LocalPair.counts: frames and bytes each way. */
const TO_PEER_FRAMES = 0;
const TO_PEER_BYTES = 1;
const TO_CLIENT_FRAMES = 2;
const TO_CLIENT_BYTES = 3;

/** A side's counts, as LinkStats has them. */
interface LocalCounts {
  readonly frames: number;
  readonly bytes: number;
}

const EMPTY_STATS = { writes: 0, rttMs: null } as const;

/** What both ends share: delivery, the queue for re-entrant sends, and the closed state. */
class LocalPair {
  readonly log: Logger;
  readonly #maxBodyBytes: number;
  #client!: LocalLinkClient;
  #peer!: LocalLinkPeer;
  /** Listeners of this link running now. */
  #depth = 0;
  readonly #queue: Queued[] = [];
  /** Messages in {@link #queue}: a lane's frame checks this field, not the array. */
  #queued = 0;
  #queuedBytes = 0;
  #flushScheduled = false;
  /** No more sends: closed, or closing once the running listener returns. */
  closed = false;
  #ended = false;
  /**
   * Frames and bytes toward the peer (engine) and toward the client (gateway), in one small
   * array: counting a lane's frame writes no boxed double of an object of its own.
   */
  readonly #counts = new Float64Array(4);
  /** The engine's lanes (LocalLinkPeer.serveLanes), or null: it offers none. */
  #lanes: FrameLanes | null = null;

  constructor(maxFrameBytes: number, log: Logger) {
    this.#maxBodyBytes = maxFrameBytes - LINK_FRAME_HEADER_BYTES;
    this.log = log;
  }

  attach(client: LocalLinkClient, peer: LocalLinkPeer): void {
    this.#client = client;
    this.#peer = peer;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Toward the peer (the engine). */
  get toPeer(): LocalCounts {
    return { frames: this.#counts[TO_PEER_FRAMES]!, bytes: this.#counts[TO_PEER_BYTES]! };
  }

  /** Toward the client (the gateway). */
  get toClient(): LocalCounts {
    return { frames: this.#counts[TO_CLIENT_FRAMES]!, bytes: this.#counts[TO_CLIENT_BYTES]! };
  }

  send(toPeer: boolean, type: number, channel: number, body: Uint8Array): void {
    if (this.closed) throw new CodedError(ErrorCodes.LNK_ERR_CLOSED, 'link is closed');
    if ((type & 0xff) !== type || type < FIRST_USER_TYPE) {
      throw new RangeError(`link message type must be an integer from ${FIRST_USER_TYPE} to 255, got ${type}`);
    }
    if (channel >>> 0 !== channel) throw new RangeError(`link channel must be a u32, got ${channel}`);
    if (body.byteLength > this.#maxBodyBytes) {
      throw new CodedError(ErrorCodes.LNK_ERR_FRAME_TOO_LARGE, `link message of ${body.byteLength + LINK_FRAME_HEADER_BYTES} bytes exceeds ${this.#maxBodyBytes + LINK_FRAME_HEADER_BYTES}`);
    }
    const at = toPeer ? TO_PEER_FRAMES : TO_CLIENT_FRAMES;
    this.#counts[at]!++;
    this.#counts[at + 1]! += body.byteLength + LINK_FRAME_HEADER_BYTES;
    if (this.#depth > 0 || this.#queued > 0) {
      // Inside a listener, or behind sends still waiting: the caller may reuse its buffer
      // (a copy: Buffer#slice would only be a view).
      this.#queue.push({ toPeer, type, channel, body: new Uint8Array(body) });
      this.#queued++;
      this.#queuedBytes += body.byteLength;
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flush());
      }
      return;
    }
    this.#deliver(toPeer, type, channel, body);
  }

  serveLanes(lanes: FrameLanes): void {
    this.#lanes = lanes;
  }

  /** Connection `connId`'s lane to the engine, or null (closed, no lanes served, none for it). */
  lane(connId: number): FrameLane | null {
    return this.closed || this.#lanes === null ? null : this.#lanes.lane(connId);
  }

  /**
   * A frame on a lane: handed to the engine's lanes as a listener of this link (what the engine
   * sends meanwhile waits, as from a listener), and counted as a message toward the engine.
   * Refused (false) while the link is closed or anything waits before it (a listener of this
   * link runs, or messages queued by one), and for a body the link would refuse.
   */
  deliverOnLane(lane: FrameLane, frame: Uint8Array): boolean {
    const lanes = this.#lanes;
    if (lanes === null || this.closed || this.#depth > 0 || this.#queued > 0 || frame.byteLength > this.#maxBodyBytes) return false;
    let taken = true;
    this.#depth++;
    try {
      taken = lanes.deliver(lane, frame);
    } catch (err) {
      // As a listener that throws: logged, and the frame counts as delivered (never twice).
      this.log.error({ err, event: 'message' }, 'link listener threw');
    } finally {
      this.#depth--;
    }
    if (taken) {
      this.#counts[TO_PEER_FRAMES]!++;
      this.#counts[TO_PEER_BYTES]! += frame.byteLength + LINK_FRAME_HEADER_BYTES;
    }
    return taken;
  }

  #deliver(toPeer: boolean, type: number, channel: number, body: Uint8Array): void {
    this.#depth++;
    // guard() without its closure: this runs for every client frame of the process.
    try {
      if (toPeer) this.#peer.emit('message', type, channel, body);
      else this.#client.emit('message', type, channel, body);
    } catch (err) {
      this.log.error({ err, event: 'message' }, 'link listener threw');
    } finally {
      this.#depth--;
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    // Delivered one by one: what a listener sends meanwhile joins the end of the queue.
    for (let m = this.#queue.shift(); m !== undefined; m = this.#queue.shift()) {
      this.#queued--;
      this.#queuedBytes -= m.body.byteLength;
      this.#deliver(m.toPeer, m.type, m.channel, m.body);
    }
  }

  /**
   * Refuse further sends, deliver what waits, then end both ends: `byPeer` tells which side
   * asked. Called from a listener of this link, the end comes once that listener returns.
   */
  close(byPeer: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (this.#depth > 0) queueMicrotask(() => this.#end(byPeer));
    else this.#end(byPeer);
  }

  #end(byPeer: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#flush();
    const other = new CodedError(ErrorCodes.LNK_ERR_CLOSED, byPeer ? 'the engine closed the in-process link' : 'the gateway closed the in-process link');
    this.#client.ended(byPeer ? other : null);
    this.#peer.ended(byPeer ? null : other);
  }
}

/** The gateway's end of an in-process link (see {@link LocalLinks.connect}). Not reconnected: once down, ask `connect` again. */
export class LocalLinkClient extends EventEmitter<LinkClientEvents> implements EngineLink {
  readonly transport = 'in-process';
  readonly #pair: LocalPair;
  readonly #engineId: string;
  #up = true;

  /** @internal */
  constructor(pair: LocalPair, engineId: string) {
    super();
    this.#pair = pair;
    this.#engineId = engineId;
  }

  get isUp(): boolean {
    return this.#up;
  }

  get peerNodeId(): string | null {
    return this.#up ? this.#engineId : null;
  }

  get stats(): LinkStats {
    const p = this.#pair;
    const toPeer = p.toPeer;
    const toClient = p.toClient;
    return { framesIn: toClient.frames, framesOut: toPeer.frames, bytesIn: toClient.bytes, bytesOut: toPeer.bytes, ...EMPTY_STATS, queuedBytes: p.queuedBytes };
  }

  /** Up from the start: nothing to dial. */
  start(): Promise<void> {
    return this.#pair.closed ? Promise.reject(new CodedError(ErrorCodes.LNK_ERR_CLOSED, 'link client is closed')) : Promise.resolve();
  }

  /**
   * Hand a message to the engine: delivered before this returns, unless a listener of this
   * link is running (then queued, copied). Same errors as {@link LinkClient.send}. `holdUntil`
   * is for a socket's writes: here there is nothing to save by waiting, and nothing waits.
   */
  send(type: number, channel: number, body: Uint8Array, _holdUntil?: number): void {
    this.#pair.send(true, type, channel, body);
  }

  /** Connection `connId`'s lane to the engine, or null (see {@link EngineLink.lane}). */
  lane(connId: number): FrameLane | null {
    return this.#pair.lane(connId);
  }

  /** Hand `frame` over on `lane`, or return false (see {@link FrameLanes}). */
  deliverOnLane(lane: FrameLane, frame: Uint8Array): boolean {
    return this.#pair.deliverOnLane(lane, frame);
  }

  close(): Promise<void> {
    this.#pair.close(false);
    return Promise.resolve();
  }

  /** @internal */
  ended(reason: CodedError | null): void {
    if (!this.#up) return;
    this.#up = false;
    guard(this.#pair.log, 'down', () => this.emit('down', reason));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The engine's end of an in-process link, handed to the `onPeer` of {@link LocalLinks.serve}. */
export class LocalLinkPeer extends EventEmitter<LinkPeerEvents> implements GatewayPeer {
  readonly #pair: LocalPair;
  readonly nodeId: string;
  readonly transport = 'in-process';
  readonly remoteAddress = 'in-process';
  #open = true;

  /** @internal */
  constructor(pair: LocalPair, gatewayId: string) {
    super();
    this.#pair = pair;
    this.nodeId = gatewayId;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  get stats(): LinkStats {
    const p = this.#pair;
    const toPeer = p.toPeer;
    const toClient = p.toClient;
    return { framesIn: toPeer.frames, framesOut: toClient.frames, bytesIn: toPeer.bytes, bytesOut: toClient.bytes, ...EMPTY_STATS, queuedBytes: p.queuedBytes };
  }

  /** Hand a message to the gateway; see {@link LocalLinkClient.send}. */
  send(type: number, channel: number, body: Uint8Array): void {
    this.#pair.send(false, type, channel, body);
  }

  /** Offer the gateway {@link FrameLanes} (see {@link GatewayPeer.serveLanes}). */
  serveLanes(lanes: FrameLanes): void {
    this.#pair.serveLanes(lanes);
  }

  close(): Promise<void> {
    this.#pair.close(true);
    return Promise.resolve();
  }

  /** @internal */
  ended(reason: CodedError | null): void {
    if (!this.#open) return;
    this.#open = false;
    guard(this.#pair.log, 'close', () => this.emit('close', reason));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
