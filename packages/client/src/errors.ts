import { CodedError, ErrorCodes } from '@gos/schema';

/**
 * `CLI_ERR_CLOSED`: the connection closed (or was never open) while a request or `connect()` was
 * waiting. Carries the WebSocket close code and reason when there was a close, so callers can
 * tell a refused token (4002) from a lost network (1006).
 */
export class ConnectionClosedError extends CodedError {
  /** The WebSocket close code, or null when no socket was open (e.g. `request()` while disconnected). */
  readonly closeCode: number | null;
  /** The close reason the server sent ('' when none). */
  readonly closeReason: string;

  constructor(message: string, closeCode: number | null, closeReason: string, options?: { cause?: unknown }) {
    super(ErrorCodes.CLI_ERR_CLOSED, message, options);
    this.name = 'ConnectionClosedError';
    this.closeCode = closeCode;
    this.closeReason = closeReason;
  }
}

/**
 * An ERROR frame from the server: the server's code and message, and whether the failure is
 * transient (`retryable`: the scene is being placed again, an engine drains, …). Requests on
 * routes marked `idempotent` in the YAML are sent again by the client before one of these
 * reaches the caller; for the others the game decides.
 */
export class ServerError extends CodedError {
  readonly retryable: boolean;

  constructor(code: string, message: string, retryable: boolean) {
    super(code, message);
    this.name = 'ServerError';
    this.retryable = retryable;
  }
}

/** `SCH_ERR_BAD_FRAME`: the server sent something that is not a frame this client can read. */
export function badFrame(message: string, cause?: unknown): CodedError {
  return new CodedError(ErrorCodes.SCH_ERR_BAD_FRAME, message, cause === undefined ? undefined : { cause });
}

/** A codec failure as an Error: kept as is when it is one, else wrapped with `code`. */
export function asError(err: unknown, code: string): Error {
  return err instanceof Error ? err : new CodedError(code, String(err));
}
