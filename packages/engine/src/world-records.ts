/**
 * Record payloads of the durable world: timers (FromScene.SAVE_TIMERS, and with players' saves)
 * and shared tables (ToScene.SHARED_DATA, FromScene.SAVE_SHARED, SHARED_SUBSCRIBE). Shapes of
 * the store's own types, repeated here: scene-thread code does not import the store.
 */
import { decodeRecordJson, encoder, isObject } from './record-json.js';

/** A durable timer as saved (the store's `TimerRecord`: the scene thread does not import the store). */
export interface TimerRecord {
  readonly name: string;
  readonly dueAt: number;
  readonly id: string;
  /** JSON text. */
  readonly payload: string;
}

/** One write of a shared table (the store's `SharedRow`): `value` JSON text, null for a deletion. */
export interface SharedRow {
  readonly key: string;
  readonly value: string | null;
  readonly version: number;
}

/** Writes of one shared table (the store's `SharedChanges`). */
export interface SharedChanges {
  readonly table: string;
  readonly rows: readonly SharedRow[];
}

/** ToScene.SHARED_DATA: rows of `table` up to `version` (a snapshot part when `snapshot`: the live rows, no tombstones). */
export interface SharedData {
  readonly table: string;
  readonly version: number;
  readonly rows: readonly SharedRow[];
  /** The engine's copy has read the store up to now: the table's owner may write from `version` on. */
  readonly loaded?: boolean;
}

function isSharedRow(v: unknown): v is SharedRow {
  return isObject(v) && typeof v['key'] === 'string' && (v['value'] === null || typeof v['value'] === 'string') && typeof v['version'] === 'number';
}

export function encodeSharedData(d: SharedData | SharedChanges): Uint8Array {
  return encoder.encode(JSON.stringify(d));
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is {@link SharedData}. */
export function decodeSharedData(bytes: Uint8Array): SharedData {
  return decodeRecordJson(
    bytes,
    (v: unknown): v is SharedData =>
      isObject(v) && typeof v['table'] === 'string' && typeof v['version'] === 'number' && Array.isArray(v['rows']) && v['rows'].every(isSharedRow) && (v['loaded'] === undefined || typeof v['loaded'] === 'boolean'),
    'SHARED_DATA',
  );
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is {@link SharedChanges}. */
export function decodeSharedChanges(bytes: Uint8Array): SharedChanges {
  return decodeRecordJson(bytes, (v: unknown): v is SharedChanges => isObject(v) && typeof v['table'] === 'string' && Array.isArray(v['rows']) && v['rows'].every(isSharedRow), 'SAVE_SHARED');
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is a list of table names. */
export function decodeTableNames(bytes: Uint8Array): string[] {
  return decodeRecordJson(bytes, (v: unknown): v is string[] => Array.isArray(v) && v.every((n) => typeof n === 'string' && n !== '' && n.length <= 255), 'SHARED_SUBSCRIBE');
}

/** Timer writes that go with a scene's save (the store's `TimerChanges`). */
export interface TimerChanges {
  readonly set: readonly TimerRecord[];
  readonly delete: readonly string[];
}

export function isTimerRecord(value: unknown): value is TimerRecord {
  return isObject(value) && typeof value['name'] === 'string' && typeof value['dueAt'] === 'number' && typeof value['id'] === 'string' && typeof value['payload'] === 'string';
}

export function isTimerChanges(value: unknown): value is TimerChanges {
  return isObject(value) && Array.isArray(value['set']) && value['set'].every(isTimerRecord) && Array.isArray(value['delete']) && value['delete'].every((n) => typeof n === 'string');
}

/** The payload of `FromScene.SAVE_TIMERS`. */
export function encodeTimerChanges(changes: TimerChanges): Uint8Array {
  return encoder.encode(JSON.stringify({ set: changes.set, delete: changes.delete }));
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is {@link TimerChanges}. */
export function decodeTimerChanges(bytes: Uint8Array): TimerChanges {
  return decodeRecordJson(bytes, isTimerChanges, 'SAVE_TIMERS');
}
