import { randomUUID } from 'node:crypto';
import TinyQueue from 'tinyqueue';
import { CodedError, ErrorCodes } from '@gos/schema';
import type { DurableTimer, ScheduleAt } from '../api.js';
import { FromScene, encodeTimerChanges, type TimerChanges, type TimerRecord } from '../records.js';
import type { Outbox } from '../outbox.js';

/** The longest a Node timer can wait; a timer due later is re-armed when this runs out. */
const MAX_WAIT_MS = 2 ** 31 - 1;
/** Firings handled in one turn before yielding to the scene's tick and messages. */
const FIRINGS_PER_TURN = 500;
/** Most timers one owner may have pending. */
const MAX_PENDING = 100_000;
/** Largest payload (JSON text) one timer may carry. */
export const MAX_TIMER_PAYLOAD_BYTES = 64 * 1024;

interface Due {
  readonly dueAt: number;
  readonly name: string;
  readonly id: string;
}

/**
 * A scene's (or service's) durable timers (`schedule`, `cancel`): kept by due time in a heap
 * with one Node timer armed for the earliest. A firing removes the timer and hands it to
 * `fire`; every change (scheduled, cancelled, fired) waits in {@link takeChanges} for the
 * owner's next save, which writes it with the owner's state in one transaction. So a firing is
 * recorded together with its effects: a crash before that save loses both, and the timer fires
 * again from the store (at least once; the same id each time).
 */
export class DurableTimers {
  readonly #timers = new Map<string, TimerRecord>();
  /** Every scheduling; entries whose timer was cancelled or rescheduled are skipped when popped. */
  readonly #heap = new TinyQueue<Due>([], (a, b) => a.dueAt - b.dueAt);
  /** name → what the next save writes: the timer, or null to delete it. */
  #changes = new Map<string, TimerRecord | null>();
  readonly #fire: (timer: DurableTimer) => void;
  readonly #now: () => number;
  readonly #maxPending: number;
  /** Fired, their handler not settled yet: still the owner's until fired() (a hand-over carries them). */
  readonly #inFlight = new Map<string, TimerRecord>();
  #armed: ReturnType<typeof setTimeout> | undefined;
  #armedFor = Infinity;
  #running = false;

  constructor(loaded: readonly TimerRecord[], fire: (timer: DurableTimer) => void, o: { readonly maxPending?: number; readonly now?: () => number } = {}) {
    this.#fire = fire;
    this.#now = o.now ?? Date.now;
    this.#maxPending = o.maxPending ?? MAX_PENDING;
    for (const t of loaded) {
      this.#timers.set(t.name, t);
      this.#heap.push({ dueAt: t.dueAt, name: t.name, id: t.id });
    }
  }

  /** Start firing (after onCreate): overdue timers fire at once. */
  start(): void {
    this.#running = true;
    this.#arm();
  }

  get size(): number {
    return this.#timers.size;
  }

  /** The pending timer `name`, if any. */
  get(name: string): DurableTimer | undefined {
    const t = this.#timers.get(name);
    return t === undefined ? undefined : view(t);
  }

  schedule(name: string, when: ScheduleAt, payload: unknown): DurableTimer {
    if (typeof name !== 'string' || name === '' || name.length > 255 || !name.isWellFormed()) throw invalid(`a timer name is 1–255 characters, got ${String(name)}`);
    const dueAt = dueTime(when, this.#now());
    let json: string | undefined;
    try {
      json = JSON.stringify(payload === undefined ? null : payload);
    } catch (err) {
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `the payload of timer ${name} cannot be saved as JSON`, { cause: err });
    }
    if (json === undefined) throw invalid(`the payload of timer ${name} cannot be saved as JSON`);
    if (Buffer.byteLength(json) > MAX_TIMER_PAYLOAD_BYTES) throw invalid(`the payload of timer ${name} is larger than ${MAX_TIMER_PAYLOAD_BYTES} bytes`);
    if (!this.#timers.has(name) && this.#timers.size >= this.#maxPending) throw invalid(`an owner holds at most ${this.#maxPending} pending timers`);
    const record: TimerRecord = { name, dueAt, id: randomUUID(), payload: json };
    this.#timers.set(name, record);
    this.#changes.set(name, record);
    this.#heap.push({ dueAt, name, id: record.id });
    // Rescheduling leaves the old entry in the heap until it surfaces: rebuild when they pile up.
    if (this.#heap.length > 2 * this.#timers.size + 1024) this.#rebuild();
    if (this.#running && dueAt < this.#armedFor) this.#arm();
    return view(record);
  }

  /** Cancel timer `name`; whether there was one. */
  cancel(name: string): boolean {
    if (!this.#timers.delete(name)) return false;
    this.#changes.set(name, null);
    return true;
  }

  /** The changes since the last call, for the owner's save; null when there are none. */
  takeChanges(): TimerChanges | null {
    if (this.#changes.size === 0) return null;
    const set: TimerRecord[] = [];
    const del: string[] = [];
    for (const [name, record] of this.#changes) {
      if (record === null) del.push(name);
      else set.push(record);
    }
    this.#changes = new Map();
    return { set, delete: del };
  }

  /**
   * The firing of `timer` has been handled (its handler settled): its removal goes with the next
   * save. A timer of that name scheduled since is left as it is.
   */
  fired(timer: DurableTimer): void {
    if (this.#inFlight.get(timer.name)?.id === timer.id) this.#inFlight.delete(timer.name);
    if (!this.#timers.has(timer.name)) this.#changes.set(timer.name, null);
  }

  /** Every timer still pending (for a hand-over). */
  list(): TimerRecord[] {
    return [...this.#timers.values()];
  }

  /**
   * The owner leaves (a player logging out or travelling): timers fired and not handled yet
   * count as fired. Their handler goes on where it was, and is not run again elsewhere.
   */
  settleInFlight(): void {
    for (const name of this.#inFlight.keys()) if (!this.#timers.has(name)) this.#changes.set(name, null);
    this.#inFlight.clear();
  }

  /** The owner stops: nothing fires any more (what is pending stays in the store); scheduling still works until the final save. */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#armed);
    this.#armed = undefined;
  }

  #rebuild(): void {
    const live = [...this.#timers.values()].map((t) => ({ dueAt: t.dueAt, name: t.name, id: t.id }));
    while (this.#heap.length > 0) this.#heap.pop();
    for (const d of live) this.#heap.push(d);
  }

  #arm(): void {
    clearTimeout(this.#armed);
    this.#armed = undefined;
    this.#armedFor = Infinity;
    if (!this.#running) return;
    const head = this.#peekLive();
    if (head === undefined) return;
    this.#armedFor = head.dueAt;
    const wait = Math.min(MAX_WAIT_MS, Math.max(0, head.dueAt - this.#now()));
    this.#armed = setTimeout(() => this.#onDue(), wait);
  }

  /** The earliest timer still pending (entries of cancelled or rescheduled ones are dropped). */
  #peekLive(): Due | undefined {
    for (;;) {
      const head = this.#heap.peek();
      if (head === undefined) return undefined;
      if (this.#timers.get(head.name)?.id === head.id) return head;
      this.#heap.pop();
    }
  }

  #onDue(): void {
    this.#armed = undefined;
    this.#armedFor = Infinity;
    const now = this.#now();
    for (let fired = 0; fired < FIRINGS_PER_TURN && this.#running; fired++) {
      const head = this.#peekLive();
      if (head === undefined || head.dueAt > now) break;
      this.#heap.pop();
      const record = this.#timers.get(head.name)!;
      // Out of the pending set at once (it fires once here); its removal is saved by fired().
      this.#timers.delete(head.name);
      this.#inFlight.set(head.name, record);
      this.#fire(view(record));
    }
    // More due: after the scene's tick and messages had their turn.
    if (this.#running) {
      const head = this.#peekLive();
      if (head !== undefined && head.dueAt <= now) {
        this.#armedFor = head.dueAt;
        this.#armed = setTimeout(() => this.#onDue(), 0);
      } else this.#arm();
    }
  }
}

/** Timer changes per SAVE_TIMERS record: well under the ring's record limit even with large payloads. */
const CHANGES_PER_RECORD_BYTES = 256 * 1024;

/** Send `changes` as SAVE_TIMERS records of bounded size (the SAVE_SCENE that follows takes them all). */
export function sendTimerChanges(out: Outbox, changes: TimerChanges): void {
  let part: TimerChanges = { set: [], delete: [] };
  let bytes = 0;
  const flush = (): void => {
    if (part.set.length === 0 && part.delete.length === 0) return;
    out.send(FromScene.SAVE_TIMERS, 0, 0, encodeTimerChanges(part));
    part = { set: [], delete: [] };
    bytes = 0;
  };
  for (const name of changes.delete) {
    (part.delete as string[]).push(name);
    bytes += name.length * 3 + 4;
    if (bytes >= CHANGES_PER_RECORD_BYTES) flush();
  }
  for (const t of changes.set) {
    (part.set as TimerRecord[]).push(t);
    bytes += (t.name.length + t.payload.length) * 3 + 120;
    if (bytes >= CHANGES_PER_RECORD_BYTES) flush();
  }
  flush();
}

function invalid(message: string): CodedError {
  return new CodedError(ErrorCodes.OPT_ERR_INVALID, message);
}

function dueTime(when: ScheduleAt, now: number): number {
  if (typeof when !== 'object' || when === null) throw invalid('schedule needs { at } or { delayMs }');
  const { at, delayMs } = when as { at?: unknown; delayMs?: unknown };
  if (at !== undefined && delayMs !== undefined) throw invalid('schedule takes { at } or { delayMs }, not both');
  if (at !== undefined) {
    const t = at instanceof Date ? at.getTime() : at;
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) throw invalid('schedule at must be a Date or ms since the epoch');
    return t;
  }
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0 || now + delayMs > Number.MAX_SAFE_INTEGER) throw invalid('schedule delayMs must be a non-negative number');
  return Math.round(now + delayMs);
}

function view(t: TimerRecord): DurableTimer {
  return Object.freeze({ name: t.name, id: t.id, dueAt: t.dueAt, payload: JSON.parse(t.payload) as unknown });
}
