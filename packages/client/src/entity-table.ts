/**
 * The client's copy of the entities around its player (docs/aoi.md): fed by the core push
 * `EntityView` (the cells the player hears) and the scene's cell pushes (what entered, changed
 * and left each cell), with callbacks and interpolation between the last two values of a field.
 */
import { CELL_GONE, CodedError, ErrorCodes, type CellFrame, type EntityValue, type Protocol } from '@gos/schema';

/** What the table listens to: a {@link GameClient} (or anything with its `protocol` and `onPush`). */
export interface EntitySource {
  readonly protocol: Protocol;
  onPush(name: never, listener: (payload: never) => void): () => void;
}

/** One entity as the client knows it. */
export interface ClientEntity<T extends string = string, V extends object = Record<string, EntityValue>> {
  readonly id: number;
  readonly type: T;
  /** Its fields as last received. */
  readonly values: Readonly<V>;
  /** The packed cell it was last reported in. */
  readonly cell: number;
  /** When the last change arrived (`performance.now()`), and the values before it: see {@link EntityTable.interpolate}. */
  readonly updatedAt: number;
  readonly previous: Readonly<V>;
  readonly previousAt: number;
}

/** The entities of a map of entity types (`EntityMap['world']` of the generated protocol) as a union by `type`. */
export type EntityOf<M> = { [K in keyof M & string]: ClientEntity<K, M[K] & object> }[keyof M & string];

interface Mutable {
  id: number;
  type: string;
  values: Record<string, EntityValue>;
  cell: number;
  updatedAt: number;
  previous: Record<string, EntityValue>;
  previousAt: number;
}

export interface EntityTableOptions {
  /** The clock of `updatedAt` and of interpolation. @default performance.now */
  readonly now?: () => number;
}

type Callback<E> = (entity: E) => void;

/**
 * ```ts
 * const world = new EntityTable<EntityMap['world']>(client);
 * world.onEnter((e) => sprites.add(e.id, e.type));
 * world.onLeave((e) => sprites.remove(e.id));
 * // each frame: const p = world.interpolate(e, 100); draw(e.id, p.x, p.y);
 * ```
 * Built before `connect()` so that it hears the first view. One table follows the player's
 * current scene: a scene change, a restart or a resume of the scene empties it (onLeave for
 * each) and the next view fills it again.
 */
export class EntityTable<M = Record<string, Record<string, EntityValue>>> {
  readonly #entities = new Map<number, Mutable>();
  readonly #cells = new Set<number>();
  readonly #enter = new Set<Callback<EntityOf<M>>>();
  readonly #update = new Set<(entity: EntityOf<M>, changed: readonly string[]) => void>();
  readonly #leave = new Set<Callback<EntityOf<M>>>();
  readonly #off: (() => void)[] = [];
  readonly #now: () => number;
  #sceneId: string | null = null;
  #cellSize = 0;

  /** @throws CodedError `OPT_ERR_INVALID` when the client's protocol declares no entities. */
  constructor(client: EntitySource, options: EntityTableOptions = {}) {
    const defs = Object.values(client.protocol.entities ?? {});
    if (defs.length === 0) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `protocol ${client.protocol.namespace} declares no entities`);
    this.#now = options.now ?? (() => performance.now());
    const on = client.onPush.bind(client) as (name: string, listener: (payload: never) => void) => () => void;
    this.#off.push(
      on('EntityView', (v: { sceneId: string; cellSize: number; add: number[]; remove: number[]; reset: boolean }) => this.#view(v)),
      on('SceneChanged', () => this.clear()),
      on('SceneRestarted', () => this.clear()),
      on('SceneResumed', () => this.clear()),
      on('SceneMoved', () => this.clear()),
      ...defs.map((def) => on(def.pushName, (frame: CellFrame) => this.#cell(frame))),
    );
  }

  /** The scene the table follows (the last EntityView's), null before the first. */
  get sceneId(): string | null {
    return this.#sceneId;
  }

  get cellSize(): number {
    return this.#cellSize;
  }

  /** The packed cells (`cy << 16 | cx`) the player hears. */
  get cells(): ReadonlySet<number> {
    return this.#cells;
  }

  get size(): number {
    return this.#entities.size;
  }

  get(id: number): EntityOf<M> | undefined {
    return this.#entities.get(id) as EntityOf<M> | undefined;
  }

  values(): IterableIterator<EntityOf<M>> {
    return this.#entities.values() as IterableIterator<EntityOf<M>>;
  }

  /** An entity came into view. Returns the function that removes the callback. */
  onEnter(cb: Callback<EntityOf<M>>): () => void {
    this.#enter.add(cb);
    return () => this.#enter.delete(cb);
  }

  /** Fields of an entity in view changed (`changed` names them). */
  onUpdate(cb: (entity: EntityOf<M>, changed: readonly string[]) => void): () => void {
    this.#update.add(cb);
    return () => this.#update.delete(cb);
  }

  /** An entity left the view (it moved away, was removed, or its cell is no longer heard). */
  onLeave(cb: Callback<EntityOf<M>>): () => void {
    this.#leave.add(cb);
    return () => this.#leave.delete(cb);
  }

  /**
   * The entity's numeric fields as they were `delayMs` ago, interpolated between its last two
   * values (render remote entities one tick in the past and they move smoothly). Other fields
   * are the last values.
   */
  interpolate(entity: ClientEntity, delayMs: number): Record<string, EntityValue> {
    const at = this.#now() - delayMs;
    const span = entity.updatedAt - entity.previousAt;
    const t = span <= 0 ? 1 : Math.min(1, Math.max(0, (at - entity.previousAt) / span));
    const out: Record<string, EntityValue> = {};
    for (const [name, value] of Object.entries(entity.values as Record<string, EntityValue>)) {
      const before = (entity.previous as Record<string, EntityValue>)[name];
      out[name] = typeof value === 'number' && typeof before === 'number' ? before + (value - before) * t : value;
    }
    return out;
  }

  /** Forget every entity (onLeave for each) and the cells heard. */
  clear(): void {
    this.#cells.clear();
    const events: (() => void)[] = [];
    for (const e of [...this.#entities.values()]) this.#drop(e, events);
    run(events);
  }

  /** Stop listening to the client. */
  close(): void {
    for (const off of this.#off.splice(0)) off();
  }

  #view(v: { sceneId: string; cellSize: number; add: readonly number[]; remove: readonly number[]; reset: boolean }): void {
    const events: (() => void)[] = [];
    // A new scene, or a view that starts again (a new connection, a restarted scene): forget all.
    if (v.reset || this.#sceneId !== v.sceneId) {
      this.#cells.clear();
      for (const e of [...this.#entities.values()]) this.#drop(e, events);
      this.#sceneId = v.sceneId;
    }
    this.#cellSize = v.cellSize;
    for (const cell of v.add) this.#cells.add(cell);
    if (v.remove.length > 0) {
      const gone = new Set(v.remove);
      for (const cell of v.remove) this.#cells.delete(cell);
      for (const e of [...this.#entities.values()]) if (gone.has(e.cell)) this.#drop(e, events);
    }
    run(events);
  }

  #cell(frame: CellFrame): void {
    const here = ((frame.cellY << 16) | frame.cellX) >>> 0;
    // A frame of a cell this client does not hear (its topic lingering a moment after a reset) is stale.
    if (!this.#cells.has(here)) return;
    const now = this.#now();
    const events: (() => void)[] = [];
    for (const change of frame.entities) {
      let known = this.#entities.get(change.id);
      // An id given again to an entity of another type: the old one is gone.
      if (known !== undefined && change.enter && known.type !== change.type) {
        this.#drop(known, events);
        known = undefined;
      }
      if (known === undefined) {
        if (!change.enter) continue; // a change of an entity this client never saw enter: ignored
        const e: Mutable = { id: change.id, type: change.type, values: { ...change.values }, cell: here, updatedAt: now, previous: { ...change.values }, previousAt: now };
        this.#entities.set(e.id, e);
        events.push(() => {
          for (const cb of this.#enter) cb(e as unknown as EntityOf<M>);
        });
        continue;
      }
      // Entering here from a neighbour cell this client hears too: a move, not a new entity.
      if (change.enter) known.cell = here;
      known.previous = { ...known.values };
      known.previousAt = known.updatedAt;
      Object.assign(known.values, change.values);
      known.updatedAt = now;
      const e = known;
      const changed = Object.keys(change.values);
      events.push(() => {
        for (const cb of this.#update) cb(e as unknown as EntityOf<M>, changed);
      });
    }
    for (let i = 0; i < frame.leaves.length; i++) {
      const e = this.#entities.get(frame.leaves[i]!);
      // Already entered another cell this tick (its enter came first), or never seen here.
      if (e === undefined || e.cell !== here) continue;
      const to = frame.leaveTo[i]!;
      // Moving into a cell this client hears: its enter there follows (or came) in the same tick.
      if (to !== CELL_GONE && this.#cells.has(to)) e.cell = to;
      else this.#drop(e, events);
    }
    run(events);
  }

  #drop(e: Mutable, events: (() => void)[]): void {
    if (!this.#entities.delete(e.id)) return;
    events.push(() => {
      for (const cb of this.#leave) cb(e as unknown as EntityOf<M>);
    });
  }
}

/**
 * Run the callbacks of one frame once the table is up to date: each runs even when an earlier
 * one throws; the first error is thrown at the end (the client reports it as an `error` event).
 */
function run(events: readonly (() => void)[]): void {
  let first: Error | null = null;
  for (const event of events) {
    try {
      event();
    } catch (err) {
      first ??= err instanceof Error ? err : new Error(String(err));
    }
  }
  if (first !== null) throw first;
}
