/** FromScene.LOGS's payload: player-log events a scene appended since its last LOGS record (docs/player-logs.md). */
import { decodeRecordJson, encoder } from './record-json.js';

export interface LogRecordEntry {
  /** The player. */
  readonly p: string;
  /** The event's name. */
  readonly e: string;
  /** When (ms since the epoch, the scene thread's clock). */
  readonly t: number;
  /** The fields, as JSON text of an object. */
  readonly f: string;
}

function isEntry(v: unknown): v is LogRecordEntry {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o['p'] === 'string' && typeof o['e'] === 'string' && typeof o['t'] === 'number' && Number.isFinite(o['t']) && typeof o['f'] === 'string';
}

function isEntries(v: unknown): v is LogRecordEntry[] {
  return Array.isArray(v) && v.every(isEntry);
}

export function encodePlayerLogs(entries: readonly LogRecordEntry[]): Uint8Array {
  return encoder.encode(JSON.stringify(entries));
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is a list of {@link LogRecordEntry}. */
export function decodePlayerLogs(bytes: Uint8Array): LogRecordEntry[] {
  return decodeRecordJson(bytes, isEntries, 'LOGS');
}
