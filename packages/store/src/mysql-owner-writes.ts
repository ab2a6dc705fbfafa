/**
 * What MySQL writes with an owner's save, in its transaction: its durable timers and its shared
 * table rows, in statements bounded by rows and by bytes (under MariaDB's default
 * max_allowed_packet).
 */
import type { PoolConnection } from 'mysql2/promise';
import type { SharedChanges, TimerChanges } from './types.js';

/** Rows per statement when timers are written in bulk. */
const TIMER_CHUNK = 500;

/** Apply one owner's timer changes (inside the owner's save transaction). */
export async function writeTimers(conn: PoolConnection, ownerId: string, timers: TimerChanges): Promise<void> {
  for (let i = 0; i < timers.delete.length; i += TIMER_CHUNK) {
    const names = timers.delete.slice(i, i + TIMER_CHUNK);
    await conn.query('DELETE FROM timers WHERE owner_id = ? AND name IN (?)', [ownerId, names]);
  }
  for (const chunk of byteChunks(timers.set, (t) => t.name.length + t.payload.length)) {
    const rows = chunk.map((t) => [ownerId, t.name, t.dueAt, t.id, t.payload]);
    await conn.query('INSERT INTO timers (owner_id, name, due_at, timer_id, payload) VALUES ? ON DUPLICATE KEY UPDATE due_at = VALUES(due_at), timer_id = VALUES(timer_id), payload = VALUES(payload)', [rows]);
  }
}

/** Bytes of row text per statement, well under MariaDB's default max_allowed_packet (16 MiB) after escaping. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/** `items` in runs of at most `maxRows` rows and about CHUNK_BYTES of text (`size`: UTF-16 length, counted × 3 for UTF-8 and × 2 for escaping). */
export function byteChunks<T>(items: readonly T[], size: (item: T) => number, maxRows = TIMER_CHUNK): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const b = size(item) * 6 + 64;
    if (chunk.length > 0 && (chunk.length >= maxRows || bytes + b > CHUNK_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += b;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** Write one shared table's rows (inside the owner's save transaction); a row never goes back to an older version. */
export async function writeShared(conn: PoolConnection, changes: SharedChanges): Promise<void> {
  for (const chunk of byteChunks(changes.rows, (r) => r.key.length + (r.value?.length ?? 4))) {
    const rows = chunk.map((r) => [changes.table, r.key, r.value, r.version]);
    await conn.query(
      'INSERT INTO shared_data (table_name, row_key, value, version) VALUES ? ON DUPLICATE KEY UPDATE value = IF(VALUES(version) > version, VALUES(value), value), version = GREATEST(version, VALUES(version))',
      [rows],
    );
  }
}
