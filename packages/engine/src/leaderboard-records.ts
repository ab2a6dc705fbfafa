/** FromScene.LEADERBOARD's payload: a `scene.leaderboards` operation for the engine's main thread. */
import { decodeRecordJson, isObject } from './record-json.js';

export interface LeaderboardRequest {
  /** A LeaderboardApi method's name (checked by the main thread against the list of operations). */
  readonly op: string;
  /** Its arguments, as JSON values. */
  readonly args: readonly unknown[];
}

function isLeaderboardRequest(value: unknown): value is LeaderboardRequest {
  return isObject(value) && typeof value['op'] === 'string' && Array.isArray(value['args']);
}

export function encodeLeaderboardRequest(request: LeaderboardRequest): string {
  return JSON.stringify({ op: request.op, args: request.args });
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is a {@link LeaderboardRequest}. */
export function decodeLeaderboardRequest(bytes: Uint8Array): LeaderboardRequest {
  return decodeRecordJson(bytes, isLeaderboardRequest, 'LEADERBOARD');
}
