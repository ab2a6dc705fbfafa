import { FromScene, SaveSceneFlag, encodeSavePayload } from '../records.js';
import type { Outbox } from '../outbox.js';
import type { DurableTimers } from './durable-timers.js';
import { sendTimerChanges } from './durable-timers.js';
import type { RuntimePlayer } from './runtime-player.js';
import type { SharedViews } from './shared-views.js';

const encoder = new TextEncoder();

/**
 * What a scene writes back to the main thread at each save: every player whose data changed,
 * then the state with the durable-timer changes and the shared-table writes staged before it
 * (SAVE_TIMERS, SAVE_SHARED), so that the main thread writes them in one transaction.
 */
export class SceneSaver {
  readonly #out: Outbox;
  readonly #players: ReadonlyMap<string, RuntimePlayer>;
  readonly #durable: DurableTimers;
  readonly #shared: SharedViews;
  #stateDirty: boolean;
  /** JSON of the state as last sent: the dirty check compares against it. */
  #stateJson: string | null;

  /** `savedJson`: the state's JSON as loaded, or null for a new state (saved at the first save). */
  constructor(o: { out: Outbox; players: ReadonlyMap<string, RuntimePlayer>; durable: DurableTimers; shared: SharedViews; savedJson: string | null }) {
    this.#out = o.out;
    this.#players = o.players;
    this.#durable = o.durable;
    this.#shared = o.shared;
    this.#stateJson = o.savedJson;
    this.#stateDirty = o.savedJson === null;
  }

  markDirty(): void {
    this.#stateDirty = true;
  }

  /** Send every changed player, and the state if changed (or if timers or shared writes go with it); `final` marks a stop's last save. */
  save(state: unknown, final: boolean): void {
    for (const player of this.#players.values()) {
      if (!player.dirty && !final) continue;
      player.dirty = false;
      const json = JSON.stringify(player.data);
      // Its timer changes go with its data: a save for them even when the data is unchanged.
      const changes = player.timers.takeChanges();
      if (json === player.savedJson && changes === null) continue;
      player.savedJson = json;
      // Data JSON cannot hold (undefined) is sent as null, nothing to save, never as invalid JSON.
      this.#out.send(FromScene.SAVE_PLAYER, player.sid, 0, encodeSavePayload(player.id, json, { changes }));
    }
    const timers = this.#durable.takeChanges();
    const sharedWrites = this.#shared.sendChanges(this.#out);
    const staged = sharedWrites || timers !== null;
    if (!this.#stateDirty && !final && !staged) return;
    this.#stateDirty = false;
    const json = JSON.stringify(state);
    if (json === this.#stateJson && !staged) return;
    this.#stateJson = json;
    if (timers !== null) sendTimerChanges(this.#out, timers);
    this.#out.send(FromScene.SAVE_SCENE, 0, (final ? SaveSceneFlag.FINAL : 0) | (staged ? SaveSceneFlag.WITH_TIMERS : 0), encoder.encode(json));
  }
}
