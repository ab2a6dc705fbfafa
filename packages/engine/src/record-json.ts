/** The JSON payloads of ring records: encoded with one encoder, decoded and checked in one way. */
import { CodedError, ErrorCodes } from '@gos/schema';

const utf8 = new TextDecoder('utf-8', { fatal: true });
export const encoder = new TextEncoder();

/**
 * A record's JSON payload, checked to be a `T` by `guard`.
 * @throws CodedError `SCH_ERR_BAD_PAYLOAD` naming `what` for bytes that are not UTF-8 JSON or
 *   not a `T`. Never anything else.
 */
export function decodeRecordJson<T>(bytes: Uint8Array, guard: (value: unknown) => value is T, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch (err) {
    throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `${what} record is not UTF-8 JSON (${bytes.byteLength} bytes)`, { cause: err });
  }
  if (!guard(value)) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `${what} record does not have the expected fields`);
  return value;
}

export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
