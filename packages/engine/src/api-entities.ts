/**
 * The scene API of replicated entities (docs/aoi.md): a scene type's interest grid, its
 * entities, and the table `scene.entities`. Re-exported by api.ts.
 */
import type { Player } from './api.js';

/**
 * Interest management of a scene type whose protocol declares `entities:` (docs/aoi.md): a grid
 * of square cells over a `width` × `height` map with its corner at (0, 0); positions off the
 * map count in its edge cells.
 */
export interface InterestOptions {
  /** Side of a cell, in world units. */
  readonly cellSize: number;
  readonly width: number;
  readonly height: number;
  /** A player always hears every cell within this distance of its viewpoint. @default cellSize */
  readonly viewRadius?: number;
  /**
   * A player's cells are worked out again once its viewpoint has moved `hysteresis / 2` (as the crow flies): they
   * are the cells within `viewRadius + hysteresis / 2`, and a cell heard is dropped only beyond
   * `viewRadius + hysteresis`, so walking along a cell edge does not churn. @default cellSize / 2
   */
  readonly hysteresis?: number;
  /**
   * Most cells one player hears, nearest first: bounds what a client receives.
   * @default every cell the leave radius can reach (`(2 ⌈(viewRadius + hysteresis) / cellSize⌉ + 1)²`)
   */
  readonly maxCells?: number;
  /**
   * Most entities whose fields changed sent per cell and tick; the others' changes wait for
   * the next ticks, those waiting longest first (entering and leaving a cell are always sent).
   * @default 64
   */
  readonly maxChangesPerCell?: number;
  /**
   * Distance bands (docs/aoi.md): cells within this distance of a player's viewpoint are its near
   * band and get every change every tick; its other cells are its far band, where the fields
   * declared with `farEvery` in the protocol YAML are sent at most every `farEvery` ticks.
   * Entering and leaving are sent at once in both bands. Like the view, the band of a cell is
   * worked out with the hysteresis (near within `nearRadius + hysteresis / 2`, kept near within
   * `nearRadius + hysteresis`). Focused entities' cells are always near.
   * @default no far band: every heard cell is near
   */
  readonly nearRadius?: number;
}

/** A replicated entity (docs/aoi.md): its fields reach the clients whose area of interest holds its cell. */
export interface Entity<V extends object = Record<string, number | boolean | string>> {
  /** Unique in its scene while it lives (ids are reused after a removal). */
  readonly id: number;
  /** Its type's name in the protocol YAML. */
  readonly type: string;
  /** Its fields as last set (an object built once per change: for one field, {@link Entity.get} is cheaper). */
  readonly values: Readonly<V>;
  /** One field's value. @throws CodedError `SCH_ERR_BAD_PAYLOAD` for a field its type does not have */
  get<K extends keyof V & string>(field: K): V[K];
  /** Whether it is still in its scene (not removed). */
  readonly alive: boolean;
  /**
   * Change some fields: checked against the YAML types (`SCH_ERR_BAD_PAYLOAD` for a value that
   * does not fit), sent at the end of this tick as a delta of the changed fields. Moving (x, y)
   * into another cell sends it as leaving one cell and entering the other. The values are
   * copied: one object may be reused for every set (no allocation per entity per tick).
   */
  set(values: Partial<V>): void;
  /** Take it out of the scene: its clients get a leave at the end of this tick. */
  remove(): void;
}

/** A scene's replicated entities (`scene.entities`), when its protocol declares `entities:` for its type. */
export interface SceneEntities {
  /**
   * Add an entity of `type` with every field's first value. With `player`, it is that player's
   * viewpoint: the player hears the cells around it, and it is removed when the player leaves.
   * @throws CodedError `OPT_ERR_INVALID` for an unknown type or a player that has a viewpoint already, `SCH_ERR_BAD_PAYLOAD` for a missing or bad field
   */
  spawn<V extends object = Record<string, number | boolean | string>>(type: string, values: V, options?: { readonly player?: Player<unknown, never> | Player }): Entity<V>;
  get(id: number): Entity | undefined;
  /** The viewpoint entity of a player in this scene. */
  of(player: Player<unknown, never> | Player): Entity | undefined;
  /**
   * Priority: the player's client hears `entity`'s cell wherever the entity goes, beyond its
   * `maxCells` (its party, its target), until {@link SceneEntities.unfocus} or the entity's
   * removal. At most 32 entities a player; focusing twice, or on its own viewpoint, changes nothing.
   * @throws CodedError `OPT_ERR_INVALID` for a player without a viewpoint entity, an entity not in this scene, or a 33rd entity
   */
  focus(player: Player<unknown, never> | Player, entity: Entity): void;
  /** Stop {@link SceneEntities.focus}: the entity's cell stays heard only while it is in range. */
  unfocus(player: Player<unknown, never> | Player, entity: Entity): void;
  readonly size: number;
  values(): IterableIterator<Entity>;
}
