import { CodedError, ErrorCodes } from '@gos/schema';

/** Answer of `POST /v1/auth/register`. */
export interface RegisterResult {
  readonly accountId: string;
}

/** Answer of `POST /v1/auth/login`: what {@link GameClient} needs to connect. */
export interface LoginResult {
  readonly accountId: string;
  /** Session token: the `token` option of `GameClient`. */
  readonly token: string;
  /** WebSocket URL of the gateway to connect to (`ws://host:port/ws`): the `url` option of `GameClient`. */
  readonly gateway: string;
  /**
   * Every live gateway, `gateway` first (older servers send none): pass `gateways.slice(1)` as
   * `fallbackUrls` so the client moves to another gateway when its own is lost.
   */
  readonly gateways?: readonly string[];
  /** When the token expires (ms since the epoch). */
  readonly expiresAt: number;
  /** The account's name (the gateway includes it; older servers may not). */
  readonly username?: string;
}

/** Answer of `POST /v1/auth/guest`: a login for a fresh guest account. */
export interface GuestResult extends LoginResult {
  readonly username: string;
}

/** The subset of `fetch` the auth helpers use: the global one fits, in browsers and Node 20. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{ readonly status: number; readonly ok: boolean; text(): Promise<string> }>;

export interface AuthRequestOptions {
  /** @default globalThis.fetch */
  readonly fetch?: FetchLike;
  /** Give up (`CLI_ERR_TIMEOUT`) after this long. @default 10000 */
  readonly timeoutMs?: number;
}

export interface AuthClientOptions extends AuthRequestOptions {
  /** The gateway's HTTP origin (e.g. `http://127.0.0.1:3000`, or `location.origin` in a browser). */
  readonly baseUrl: string;
}

/**
 * An HTTP auth failure. `code` is the server's code (`GW_ERR_BAD_CREDENTIALS`,
 * `GW_ERR_USERNAME_TAKEN`, …) when it answered with `{ code, message }`; `CLI_ERR_HTTP` when the
 * answer is not the documented JSON or the request failed; `CLI_ERR_TIMEOUT` after `timeoutMs`.
 */
export class HttpError extends CodedError {
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;
  constructor(code: string, message: string, status: number, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'HttpError';
    this.status = status;
  }
}

const DEFAULT_AUTH_TIMEOUT_MS = 10_000;

function optionError(option: string, why: string): CodedError {
  return new CodedError(ErrorCodes.OPT_ERR_INVALID, `auth option "${option}" ${why}`);
}

type Shape = Readonly<Record<string, 'string' | 'number'>>;
const REGISTER_SHAPE: Shape = { accountId: 'string' };
const LOGIN_SHAPE: Shape = { accountId: 'string', token: 'string', gateway: 'string', expiresAt: 'number' };
const GUEST_SHAPE: Shape = { ...LOGIN_SHAPE, username: 'string' };

function hasShape(body: unknown, shape: Shape): boolean {
  if (typeof body !== 'object' || body === null) return false;
  for (const [key, type] of Object.entries(shape)) {
    if (typeof (body as Record<string, unknown>)[key] !== type) return false;
  }
  return true;
}

function endpoint(baseUrl: string, path: string): string {
  // Relative to the base, so that a base with a path prefix (`https://host/game/`) keeps it.
  try {
    return new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).toString();
  } catch (cause) {
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `auth option "baseUrl" is not a URL: ${baseUrl}`, { cause });
  }
}

async function post<T>(baseUrl: string, path: string, body: object, shape: Shape, opts: AuthRequestOptions | undefined): Promise<T> {
  if (typeof baseUrl !== 'string' || baseUrl === '') throw optionError('baseUrl', 'must be a non-empty string');
  const doFetch = opts?.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
  if (typeof doFetch !== 'function') throw optionError('fetch', 'is required where there is no global fetch');
  const timeoutMs = opts?.timeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > 0x7fff_ffff) {
    throw optionError('timeoutMs', `must be between 1 and ${0x7fff_ffff}, got ${String(timeoutMs)}`);
  }
  const url = endpoint(baseUrl, path);
  let status: number;
  let ok: boolean;
  let text: string;
  try {
    const res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.status;
    ok = res.ok;
    text = await res.text();
  } catch (err) {
    const name = (err as { name?: unknown } | null)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new HttpError(ErrorCodes.CLI_ERR_TIMEOUT, `POST ${path}: no answer within ${timeoutMs} ms`, 0, { cause: err });
    }
    throw new HttpError(ErrorCodes.CLI_ERR_HTTP, `POST ${path} failed: ${err instanceof Error ? err.message : String(err)}`, 0, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new HttpError(ErrorCodes.CLI_ERR_HTTP, `POST ${path}: HTTP ${status} with a body that is not JSON`, status, { cause });
  }
  if (!ok) {
    if (hasShape(json, { code: 'string', message: 'string' })) {
      const e = json as { code: string; message: string };
      throw new HttpError(e.code, e.message, status);
    }
    throw new HttpError(ErrorCodes.CLI_ERR_HTTP, `POST ${path}: HTTP ${status} without an error code`, status);
  }
  if (!hasShape(json, shape)) {
    throw new HttpError(ErrorCodes.CLI_ERR_HTTP, `POST ${path}: HTTP ${status} with an unexpected body`, status);
  }
  return json as T;
}

/** What else an account can be created with. */
export interface RegisterOptions {
  /**
   * The player's group (guild, party): logins keep the players of one group on as few gateways
   * as possible. 1–64 of `A–Z a–z 0–9 _ . : -`.
   */
  readonly groupId?: string;
}

/**
 * Create an account (`POST /v1/auth/register`).
 * @throws HttpError `GW_ERR_USERNAME_TAKEN` (409), `GW_ERR_INVALID_USERNAME` / `GW_ERR_INVALID_PASSWORD` /
 * `GW_ERR_INVALID_GROUP` (400), `CLI_ERR_HTTP`, `CLI_ERR_TIMEOUT`; CodedError `OPT_ERR_INVALID` for bad arguments.
 */
export function register(baseUrl: string, username: string, password: string, opts?: AuthRequestOptions & RegisterOptions): Promise<RegisterResult> {
  const body = opts?.groupId === undefined ? { username, password } : { username, password, groupId: opts.groupId };
  return post<RegisterResult>(baseUrl, 'v1/auth/register', body, REGISTER_SHAPE, opts);
}

/**
 * Log in (`POST /v1/auth/login`); pass `gateway` and `token` to {@link GameClient}. A new login
 * replaces the account's previous session (its socket closes with 4004).
 * @throws HttpError `GW_ERR_BAD_CREDENTIALS` (401), `CLI_ERR_HTTP`, `CLI_ERR_TIMEOUT`; CodedError `OPT_ERR_INVALID`.
 */
export function login(baseUrl: string, username: string, password: string, opts?: AuthRequestOptions): Promise<LoginResult> {
  return post<LoginResult>(baseUrl, 'v1/auth/login', { username, password }, LOGIN_SHAPE, opts);
}

/**
 * Log in as a new guest account (`POST /v1/auth/guest`).
 * @throws HttpError `CLI_ERR_HTTP`, `CLI_ERR_TIMEOUT`, or the server's code; CodedError `OPT_ERR_INVALID`.
 */
export function guest(baseUrl: string, opts?: AuthRequestOptions): Promise<GuestResult> {
  return post<GuestResult>(baseUrl, 'v1/auth/guest', {}, GUEST_SHAPE, opts);
}

/** The auth helpers bound to one gateway origin (and one `fetch`). */
export class AuthClient {
  readonly #baseUrl: string;
  readonly #opts: AuthRequestOptions;

  /** @throws CodedError `OPT_ERR_INVALID` naming the bad option. */
  constructor(options: AuthClientOptions) {
    if (typeof options !== 'object' || options === null) throw optionError('options', 'must be an object');
    const { baseUrl, fetch, timeoutMs } = options;
    if (typeof baseUrl !== 'string' || baseUrl === '') throw optionError('baseUrl', 'must be a non-empty string');
    endpoint(baseUrl, 'v1/auth/login');
    if (fetch !== undefined && typeof fetch !== 'function') throw optionError('fetch', 'must be a function');
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > 0x7fff_ffff)) {
      throw optionError('timeoutMs', `must be between 1 and ${0x7fff_ffff}, got ${String(timeoutMs)}`);
    }
    this.#baseUrl = baseUrl;
    this.#opts = Object.freeze({ ...(fetch === undefined ? {} : { fetch }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  }

  get baseUrl(): string {
    return this.#baseUrl;
  }

  /** See {@link register}. */
  register(username: string, password: string, options?: RegisterOptions): Promise<RegisterResult> {
    return register(this.#baseUrl, username, password, { ...this.#opts, ...options });
  }

  /** See {@link login}. */
  login(username: string, password: string): Promise<LoginResult> {
    return login(this.#baseUrl, username, password, this.#opts);
  }

  /** See {@link guest}. */
  guest(): Promise<GuestResult> {
    return guest(this.#baseUrl, this.#opts);
  }
}
