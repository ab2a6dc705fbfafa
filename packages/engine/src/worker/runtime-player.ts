import type { Player } from '../api.js';

/** What a player's `send` and `kick` go through: its scene. */
export interface PlayerOutput {
  sendPush(sid: number, push: string, payload: unknown): void;
  kick(sid: number, closeCode: number, reason: string): void;
  travel(player: RuntimePlayer, sceneId: string, arrival: unknown): Promise<void>;
}

/**
 * A player as scene code sees it ({@link Player}), with what its scene keeps beside it: the
 * connection it plays on (`sid`), the dirty flag and the JSON of its last save.
 */
export class RuntimePlayer implements Player<unknown, Record<string, unknown>> {
  readonly id: string;
  readonly name: string;
  data: unknown;
  dirty = false;
  /** JSON of the data as last sent for persistence: the dirty check compares against it. */
  savedJson: string | null;
  sid: number;
  readonly #runtime: PlayerOutput;

  constructor(runtime: PlayerOutput, sid: number, id: string, name: string, data: unknown, savedJson: string | null) {
    this.#runtime = runtime;
    this.sid = sid;
    this.id = id;
    this.name = name;
    this.data = data;
    this.savedJson = savedJson;
  }

  markDirty(): void {
    this.dirty = true;
  }

  send(push: string, payload: unknown): void {
    this.#runtime.sendPush(this.sid, push, payload);
  }

  kick(closeCode: number, reason: string): void {
    this.#runtime.kick(this.sid, closeCode, reason);
  }

  travel(sceneId: string, arrival?: unknown): Promise<void> {
    return this.#runtime.travel(this, sceneId, arrival);
  }
}
