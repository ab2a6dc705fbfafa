import type { ErrorData } from '@gos/schema';
import { decodeRecordJson, encoder, isObject } from './record-json.js';
import { isTimerChanges, isTimerRecord, type TimerChanges, type TimerRecord } from './world-records.js';

export * from './world-records.js';
export * from './entity-records.js';
export * from './stats-records.js';
export * from './task-records.js';


/**
 * Record types on the main ↔ scene rings. A record is (type, sid, value, payload): `sid` is the
 * engine-local id of the player's connection the record concerns (0 when none), `value` a number
 * whose meaning depends on the type; each type below says what it uses.
 */
export const ToScene = {
  /** sid. payload=JSON {@link JoinPayload}. */
  JOIN: 1,
  /** sid; value=1 when the player leaves for a travel (its last save then always carries its data). */
  LEAVE: 2,
  /** sid. payload=the client's frame, header included. */
  FRAME: 3,
  /** Persist everything, run onDispose, answer STOPPED; value {@link STOP_AT_TICK}: right after the scene's next tick. */
  STOP: 4,
  /** sid. payload=JSON ErrorData: the player's travel will not happen (its `travel()` rejects). */
  TRAVEL_FAILED: 5,
  /** value=the call's id here (0: a cast, no answer). payload=JSON {@link IncomingCall}: another scene calls this one. */
  CALL: 6,
  /** value=the scene's own call id. payload=JSON {@link CallAnswer}: the answer to a call this scene made. */
  ANSWER: 7,
  /** payload=JSON {@link SharedData}: rows of a shared table (a snapshot part, or what changed). */
  SHARED_DATA: 8,
  /** The shared tables the scene subscribed to (SHARED_SUBSCRIBE) have all been sent: it may start. */
  SHARED_READY: 9,
} as const;

export const FromScene = {
  /** sid. payload=frame for that player. */
  SEND: 32,
  /** payload=frame for every player of the scene. */
  BROADCAST: 33,
  /** sid; value=close code. payload=reason (utf-8). */
  KICK: 34,
  /** sid. The player is in the scene. */
  JOINED: 35,
  /** sid. payload=JSON ErrorData. */
  JOIN_FAILED: 36,
  /** sid; value=1 when the player left (last save). payload=JSON {@link SavePayload}. */
  SAVE_PLAYER: 37,
  /**
   * value: bit 1 set when final, bit 2 set when the timer changes staged before it (SAVE_TIMERS)
   * go with this save. payload=JSON scene state.
   */
  SAVE_SCENE: 38,
  /** The scene has flushed and disposed; the task ends next. */
  STOPPED: 39,
  /** onCreate finished; the scene accepts players. value=its player cap (maxPlayers; 0: none). payload=JSON {@link ReadyPayload}. */
  READY: 40,
  /**
   * About once a second while the scene ticks: value=ticks that took longer than tickMs since the
   * last STATS. payload={@link encodeTickFigures}: the durations in ms of the ticks since, and of their entity replication.
   */
  STATS: 41,
  /** sid. payload=JSON {@link TravelPayload}: the player asks to travel (player.travel). */
  TRAVEL: 42,
  /** value=the scene's call id (0: a cast). payload=JSON {@link OutgoingCall}: the scene calls another (scene.call, scene.cast). */
  CALL: 43,
  /** value=the id of the call it answers (ToScene.CALL). payload=JSON {@link CallAnswer}. */
  ANSWER: 44,
  /**
   * value=the scene's call id. payload=JSON {@link PlayerPush}: a push for a player who may be
   * anywhere in the cluster (scene.sendTo); answered with ToScene.ANSWER, result `true` when
   * handed to the player's connection, `false` when it is offline.
   */
  SEND_TO: 45,
  /**
   * payload=JSON {@link TimerChanges}: part of the durable-timer changes of the SAVE_SCENE that
   * follows (sent in parts so that no record outgrows the ring); staged until it arrives.
   */
  SAVE_TIMERS: 46,
  /** Before onCreate. payload=JSON string[]: the shared tables the game declares; answered with SHARED_DATA, then SHARED_READY. */
  SHARED_SUBSCRIBE: 47,
  /** payload=JSON {@link SharedChanges}: writes of a shared table this scene owns, staged for the SAVE_SCENE that follows (like SAVE_TIMERS). */
  SAVE_SHARED: 48,
  /** payload={@link encodeEntityFrames} with `remove` empty: one tick's cell frames (docs/aoi.md), for every gateway with players here. */
  CELLS: 49,
  /** sid. payload={@link encodeEntityFrames}: the player's cells to hear (`add`) and not (`remove`), and the frames to send it after. */
  INTEREST: 50,
  /** value=the scene's call id. payload=JSON {@link LeaderboardRequest} (leaderboard-records.ts): a `scene.leaderboards` operation, answered with ToScene.ANSWER. */
  LEADERBOARD: 51,
  /** payload=JSON {@link LogRecordEntry}[] (log-records.ts): player-log events the scene appended (player.log), written to the store off the tick. */
  LOGS: 52,
  /** value=the scene's call id. payload=JSON {@link MailRequest} (mail-records.ts): a `scene.mail` operation, answered with ToScene.ANSWER. */
  MAIL: 53,
} as const;

/** SAVE_SCENE value bits: WITH_TIMERS covers the staged shared writes too. */
export const SaveSceneFlag = { FINAL: 1, WITH_TIMERS: 2 } as const;

/**
 * The call message a scene's thread answers itself by handing a push to one of its players:
 * the way `sendTo` reaches a player in another scene. Payload: JSON {@link PlayerPush} without
 * `timeoutMs`. Messages starting with `$` are the framework's; scene code cannot call them.
 */
export const PUSH_MESSAGE = '$push';

/**
 * The call message that starts a scene or service for its due durable timers (TimerWaker):
 * answered at once with `true`; the owner, started, fires what is due.
 */
export const WAKE_MESSAGE = '$wake';

/** The REPL's `state`, `player`, `scenes`: payload `{ what: 'state' | 'player' | 'summary', playerId? }`; answered with what it asked for. */
export const INSPECT_MESSAGE = '$inspect';
/** The REPL's `call`: payload `{ message, payload, cast? }`; runs the scene's own handler with a JSON payload (checked by the rpc: codec when declared). */
export const ADMIN_CALL_MESSAGE = '$call';
/** The REPL's `eval` (with --write only): payload `{ code }`, a function's source run on the scene at its next tick boundary. */
export const EVAL_MESSAGE = '$eval';

/** Framework messages that never start a scene: they are about a scene that runs. */
export const NO_START_MESSAGES: ReadonlySet<string> = new Set([PUSH_MESSAGE, INSPECT_MESSAGE, EVAL_MESSAGE]);

/** How often a scene reports its tick durations (FromScene.STATS). */
export const SCENE_STATS_INTERVAL_MS = 1000;

export interface JoinPayload {
  readonly playerId: string;
  readonly name: string;
  /** Persisted data, or null for a new player (the scene calls createPlayer). */
  readonly data: unknown;
  /** True when the player is already in this scene on another connection: keep its hot data. */
  readonly takeover: boolean;
  /** What the scene that sent the player here gave `travel()` (any JSON value); absent for a login or a resume. */
  readonly arrival?: unknown;
  /** The player comes from another scene: its data is saved again here (its row then names this scene). */
  readonly travelled?: boolean;
  /** Its durable timers (absent for a takeover: the scene has them). */
  readonly timers?: readonly TimerRecord[];
}

/** A call (or cast) a scene makes: FromScene.CALL. */
export interface OutgoingCall {
  /** The target scene. */
  readonly to: string;
  readonly message: string;
  /** JSON text of the payload ('null' for none). */
  readonly payload: string;
  /** Place the target on demand when it is placed nowhere (else refused with ENG_ERR_NOT_PLACED). */
  readonly place: boolean;
  /** The caller's timeout (0 for a cast): how long the engine keeps the way back for the answer. */
  readonly timeoutMs: number;
}

/** A call (or cast) a scene receives: ToScene.CALL. */
export interface IncomingCall {
  /** The calling scene. */
  readonly from: string;
  readonly message: string;
  /** JSON text of the payload. */
  readonly payload: string;
  /** A call's time left when it was delivered (0 for a cast): one that waits longer in a service's queue is dropped unanswered. */
  readonly timeoutMs?: number;
}

/** A push for one player, wherever it is (FromScene.SEND_TO, and the payload of a {@link PUSH_MESSAGE} call). */
export interface PlayerPush {
  readonly playerId: string;
  /** The push frame, header included, in base64. */
  readonly frame: string;
  /** How long the sender waits for the outcome (FromScene.SEND_TO only). */
  readonly timeoutMs?: number;
}

/** The outcome of a call: its result's JSON text, or a coded error. */
export type CallAnswer = { readonly ok: true; readonly result: string } | { readonly ok: false; readonly code: string; readonly message: string };

export interface TravelPayload {
  /** The target scene. */
  readonly to: string;
  /** JSON text of the arrival value, or '' for none. */
  readonly arrival: string;
}

export interface SavePayload {
  readonly playerId: string;
  readonly data: unknown;
  /** The player's durable-timer changes since its last save (written with its row). */
  readonly timers?: TimerChanges;
  /** The last save of a player leaving for a travel: every timer it still has, for a target scene of this engine. */
  readonly pending?: readonly TimerRecord[];
}

/** The owner id, in the store's timers table, of a player's durable timers (no scene id starts with `@`). */
export function playerTimerOwner(playerId: string): string {
  return `@${playerId}`;
}

export function isJoinPayload(value: unknown): value is JoinPayload {
  const timers = isObject(value) ? value['timers'] : undefined;
  return (
    isObject(value) &&
    typeof value['playerId'] === 'string' &&
    value['playerId'] !== '' &&
    typeof value['name'] === 'string' &&
    'data' in value &&
    typeof value['takeover'] === 'boolean' &&
    (timers === undefined || (Array.isArray(timers) && timers.every(isTimerRecord)))
  );
}

export function isTravelPayload(value: unknown): value is TravelPayload {
  return isObject(value) && typeof value['to'] === 'string' && value['to'] !== '' && typeof value['arrival'] === 'string';
}

function isErrorData(value: unknown): value is ErrorData {
  return isObject(value) && typeof value['code'] === 'string' && value['code'] !== '' && typeof value['message'] === 'string';
}

/** What a scene tells the main thread once ready, beside its player cap. */
export interface ReadyPayload {
  /**
   * Its tick interval when it takes fire-and-forget inputs at its ticks (`inputs: 'at-tick'`,
   * ticking on the wall-clock grid of that interval), told to gateways with JOINED; 0 when it
   * handles inputs as they arrive, or does not tick (a service).
   */
  readonly inputTickMs: number;
}

function isReadyPayload(value: unknown): value is ReadyPayload {
  if (!isObject(value)) return false;
  const tickMs = value['inputTickMs'];
  return typeof tickMs === 'number' && Number.isInteger(tickMs) && tickMs >= 0 && tickMs <= 0xffffffff;
}

export function encodeReadyPayload(ready: ReadyPayload): Uint8Array {
  return encoder.encode(JSON.stringify({ inputTickMs: ready.inputTickMs }));
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is a {@link ReadyPayload}. */
export function decodeReadyPayload(bytes: Uint8Array): ReadyPayload {
  const { inputTickMs } = decodeRecordJson(bytes, isReadyPayload, 'ready');
  return { inputTickMs };
}

/** The payload of `FromScene.JOIN_FAILED` and `ToScene.TRAVEL_FAILED`: JSON {@link ErrorData}. */
export function encodeErrorPayload(error: ErrorData): Uint8Array {
  return encoder.encode(JSON.stringify({ code: error.code, message: error.message }));
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is an {@link ErrorData} with a code. */
export function decodeErrorPayload(bytes: Uint8Array): ErrorData {
  const { code, message } = decodeRecordJson(bytes, isErrorData, 'error');
  return { code, message };
}

function isOutgoingCall(value: unknown): value is OutgoingCall {
  return (
    isObject(value) &&
    typeof value['to'] === 'string' &&
    typeof value['message'] === 'string' &&
    typeof value['payload'] === 'string' &&
    typeof value['place'] === 'boolean' &&
    typeof value['timeoutMs'] === 'number'
  );
}

function isIncomingCall(value: unknown): value is IncomingCall {
  const t = isObject(value) ? value['timeoutMs'] : undefined;
  return isObject(value) && typeof value['from'] === 'string' && typeof value['message'] === 'string' && typeof value['payload'] === 'string' && (t === undefined || (typeof t === 'number' && t >= 0));
}

function isCallAnswer(value: unknown): value is CallAnswer {
  if (!isObject(value)) return false;
  if (value['ok'] === true) return typeof value['result'] === 'string';
  return value['ok'] === false && typeof value['code'] === 'string' && value['code'] !== '' && typeof value['message'] === 'string';
}

/** FromScene.CALL's payload. */
export function encodeOutgoingCall(call: OutgoingCall): Uint8Array {
  return encoder.encode(JSON.stringify({ to: call.to, message: call.message, payload: call.payload, place: call.place, timeoutMs: call.timeoutMs }));
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is an {@link OutgoingCall}. */
export function decodeOutgoingCall(bytes: Uint8Array): OutgoingCall {
  return decodeRecordJson(bytes, isOutgoingCall, 'CALL');
}

/** ToScene.CALL's payload. */
export function encodeIncomingCall(call: IncomingCall): Uint8Array {
  return encoder.encode(JSON.stringify({ from: call.from, message: call.message, payload: call.payload, ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }) }));
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is an {@link IncomingCall}. */
export function decodeIncomingCall(bytes: Uint8Array): IncomingCall {
  return decodeRecordJson(bytes, isIncomingCall, 'CALL');
}

/** The payload of FromScene.ANSWER and ToScene.ANSWER. */
export function encodeCallAnswer(answer: CallAnswer): Uint8Array {
  return encoder.encode(JSON.stringify(answer.ok ? { ok: true, result: answer.result } : { ok: false, code: answer.code, message: answer.message }));
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is a {@link CallAnswer}. */
export function decodeCallAnswer(bytes: Uint8Array): CallAnswer {
  return decodeRecordJson(bytes, isCallAnswer, 'ANSWER');
}

function isPlayerPush(value: unknown): value is PlayerPush {
  if (!isObject(value) || typeof value['playerId'] !== 'string' || value['playerId'] === '' || typeof value['frame'] !== 'string') return false;
  const timeoutMs = value['timeoutMs'];
  return timeoutMs === undefined || (typeof timeoutMs === 'number' && Number.isInteger(timeoutMs) && timeoutMs > 0);
}

/** FromScene.SEND_TO's payload, and a {@link PUSH_MESSAGE} call's (JSON text). */
export function encodePlayerPush(push: PlayerPush): string {
  return JSON.stringify(push.timeoutMs === undefined ? { playerId: push.playerId, frame: push.frame } : { playerId: push.playerId, frame: push.frame, timeoutMs: push.timeoutMs });
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is a {@link PlayerPush}. */
export function decodePlayerPush(bytes: Uint8Array): PlayerPush {
  return decodeRecordJson(bytes, isPlayerPush, 'SEND_TO');
}

/** A {@link PUSH_MESSAGE} call's payload, already parsed; null when it is not a {@link PlayerPush}. */
export function asPlayerPush(value: unknown): PlayerPush | null {
  return isPlayerPush(value) ? value : null;
}

export function isSavePayload(value: unknown): value is SavePayload {
  if (!isObject(value) || typeof value['playerId'] !== 'string') return false;
  const timers = value['timers'];
  const pending = value['pending'];
  return (timers === undefined || isTimerChanges(timers)) && (pending === undefined || (Array.isArray(pending) && pending.every(isTimerRecord)));
}


/** The payload of `ToScene.JOIN`: UTF-8 JSON (the player's data is JSON already). */
export function encodeJoinPayload(join: JoinPayload): Uint8Array {
  const { playerId, name, data, takeover, arrival, travelled, timers } = join;
  return encoder.encode(JSON.stringify({ playerId, name, data, takeover, ...(arrival === undefined ? {} : { arrival }), ...(travelled === true ? { travelled } : {}), ...(timers === undefined || timers.length === 0 ? {} : { timers }) }));
}

/** The payload of `FromScene.TRAVEL`. */
export function encodeTravelPayload(travel: TravelPayload): Uint8Array {
  return encoder.encode(JSON.stringify({ to: travel.to, arrival: travel.arrival }));
}

/** The payload of `FromScene.TRAVEL`. @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is a {@link TravelPayload}. */
export function decodeTravelPayload(bytes: Uint8Array): TravelPayload {
  return decodeRecordJson(bytes, isTravelPayload, 'TRAVEL');
}

/** The payload of `ToScene.JOIN`. @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is a {@link JoinPayload}. */
export function decodeJoinPayload(bytes: Uint8Array): JoinPayload {
  return decodeRecordJson(bytes, isJoinPayload, 'JOIN');
}

/**
 * The payload of `FromScene.SAVE_PLAYER` from the data's JSON as the scene already has it (no
 * second stringify): `dataJson` undefined (unchanged data, or data JSON cannot hold) sends
 * `null`, nothing to save.
 */
export function encodeSavePayload(playerId: string, dataJson: string | undefined, timers?: { readonly changes: TimerChanges | null; readonly pending?: readonly TimerRecord[] }): Uint8Array {
  const changes = timers?.changes === null || timers?.changes === undefined ? '' : `,"timers":${JSON.stringify(timers.changes)}`;
  const pending = timers?.pending === undefined ? '' : `,"pending":${JSON.stringify(timers.pending)}`;
  return encoder.encode(`{"playerId":${JSON.stringify(playerId)},"data":${dataJson ?? 'null'}${changes}${pending}}`);
}

/** The payload of `FromScene.SAVE_PLAYER`. @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is a {@link SavePayload}. */
export function decodeSavePayload(bytes: Uint8Array): SavePayload {
  const save = decodeRecordJson(bytes, isSavePayload, 'SAVE_PLAYER');
  // Player data that JSON cannot hold (`undefined`) arrives without its field: nothing to save.
  return save.data === undefined ? { ...save, data: null } : save;
}

/** The payload of `FromScene.SAVE_SCENE`: any JSON value (the scene's state). @throws CodedError `SCH_ERR_BAD_PAYLOAD` for bytes that are not UTF-8 JSON. */
export function decodeSceneState(bytes: Uint8Array): unknown {
  return decodeRecordJson(bytes, (_value: unknown): _value is unknown => true, 'SAVE_SCENE');
}
