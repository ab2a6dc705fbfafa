/**
 * The payload of `FromScene.STATS` (records.ts): the durations, in ms, of a scene's ticks since
 * its last STATS and, for a scene with entities, of the entity replication within each of them.
 * The bytes of a Float64Array (native byte order: the same process):
 * `[n, hasReplication (0 or 1), tick 1..n, replication 1..n when present]`.
 */
import { CodedError, ErrorCodes } from '@gos/schema';

export interface TickFigures {
  readonly ticks: readonly number[];
  /** One per tick, or null for a scene without entities. */
  readonly replication: readonly number[] | null;
}

export function encodeTickFigures(f: TickFigures): Uint8Array {
  const n = f.ticks.length;
  if (f.replication !== null && f.replication.length !== n) throw new RangeError(`${n} ticks but ${f.replication.length} replication durations`);
  const out = new Float64Array(2 + n * (f.replication === null ? 1 : 2));
  out[0] = n;
  out[1] = f.replication === null ? 0 : 1;
  out.set(f.ticks, 2);
  if (f.replication !== null) out.set(f.replication, 2 + n);
  return new Uint8Array(out.buffer);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the counts match the payload and every duration is a finite number ≥ 0. */
export function decodeTickFigures(payload: Uint8Array): TickFigures {
  const bad = (why: string): CodedError => new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `STATS record: ${why}`);
  if (payload.byteLength % 8 !== 0 || payload.byteLength < 16) throw bad(`${payload.byteLength} bytes is not a whole header and figures`);
  const f = new Float64Array(payload.slice().buffer);
  const n = f[0]!;
  const has = f[1]!;
  if (!Number.isInteger(n) || n < 0 || (has !== 0 && has !== 1)) throw bad('bad header');
  if (f.length !== 2 + n * (has + 1)) throw bad(`${f.length - 2} figures for ${n} ticks`);
  for (let i = 2; i < f.length; i++) if (!(f[i]! >= 0 && f[i]! < Number.POSITIVE_INFINITY)) throw bad('a duration that is not a finite number ≥ 0');
  const ticks = Array.from(f.subarray(2, 2 + n));
  return { ticks, replication: has === 1 ? Array.from(f.subarray(2 + n)) : null };
}
