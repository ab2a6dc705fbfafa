import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import type { Outbox } from '../outbox.js';
import { FromScene } from '../records.js';
import { encodePlayerLogs, type LogRecordEntry } from '../log-records.js';

const EVENT = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Most bytes of one event's fields, as JSON. */
export const MAX_LOG_FIELDS_BYTES = 4096;
/** A LOGS record is sent once its events hold this much JSON (else at the end of the current turn), or a quarter of the ring's largest record when that is less (the fields are escaped again inside it). */
const FLUSH_BYTES = 128 * 1024;

/**
 * A scene's player-log events (`player.log`, `ctx.log`, `scene.logFor`), checked as they are
 * appended and sent to the main thread in one FromScene.LOGS record per turn of the scene's
 * thread (a tick's or a handler's worth), not one per event. Appending never waits: the main
 * thread writes them to the store in batches, off the tick.
 */
export class PlayerLogBuffer {
  readonly #out: Outbox;
  readonly #log: Logger;
  #entries: LogRecordEntry[] = [];
  #bytes = 0;
  #scheduled = false;
  readonly #flushBytes: number;
  readonly #flush = (): void => this.flush();

  constructor(out: Outbox, logger: Logger) {
    this.#out = out;
    this.#log = logger;
    this.#flushBytes = Math.max(1, Math.min(FLUSH_BYTES, Math.floor(out.maxPayloadBytes / 4)));
  }

  /** @throws CodedError `OPT_ERR_INVALID` for a bad player id, event name or fields */
  add(playerId: string, event: string, fields: unknown): void {
    if (typeof playerId !== 'string' || playerId.length === 0 || playerId.length > 255 || !playerId.isWellFormed()) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `a log event needs a player id, got ${String(playerId)}`);
    if (typeof event !== 'string' || !EVENT.test(event)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `a log event's name is 1–64 characters of A–Z a–z 0–9 _ . : -, got ${JSON.stringify(String(event)).slice(0, 80)}`);
    if (fields !== undefined && (typeof fields !== 'object' || fields === null || Array.isArray(fields))) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `a log event's fields are an object, got ${Array.isArray(fields) ? 'an array' : typeof fields}`);
    let f: string;
    try {
      f = fields === undefined ? '{}' : JSON.stringify(fields);
    } catch (err) {
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `the fields of log event ${event} cannot be written as JSON`, { cause: err });
    }
    const bytes = Buffer.byteLength(f);
    if (bytes > MAX_LOG_FIELDS_BYTES) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `the fields of log event ${event} are ${bytes} bytes of JSON; at most ${MAX_LOG_FIELDS_BYTES}`);
    this.#entries.push({ p: playerId, e: event, t: Date.now(), f });
    this.#bytes += bytes + playerId.length + event.length + 32;
    if (this.#bytes >= this.#flushBytes) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /** Send what was appended (the scene stopping sends the rest). */
  flush(): void {
    this.#scheduled = false;
    if (this.#entries.length === 0) return;
    const entries = this.#entries;
    this.#entries = [];
    this.#bytes = 0;
    try {
      this.#out.send(FromScene.LOGS, 0, 0, encodePlayerLogs(entries));
    } catch (err) {
      // The ring to the main thread is full past its overflow (ENG_ERR_QUEUE_FULL): the events are lost, loudly.
      this.#log.error({ err, events: entries.length }, 'player-log events dropped: the main thread is not keeping up');
    }
  }
}
