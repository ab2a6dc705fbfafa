/**
 * Archives the closing standings of leaderboards whose period ended (a `reset` schedule) into
 * the SQL store, then forgets them in the backend. Every process that runs one takes part: a
 * lock per period (in the backend, with a lifetime) lets one archive it at a time, and since
 * the store's writes are idempotent, an archiver that dies half-way is simply followed by the
 * next, which writes the period again from the top. A period waits `graceMs` after its end, so
 * the last scores from a clock a little behind still count; whether it has ended is read on the
 * backend's clock (Redis TIME), so an archiver whose own clock runs ahead does not close it early.
 */
import type { Logger } from '@gos/schema';
import type { ArchivedStanding, LeaderboardArchive } from '@gos/store';
import type { PeriodClock, StoredDefinition } from './definition.js';
import type { LeaderboardBackend } from './types.js';

/** Rows read from the backend and written to the store at a time. */
const BATCH = 1000;
/** How long a period's lock lasts; renewed after every batch. */
const LOCK_MS = 120_000;

export interface PeriodArchiverOptions {
  readonly backend: LeaderboardBackend;
  readonly archive: LeaderboardArchive;
  /** The board's definition and period clock, read fresh (null: deleted). */
  readonly definition: (name: string) => Promise<{ readonly def: StoredDefinition; readonly clock: PeriodClock } | null>;
  /** The clock that says a period has ended: the backend's (one for the cluster), or a test's. */
  readonly now: () => Promise<number>;
  readonly owner: string;
  readonly intervalMs: number;
  readonly graceMs: number;
  readonly logger: Logger;
}

export class PeriodArchiver {
  readonly #o: PeriodArchiverOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<number> | null = null;
  #closed = false;

  constructor(o: PeriodArchiverOptions) {
    this.#o = o;
  }

  start(): void {
    if (this.#closed || this.#timer !== null) return;
    this.#timer = setInterval(() => void this.pass().catch((err: unknown) => this.#o.logger.warn({ err }, 'leaderboard archive pass failed; trying again later')), this.#o.intervalMs);
    this.#timer.unref();
    void this.pass().catch((err: unknown) => this.#o.logger.warn({ err }, 'leaderboard archive pass failed; trying again later'));
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => 0);
  }

  /** Archive every closed period this process can lock; one pass at a time. @returns periods archived */
  pass(): Promise<number> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #pass(): Promise<number> {
    let archived = 0;
    for (const name of await this.#o.backend.names()) {
      if (this.#closed) break;
      const known = await this.#o.definition(name);
      if (known === null || known.def.reset === null) continue;
      const now = await this.#o.now();
      const current = known.clock.at(now).start;
      for (const start of await this.#o.backend.periodsWithData(name, known.def.version)) {
        if (this.#closed || start >= current) break;
        const end = known.clock.endOf(start);
        if (now < end + this.#o.graceMs) continue;
        if (!(await this.#o.backend.lockPeriod(name, known.def.version, start, this.#o.owner, LOCK_MS))) continue;
        if (await this.#closedAlready(name, start)) {
          // Scores that arrived after the period was archived (a clock far behind): the archive stands.
          this.#o.logger.warn({ board: name, periodStart: new Date(start).toISOString() }, 'scores for an archived leaderboard period arrived late; dropped');
          await this.#o.backend.dropPeriod(name, known.def.version, start);
          continue;
        }
        const members = await this.#archivePeriod(name, known.def, start);
        await this.#o.archive.closePeriod({ board: name, periodStart: start, periodEnd: end, members });
        await this.#o.backend.dropPeriod(name, known.def.version, start);
        this.#o.logger.info({ board: name, periodStart: new Date(start).toISOString(), periodEnd: new Date(end).toISOString(), members }, 'leaderboard period archived');
        archived++;
      }
    }
    return archived;
  }

  async #closedAlready(name: string, start: number): Promise<boolean> {
    return (await this.#o.archive.periods(name, 1000)).some((p) => p.periodStart === start);
  }

  /** Copy a period's standings (the top `archiveTop`) to the store: how many members. */
  async #archivePeriod(name: string, def: StoredDefinition, start: number): Promise<number> {
    const top = def.archiveTop ?? Number.MAX_SAFE_INTEGER;
    let written = 0;
    while (written < top) {
      const raw = await this.#o.backend.periodRange(name, def.version, def.order, start, written, Math.min(BATCH, top - written));
      if (raw.length === 0) break;
      const rows: ArchivedStanding[] = raw.map((r) => ({ rank: r.index + 1, memberId: r.memberId, score: r.score, data: r.data }));
      await this.#o.archive.writeStandings(name, start, rows);
      written += rows.length;
      if (!(await this.#o.backend.lockPeriod(name, def.version, start, this.#o.owner, LOCK_MS))) throw new Error(`lost the archive lock of leaderboard ${name}, period ${start}`);
      if (raw.length < BATCH) break;
    }
    return written;
  }
}
