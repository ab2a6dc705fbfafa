/**
 * Error codes shared by every package. Codes are stable: clients, logs and dashboards key on them.
 * `docs/errors.md` lists each one; a test keeps the two in step.
 */
export const ErrorCodes = {
  // schema / wire
  SCH_ERR_BAD_FRAME: 'SCH_ERR_BAD_FRAME',
  SCH_ERR_BAD_PAYLOAD: 'SCH_ERR_BAD_PAYLOAD',
  SCH_ERR_BAD_YAML: 'SCH_ERR_BAD_YAML',
  SCH_ERR_STALE_GENERATED: 'SCH_ERR_STALE_GENERATED',
  SCH_ERR_FLATC: 'SCH_ERR_FLATC',
  // gateway
  GW_ERR_BAD_REQUEST: 'GW_ERR_BAD_REQUEST',
  GW_ERR_INVALID_USERNAME: 'GW_ERR_INVALID_USERNAME',
  GW_ERR_INVALID_PASSWORD: 'GW_ERR_INVALID_PASSWORD',
  GW_ERR_INVALID_GROUP: 'GW_ERR_INVALID_GROUP',
  GW_ERR_USERNAME_TAKEN: 'GW_ERR_USERNAME_TAKEN',
  GW_ERR_BAD_CREDENTIALS: 'GW_ERR_BAD_CREDENTIALS',
  GW_ERR_NO_TOKEN: 'GW_ERR_NO_TOKEN',
  GW_ERR_SESSION_EXPIRED: 'GW_ERR_SESSION_EXPIRED',
  GW_ERR_PROTOCOL_VERSION: 'GW_ERR_PROTOCOL_VERSION',
  GW_ERR_UNKNOWN_ROUTE: 'GW_ERR_UNKNOWN_ROUTE',
  GW_ERR_NO_ENGINE: 'GW_ERR_NO_ENGINE',
  GW_ERR_SCENE_MOVED: 'GW_ERR_SCENE_MOVED',
  GW_ERR_TOO_MANY_PENDING: 'GW_ERR_TOO_MANY_PENDING',
  GW_ERR_RATE_LIMITED: 'GW_ERR_RATE_LIMITED',
  GW_ERR_BODY_TOO_LARGE: 'GW_ERR_BODY_TOO_LARGE',
  GW_ERR_UNSUPPORTED_MEDIA_TYPE: 'GW_ERR_UNSUPPORTED_MEDIA_TYPE',
  GW_ERR_NOT_FOUND: 'GW_ERR_NOT_FOUND',
  GW_ERR_INTERNAL: 'GW_ERR_INTERNAL',
  GW_ERR_NATIVE_UWS: 'GW_ERR_NATIVE_UWS',
  GW_ERR_SESSION_STORE: 'GW_ERR_SESSION_STORE',
  GW_ERR_PORT_IN_USE: 'GW_ERR_PORT_IN_USE',
  GW_ERR_TLS: 'GW_ERR_TLS',
  GW_ERR_TRAVEL_FAILED: 'GW_ERR_TRAVEL_FAILED',
  // link
  LNK_ERR_AUTH: 'LNK_ERR_AUTH',
  LNK_ERR_FRAME_TOO_LARGE: 'LNK_ERR_FRAME_TOO_LARGE',
  LNK_ERR_NOT_CONNECTED: 'LNK_ERR_NOT_CONNECTED',
  LNK_ERR_QUEUE_FULL: 'LNK_ERR_QUEUE_FULL',
  LNK_ERR_CLOSED: 'LNK_ERR_CLOSED',
  LNK_ERR_PORT_IN_USE: 'LNK_ERR_PORT_IN_USE',
  LNK_ERR_TLS: 'LNK_ERR_TLS',
  // engine
  ENG_ERR_QUEUE_FULL: 'ENG_ERR_QUEUE_FULL',
  ENG_ERR_HANDLER_FAILED: 'ENG_ERR_HANDLER_FAILED',
  ENG_ERR_NO_HANDLER: 'ENG_ERR_NO_HANDLER',
  ENG_ERR_SCENE_NOT_FOUND: 'ENG_ERR_SCENE_NOT_FOUND',
  ENG_ERR_SCENE_RESTARTED: 'ENG_ERR_SCENE_RESTARTED',
  ENG_ERR_SCENE_TYPE_UNKNOWN: 'ENG_ERR_SCENE_TYPE_UNKNOWN',
  ENG_ERR_NOT_JOINED: 'ENG_ERR_NOT_JOINED',
  ENG_ERR_SHUTTING_DOWN: 'ENG_ERR_SHUTTING_DOWN',
  ENG_ERR_RECORD_TOO_LARGE: 'ENG_ERR_RECORD_TOO_LARGE',
  ENG_ERR_FULL: 'ENG_ERR_FULL',
  ENG_ERR_SCENE_MOVED: 'ENG_ERR_SCENE_MOVED',
  ENG_ERR_TRAVEL: 'ENG_ERR_TRAVEL',
  ENG_ERR_MIGRATION: 'ENG_ERR_MIGRATION',
  ENG_ERR_CALL_TIMEOUT: 'ENG_ERR_CALL_TIMEOUT',
  ENG_ERR_NOT_PLACED: 'ENG_ERR_NOT_PLACED',
  ENG_ERR_NO_PRESENCE: 'ENG_ERR_NO_PRESENCE',
  ENG_ERR_ADMIN_DENIED: 'ENG_ERR_ADMIN_DENIED',
  ENG_ERR_ADMIN_READ_ONLY: 'ENG_ERR_ADMIN_READ_ONLY',
  // store
  STO_ERR_STALE_VERSION: 'STO_ERR_STALE_VERSION',
  STO_ERR_FENCED: 'STO_ERR_FENCED',
  STO_ERR_DUPLICATE: 'STO_ERR_DUPLICATE',
  STO_ERR_NOT_FOUND: 'STO_ERR_NOT_FOUND',
  STO_ERR_MIGRATION: 'STO_ERR_MIGRATION',
  STO_ERR_CONNECTION: 'STO_ERR_CONNECTION',
  // leaderboards
  LB_ERR_UNKNOWN_BOARD: 'LB_ERR_UNKNOWN_BOARD',
  LB_ERR_BOARD_EXISTS: 'LB_ERR_BOARD_EXISTS',
  LB_ERR_BACKEND: 'LB_ERR_BACKEND',
  LB_ERR_NOT_CONFIGURED: 'LB_ERR_NOT_CONFIGURED',
  // mail
  MAIL_ERR_NOT_FOUND: 'MAIL_ERR_NOT_FOUND',
  MAIL_ERR_NOT_CLAIMABLE: 'MAIL_ERR_NOT_CLAIMABLE',
  MAIL_ERR_CLAIMING: 'MAIL_ERR_CLAIMING',
  MAIL_ERR_NO_HOOK: 'MAIL_ERR_NO_HOOK',
  // chat
  CHAT_ERR_BACKEND: 'CHAT_ERR_BACKEND',
  CHAT_ERR_RATE_LIMITED: 'CHAT_ERR_RATE_LIMITED',
  CHAT_ERR_MUTED: 'CHAT_ERR_MUTED',
  CHAT_ERR_EMPTY: 'CHAT_ERR_EMPTY',
  CHAT_ERR_TOO_LONG: 'CHAT_ERR_TOO_LONG',
  CHAT_ERR_BLOCKED: 'CHAT_ERR_BLOCKED',
  CHAT_ERR_REFUSED: 'CHAT_ERR_REFUSED',
  CHAT_ERR_NO_GROUP: 'CHAT_ERR_NO_GROUP',
  // coordinator
  CRD_ERR_NO_ENGINE: 'CRD_ERR_NO_ENGINE',
  CRD_ERR_CLOSED: 'CRD_ERR_CLOSED',
  CRD_ERR_UNAVAILABLE: 'CRD_ERR_UNAVAILABLE',
  CRD_ERR_NO_LEADER: 'CRD_ERR_NO_LEADER',
  // client SDK
  CLI_ERR_TIMEOUT: 'CLI_ERR_TIMEOUT',
  CLI_ERR_CLOSED: 'CLI_ERR_CLOSED',
  CLI_ERR_HTTP: 'CLI_ERR_HTTP',
  // options
  OPT_ERR_INVALID: 'OPT_ERR_INVALID',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * Codes of errors that are transient: the same request may succeed if sent again shortly (the
 * player's scene is being placed again, an engine drains, a queue is full). ERROR frames carry
 * `retryable: true` for them; the client SDK sends requests on routes marked `idempotent` again
 * by itself. `GW_ERR_SCENE_MOVED` answers a request that reached an engine which was then lost:
 * it may or may not have been applied, which is why only idempotent routes are resent.
 */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set<string>([
  ErrorCodes.GW_ERR_NO_ENGINE,
  ErrorCodes.GW_ERR_SCENE_MOVED,
  ErrorCodes.GW_ERR_TRAVEL_FAILED,
  ErrorCodes.ENG_ERR_SCENE_MOVED,
  ErrorCodes.ENG_ERR_SHUTTING_DOWN,
  ErrorCodes.ENG_ERR_QUEUE_FULL,
  ErrorCodes.ENG_ERR_SCENE_RESTARTED,
  ErrorCodes.LNK_ERR_NOT_CONNECTED,
  ErrorCodes.LNK_ERR_QUEUE_FULL,
  ErrorCodes.LNK_ERR_CLOSED,
  ErrorCodes.CRD_ERR_NO_LEADER,
  ErrorCodes.CRD_ERR_UNAVAILABLE,
]);

/** Whether an error with this code is transient (see {@link RETRYABLE_CODES}). */
export function isRetryableCode(code: string): boolean {
  return RETRYABLE_CODES.has(code);
}

/** The shape an error takes when it crosses a thread, process or socket boundary. */
export interface ErrorData {
  readonly code: string;
  readonly message: string;
}

/** An error with a stable code. Rebuild it from {@link ErrorData} on the far side of a boundary. */
export class CodedError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CodedError';
    this.code = code;
  }
  toData(): ErrorData {
    return { code: this.code, message: this.message };
  }
  static fromData(data: ErrorData): CodedError {
    return new CodedError(data.code, data.message);
  }
}

export function isCodedError(err: unknown): err is CodedError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}

/** Turn anything thrown into transportable error data, keeping the code when there is one. */
export function toErrorData(err: unknown, fallbackCode: string): ErrorData {
  if (isCodedError(err)) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: fallbackCode, message: err.message };
  return { code: fallbackCode, message: String(err) };
}
