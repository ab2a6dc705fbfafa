/**
 * A client socket's state on the gateway (uWS user data), and the small pure helpers around it.
 */
import type { WebSocket } from 'uWebSockets.js';
import { ErrorReplyCodec, cellX, cellY, framePayload, isFarCell } from '@gos/schema';
import type { Session } from './session/index.js';
import type { EngineLink, FrameLane } from '@gos/link';

/**
 * Why a player is being placed again: its engine was lost (`lost`: the same engine is fine once
 * its link is back), is draining (`drain`: wait until the scene is placed elsewhere), or stopped
 * the scene (`moved`: released as idle or taken from it; wherever the placement says next), or
 * moved it live to another engine (`migrated`: the frames held meanwhile go there).
 */
export type ResumeReason = 'lost' | 'drain' | 'moved' | 'migrated';

export interface ConnData {
  readonly connId: number;
  /** Set when the upgrade was accepted only to tell the client why it is refused. */
  readonly reject: { readonly code: number; readonly reason: string } | null;
  /** The token the socket came with, checked once it is open (`authenticating`); null after. */
  token: string | null;
  /** Null until the token is checked. Replaced (frozen) when the player travels: `sceneId` names its scene. */
  session: Session | null;
  /** The engine its frames go to; set through {@link setEngine}. */
  engineId: string | null;
  /**
   * On an in-process link, the engine's lane for this connection's frames once it joined there
   * (FrameLanes: no link dispatch, no lookups); null otherwise, and whenever `engineId` changes.
   */
  lane: FrameLane | null;
  /** The in-process link that gave {@link lane} (the engine's link when it was given); null with it. */
  laneLink: EngineLink | null;
  /**
   * The joined scene's tick interval when it takes fire-and-forget inputs at its ticks (from
   * JOINED): such inputs may wait on a TCP link until just before the next tick (input-hold.ts).
   * 0: sent at once; reset whenever `engineId` changes.
   */
  inputTickMs: number;
  /**
   * `authenticating`: open, its token being checked in the session store (its frames wait in
   * `held`); `routing`: accepted, its scene being found; then `joining`, `joined`; `closed`.
   */
  state: 'authenticating' | 'routing' | 'joining' | 'joined' | 'closed';
  /** Frames received while authenticating (copies; bounded, see ClientSockets); handled in order once accepted. */
  held: Uint8Array[];
  heldBytes: number;
  /**
   * It sent more than `held` may keep before its token was checked: its frames are dropped and,
   * once the token tells whose socket it is, the account is cooled down and the socket closed
   * with 4006 (the cool-down is recorded, and shared, before the close goes out).
   */
  floodedEarly: boolean;
  /** Frames received before the engine link was known; sent in order once it is. */
  early: Uint8Array[];
  /**
   * Requests forwarded to the engine (or queued in `early`) that wait for its answer:
   * requestId → its opcode and arrival time. When the engine is lost or the scene moves, each
   * gets an ERROR (`GW_ERR_SCENE_MOVED`, retryable) at once instead of waiting out the client's
   * timeout.
   */
  readonly pending: Map<number, { readonly opcode: number; readonly at: number }>;
  /** The client's address, for its rate limits. */
  readonly ip: string;
  /** The account's frame bucket (RateLimits.messageBucket: shared by its sockets, kept across reconnects), held until the socket closes; -1 until accepted. */
  bucket: number;
  /**
   * When its last frame came (performance.now(), whole ms: the idle sweep needs no more). Whole,
   * it stays a small integer in the object; a fractional time would live in a heap number of its
   * own, one more cache miss on every frame.
   */
  lastFrameAt: number;
  lastTouchAt: number;
  /** When the JOIN went to the engine; a join not confirmed within JOIN_TIMEOUT_MS fails. */
  joinSentAt: number;
  /** Whether the player has been in its scene on this connection (a later join is a resume). */
  joinedOnce: boolean;
  /** Set while the player's scene is placed again. `since` is the first loss: the RESUME_TIMEOUT_MS budget. */
  resuming: { readonly from: string; readonly since: number; readonly why: ResumeReason } | null;
  /** Set while the player travels to another scene (see travel.ts): frames are held in `early` meanwhile. */
  travel: Travel | null;
  /**
   * Set while the player's scene moves live to another engine (see migration.ts): frames are held
   * in `early`; `sentBefore` are the requests the old engine had, refused if still waiting once moved.
   */
  migrating: { readonly from: string; readonly sentBefore: ReadonlySet<number> } | null;
  /**
   * A travel the player's scene asked for before the gateway knew the player was in it (its
   * `onJoin` asked: the TRAVEL came before JOINED); started once JOINED comes.
   */
  travelAsked: { readonly engineId: string; readonly to: string; readonly arrival: string } | null;
  /** The scene whose chat channel the socket hears (docs/chat.md), or null: one at a time. */
  chatScene: string | null;
}

/** A travel under way on one socket (ConnData.travel). */
export interface Travel {
  readonly from: string;
  readonly to: string;
  /** JSON for the target's onJoin, or ''. */
  readonly arrival: string;
  readonly fromEngine: string;
  /** The target's engine, once placed. */
  toEngine: string | null;
  /**
   * `placing` the target; `local` (same engine, TRAVEL_OUT sent); `reserving` (JOIN reserve
   * sent to the target's engine); `releasing` (TRAVEL_OUT sent to the source); `joining`
   * (released: TRAVEL_IN sent, the player belongs to the target).
   */
  phase: 'placing' | 'local' | 'reserving' | 'releasing' | 'joining';
  /** Requests forwarded to the source scene before the travel: answered there, or refused once the player is in. */
  readonly sentBefore: ReadonlySet<number>;
  readonly startedAt: number;
  /** When a local move that took too long was asked to stop (TRAVEL_CANCEL), if it was. */
  cancelSentAt: number | null;
}

/**
 * What the gateway hands uWS as a socket's user data: one property holding its ConnData.
 *
 * uWebSockets.js copies the user data's properties onto the WebSocket object itself (getUserData()
 * returns the socket), and V8 turns an object given more than about a dozen properties that way
 * into a dictionary: with ConnData's fields copied on, every field read on the hot path and every
 * method call on the socket went through a generic property lookup (`LoadIC`, about 6 % of the
 * fat process's CPU in mmo-move). One property keeps the socket and ConnData fast objects.
 */
export interface SocketSlot {
  readonly conn: ConnData;
}

export type Socket = WebSocket<SocketSlot>;

/** The socket's state (the socket must not be closed: uWS throws then; see userData). */
export function connOf(ws: Socket): ConnData {
  return ws.getUserData().conn;
}

/** A socket's data before it opens: its token to check (or why it is refused), nothing sent yet. */
export function newConnData(o: { token: string | null; reject: ConnData['reject']; ip: string; now: number }): ConnData {
  // The fields every client frame reads come first: they share the object's first cache line.
  return {
    state: o.token === null ? 'routing' : 'authenticating',
    bucket: -1,
    travel: null,
    migrating: null,
    engineId: null,
    lane: null,
    laneLink: null,
    inputTickMs: 0,
    connId: 0,
    lastFrameAt: Math.floor(o.now),
    pending: new Map(),
    session: null,
    token: o.token,
    reject: o.reject,
    early: [],
    held: [],
    heldBytes: 0,
    floodedEarly: false,
    ip: o.ip,
    lastTouchAt: o.now,
    joinSentAt: 0,
    joinedOnce: false,
    resuming: null,
    travelAsked: null,
    chatScene: null,
  };
}

/** Send the socket's frames to `engineId` from now on (null: to no engine yet); a lane to the engine before is dropped. */
export function setEngine(data: ConnData, engineId: string | null): void {
  data.engineId = engineId;
  data.lane = null;
  data.laneLink = null;
  data.inputTickMs = 0;
}

/**
 * The socket's data, or null when uWS has already closed it (it throws on any access to a
 * closed socket, which async paths such as a late session lookup can reach).
 */
export function userData(ws: Socket): ConnData | null {
  try {
    return ws.getUserData().conn;
  } catch {
    return null;
  }
}

/** The uWS topic of a scene's broadcasts. */
export function sceneTopic(sceneId: string): string {
  return `s/${sceneId}`;
}

/**
 * The uWS topic of one cell of a scene with entities (docs/aoi.md): `s/<scene>/c/<cx>_<cy>`, or
 * for a key with FAR_CELL, the cell's far band (its slower fields thinned), `s/<scene>/f/<cx>_<cy>`.
 */
export function cellTopic(sceneId: string, cell: number): string {
  return `s/${sceneId}/${isFarCell(cell) ? 'f' : 'c'}/${cellX(cell)}_${cellY(cell)}`;
}

/** The uWS topic of a scene's chat channel (docs/chat.md). */
export function sceneChatTopic(sceneId: string): string {
  return `ch/scene:${sceneId}`;
}

/**
 * The socket hears a scene: its broadcasts and its chat channel (heard already while its engine
 * changes), and no other scene's chat (a travel that came back, say).
 */
export function subscribeScene(ws: Socket, sceneId: string): void {
  ws.subscribe(sceneTopic(sceneId));
  const data = connOf(ws);
  if (data.chatScene !== null && data.chatScene !== sceneId) ws.unsubscribe(sceneChatTopic(data.chatScene));
  ws.subscribe(sceneChatTopic(sceneId));
  data.chatScene = sceneId;
}

/**
 * The socket stops hearing a scene's engine: its broadcasts and every cell of it. Its chat
 * channel is the gateway's, not the engine's: it stays while the player is in the scene (a scene
 * moving or resuming elsewhere), and goes with a travel ({@link leaveSceneChat}).
 */
export function unsubscribeScene(ws: Socket, sceneId: string): void {
  ws.unsubscribe(sceneTopic(sceneId));
  unsubscribeCells(ws, sceneId);
}

/** The player left scene `sceneId` for another: it no longer hears that scene's chat. */
export function leaveSceneChat(ws: Socket, sceneId: string): void {
  ws.unsubscribe(sceneChatTopic(sceneId));
  const data = connOf(ws);
  if (data.chatScene === sceneId) data.chatScene = null;
}

/** The socket stops hearing every cell of a scene, in either band (it keeps the scene's broadcasts). */
export function unsubscribeCells(ws: Socket, sceneId: string): void {
  const near = `${sceneTopic(sceneId)}/c/`;
  const far = `${sceneTopic(sceneId)}/f/`;
  for (const t of ws.getTopics()) if (t.startsWith(near) || t.startsWith(far)) ws.unsubscribe(t);
}

/** The requestId of a frame at least FRAME_HEADER_BYTES long (u32 LE at offset 4). */
export function readRequestId(frame: Uint8Array): number {
  return (frame[4]! | (frame[5]! << 8) | (frame[6]! << 16) | (frame[7]! << 24)) >>> 0;
}

const reasonEncoder = new TextEncoder();

/** A WebSocket close reason is at most 123 bytes of UTF-8: cut on a character boundary. */
export function closeReason(reason: string): string {
  if (reasonEncoder.encode(reason).byteLength <= 123) return reason;
  let out = '';
  let bytes = 0;
  for (const ch of reason) {
    bytes += reasonEncoder.encode(ch).byteLength;
    if (bytes > 123) break;
    out += ch;
  }
  return out;
}

/** Codes as metric labels: a code that is not a plain upper-case name counts as `other`. */
const CODE_LABEL = /^[A-Z][A-Z0-9_]{0,63}$/;

/** The code of an ERROR frame from an engine, for the errors metric. */
export function errorCodeOf(frame: Uint8Array): string {
  try {
    const { code } = ErrorReplyCodec.decode(framePayload(frame));
    return CODE_LABEL.test(code) ? code : 'other';
  } catch {
    return 'malformed';
  }
}

/** What a resumed player is told (SceneResumed push). */
export function resumeReason(from: string, to: string, why: ResumeReason): string {
  if (why === 'migrated' && from === to) return `the scene was saved to move live off engine ${from}; the move did not finish, and it runs on ${to} again from that save`;
  if (why === 'migrated') return `the scene moved live from engine ${from} to ${to}`;
  if (why === 'moved') return `the scene was stopped on engine ${from} and resumed on ${to} from its last saved state`;
  if (from === to) return `the link to engine ${to} was lost and is back; rejoined`;
  return `engine ${from} ${why === 'drain' ? 'shut down' : 'was lost'}; the scene resumed on ${to} from its last saved state`;
}
