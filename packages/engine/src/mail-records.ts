/** FromScene.MAIL's payload: a `scene.mail` operation for the engine's main thread (docs/mail.md). */
import { decodeRecordJson, isObject } from './record-json.js';

/** The operations, and what each one's `args` hold. */
export const MAIL_OPS = ['send', 'list', 'get', 'counts', 'read', 'delete', 'reserve', 'claim', 'release'] as const;
export type MailOp = (typeof MAIL_OPS)[number];

export interface MailRequest {
  readonly op: MailOp;
  /**
   * Its arguments, as JSON values: `send` [to, mail]; `list` [playerId, options]; `get` and
   * `counts` [playerId, mailId?]; `read` and `delete` [playerId, mailIds]; a claim's steps:
   * `reserve` [playerId, mailId] (checked and held for this claim), then `claim` [playerId, mailId,
   * data] where data is the player's data (JSON text) holding what the claim granted, or
   * `release` [playerId, mailId] when the scene gave up before sending it.
   */
  readonly args: readonly unknown[];
}

const OPS: ReadonlySet<string> = new Set(MAIL_OPS);

function isMailRequest(value: unknown): value is MailRequest {
  return isObject(value) && typeof value['op'] === 'string' && OPS.has(value['op']) && Array.isArray(value['args']);
}

export function encodeMailRequest(request: MailRequest): string {
  return JSON.stringify({ op: request.op, args: request.args });
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is a {@link MailRequest}. */
export function decodeMailRequest(bytes: Uint8Array): MailRequest {
  return decodeRecordJson(bytes, isMailRequest, 'MAIL');
}
