import { CloseCode, NO_RECONNECT_CLOSE_CODES } from '@gos/schema';

/** Close code and reason of a clean close by `close()`. */
export const NORMAL_CLOSURE = 1000;
export const CLIENT_CLOSE_REASON = 'client closed';
/** What a socket that went away without a closing handshake reports. */
export const ABNORMAL_CLOSURE = 1006;
/** uWebSockets.js closes with 1009 (message too big) itself: final like its 4009 counterpart (docs/errors.md). */
const MESSAGE_TOO_BIG = 1009;

/** Close codes after which the client does not reconnect: the gateway's list, plus 1009. */
export function isFinalCloseCode(code: number): boolean {
  return NO_RECONNECT_CLOSE_CODES.has(code) || code === MESSAGE_TOO_BIG;
}

/** The gateway may be gone (the connection dropped, or it is shutting down): worth trying another one. */
export function isGatewayGone(code: number): boolean {
  return code === ABNORMAL_CLOSURE || code === CloseCode.SERVER_SHUTDOWN;
}

export function describeClose(code: number, reason: string): string {
  return reason === '' ? String(code) : `${code} ${reason}`;
}
