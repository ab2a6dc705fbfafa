/**
 * Shared world data, the engine main thread's part (docs/shared-data.md): one copy of each
 * shared table the engine's scenes subscribed to, kept current by reading what was written after
 * its version (every `sharedPollMs`, and whenever a scene subscribes), and passed on to every
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
  /** Scenes subscribing, still reading the store: the table is in use although it has no subscriber yet. */
  joining: number;
  /** Whether the copy has read the store up to a recent moment (a failed read leaves it behind). */
  loaded: boolean;
}

export class SharedCache {
  readonly #ctx: EngineContext;
  readonly #tables = new Map<string, Table>();
  readonly #pollMs: number;
  /** Scenes whose task ended: never subscribed again (a subscription racing their end). */
  readonly #ended = new WeakSet<SceneHost>();
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

  /**
   * Scene `host` starts and reads `names`: bring each table up to the store (so that an owner
   * starting numbers its writes after the last saved one: its claim fenced off any earlier owner
   * before it got here), send it each table, then SHARED_READY. A table the store cannot be read
   * for is sent as not loaded (its owner may not write it yet); the poll catches it up.
   */
  async subscribe(host: SceneHost, names: readonly string[]): Promise<void> {
    const end = (): void => {
      this.#ended.add(host);
      this.unsubscribe(host);
    };
    host.done.then(end, end);
    for (const name of names) {
      let table = this.#tables.get(name);
      if (table === undefined) {
        table = { version: 0, rows: new Map(), subscribers: new Set(), joining: 0, loaded: false };
        this.#tables.set(name, table);
      }
      table.joining++;
      try {
        await this.#catchUp(name, table);
      } finally {
        table.joining--;
      }
      if (this.#ended.has(host)) return;
      table.subscribers.add(host);
      // A snapshot: the live rows in version order (a copy skips rows older than it has).
      this.#send(host, name, table, [...table.rows.values()].sort((a, b) => a.version - b.version));
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
        // A table nobody here reads is dropped: read afresh if a scene wants it again. Not one a
        // scene is subscribing to: it would join a copy no poll keeps current.
        if (table.subscribers.size === 0 && table.joining === 0) {
          this.#tables.delete(name);
          continue;
        }
        await this.#catchUp(name, table);
      }
    } finally {
      this.#polling = false;
    }
  }

  /**
   * Read every row written after the table's version into it, page by page, passing each page on
   * to the table's subscribers as it is read. A failure is logged; the next read goes on from
   * where this one got to.
   */
  async #catchUp(name: string, table: Table): Promise<void> {
    try {
      for (;;) {
        const page = await this.#ctx.o.store.loadShared(name, table.version, PAGE);
        const fresh = page.filter((row) => row.version > table.version);
        for (const row of fresh) {
          if (row.value === null) table.rows.delete(row.key);
          else table.rows.set(row.key, row);
          table.version = Math.max(table.version, row.version);
        }
        const last = page.length < PAGE;
        if (last) table.loaded = true;
        if (fresh.length > 0) for (const host of table.subscribers) this.#send(host, name, table, fresh);
        if (last) return;
      }
    } catch (err) {
      table.loaded = false;
      this.#ctx.log.warn({ err, table: name }, 'cannot read a shared table; trying again');
    }
  }

  /**
   * Send `rows` of `name` (in version order) to `host`, in parts of bounded size: each part
   * says the version of its last row, the last one the table's, and whether the copy is loaded.
   */
  #send(host: SceneHost, name: string, table: Table, rows: readonly SharedRow[]): void {
    const send = (part: SharedRow[], last: boolean): void => {
      const data: SharedData = { table: name, version: last ? table.version : (part[part.length - 1]?.version ?? 0), rows: part, loaded: last && table.loaded };
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
