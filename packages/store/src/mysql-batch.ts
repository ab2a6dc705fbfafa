/**
 * The writes of one `saveBatch` on MySQL/MariaDB, inside its transaction, in the batch's lock
 * order (sorted by kind and id). Runs of rows that exist already and carry nothing but their
 * data (a scene's players at its periodic or final save) go in one statement per
 * {@link ROWS_PER_STATEMENT} rows (or {@link BYTES_PER_STATEMENT} bytes of data), with their scenes recorded in one more: a moving scene's final
 * save of 500 players is a few statements, not a thousand round trips. A run in which a row is
 * stale or fenced is rolled back to a savepoint and written row by row, which tells which. An
 * entry claiming mail is written alone, after a savepoint of its own: a refused claim rolls its
 * row back (see {@link claimMail}).
 */
import { CodedError, ErrorCodes } from '@gos/schema';
import type { PoolConnection } from 'mysql2/promise';
import { BYTES_PER_STATEMENT, recordPlayerScenes, ROWS_PER_STATEMENT, save, updateRows, type RowWrite } from './mysql-records.js';
import { writeShared, writeTimers } from './mysql-owner-writes.js';
import { timerOwner } from './common.js';
import { notClaimable } from './mail-args.js';
import { claimMail } from './mysql-mail.js';
import type { RecordKind, SaveResult, SharedChanges, TimerChanges } from './types.js';

/** An entry of the batch, checked and serialised; a SaveResult for one that was refused. */
export type PreparedEntry =
  | SaveResult
  | {
      readonly kind: RecordKind;
      readonly id: string;
      readonly json: string;
      readonly expected: number;
      readonly fence: number | undefined;
      readonly sceneId: string | undefined;
      readonly timers: TimerChanges | undefined;
      readonly shared: SharedChanges[] | undefined;
      /** Mail ids to claim (distinct, ascending), or undefined. */
      readonly mailClaims: number[] | undefined;
    };

type Writable = Exclude<PreparedEntry, SaveResult>;

/** Write the batch's entries in `order` on `conn` (a transaction); one result per entry. */
export async function writeBatch(conn: PoolConnection, prepared: readonly PreparedEntry[], order: readonly number[], now: number): Promise<SaveResult[]> {
  const results: SaveResult[] = new Array<SaveResult>(prepared.length);
  let k = 0;
  while (k < order.length) {
    const run = runAt(prepared, order, k);
    if (run.length >= 2 && (await writeRun(conn, run, now))) {
      for (const [i, p] of run) results[i] = { ok: true, version: p.expected + 1 };
      k += run.length;
      continue;
    }
    // One by one: a single entry, or a run that did not all match (rolled back).
    const end = k + Math.max(1, run.length);
    for (; k < end; k++) {
      const i = order[k]!;
      const p = prepared[i]!;
      results[i] = 'ok' in p ? p : await writeOne(conn, p, now);
    }
  }
  return results;
}

/** The entries from `order[k]` on that {@link updateRows} can write together (empty when `order[k]` cannot). */
function runAt(prepared: readonly PreparedEntry[], order: readonly number[], k: number): Array<[number, Writable]> {
  const run: Array<[number, Writable]> = [];
  let bytes = 0;
  for (let j = k; j < order.length && run.length < ROWS_PER_STATEMENT; j++) {
    const i = order[j]!;
    const p = prepared[i]!;
    if ('ok' in p || p.expected === 0 || p.timers !== undefined || p.shared !== undefined || p.mailClaims !== undefined) break;
    const first = run[0]?.[1];
    // One table; ids distinct (sorted: a repeat is the previous one), each written once.
    if (first !== undefined && (p.kind !== first.kind || p.id === run[run.length - 1]![1].id)) break;
    // One statement stays far under max_allowed_packet, which one row alone may come near.
    bytes += Buffer.byteLength(p.json) + Buffer.byteLength(p.id) * 3;
    if (bytes > BYTES_PER_STATEMENT) break;
    run.push([i, p]);
  }
  return run;
}

/** Write a run in one statement (and its players' scenes in one more); false, rolled back, if a row did not match. */
async function writeRun(conn: PoolConnection, run: ReadonlyArray<[number, Writable]>, now: number): Promise<boolean> {
  const kind = run[0]![1].kind;
  await conn.query('SAVEPOINT gos_rows');
  const rows: RowWrite[] = run.map(([, p]) => p);
  if (!(await updateRows(conn, kind, rows, now))) {
    await conn.query('ROLLBACK TO SAVEPOINT gos_rows');
    return false;
  }
  const scenes: Array<{ id: string; sceneId: string }> = [];
  for (const [, p] of run) if (p.sceneId !== undefined) scenes.push({ id: p.id, sceneId: p.sceneId });
  await recordPlayerScenes(conn, scenes, now);
  return true;
}

async function writeOne(conn: PoolConnection, p: Writable, now: number): Promise<SaveResult> {
  // An entry with claims is written after a savepoint: a claim refused after the row was
  // written takes the row back with it.
  if (p.mailClaims !== undefined) await conn.query('SAVEPOINT gos_entry');
  try {
    const version = await save(conn, p.kind, p.id, p.json, p.expected, p.fence, now);
    if (p.mailClaims !== undefined && !(await claimMail(conn, p.id, p.mailClaims, now))) {
      await conn.query('ROLLBACK TO SAVEPOINT gos_entry');
      return { ok: false, error: notClaimable(p.id, p.mailClaims).toData() };
    }
    if (p.sceneId !== undefined) await recordPlayerScenes(conn, [{ id: p.id, sceneId: p.sceneId }], now);
    if (p.timers !== undefined) await writeTimers(conn, timerOwner(p.kind, p.id), p.timers);
    for (const c of p.shared ?? []) await writeShared(conn, c);
    return { ok: true, version };
  } catch (err) {
    // InnoDB rolled back only the failed statement; the rest of the batch goes on.
    if (err instanceof CodedError && (err.code === ErrorCodes.STO_ERR_STALE_VERSION || err.code === ErrorCodes.STO_ERR_FENCED)) return { ok: false, error: err.toData() };
    throw err;
  }
}
