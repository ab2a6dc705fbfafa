import type { DurableTimer, Player, ScheduleAt } from '../api.js';
import type { TimerRecord } from '../records.js';
import { DurableTimers } from './durable-timers.js';

/** What a player's `send`, `kick`, `travel` and timers go through: its scene. */
export interface PlayerOutput {
  sendPush(sid: number, push: string, payload: unknown): void;
  kick(sid: number, closeCode: number, reason: string): void;
  travel(player: RuntimePlayer, sceneId: string, arrival: unknown): Promise<void>;
  /** One of the player's durable timers is due. */
  playerTimer(player: RuntimePlayer, timer: DurableTimer): void;
  /** A player-log event about `playerId`. */
  logFor(playerId: string, event: string, fields?: Record<string, unknown>): void;
}

/** Most durable timers one player may have pending. */
const MAX_PLAYER_TIMERS = 1000;

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
  /** The player's durable timers: they go where it goes, saved with its data. */
  readonly timers: DurableTimers;
  readonly #runtime: PlayerOutput;

  constructor(runtime: PlayerOutput, sid: number, id: string, name: string, data: unknown, savedJson: string | null, timers: readonly TimerRecord[] = []) {
    this.#runtime = runtime;
    this.timers = new DurableTimers(timers, (timer) => this.#runtime.playerTimer(this, timer), { maxPending: MAX_PLAYER_TIMERS });
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

  log(event: string, fields?: Record<string, unknown>): void {
    this.#runtime.logFor(this.id, event, fields);
  }

  travel(sceneId: string, arrival?: unknown): Promise<void> {
    return this.#runtime.travel(this, sceneId, arrival);
  }

  schedule(name: string, when: ScheduleAt, payload?: unknown): DurableTimer {
    const timer = this.timers.schedule(name, when, payload);
    this.dirty = true;
    return timer;
  }

  cancel(name: string): boolean {
    const cancelled = this.timers.cancel(name);
    if (cancelled) this.dirty = true;
    return cancelled;
  }

  scheduled(name: string): DurableTimer | undefined {
    return this.timers.get(name);
  }
}
