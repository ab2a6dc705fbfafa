/**
 * {@link ConfigBundleStore} on SQLite: `config_bundles` (migration 10), through the database and
 * the statements of the `SqliteStore` that owns it. Bundles up to the full 16 MiB fit (SQLite's
 * default bound on a value is 1 GB).
 */
import type Database from 'better-sqlite3';
import { checkBundle } from './config-bundle-args.js';
import type { Db } from './sqlite-db.js';
import type { ConfigBundleStore, PublishedConfig } from './service-types.js';

type Stmt = Database.Statement<unknown[], unknown>;

/** The config bundles' statements, prepared with the store's others at start. */
export interface ConfigBundleStatements {
  readonly publish: Stmt;
  readonly latestSeq: Stmt;
  readonly latest: Stmt;
}

export function prepareConfigBundles(db: Db): ConfigBundleStatements {
  return {
    publish: db.prepare('INSERT INTO config_bundles (version, published_at, content) VALUES (?, ?, ?)'),
    latestSeq: db.prepare('SELECT MAX(seq) AS seq FROM config_bundles'),
    latest: db.prepare('SELECT seq, version, published_at, content FROM config_bundles ORDER BY seq DESC LIMIT 1'),
  };
}

/**
 * Runs `fn` on the store's open database, as one of its operations: STO_ERR_CONNECTION when the
 * store is not running, errors of the file or its locks mapped.
 */
export type SqliteConfigBundleRun = <T>(fn: (db: Db, s: ConfigBundleStatements) => T) => Promise<T>;

interface BundleRow {
  seq: number;
  version: string;
  published_at: number;
  content: string;
}

export class SqliteConfigBundles implements ConfigBundleStore {
  readonly #run: SqliteConfigBundleRun;

  constructor(run: SqliteConfigBundleRun) {
    this.#run = run;
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async publish(version: string, content: string): Promise<number> {
    const b = checkBundle(version, content);
    // lastInsertRowid is a bigint only in safeIntegers mode, which this store does not use.
    return this.#run((_db, s) => Number(s.publish.run(b.version, Date.now(), b.content).lastInsertRowid));
  }

  /** @throws STO_ERR_CONNECTION */
  async latestSeq(): Promise<number> {
    // MAX over no rows is NULL: nothing published.
    return this.#run((_db, s) => (s.latestSeq.get() as { seq: number | null }).seq ?? 0);
  }

  /** @throws STO_ERR_CONNECTION */
  async latest(): Promise<PublishedConfig | null> {
    return this.#run((_db, s) => {
      const row = s.latest.get() as BundleRow | undefined;
      return row === undefined ? null : { seq: row.seq, version: row.version, content: row.content, publishedAt: row.published_at };
    });
  }
}
