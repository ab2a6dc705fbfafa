import { ErrorReplyCodec, MailArrivedCodec, PUSH, ReconnectCodec, SceneChangedCodec, SceneMovedCodec, SceneRestartedCodec, SceneResumedCodec } from './generated/protocol.js';
import { isRetryableCode } from './errors.js';
import { FrameKind, encodeFrame } from './wire.js';

/**
 * An ERROR frame answering request `requestId` on route `opcode`, with the core ErrorReply
 * payload; `retryable` is set for the codes in RETRYABLE_CODES.
 */
export function encodeErrorFrame(opcode: number, requestId: number, code: string, message: string): Uint8Array {
  return encodeFrame(FrameKind.ERROR, opcode, requestId, ErrorReplyCodec.encode({ code, message, retryable: isRetryableCode(code) }));
}

/** The core push telling a player that its scene was restarted after a crash. */
export function encodeSceneRestartedFrame(sceneId: string, reason: string): Uint8Array {
  return encodeFrame(FrameKind.PUSH, PUSH.SceneRestarted, 0, SceneRestartedCodec.encode({ sceneId, reason }));
}

/** The core push telling a player that its scene moved to another engine after its engine was lost. */
export function encodeSceneResumedFrame(sceneId: string, reason: string): Uint8Array {
  return encodeFrame(FrameKind.PUSH, PUSH.SceneResumed, 0, SceneResumedCodec.encode({ sceneId, reason }));
}

/** The core push telling a player that its scene moved live to another engine (docs/scaling.md). */
export function encodeSceneMovedFrame(sceneId: string, reason: string): Uint8Array {
  return encodeFrame(FrameKind.PUSH, PUSH.SceneMoved, 0, SceneMovedCodec.encode({ sceneId, reason }));
}

/** The core push telling a client to move to the gateway at `url` (its own is draining; docs/scaling.md). */
export function encodeReconnectFrame(url: string, gatewayId: string, reason: string): Uint8Array {
  return encodeFrame(FrameKind.PUSH, PUSH.Reconnect, 0, ReconnectCodec.encode({ url, gatewayId, reason }));
}

/** The core push telling a player that it travelled from scene `from` to scene `to`. */
export function encodeSceneChangedFrame(from: string, to: string): Uint8Array {
  return encodeFrame(FrameKind.PUSH, PUSH.SceneChanged, 0, SceneChangedCodec.encode({ from, to }));
}

/** The core push telling an online player that new mail reached its mailbox (docs/mail.md). */
export function encodeMailArrivedFrame(mailId: number, from: string, subject: string, attachments: boolean): Uint8Array {
  return encodeFrame(FrameKind.PUSH, PUSH.MailArrived, 0, MailArrivedCodec.encode({ mailId, from, subject, attachments }));
}
