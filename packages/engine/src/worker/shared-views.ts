import { CodedError, ErrorCodes } from '@gos/schema';
import type { SharedTable } from '../api.js';
import { FromScene, encodeSharedData, type SharedChanges, type SharedData, type SharedRow } from '../records.js';
import type { Outbox } from '../outbox.js';

/** Largest value (JSON text) one key of a shared table may hold. */
const MAX_VALUE_BYTES = 64 * 1024;
/** Rows per SAVE_SHARED record: well under the ring's record limit. */
const ROWS_PER_RECORD_BYTES = 256 * 1024;

class View implements SharedTable {
  readonly name: string;
  version = 0;
  /** The copy is known to be up to date with the store: its owner may write (its versions follow the last saved one). */
  #loaded = false;
  readonly #rows = new Map<string, unknown>();
  readonly #owned: boolean;
  readonly #owner: string;
  readonly #pending: SharedRow[];
  readonly #wrote: () => void;

  constructor(name: string, owner: string, owned: boolean, pending: SharedRow[], wrote: () => void) {
    this.name = name;
    this.#owner = owner;
    this.#owned = owned;
    this.#pending = pending;
    this.#wrote = wrote;
  }

  get size(): number {
    return this.#rows.size;
  }

  get(key: string): unknown {
    return this.#rows.get(key);
  }

  has(key: string): boolean {
    return this.#rows.has(key);
  }

  keys(): IterableIterator<string> {
    return this.#rows.keys();
  }

  entries(): IterableIterator<[string, unknown]> {
    return this.#rows.entries();
  }

  set(key: string, value: unknown): void {
    this.#assertOwner();
    if (typeof key !== 'string' || key === '' || key.length > 255 || !key.isWellFormed()) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `a key of ${this.name} is 1–255 characters`);
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `the value of ${this.name}.${key} cannot be saved as JSON`, { cause: err });
    }
    if (json === undefined) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `the value of ${this.name}.${key} cannot be saved as JSON`);
    if (Buffer.byteLength(json) > MAX_VALUE_BYTES) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `the value of ${this.name}.${key} is larger than ${MAX_VALUE_BYTES} bytes`);
    // The copy holds what any reader will parse: a JSON round trip.
    this.#rows.set(key, JSON.parse(json) as unknown);
    this.#pending.push({ key, value: json, version: ++this.version });
    this.#wrote();
  }

  delete(key: string): boolean {
    this.#assertOwner();
    if (!this.#rows.delete(key)) return false;
    this.#pending.push({ key, value: null, version: ++this.version });
    this.#wrote();
    return true;
  }

  /** Rows from the main thread: only those past this copy's version (the owner's own writes come back too). */
  apply(data: SharedData): void {
    for (const row of data.rows) {
      if (row.version <= this.version) continue;
      if (row.value === null) this.#rows.delete(row.key);
      else this.#rows.set(row.key, JSON.parse(row.value) as unknown);
      this.version = row.version;
    }
    if (data.version > this.version) this.version = data.version;
    if (data.loaded === true) this.#loaded = true;
  }

  #assertOwner(): void {
    if (!this.#owned) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `only ${this.#owner} writes the shared table ${this.name}`);
    if (!this.#loaded) throw new CodedError(ErrorCodes.STO_ERR_CONNECTION, `the shared table ${this.name} could not be read from the store yet; retry shortly`);
  }
}

/**
 * A scene's copies of the game's shared tables (docs/shared-data.md): filled before onCreate and
 * kept current by the main thread (SHARED_DATA). When the scene is a table's owner, its writes
 * apply here at once and wait in {@link takeChanges} for the scene's next save, which writes
 * them with its state in one transaction.
 */
export class SharedViews {
  readonly #views = new Map<string, View>();
  readonly #pending = new Map<string, SharedRow[]>();

  constructor(declared: Readonly<Record<string, string>>, sceneId: string, wrote: () => void) {
    for (const [name, owner] of Object.entries(declared)) {
      const pending: SharedRow[] = [];
      this.#pending.set(name, pending);
      this.#views.set(name, new View(name, owner, owner === sceneId, pending, wrote));
    }
  }

  get names(): string[] {
    return [...this.#views.keys()];
  }

  table(name: string): SharedTable {
    const view = this.#views.get(name);
    if (view === undefined) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `the game declares no shared table ${String(name)}`);
    return view;
  }

  apply(data: SharedData): void {
    this.#views.get(data.table)?.apply(data);
  }

  /** Send the writes since the last call as SAVE_SHARED parts (for the SAVE_SCENE that follows); whether there were any. */
  sendChanges(out: Outbox): boolean {
    let any = false;
    for (const [table, rows] of this.#pending) {
      if (rows.length === 0) continue;
      any = true;
      let part: SharedRow[] = [];
      let bytes = 0;
      for (const row of rows.splice(0)) {
        part.push(row);
        bytes += row.key.length * 3 + (row.value?.length ?? 4) * 3 + 40;
        if (bytes >= ROWS_PER_RECORD_BYTES) {
          out.send(FromScene.SAVE_SHARED, 0, 0, encodeSharedData({ table, rows: part } satisfies SharedChanges));
          part = [];
          bytes = 0;
        }
      }
      if (part.length > 0) out.send(FromScene.SAVE_SHARED, 0, 0, encodeSharedData({ table, rows: part } satisfies SharedChanges));
    }
    return any;
  }
}
