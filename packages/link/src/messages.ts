import { CodedError, ErrorCodes } from '@gos/schema';

/**
 * Gateway → engine message types, carried by the link as `(type, channel, body)`.
 * The channel is the gateway's connection id (`connId`) of the player's socket.
 */
export const GatewayToEngine = {
  /** channel = connId; body = JSON {@link JoinBody}. */
  JOIN: 16,
  /** channel = connId; empty body. The socket is gone. */
  LEAVE: 17,
  /** channel = connId; body = the client's raw frame bytes, forwarded unchanged. */
  CLIENT_FRAME: 18,
} as const;
export type GatewayToEngineType = (typeof GatewayToEngine)[keyof typeof GatewayToEngine];

/** Engine → gateway message types. */
export const EngineToGateway = {
  /** channel = connId; body = a raw frame to send to that socket. */
  TO_CLIENT: 32,
  /** channel = 0; body = `[u16 LE topic byte length][topic utf8][frame bytes]` ({@link encodeBroadcastBody}). */
  BROADCAST: 33,
  /** channel = connId; body = JSON {@link KickBody}. The gateway closes the socket. */
  KICK: 34,
  /** channel = connId; body = JSON {@link JoinedBody}. */
  JOINED: 35,
  /** channel = connId; body = JSON {@link JoinFailedBody}. */
  JOIN_FAILED: 36,
  /**
   * channel = connId; body empty. The player's scene crashed: the frames it had not handled are
   * lost, so the gateway answers the connection's waiting requests (retryable).
   */
  SCENE_CRASHED: 37,
} as const;
export type EngineToGatewayType = (typeof EngineToGateway)[keyof typeof EngineToGateway];

/** Alias of {@link GatewayToEngine} under the name the design notes use. */
export const GW_TO_ENGINE = GatewayToEngine;
/** Alias of {@link EngineToGateway} under the name the design notes use. */
export const ENGINE_TO_GW = EngineToGateway;

/** Body of `JOIN`. */
export interface JoinBody {
  readonly playerId: string;
  readonly name: string;
  readonly sceneId: string;
  readonly sceneType?: string;
}

/** Body of `KICK`: the WebSocket close code (1000–4999) and reason the gateway closes with. */
export interface KickBody {
  readonly closeCode: number;
  readonly reason: string;
}

/** Body of `JOINED`. */
export interface JoinedBody {
  readonly sceneId: string;
}

/** Body of `JOIN_FAILED`: error data, as every error crossing a process boundary. */
export interface JoinFailedBody {
  readonly code: string;
  readonly message: string;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
/** Longest broadcast topic, in UTF-8 bytes (its length travels as a u16). */
export const MAX_TOPIC_BYTES = 0xffff;

function bad(message: string, cause?: unknown): CodedError {
  return new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, message, cause === undefined ? undefined : { cause });
}

/** JSON-encode a message body (UTF-8). */
export function encodeJsonBody(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/**
 * Decode a JSON message body that must be an object. With a `guard`, the object is also
 * checked to be a `T`; without one the shape is the caller's word (prefer the typed decoders
 * below).
 * @throws CodedError `SCH_ERR_BAD_PAYLOAD` for bytes that are not UTF-8 JSON, not an object,
 *   or refused by the guard. Never anything else.
 */
export function decodeJsonBody<T = Record<string, unknown>>(body: Uint8Array, guard?: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    value = JSON.parse(strictDecoder.decode(body));
  } catch (err) {
    throw bad(`link message body is not UTF-8 JSON (${body.byteLength} bytes)`, err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('link message body is not a JSON object');
  if (guard !== undefined && !guard(value)) throw bad('link message body does not have the expected fields');
  return value as T;
}

function isString(value: unknown, allowEmpty = false): value is string {
  return typeof value === 'string' && (allowEmpty || value.length > 0);
}

type Fields = Record<string, unknown>;

export function isJoinBody(value: unknown): value is JoinBody {
  const v = value as Fields;
  return (
    typeof value === 'object' && value !== null &&
    isString(v.playerId) && isString(v.name, true) && isString(v.sceneId) &&
    (v.sceneType === undefined || isString(v.sceneType))
  );
}

export function isKickBody(value: unknown): value is KickBody {
  const v = value as Fields;
  return (
    typeof value === 'object' && value !== null &&
    Number.isInteger(v.closeCode) && (v.closeCode as number) >= 1000 && (v.closeCode as number) <= 4999 &&
    isString(v.reason, true)
  );
}

export function isJoinedBody(value: unknown): value is JoinedBody {
  return typeof value === 'object' && value !== null && isString((value as Fields).sceneId);
}

export function isJoinFailedBody(value: unknown): value is JoinFailedBody {
  const v = value as Fields;
  return typeof value === 'object' && value !== null && isString(v.code) && isString(v.message, true);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the body is a valid {@link JoinBody}. */
export function decodeJoinBody(body: Uint8Array): JoinBody {
  return decodeJsonBody(body, isJoinBody);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the body is a valid {@link KickBody}. */
export function decodeKickBody(body: Uint8Array): KickBody {
  return decodeJsonBody(body, isKickBody);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the body is a valid {@link JoinedBody}. */
export function decodeJoinedBody(body: Uint8Array): JoinedBody {
  return decodeJsonBody(body, isJoinedBody);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the body is a valid {@link JoinFailedBody}. */
export function decodeJoinFailedBody(body: Uint8Array): JoinFailedBody {
  return decodeJsonBody(body, isJoinFailedBody);
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
