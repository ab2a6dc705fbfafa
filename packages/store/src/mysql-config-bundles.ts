/**
 * {@link ConfigBundleStore} on MySQL/MariaDB: `config_bundles` (migration 10), through the pool
 * of the `MysqlStore` that owns it.
 *
 * A bundle travels in one statement, so the server's `max_allowed_packet` bounds it too: the
 * largest bundle is the smaller of 16 MiB and `max_allowed_packet` less {@link PACKET_HEADROOM}.
 * MariaDB's default (16 MiB) therefore takes bundles up to 16 MiB − 1 KiB; set
 * `max_allowed_packet` to 17M or more on the server for the full 16 MiB. A bundle over the
 * server's bound is refused with `OPT_ERR_INVALID` before it is sent.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { invalid } from './common.js';
import { checkBundle } from './config-bundle-args.js';
import type { MysqlAccess } from './mysql-leaderboard-archive.js';
import type { ConfigBundleStore, PublishedConfig } from './service-types.js';

/**
 * Bytes of the insert's packet besides the content (measured: 96 with a 64-character version).
 * A packet over `max_allowed_packet` makes the server drop the connection, which the pool would
 * hand out again; refusing such a bundle first keeps the pool healthy.
 */
const PACKET_HEADROOM = 1024;

export class MysqlConfigBundles implements ConfigBundleStore {
  readonly #db: MysqlAccess;

  constructor(db: MysqlAccess) {
    this.#db = db;
  }

  /** @throws OPT_ERR_INVALID (also for a bundle over the server's `max_allowed_packet`), STO_ERR_CONNECTION */
  publish(version: string, content: string): Promise<number> {
    return this.#db.run(async (pool) => {
      const b = checkBundle(version, content);
      // Read per publish, not cached: publishing is rare and the setting may change on the server.
      const [vars] = await pool.execute<RowDataPacket[]>('SELECT @@max_allowed_packet AS max_packet');
      const maxBytes = Number(vars[0]?.max_packet) - PACKET_HEADROOM;
      if (b.bytes > maxBytes) throw invalid(`content of ${b.bytes} bytes does not fit this server's max_allowed_packet: at most ${maxBytes} bytes`);
      const [res] = await pool.execute<ResultSetHeader>('INSERT INTO config_bundles (version, published_at, content) VALUES (?, ?, ?)', [b.version, Date.now(), b.content]);
      return Number(res.insertId);
    });
  }

  /** @throws STO_ERR_CONNECTION */
  latestSeq(): Promise<number> {
    return this.#db.run(async (pool) => {
      const [rows] = await pool.execute<RowDataPacket[]>('SELECT MAX(seq) AS seq FROM config_bundles');
      // MAX over no rows is NULL: nothing published.
      return Number(rows[0]?.seq ?? 0);
    });
  }

  /** @throws STO_ERR_CONNECTION */
  latest(): Promise<PublishedConfig | null> {
    return this.#db.run(async (pool) => {
      const [rows] = await pool.execute<RowDataPacket[]>('SELECT seq, version, published_at, content FROM config_bundles ORDER BY seq DESC LIMIT 1');
      const row = rows[0];
      if (row === undefined) return null;
      // mysql2 rows are untyped: every column is converted explicitly (the binary version arrives as a Buffer).
      return { seq: Number(row.seq), version: String(row.version), content: String(row.content), publishedAt: Number(row.published_at) };
    });
  }
}
