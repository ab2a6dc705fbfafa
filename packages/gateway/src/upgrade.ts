import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { CloseCode, ErrorCodes, WS_QUERY_TOKEN, WS_QUERY_VERSION, type Logger } from '@gos/schema';
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

type Refusal = NonNullable<ConnData['reject']>;

const decoder = new TextDecoder();
const NOT_ACCEPTING = { code: CloseCode.SERVER_SHUTDOWN, reason: 'gateway is not accepting players' } as const;
/** A session lookup not answered by then refuses the socket (GW_ERR_SESSION_STORE) rather than keep it waiting. */
export const AUTH_TIMEOUT_MS = 10_000;

/**
 * A client's WebSocket upgrade: always upgraded at once, inside uWS's handler. What can be
 * checked without the session store (the gateway accepts players, a token is given, the
 * protocol version) is checked here; a refusal is carried in the socket's data and sent as a
 * close code once open (browsers cannot read an HTTP status). The token itself is checked once
 * the socket is open ({@link authenticate}).
 *
 * Not upgrading after an await: uWebSockets.js v20.30's `HttpResponse.cork()`, when it upgrades
 * a response outside the upgrade handler, may take the new WebSocket for the HTTP response and
 * close it (no close frame: the client sees 1006) — every time for a `Connection: close`
 * handshake, now and then for a normal one (uNetworking/uWebSockets PR #1929, fixed in core
 * v20.79, which no build that loads on this glibc has).
 */
export function upgradeSocket(res: HttpResponse, req: HttpRequest, context: unknown, deps: UpgradeDeps): void {
  const key = req.getHeader('sec-websocket-key');
  const protocol = req.getHeader('sec-websocket-protocol');
  const extensions = req.getHeader('sec-websocket-extensions');
  const query = new URLSearchParams(req.getQuery() ?? '');
  const token = query.get(WS_QUERY_TOKEN);
  const version = query.get(WS_QUERY_VERSION);
  const ip = decoder.decode(res.getRemoteAddressAsText());
  let reject: ConnData['reject'] = null;
  if (!deps.accepting()) reject = NOT_ACCEPTING;
  else if (token === null || token === '') reject = { code: CloseCode.AUTH_REQUIRED, reason: ErrorCodes.GW_ERR_NO_TOKEN };
  else if (version !== String(deps.protocolVersion)) reject = { code: CloseCode.PROTOCOL_VERSION, reason: `${ErrorCodes.GW_ERR_PROTOCOL_VERSION}: server speaks ${deps.protocolVersion}` };
  const data = newConnData({ token: reject === null ? token : null, reject, ip, now: performance.now() });
  res.cork(() => res.upgrade({ conn: data } satisfies SocketSlot, key, protocol, extensions, context as never));
}

/**
 * An open socket's token, checked in the session store: the session, or why the socket is
 * refused (expired or unknown token, the gateway closing meanwhile, a flood's cool-down, the
 * store failing or not answering within AUTH_TIMEOUT_MS).
 */
export async function authenticate(token: string, ip: string, deps: UpgradeDeps): Promise<{ readonly session: Session } | { readonly reject: Refusal }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let session: Session | null;
  try {
    session = await Promise.race([
      deps.sessions.get(token, { gatewayId: deps.gatewayId }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the session store did not answer within ${AUTH_TIMEOUT_MS} ms`)), AUTH_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    deps.logger.error({ err }, 'session lookup failed');
    return { reject: { code: CloseCode.ENGINE_UNAVAILABLE, reason: ErrorCodes.GW_ERR_SESSION_STORE } };
  } finally {
    clearTimeout(timer);
  }
  if (session === null) return { reject: { code: CloseCode.AUTH_INVALID, reason: ErrorCodes.GW_ERR_SESSION_EXPIRED } };
  // The lookup is async: the gateway may have started closing meanwhile.
  if (!deps.accepting()) return { reject: NOT_ACCEPTING };
  // This gateway's cool-downs (the account's and the address's), and the account's on any other.
  const waitMs = Math.max(deps.limits.cooldownLeft(session.accountId, ip, performance.now()), session.floodCooldownMs);
  if (waitMs > 0) return { reject: { code: CloseCode.RATE_LIMITED, reason: `${ErrorCodes.GW_ERR_RATE_LIMITED}: cooling down after a flood; retry in ${waitMs} ms` } };
  return { session };
}
