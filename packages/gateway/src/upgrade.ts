import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { CloseCode, ErrorCodes, WS_QUERY_TOKEN, WS_QUERY_VERSION, type Logger } from '@gos/schema';
import { track } from './http.js';
import type { RateLimits } from './rate-limits.js';
import type { Session, SessionStore } from './session/index.js';
import { newConnData, type ConnData, type SocketSlot } from './socket.js';

export interface UpgradeDeps {
  /** Whether the gateway takes players now (not starting, not closing). */
  readonly accepting: () => boolean;
  readonly protocolVersion: number;
  /** This gateway: the session's presence names it once the socket is accepted. */
  readonly gatewayId: string;
  readonly sessions: SessionStore;
  readonly limits: RateLimits;
  readonly logger: Logger;
}

const decoder = new TextDecoder();
const NOT_ACCEPTING = { code: CloseCode.SERVER_SHUTDOWN, reason: 'gateway is not accepting players' } as const;

/**
 * A client's WebSocket upgrade: its session token and protocol version are checked (the token
 * in the session store, asynchronously) and the socket is upgraded either way. A refusal is
 * carried in its data and sent as a close code once open: browsers cannot read an HTTP status.
 */
export function upgradeSocket(res: HttpResponse, req: HttpRequest, context: unknown, deps: UpgradeDeps): void {
  const state = track(res);
  const key = req.getHeader('sec-websocket-key');
  const protocol = req.getHeader('sec-websocket-protocol');
  const extensions = req.getHeader('sec-websocket-extensions');
  const query = new URLSearchParams(req.getQuery() ?? '');
  const token = query.get(WS_QUERY_TOKEN);
  const version = query.get(WS_QUERY_VERSION);
  const ip = decoder.decode(res.getRemoteAddressAsText());
  const accept = (session: Session | null, reject: ConnData['reject']): void => {
    if (state.aborted) return;
    // The session lookup is async: the gateway may have started closing meanwhile.
    if (!deps.accepting() && reject === null) reject = NOT_ACCEPTING;
    const now = performance.now();
    if (reject === null && session !== null) {
      const waitMs = deps.limits.cooldownLeft(session.accountId, ip, now);
      if (waitMs > 0) reject = { code: CloseCode.RATE_LIMITED, reason: `${ErrorCodes.GW_ERR_RATE_LIMITED}: cooling down after a flood; retry in ${waitMs} ms` };
    }
    const bucket = reject === null && session !== null ? deps.limits.messageBucket(session.accountId, now) : null;
    const data = newConnData({ session, reject, ip, bucket, now });
    res.cork(() => res.upgrade({ conn: data } satisfies SocketSlot, key, protocol, extensions, context as never));
  };
  if (!deps.accepting()) return accept(null, NOT_ACCEPTING);
  if (token === null || token === '') return accept(null, { code: CloseCode.AUTH_REQUIRED, reason: ErrorCodes.GW_ERR_NO_TOKEN });
  if (version !== String(deps.protocolVersion)) {
    return accept(null, { code: CloseCode.PROTOCOL_VERSION, reason: `${ErrorCodes.GW_ERR_PROTOCOL_VERSION}: server speaks ${deps.protocolVersion}` });
  }
  deps.sessions.get(token, { gatewayId: deps.gatewayId }).then(
    (session) => accept(session, session === null ? { code: CloseCode.AUTH_INVALID, reason: ErrorCodes.GW_ERR_SESSION_EXPIRED } : null),
    (err: unknown) => {
      deps.logger.error({ err }, 'session lookup failed');
      accept(null, { code: CloseCode.ENGINE_UNAVAILABLE, reason: ErrorCodes.GW_ERR_SESSION_STORE });
    },
  );
}
