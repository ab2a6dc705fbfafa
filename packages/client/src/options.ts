import { CodedError, ErrorCodes, WS_PATH, WS_QUERY_TOKEN, WS_QUERY_VERSION, silentLogger, type Logger, type Protocol } from '@gos/schema';
import type { WebSocketConstructor } from './websocket.js';

/** Automatic reconnection after a lost connection. */
export interface ReconnectOptions {
  /** Reconnect after a connection that was open is lost. @default true */
  readonly enabled?: boolean;
  /** Back-off before the first attempt (before jitter). @default 250 */
  readonly minDelayMs?: number;
  /** Back-off ceiling (before jitter). @default 5000 */
  readonly maxDelayMs?: number;
  /** Attempts after one loss before giving up; the count restarts once a connection is accepted. @default Infinity */
  readonly maxAttempts?: number;
}

export interface GameClientOptions<P extends Protocol = Protocol> {
  /** The WebSocket URL from login (`gateway`, e.g. `ws://host:3000/ws`). `http(s):` is turned into `ws(s):`. */
  readonly url: string;
  /**
   * Other gateways of the cluster, tried in turn when the current one is lost: pass the rest of
   * login's `gateways` (`gateways.slice(1)`). A reconnect goes to the next URL after an attempt
   * that was refused or failed, a lost connection (1006) or a gateway shutting down (4010); the
   * session token is valid on every gateway of the cluster. @default []
   */
  readonly fallbackUrls?: readonly string[];
  /** The session token from login; sent as `?token=` on every (re)connection. */
  readonly token: string;
  /** The generated protocol module's `protocol`; its `version` is sent as `?v=`. */
  readonly protocol: P;
  /**
   * The WebSocket constructor. Browsers (and Node 22+) have a global one; in Node 20 pass
   * `import WebSocket from 'ws'`. @default globalThis.WebSocket
   */
  readonly WebSocket?: WebSocketConstructor;
  /** Reject a request with `CLI_ERR_TIMEOUT` after this long; `Infinity` waits forever. @default 10000 */
  readonly requestTimeoutMs?: number;
  /** Send a PING frame this often so the gateway's idle timeout does not fire; 0 disables. @default 10000 */
  readonly pingIntervalMs?: number;
  /**
   * The gateway refuses a socket (bad token, wrong version, shutting down) by closing it once
   * open, and checks the token only then, so "open" alone does not mean "accepted". After the
   * socket opens, the client sends a PING and counts the connection as open on the PONG (or any
   * frame: the gateway answers only once the token is good), or after this long at the latest
   * (longer than the gateway's 10 s bound on a token check). 0 counts it as open as soon as the
   * socket opens. @default 15000
   */
  readonly acceptWaitMs?: number;
  /** `close()` waits this long for the closing handshake before letting the socket go. @default 5000 */
  readonly closeTimeoutMs?: number;
  /** Automatic reconnection; `false` is short for `{ enabled: false }`. */
  readonly reconnect?: ReconnectOptions | boolean;
  /** A pino-compatible logger. @default silentLogger */
  readonly logger?: Logger;
}

export interface ResolvedReconnectOptions {
  readonly enabled: boolean;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
}

export interface ResolvedGameClientOptions<P extends Protocol = Protocol> {
  /** The full socket URLs, with `token` and `v` in the query: `url` first, then `fallbackUrls`. */
  readonly socketUrls: readonly string[];
  readonly token: string;
  readonly protocol: P;
  readonly WebSocket: WebSocketConstructor;
  readonly requestTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly acceptWaitMs: number;
  readonly closeTimeoutMs: number;
  readonly reconnect: ResolvedReconnectOptions;
  readonly logger: Logger;
}

/** setTimeout fires at once for delays above this (signed 32-bit milliseconds). */
export const MAX_TIMER_MS = 0x7fff_ffff;

export const DEFAULTS = Object.freeze({
  requestTimeoutMs: 10_000,
  pingIntervalMs: 10_000,
  acceptWaitMs: 15_000,
  closeTimeoutMs: 5000,
  reconnect: Object.freeze({ enabled: true, minDelayMs: 250, maxDelayMs: 5000, maxAttempts: Infinity }),
});

function fail(option: string, why: string): never {
  throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `client option "${option}" ${why}`);
}

/** A delay in ms: a finite number in [min, MAX_TIMER_MS], or Infinity when allowed. */
function ms(name: string, value: unknown, fallback: number, min: number, allowInfinity = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) fail(name, `must be a number of milliseconds, got ${String(value)}`);
  if (value === Infinity && allowInfinity) return value;
  if (!Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
    fail(name, `must be between ${min} and ${MAX_TIMER_MS}${allowInfinity ? ' or Infinity' : ''}, got ${value}`);
  }
  return value;
}

/**
 * The socket URL for a gateway URL: `http(s)` becomes `ws(s)`, an empty path becomes `/ws`, and
 * `token` and `v` are set in the query (replacing any already there).
 */
export function socketUrl(url: string, token: string, version: number): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `client option "url" is not a URL: ${url}`, { cause });
  }
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') fail('url', `must be a ws:, wss:, http: or https: URL, got ${url}`);
  if (parsed.pathname === '' || parsed.pathname === '/') parsed.pathname = WS_PATH;
  parsed.searchParams.set(WS_QUERY_TOKEN, token);
  parsed.searchParams.set(WS_QUERY_VERSION, String(version));
  return parsed.toString();
}

function resolveReconnect(value: ReconnectOptions | boolean | undefined): ResolvedReconnectOptions {
  const d = DEFAULTS.reconnect;
  if (value === undefined) return d;
  if (typeof value === 'boolean') return Object.freeze({ ...d, enabled: value });
  if (typeof value !== 'object' || value === null) fail('reconnect', 'must be an object or a boolean');
  if (value.enabled !== undefined && typeof value.enabled !== 'boolean') fail('reconnect.enabled', 'must be a boolean');
  const minDelayMs = ms('reconnect.minDelayMs', value.minDelayMs, d.minDelayMs, 0);
  const maxDelayMs = ms('reconnect.maxDelayMs', value.maxDelayMs, Math.max(d.maxDelayMs, minDelayMs), 0);
  if (maxDelayMs < minDelayMs) fail('reconnect.maxDelayMs', `must be at least reconnect.minDelayMs (${minDelayMs}), got ${maxDelayMs}`);
  const maxAttempts = value.maxAttempts ?? d.maxAttempts;
  if (typeof maxAttempts !== 'number' || !(maxAttempts === Infinity || (Number.isInteger(maxAttempts) && maxAttempts >= 0))) {
    fail('reconnect.maxAttempts', `must be a non-negative integer or Infinity, got ${String(maxAttempts)}`);
  }
  return Object.freeze({ enabled: value.enabled ?? d.enabled, minDelayMs, maxDelayMs, maxAttempts });
}

function isProtocol(value: unknown): value is Protocol {
  const p = value as Partial<Protocol> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.version === 'number' &&
    typeof p.routes === 'object' &&
    typeof p.pushes === 'object' &&
    p.routeById instanceof Map &&
    p.pushById instanceof Map
  );
}

function fallbacks(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((u) => typeof u !== 'string' || u === '')) fail('fallbackUrls', 'must be an array of URLs (login\'s `gateways`)');
  return value as string[];
}

/** Validate options once, fill in defaults and freeze the result. The caller's object is not touched. */
export function resolveGameClientOptions<P extends Protocol>(o: GameClientOptions<P>): ResolvedGameClientOptions<P> {
  if (typeof o !== 'object' || o === null) fail('options', 'must be an object');
  if (typeof o.url !== 'string' || o.url === '') fail('url', 'must be a non-empty string (the `gateway` URL from login)');
  if (typeof o.token !== 'string' || o.token === '') fail('token', 'must be a non-empty string (the `token` from login)');
  if (!isProtocol(o.protocol)) fail('protocol', 'must be a generated protocol module (`protocol` from the generated file)');
  const WebSocketCtor = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof WebSocketCtor !== 'function') {
    fail('WebSocket', "is required where there is no global WebSocket (Node 20): pass `import WebSocket from 'ws'`");
  }
  const logger = o.logger ?? silentLogger;
  if (typeof logger !== 'object' || logger === null || typeof logger.child !== 'function') fail('logger', 'must be a pino-compatible logger');
  return Object.freeze({
    socketUrls: Object.freeze([o.url, ...fallbacks(o.fallbackUrls)].map((u) => socketUrl(u, o.token, o.protocol.version))),
    token: o.token,
    protocol: o.protocol,
    WebSocket: WebSocketCtor,
    requestTimeoutMs: ms('requestTimeoutMs', o.requestTimeoutMs, DEFAULTS.requestTimeoutMs, 1, true),
    pingIntervalMs: ms('pingIntervalMs', o.pingIntervalMs, DEFAULTS.pingIntervalMs, 0),
    acceptWaitMs: ms('acceptWaitMs', o.acceptWaitMs, DEFAULTS.acceptWaitMs, 0),
    closeTimeoutMs: ms('closeTimeoutMs', o.closeTimeoutMs, DEFAULTS.closeTimeoutMs, 0),
    reconnect: resolveReconnect(o.reconnect),
    logger,
  });
}

/** Per-request timeout: validated like `requestTimeoutMs`. */
export function requestTimeout(value: number | undefined, fallback: number): number {
  return ms('timeoutMs', value, fallback, 1, true);
}
