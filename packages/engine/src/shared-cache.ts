/**
 * Shared world data, the engine main thread's part (docs/shared-data.md): one copy of each
 * shared table the engine's scenes subscribed to, loaded from the store, kept current by
 * reading what was written after its version every `sharedPollMs`, and passed on to every
 * subscribed scene (ToScene.SHARED_DATA) in version order. The owner's writes reach the store
 * with its saves (SAVE_SHARED, persister); every engine, the owner's included, learns them here.
 */
import type { EngineContext } from './engine-context.js';
import { ToScene, encodeSharedData, type SharedData, type SharedRow } from './records.js';
import type { SceneHost } from './scene-host.js';

/** Rows read per store query. */
const PAGE = 5000;
/** Rows per SHARED_DATA record: well under the ring's record limit. */
const ROWS_PER_RECORD_BYTES = 256 * 1024;

interface Table {
  version: number;
  /** Live rows: key → { JSON text, version }. */
  readonly rows: Map<string, SharedRow>;
  readonly subscribers: Set<SceneHost>;
  /** Set while the first load runs. */
  loading: Promise<void> | null;
}

export class SharedCache {
  readonly #ctx: EngineContext;
  readonly #tables = new Map<string, Table>();
  readonly #pollMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling = false;

  constructor(ctx: EngineContext, pollMs: number) {
    this.#ctx = ctx;
    this.#pollMs = pollMs;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.#poll(), this.#pollMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Scene `host` starts and reads `names`: send it each table as this engine has it, then SHARED_READY. */
  async subscribe(host: SceneHost, names: readonly string[]): Promise<void> {
    // Its task ending (stopped, crashed) ends its subscriptions.
    const end = (): void => this.unsubscribe(host);
    host.done.then(end, end);
    try {
      for (const name of names) {
        let table = this.#tables.get(name);
        if (table === undefined) {
          table = { version: 0, rows: new Map(), subscribers: new Set(), loading: null };
          this.#tables.set(name, table);
          const t = table;
          t.loading = this.#catchUp(name, t).then(
            () => {
              t.loading = null;
            },
            (err: unknown) => {
              // Not loaded: the next subscriber loads it again.
              this.#tables.delete(name);
              throw err;
            },
          );
        }
        await table.loading;
        table.subscribers.add(host);
        // A snapshot: the live rows in version order (a copy skips rows older than it has).
        this.#send(host, name, table.version, [...table.rows.values()].sort((a, b) => a.version - b.version));
      }
    } catch (err) {
      this.#ctx.log.error({ err, sceneId: host.sceneId }, 'cannot load the shared tables; the scene starts with what it has');
    }
    try {
      host.send(ToScene.SHARED_READY, 0, new Uint8Array(0), true);
    } catch (err) {
      this.#ctx.log.warn({ err, sceneId: host.sceneId }, 'cannot tell a scene its shared tables are loaded');
    }
  }

  /** Scene `host` ended: it gets nothing more. */
  unsubscribe(host: SceneHost): void {
    for (const table of this.#tables.values()) table.subscribers.delete(host);
  }

  /** Read what was written after each table's version, and pass it on. */
  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      for (const [name, table] of this.#tables) {
        if (table.loading !== null || table.subscribers.size === 0) continue;
        const before = table.version;
        const fresh = await this.#catchUp(name, table);
        if (fresh.length === 0) continue;
        for (const host of table.subscribers) this.#send(host, name, table.version, fresh);
        this.#ctx.log.trace({ table: name, from: before, to: table.version, rows: fresh.length }, 'shared table moved on');
      }
    } catch (err) {
      this.#ctx.log.warn({ err }, 'cannot read the shared tables; trying again');
    } finally {
      this.#polling = false;
    }
  }

  /** Read every row written after the table's version into it; the rows read, in version order. */
  async #catchUp(name: string, table: Table): Promise<SharedRow[]> {
    const fresh: SharedRow[] = [];
    for (;;) {
      const page = await this.#ctx.o.store.loadShared(name, table.version, PAGE);
      for (const row of page) {
        if (row.value === null) table.rows.delete(row.key);
        else table.rows.set(row.key, row);
        table.version = Math.max(table.version, row.version);
        fresh.push(row);
      }
      if (page.length < PAGE) return fresh;
    }
  }

  /**
   * Send `rows` of `name` (in version order; the table is at `version`) to `host`, in parts of
   * bounded size: each part says the version of its last row, the last one the table's.
   */
  #send(host: SceneHost, name: string, version: number, rows: readonly SharedRow[]): void {
    const send = (part: SharedRow[], last: boolean): void => {
      const data: SharedData = { table: name, version: last ? version : (part[part.length - 1]?.version ?? 0), rows: part };
      try {
        host.send(ToScene.SHARED_DATA, 0, encodeSharedData(data), true);
      } catch (err) {
        this.#ctx.log.warn({ err, sceneId: host.sceneId, table: name }, 'cannot pass shared rows to a scene');
      }
    };
    let part: SharedRow[] = [];
    let bytes = 0;
    for (const row of rows) {
      part.push(row);
      bytes += (row.key.length + (row.value?.length ?? 4)) * 3 + 40;
      if (bytes >= ROWS_PER_RECORD_BYTES) {
        send(part, false);
        part = [];
        bytes = 0;
      }
    }
    send(part, true);
  }
}
