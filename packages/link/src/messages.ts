import { CodedError, ErrorCodes, type Codec } from '@gos/schema';
import {
  AdminBodyCodec,
  AnswerBodyCodec,
  CallBodyCodec,
  JoinBodyCodec,
  JoinFailedBodyCodec,
  JoinedBodyCodec,
  KickBodyCodec,
  MigratedBodyCodec,
  MigratingBodyCodec,
  TravelBodyCodec,
  TravelOutBodyCodec,
  type AdminBody,
  type AnswerBody,
  type CallBody,
  type JoinBody,
  type JoinFailedBody,
  type JoinedBody,
  type KickBody,
  type MigratedBody,
  type MigratingBody,
  type TravelBody,
  type TravelOutBody,
} from './generated/protocol.js';

/**
 * Gateway → engine message types, carried by the link as `(type, channel, body)`.
 * The channel is the gateway's connection id (`connId`) of the player's socket.
 */
export const GatewayToEngine = {
  /** channel = connId; body = {@link JoinBody} (a FlatBuffers table, `encodeJoinBody`). */
  JOIN: 16,
  /** channel = connId; empty body. The socket is gone. */
  LEAVE: 17,
  /** channel = connId; body = the client's raw frame bytes, forwarded unchanged. */
  CLIENT_FRAME: 18,
  /**
   * channel = connId; body = {@link TravelOutBody}. Take the player out of its scene for a
   * travel: a local one ends with JOINED (the target scene) or TRAVEL_FAILED, another with
   * TRAVEL_RELEASED once the player's data is saved (or TRAVEL_FAILED).
   */
  TRAVEL_OUT: 19,
  /** channel = connId; empty body. A reserved travel target (JOIN with `reserve`): load the player and join it now. */
  TRAVEL_IN: 20,
  /** channel = connId; body = {@link JoinFailedBody}. The travel the scene asked for will not happen: why. */
  TRAVEL_CANCEL: 21,
  /**
   * channel = connId; body = the MIGRATING's {@link MigratingBody}. Answers MIGRATING: the gateway
   * holds this player's frames from now on, so every frame it sent before is on the link ahead
   * of this message.
   */
  MIGRATE_HOLD: 22,
  /** channel = the SYNC's id; empty body. Answers SYNC: every message the engine sent before it was handled. */
  SYNC_ACK: 23,
} as const;
export type GatewayToEngineType = (typeof GatewayToEngine)[keyof typeof GatewayToEngine];

/** Engine → gateway message types. */
export const EngineToGateway = {
  /** channel = connId; body = a raw frame to send to that socket. */
  TO_CLIENT: 32,
  /** channel = 0; body = `[u16 LE topic byte length][topic utf8][frame bytes]` ({@link encodeBroadcastBody}). */
  BROADCAST: 33,
  /** channel = connId; body = {@link KickBody} (`encodeKickBody`). The gateway closes the socket. */
  KICK: 34,
  /** channel = connId; body = {@link JoinedBody} (`encodeJoinedBody`). */
  JOINED: 35,
  /** channel = connId; body = {@link JoinFailedBody} (`encodeJoinFailedBody`). */
  JOIN_FAILED: 36,
  /**
   * channel = connId; body empty. The player's scene crashed: the frames it had not handled are
   * lost, so the gateway answers the connection's waiting requests (retryable).
   */
  SCENE_CRASHED: 37,
  /** channel = connId; body = {@link TravelBody}. The player's scene asks to move it to another scene. */
  TRAVEL: 38,
  /** channel = connId; empty body. A reserved travel target (JOIN with `reserve`) has the player's seat and scene ready. */
  TRAVEL_READY: 39,
  /** channel = connId; empty body. The player left its scene for a travel and its data is saved: the target may load it. */
  TRAVEL_RELEASED: 40,
  /** channel = connId; body = {@link JoinFailedBody}. The travel could not be done here; the player is still in its scene. */
  TRAVEL_FAILED: 41,
  /** channel = 0; body = {@link CellsBody} (`encodeCellsBody`): one tick's cell frames of a scene with entities. */
  CELLS: 42,
  /** channel = connId; body = {@link InterestBody} (`encodeInterestBody`): the player's area of interest changed. */
  INTEREST: 43,
  /**
   * channel = connId; body = {@link MigratingBody}. The player's scene is about to move live to
   * another engine: hold the player's frames (in order) and answer MIGRATE_HOLD with the same body.
   */
  MIGRATING: 44,
  /** channel = connId; body = {@link MigratedBody}. The scene moved: join it where it is placed now, then send the held frames. */
  MIGRATED: 45,
  /** channel = connId; empty body. The move was given up and the scene runs on here: send the held frames here, in order. */
  MIGRATE_ABORTED: 46,
  /**
   * channel = an id; empty body. A barrier: the gateway answers SYNC_ACK with the same id once it
   * has handled every message before it (a draining engine waits for it before it leaves, so its
   * last MIGRATED messages are not overtaken by the news of its departure).
   */
  SYNC: 47,
} as const;
export type EngineToGatewayType = (typeof EngineToGateway)[keyof typeof EngineToGateway];

/**
 * Engine → engine message types: an engine dials another's link server as a peer, like a
 * gateway. The channel is the calling engine's id of the call (0 for a cast).
 */
export const EngineToEngine = {
  /** channel = call id (0: a cast); body = {@link CallBody}. */
  CALL: 48,
  /** channel = the CALL's id; body = {@link AnswerBody}. Sent back on the same link. */
  ANSWER: 49,
} as const;

/**
 * REPL ↔ engine message types (docs/repl.md): an operator's REPL dials an engine's link server
 * with the cluster secret and sends each command with its admin credential. The channel is the
 * REPL's id of the command; the answer comes back on it.
 */
export const AdminToEngine = {
  /** channel = command id; body = {@link AdminBody}. */
  COMMAND: 64,
} as const;

export const EngineToAdmin = {
  /** channel = the COMMAND's id; body = {@link AnswerBody}. */
  ANSWER: 65,
} as const;

/** Alias of {@link GatewayToEngine} under the name the design notes use. */
export const GW_TO_ENGINE = GatewayToEngine;
/** Alias of {@link EngineToGateway} under the name the design notes use. */
export const ENGINE_TO_GW = EngineToGateway;

// The control bodies are FlatBuffers tables generated from `protocol/link.yaml` (one place
// defines them, for both ends); these functions add the rules a table cannot say.
export type { JoinBody, KickBody, JoinedBody, JoinFailedBody, MigratedBody, MigratingBody, TravelBody, TravelOutBody, CallBody, AnswerBody, AdminBody };

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
/** Longest broadcast topic, in UTF-8 bytes (its length travels as a u16). */
export const MAX_TOPIC_BYTES = 0xffff;

function bad(message: string, cause?: unknown): CodedError {
  return new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, message, cause === undefined ? undefined : { cause });
}

/** Check `body` with the table's rules, then encode it (only its own fields). */
export function encodeChecked<T>(codec: Codec<T>, body: T, rule: (b: T) => string | null): Uint8Array {
  const broken = rule(body);
  if (broken !== null) throw bad(`${codec.name}: ${broken}`);
  return codec.encode(body);
}

/** Decode a body with its table's verifier, then check the rules the table cannot say. */
export function decodeChecked<T>(codec: Codec<T>, bytes: Uint8Array, rule: (b: T) => string | null): T {
  const body = codec.decode(bytes); // SCH_ERR_BAD_PAYLOAD for bytes that are not a valid table
  const broken = rule(body);
  if (broken !== null) throw bad(`${codec.name}: ${broken}`);
  return body;
}

const joinRule = (b: JoinBody): string | null => (b.playerId === '' ? 'playerId is empty' : b.sceneId === '' ? 'sceneId is empty' : null);
const travelRule = (b: { to: string }): string | null => (b.to === '' ? 'to is empty' : null);
const kickRule = (b: KickBody): string | null =>
  Number.isInteger(b.closeCode) && b.closeCode >= 1000 && b.closeCode <= 4999 ? null : `closeCode ${b.closeCode} is not a WebSocket close code (1000–4999)`;
const joinedRule = (b: JoinedBody): string | null => (b.sceneId === '' ? 'sceneId is empty' : null);
const joinFailedRule = (b: JoinFailedBody): string | null => (b.code === '' ? 'code is empty' : null);

/**
 * The body of `JOIN`; `arrival` and `from` default to none (`''`) and `reserve` to false (join now).
 * @throws CodedError `SCH_ERR_BAD_PAYLOAD` for an empty playerId or sceneId.
 */
export function encodeJoinBody(body: Pick<JoinBody, 'playerId' | 'name' | 'sceneId'> & Partial<Pick<JoinBody, 'arrival' | 'reserve' | 'from'>>): Uint8Array {
  const { playerId, name, sceneId } = body;
  return encodeChecked(JoinBodyCodec, { playerId, name, sceneId, arrival: body.arrival ?? '', reserve: body.reserve ?? false, from: body.from ?? '' }, joinRule);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the bytes are a valid {@link JoinBody}. */
export function decodeJoinBody(bytes: Uint8Array): JoinBody {
  return decodeChecked(JoinBodyCodec, bytes, joinRule);
}

/** The body of `KICK`. @throws CodedError `SCH_ERR_BAD_PAYLOAD` for a close code outside 1000–4999. */
export function encodeKickBody(body: KickBody): Uint8Array {
  return encodeChecked(KickBodyCodec, { closeCode: body.closeCode, reason: body.reason }, kickRule);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the bytes are a valid {@link KickBody}. */
export function decodeKickBody(bytes: Uint8Array): KickBody {
  return decodeChecked(KickBodyCodec, bytes, kickRule);
}

/**
 * The body of `JOINED`; `inputTickMs` defaults to 0 (the scene takes inputs as they arrive).
 * @throws CodedError `SCH_ERR_BAD_PAYLOAD` for an empty sceneId.
 */
export function encodeJoinedBody(body: Pick<JoinedBody, 'sceneId'> & Partial<Pick<JoinedBody, 'inputTickMs'>>): Uint8Array {
  return encodeChecked(JoinedBodyCodec, { sceneId: body.sceneId, inputTickMs: body.inputTickMs ?? 0 }, joinedRule);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the bytes are a valid {@link JoinedBody}. */
export function decodeJoinedBody(bytes: Uint8Array): JoinedBody {
  return decodeChecked(JoinedBodyCodec, bytes, joinedRule);
}

/** The body of `JOIN_FAILED` (any ErrorData fits). @throws CodedError `SCH_ERR_BAD_PAYLOAD` for an empty code. */
export function encodeJoinFailedBody(body: JoinFailedBody): Uint8Array {
  return encodeChecked(JoinFailedBodyCodec, { code: body.code, message: body.message }, joinFailedRule);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the bytes are a valid {@link JoinFailedBody}. */
export function decodeJoinFailedBody(bytes: Uint8Array): JoinFailedBody {
  return decodeChecked(JoinFailedBodyCodec, bytes, joinFailedRule);
}

const migratedRule = (b: MigratedBody): string | null => (b.sceneId === '' ? 'sceneId is empty' : b.to === '' ? 'to is empty' : null);

const migratingRule = (b: MigratingBody): string | null => (b.move === 0 ? 'move is 0' : null);

/** The body of `MIGRATING` and `MIGRATE_HOLD`. @throws CodedError `SCH_ERR_BAD_PAYLOAD` for a `move` of 0. */
export function encodeMigratingBody(body: MigratingBody): Uint8Array {
  return encodeChecked(MigratingBodyCodec, { move: body.move }, migratingRule);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the bytes are a valid {@link MigratingBody}. */
export function decodeMigratingBody(bytes: Uint8Array): MigratingBody {
  return decodeChecked(MigratingBodyCodec, bytes, migratingRule);
}

/** The body of `MIGRATED`. @throws CodedError `SCH_ERR_BAD_PAYLOAD` for an empty `sceneId` or `to`. */
export function encodeMigratedBody(body: MigratedBody): Uint8Array {
  return encodeChecked(MigratedBodyCodec, { sceneId: body.sceneId, to: body.to }, migratedRule);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the bytes are a valid {@link MigratedBody}. */
export function decodeMigratedBody(bytes: Uint8Array): MigratedBody {
  return decodeChecked(MigratedBodyCodec, bytes, migratedRule);
}

/** The body of `TRAVEL`. @throws CodedError `SCH_ERR_BAD_PAYLOAD` for an empty `to`. */
export function encodeTravelBody(body: TravelBody): Uint8Array {
  return encodeChecked(TravelBodyCodec, { to: body.to, arrival: body.arrival }, travelRule);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the bytes are a valid {@link TravelBody}. */
export function decodeTravelBody(bytes: Uint8Array): TravelBody {
  return decodeChecked(TravelBodyCodec, bytes, travelRule);
}

/** The body of `TRAVEL_OUT`. @throws CodedError `SCH_ERR_BAD_PAYLOAD` for an empty `to`. */
export function encodeTravelOutBody(body: TravelOutBody): Uint8Array {
  return encodeChecked(TravelOutBodyCodec, { to: body.to, arrival: body.arrival, local: body.local }, travelRule);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the bytes are a valid {@link TravelOutBody}. */
export function decodeTravelOutBody(bytes: Uint8Array): TravelOutBody {
  return decodeChecked(TravelOutBodyCodec, bytes, travelRule);
}

const callRule = (b: CallBody): string | null => (b.to === '' ? 'to is empty' : b.from === '' ? 'from is empty' : b.message === '' ? 'message is empty' : null);
const answerRule = (b: AnswerBody): string | null => {
  if (b.ok) return b.code === '' ? null : 'an answer with a result has a code';
  return b.code === '' ? 'code is empty' : b.result === '' ? null : 'an error answer has a result';
};

const adminRule = (b: AdminBody): string | null => (b.user === '' ? 'user is empty' : b.command === '' ? 'command is empty' : null);

/** The body of a REPL's `COMMAND`. @throws CodedError `SCH_ERR_BAD_PAYLOAD` for an empty user or command. */
export function encodeAdminBody(body: AdminBody): Uint8Array {
  return encodeChecked(AdminBodyCodec, { user: body.user, secret: body.secret, command: body.command, args: body.args, write: body.write }, adminRule);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the bytes are a valid {@link AdminBody}. */
export function decodeAdminBody(bytes: Uint8Array): AdminBody {
  return decodeChecked(AdminBodyCodec, bytes, adminRule);
}

/** The body of `CALL`. @throws CodedError `SCH_ERR_BAD_PAYLOAD` for an empty to, from or message. */
export function encodeCallBody(body: CallBody): Uint8Array {
  return encodeChecked(CallBodyCodec, { to: body.to, from: body.from, message: body.message, payload: body.payload, cast: body.cast, timeoutMs: body.timeoutMs }, callRule);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the bytes are a valid {@link CallBody}. */
export function decodeCallBody(bytes: Uint8Array): CallBody {
  return decodeChecked(CallBodyCodec, bytes, callRule);
}

/** The body of `ANSWER`: a result (no code) or an error (a code, no result). @throws CodedError `SCH_ERR_BAD_PAYLOAD` otherwise. */
export function encodeAnswerBody(body: AnswerBody): Uint8Array {
  return encodeChecked(AnswerBodyCodec, { ok: body.ok, result: body.result, code: body.code, message: body.message }, answerRule);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the bytes are a valid {@link AnswerBody}. */
export function decodeAnswerBody(bytes: Uint8Array): AnswerBody {
  return decodeChecked(AnswerBodyCodec, bytes, answerRule);
}

/** A decoded `BROADCAST` body. */
export interface BroadcastBody {
  readonly topic: string;
  /** A view into the message body (no copy). */
  readonly frame: Uint8Array;
}

/**
 * `[u16 LE topic byte length][topic utf8][frame bytes]`, built with one allocation.
 * @throws CodedError `SCH_ERR_BAD_PAYLOAD` for an empty topic or one over 65535 UTF-8 bytes.
 */
export function encodeBroadcastBody(topic: string, frame: Uint8Array): Uint8Array {
  // UTF-8 needs at most 3 bytes per UTF-16 unit; encodeInto writes the topic in place.
  const out = new Uint8Array(2 + topic.length * 3 + frame.byteLength);
  const { written } = encoder.encodeInto(topic, out.subarray(2, 2 + topic.length * 3));
  if (written === 0 || written > MAX_TOPIC_BYTES) throw bad(`broadcast topic must be 1–${MAX_TOPIC_BYTES} UTF-8 bytes, got ${written}`);
  out[0] = written & 0xff;
  out[1] = written >>> 8;
  out.set(frame, 2 + written);
  return out.subarray(0, 2 + written + frame.byteLength);
}

/**
 * Split a `BROADCAST` body. `frame` is a view of `body`.
 * @throws CodedError `SCH_ERR_BAD_PAYLOAD` when the topic length overruns the body, is 0, or
 *   the topic is not UTF-8.
 */
export function decodeBroadcastBody(body: Uint8Array): BroadcastBody {
  if (body.byteLength < 2) throw bad(`broadcast body of ${body.byteLength} bytes has no topic length`);
  const topicBytes = body[0]! | (body[1]! << 8);
  if (topicBytes === 0 || 2 + topicBytes > body.byteLength) {
    throw bad(`broadcast topic length ${topicBytes} does not fit a body of ${body.byteLength} bytes`);
  }
  let topic: string;
  try {
    topic = strictDecoder.decode(body.subarray(2, 2 + topicBytes));
  } catch (err) {
    throw bad('broadcast topic is not UTF-8', err);
  }
  return { topic, frame: body.subarray(2 + topicBytes) };
}
