/**
 * What the load generator needs from a target: open one client connection that is ready to send
 * moves, send a move, and report every tick the client receives. One driver per target
 * (`project`, `colyseus`, `uws`); the scheduling, the latency math and the counting live in the
 * load generator, so every target is measured the same way.
 */

export interface TickInfo {
  /** The client's last input seq the server had processed when it built this tick. */
  readonly ack: number;
  /** Server wall-clock time when the tick was built, ms since the epoch with sub-ms precision; NaN when the frame does not say (mmo-aoi's cell frames). */
  readonly serverTimeMs: number;
}

export interface ClientHooks {
  /**
   * A tick (state update) arrived; `bytes` is the WebSocket message's payload size. `tick` is
   * null for a client that does not decode ticks (see {@link ConnectOptions.decodeTicks}).
   */
  onTick(tick: TickInfo | null, bytes: number): void;
  /** A chat line arrived (chat-fanout) with its sender's timestamp. */
  onChat(sentAtMs: number, bytes: number): void;
  /** Any other message arrived (counted in the outbound totals, no latency sample). */
  onOther(bytes: number): void;
  /**
   * The server answered with a coded error (this framework's ERROR frame; `code` from its
   * ErrorReply). Counted in the outbound totals too, and as a failure of the run.
   */
  onError(code: string, bytes: number): void;
  /** The connection closed without the load generator asking for it. */
  onClose(code: number, reason: string): void;
}

export interface ClientConn {
  /** Send one move input; returns the bytes put on the wire (WebSocket payload size). */
  sendMove(seq: number, x: number, y: number): number;
  /** Say a chat line to everyone in the scene or room (chat-fanout); returns the bytes sent. */
  sendChat(sentAtMs: number, text: string): number;
  /**
   * reconnect-storm: drop the connection without a closing handshake, as a lost network or a
   * dead gateway would, and connect again at once, resuming the session where the target has
   * one (this framework: the same session token on a new WebSocket; Colyseus:
   * `client.reconnect` into the seat its `allowReconnection` holds; bare uWS has no sessions:
   * a new connection). Resolves once the client is back in its scene or room; no onClose for
   * the drop. The same hooks receive what arrives afterwards.
   */
  reconnect(): Promise<void>;
  /** Close on purpose (end of the run): no onClose callback afterwards. */
  close(): void;
  /**
   * mmo-aoi, a client that decodes: the entities it knows now (in its area of interest; on a
   * target that broadcasts the whole map, the players in its last tick).
   */
  entities?(): number;
}

export interface ConnectOptions {
  /**
   * Decode ticks and report ack and server time. Clients that do not decode still receive and
   * count every tick: what the server does is the same, and the generator's core is spared the
   * decoding (which for Colyseus, whose SDK decodes every patch into a state tree, would
   * otherwise saturate the generator long before the server).
   */
  readonly decodeTicks: boolean;
  /** Which game: `mmo` (mmo-move), `idle` (idle-ccu: join and hold the connection), `chat` (chat-fanout) or `aoi` (mmo-aoi: one large map). */
  readonly room: 'mmo' | 'idle' | 'chat' | 'aoi';
}

export interface Driver {
  readonly target: string;
  /**
   * Connect client number `index` (0-based; clients 0–99 share the first scene or room, 100–199
   * the second, …) to the server at `baseUrl` (`http://127.0.0.1:port`) and resolve once it has
   * joined its scene and may send moves. Reject on failure (counted as a connect failure).
   */
  connect(index: number, baseUrl: string, hooks: ClientHooks, options: ConnectOptions): Promise<ClientConn>;
}

/** Wall clock in ms since the epoch with sub-ms precision; the same clock on every process of this machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
