import { ChannelIds, type GatewayPeer, type JoinBody } from '@gos/link';
import type { SceneHost } from './scene-host.js';

/**
 * One player's connection to this engine, through one gateway's link. A class: an in-process
 * gateway hands it back as the connection's frame lane (Players.lanes), checked with instanceof.
 */
export class Conn {
  /** `joining` until its scene has it (frames wait in `early`), `gone` once dropped. */
  state: 'joining' | 'joined' | 'gone' = 'joining';
  /**
   * The scene instance it was last joined to (set by {@link joinedTo}); meaningful only while
   * `joined`, and only while that instance is the engine's running one (SceneHost.current).
   * Its frame lane writes there without looking the scene up (FrameLanes).
   */
  host: SceneHost | null = null;
  /** The player's scene (changes when it travels to another scene of this engine). */
  sceneId: string;
  /** Engine-local id: what the scene knows the player by. */
  readonly sid: number;
  readonly peer: GatewayPeer;
  /** The gateway's id of the connection (the link channel). */
  readonly connId: number;
  readonly playerId: string;
  readonly name: string;
  /** Set while the player leaves its scene for a travel: the scene its last save names. */
  travellingTo: string | null = null;
  /**
   * A travel target reserved on this engine (a JOIN with `reserve`): called by TRAVEL_IN, or by
   * a LEAVE, to let the join go on (it loads the player, or finds the connection gone).
   */
  proceed: (() => void) | null = null;
  /** TRAVEL_IN came before the reserved join was waiting for it: it goes on at once. */
  proceedEarly = false;
  /** Settles when the travel under way (TRAVEL_OUT) is over, whatever its outcome; null when none. */
  travelDone: Promise<void> | null = null;
  /** The gateway gave the travel under way up (TRAVEL_CANCEL) before the player left its scene. */
  travelCancel: { readonly code: string; readonly message: string } | null = null;
  /** Frames received while joining, written to the scene after JOIN (bounded: see EngineOptions.maxFramesWhileJoining). */
  early: Uint8Array[] = [];
  /** Bytes of {@link early}. */
  earlyBytes = 0;

  /** In its scene `host` now: its frames go into that scene's ring. */
  joinedTo(host: SceneHost): void {
    this.state = 'joined';
    this.host = host;
  }

  constructor(sid: number, peer: GatewayPeer, connId: number, join: JoinBody) {
    this.sceneId = join.sceneId;
    this.sid = sid;
    this.peer = peer;
    this.connId = connId;
    this.playerId = join.playerId;
    this.name = join.name;
  }
}

/** The frames a connection holds while joining, in order; it holds none after. */
export function takeEarly(conn: Conn): Uint8Array[] {
  conn.earlyBytes = 0;
  return conn.early.splice(0);
}

/**
 * The engine's connections: by sid, and by the gateway link and connection id a frame arrives
 * with. Keyed by link, not gateway id: a restarted gateway reuses its id and its connection ids.
 * Numeric keys: no string is built per frame.
 */
export class Connections {
  readonly #bySid = new Map<number, Conn>();
  /** Per gateway link, its connection ids' connections: two lookups per frame, no more. */
  readonly #byPeer = new WeakMap<GatewayPeer, Map<number, Conn>>();
  readonly #sids = new ChannelIds();
  readonly #referred: (sid: number) => boolean;

  /** `referred`: whether a dropped connection's sid is still referred to elsewhere (PlayerSeats.refersTo): not given again yet. */
  constructor(referred: (sid: number) => boolean = () => false) {
    this.#referred = referred;
  }

  get size(): number {
    return this.#bySid.size;
  }

  values(): IterableIterator<Conn> {
    return this.#bySid.values();
  }

  get(sid: number): Conn | undefined {
    return this.#bySid.get(sid);
  }

  /** The connection a frame from `peer` on channel `connId` belongs to. */
  of(peer: GatewayPeer, connId: number): Conn | undefined {
    return this.#byPeer.get(peer)?.get(connId);
  }

  has(peer: GatewayPeer, connId: number): boolean {
    return this.#byPeer.get(peer)?.has(connId) === true;
  }

  /** A new connection, joining. */
  open(peer: GatewayPeer, connId: number, join: JoinBody): Conn {
    // A sid wraps after 4.3 billion opens: never one a live connection has, or one still referred to.
    const sid = this.#sids.take((id) => this.#bySid.has(id) || this.#referred(id));
    const conn = new Conn(sid, peer, connId, join);
    this.#bySid.set(sid, conn);
    let conns = this.#byPeer.get(peer);
    if (conns === undefined) {
      conns = new Map();
      this.#byPeer.set(peer, conns);
    }
    conns.set(connId, conn);
    return conn;
  }

  /** Forget a connection and the frames it held; it is `gone` from here. */
  drop(conn: Conn): void {
    conn.state = 'gone';
    // Out of the scene it last joined, whatever path dropped it: a scene's broadcasts go to the
    // links of the players in it (SceneSids), and must not go on reaching, or holding, this one's.
    conn.host?.sids.delete(conn.sid);
    // A gateway may still hold the connection as its lane: it must not keep the scene's host (and its rings) alive.
    conn.host = null;
    takeEarly(conn);
    this.#bySid.delete(conn.sid);
    const conns = this.#byPeer.get(conn.peer);
    if (conns?.get(conn.connId) === conn) conns.delete(conn.connId);
  }

  /** The connections of these sids that are still open. */
  inScene(sids: Iterable<number>): Conn[] {
    const conns: Conn[] = [];
    for (const sid of sids) {
      const conn = this.#bySid.get(sid);
      if (conn !== undefined) conns.push(conn);
    }
    return conns;
  }
}
