import { mergeTimerChanges } from './timer-changes.js';
import type { SharedChanges, TimerChanges } from './records.js';
import { ErrorCodes, type ErrorData, type Logger } from '@gos/schema';
import type { SaveResult, Store } from '@gos/store';

type Kind = 'player' | 'scene';

interface Entry {
  readonly kind: Kind;
  readonly id: string;
  data: unknown;
  /** Players: the scene the snapshot was taken in (recorded with the row). */
  sceneId: string | undefined;
  /** Scenes: timer changes written with the row (those of every snapshot it replaced included). */
  timers: TimerChanges | undefined;
  /** Scenes: shared-table writes written with the row, in order (those of the snapshots it replaced first). */
  shared: SharedChanges[] | undefined;
  /** Players: mail whose attachments this write claims (those of every snapshot it replaced included). */
  claims: number[] | undefined;
}

/** Someone waiting for the write that carries its mail claim. */
interface ClaimWaiter {
  readonly mailId: number;
  readonly resolve: (result: SaveResult) => void;
}

const keyOf = (kind: Kind, id: string): string => `${kind}\u0000${id}`;

/** Why the store refused a row of a batch, and what is logged for it. */
const REFUSALS = {
  invalid: 'write refused: invalid data; dropped',
  fenced: 'write refused: fenced, another engine owns these rows now; dropped',
  stale: 'write refused: rows were written by another owner; dropped',
  claim: 'write refused: a mail claim it carries cannot be made; dropped, and nothing more is written for these players until they are loaded again',
  failed: 'write failed; will retry',
} as const;
type Refusal = keyof typeof REFUSALS;

/** Row ids a refusal's summary line names; every row is logged at debug level. */
const SUMMARY_IDS = 5;

/**
 * Batches hot-data write-backs from every scene of the engine into one store transaction per
 * `batchWindowMs`. Keeps the row version of everything it writes (optimistic concurrency): a
 * write refused as stale means another owner wrote the row, and is reported, not retried.
 * A write that fails for any other reason (store down) stays queued and is retried with
 * exponential back-off (up to 5 s), unless a newer snapshot of the same row replaced it.
 * Refused rows are logged as one line per batch and reason, with counts; each row at debug.
 */
export class Persister {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #batchWindowMs: number;
  readonly #versions = new Map<string, number>();
  /** Fencing token of each row this engine claimed; its writes carry it. */
  readonly #fences = new Map<string, number>();
  /**
   * Players: the scene this engine last recorded with the row (since its claim). A save in the
   * same scene leaves the row's scene as it is: one statement less per player and save.
   */
  readonly #recordedScene = new Map<string, string>();
  #pending = new Map<string, Entry>();
  #inFlight: Promise<void> | null = null;
  #inFlightKeys = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiters: Array<() => void> = [];
  /** Rows whose version may be dropped once their last queued write lands (players who left). */
  readonly #releasing = new Set<string>();
  /** Mail claims waiting for their write, by row. */
  readonly #claimWaiters = new Map<string, ClaimWaiter[]>();
  /**
   * Rows whose write with a mail claim was refused: their hot data holds what the claim granted,
   * so nothing more of it may be written here until the row is claimed and loaded again (seed).
   */
  readonly #blocked = new Set<string>();
  /** Told when a write carrying mail claims was refused (the engine kicks the player, whose hot data is now wrong). */
  readonly #onClaimRefused: ((id: string, error: ErrorData) => void) | undefined;
  /** Consecutive failed batches: the retry delay doubles with each. */
  #failures = 0;
  #stale = 0;
  #fenced = 0;
  #written = 0;
  #failedBatches = 0;

  /** Told of every batch: its rows, how long the store took, and whether it failed (metrics). */
  readonly #onBatch: ((rows: number, seconds: number, failed: boolean) => void) | undefined;

  constructor(store: Store, opts: { batchWindowMs: number; logger: Logger; onBatch?: (rows: number, seconds: number, failed: boolean) => void; onClaimRefused?: (id: string, error: ErrorData) => void }) {
    this.#store = store;
    this.#logger = opts.logger;
    this.#batchWindowMs = opts.batchWindowMs;
    this.#onBatch = opts.onBatch;
    this.#onClaimRefused = opts.onClaimRefused;
  }

  get stats(): { written: number; stale: number; fenced: number; failedBatches: number; pending: number } {
    return { written: this.#written, stale: this.#stale, fenced: this.#fenced, failedBatches: this.#failedBatches, pending: this.#pending.size };
  }

  /** Record the version (and the fencing token, when claimed) of a row just loaded. */
  seed(kind: Kind, id: string, version: number, fence?: number): void {
    const key = keyOf(kind, id);
    this.#releasing.delete(key);
    this.#blocked.delete(key);
    this.#versions.set(key, version);
    // Claimed anew: another owner may have recorded another scene meanwhile.
    this.#recordedScene.delete(key);
    if (fence === undefined) this.#fences.delete(key);
    else this.#fences.set(key, fence);
  }

  /**
   * Forget a row's version once everything queued for it is written (a player who left: a
   * rejoin loads and seeds it again). Keeps the version map as large as the live rows.
   */
  release(kind: Kind, id: string): void {
    const key = keyOf(kind, id);
    if (this.#pending.has(key) || this.#inFlightKeys.has(key)) this.#releasing.add(key);
    else {
      this.#versions.delete(key);
      this.#fences.delete(key);
      this.#recordedScene.delete(key);
    }
  }

  /**
   * Queue a snapshot of a row; for a player, `sceneId` is the scene it was taken in; for a
   * scene, `timers` are the timer changes that go with this snapshot (kept, merged, when a newer
   * snapshot replaces it before it is written).
   */
  enqueue(kind: Kind, id: string, data: unknown, sceneId?: string, timers?: TimerChanges, shared?: SharedChanges[], claims?: number[]): void {
    const key = keyOf(kind, id);
    if (this.#blocked.has(key)) {
      this.#logger.debug({ kind, id }, 'write dropped: a mail claim of this row was refused');
      return;
    }
    const entry = this.#pending.get(key);
    if (entry !== undefined) {
      entry.data = data;
      entry.sceneId = sceneId;
      if (timers !== undefined) entry.timers = entry.timers === undefined ? timers : mergeTimerChanges([entry.timers, timers]);
      if (shared !== undefined) entry.shared = mergeShared([...(entry.shared ?? []), ...shared]);
      if (claims !== undefined) entry.claims = [...(entry.claims ?? []), ...claims];
    } else this.#pending.set(key, { kind, id, data, sceneId, timers, shared, claims });
    this.#schedule();
  }

  /**
   * Queue a snapshot of player `id` whose data holds what claiming mail `mailId`'s attachments
   * granted (docs/mail.md): the claim is written with it in one transaction, or neither is. Resolves
   * with the outcome of that write: a write that failed (store down) is retried like any other,
   * so the promise waits for it. When the store refuses it (`MAIL_ERR_NOT_CLAIMABLE`, fenced,
   * stale), nothing more is written for the player here until it is loaded again, and
   * `onClaimRefused` is told. Writes now rather than at the end of the batch window.
   */
  claim(id: string, data: unknown, sceneId: string, mailId: number): Promise<SaveResult> {
    const key = keyOf('player', id);
    if (this.#blocked.has(key)) {
      return Promise.resolve({ ok: false, error: { code: ErrorCodes.MAIL_ERR_NOT_CLAIMABLE, message: `an earlier mail claim of player ${id} was refused; it must log in again` } });
    }
    return new Promise<SaveResult>((resolve) => {
      const waiters = this.#claimWaiters.get(key) ?? [];
      waiters.push({ mailId, resolve });
      this.#claimWaiters.set(key, waiters);
      this.enqueue('player', id, data, sceneId, undefined, undefined, [mailId]);
      if (this.#inFlight === null && this.#failures === 0) void this.#run();
    });
  }

  /**
   * A mail claim of player `id` cannot be made (the store refused its write, or it never reached
   * the store): nothing more of the player is written here until it is loaded again, whoever
   * waits for a claim of it is told, and so is the engine (it reloads the player).
   */
  refuseClaim(id: string, error: ErrorData): void {
    this.#block({ kind: 'player', id, data: null, sceneId: undefined, timers: undefined, shared: undefined, claims: undefined }, error);
  }

  #block(e: Entry, error: ErrorData): void {
    const key = keyOf(e.kind, e.id);
    this.#blocked.add(key);
    const refused: SaveResult = { ok: false, error };
    this.#settleClaims(e, refused);
    // A newer snapshot waiting behind it holds the grant too, and so may its claims: never written.
    const newer = this.#pending.get(key);
    this.#pending.delete(key);
    if (newer !== undefined) this.#settleClaims(newer, refused);
    // Claims not yet in any entry (none today: each is queued as it is made) are refused too.
    for (const w of this.#claimWaiters.get(key) ?? []) w.resolve(refused);
    this.#claimWaiters.delete(key);
    this.#onClaimRefused?.(e.id, error);
  }

  /** The claims of `e` were written (or refused for good): tell whoever waits for them. */
  #settleClaims(e: Entry, result: SaveResult): void {
    if (e.claims === undefined) return;
    const key = keyOf(e.kind, e.id);
    const waiters = this.#claimWaiters.get(key);
    if (waiters === undefined) return;
    const rest = waiters.filter((w) => {
      if (!e.claims!.includes(w.mailId)) return true;
      w.resolve(result);
      return false;
    });
    if (rest.length === 0) this.#claimWaiters.delete(key);
    else this.#claimWaiters.set(key, rest);
  }

  #schedule(): void {
    const delayMs = this.#failures === 0 ? this.#batchWindowMs : Math.min(5000, this.#batchWindowMs * 2 ** this.#failures);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.#run();
    }, delayMs);
  }

  /** Resolves once nothing for this row is queued or being written: a load after it sees the last write. */
  async settle(kind: Kind, id: string): Promise<void> {
    const key = keyOf(kind, id);
    while (this.#pending.has(key) || this.#inFlightKeys.has(key)) {
      // Write now, unless the store is failing: then wait for the backed-off retry.
      if (this.#inFlight === null) {
        if (this.#failures === 0) void this.#run();
        else this.#schedule();
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Write everything queued now; resolves when the store has it (or the attempt failed). */
  async flush(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.#inFlight !== null) await this.#inFlight;
      if (this.#pending.size === 0) return;
      await this.#run();
    }
  }

  #run(): Promise<void> {
    if (this.#inFlight !== null) return this.#inFlight;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0) return Promise.resolve();
    const batch = [...this.#pending.values()];
    this.#pending = new Map();
    this.#inFlightKeys = new Set(batch.map((e) => keyOf(e.kind, e.id)));
    this.#inFlight = this.#write(batch).finally(() => {
      this.#inFlight = null;
      this.#inFlightKeys = new Set();
      for (const key of this.#releasing) {
        if (this.#pending.has(key)) continue;
        this.#releasing.delete(key);
        this.#versions.delete(key);
        this.#fences.delete(key);
        this.#recordedScene.delete(key);
      }
      for (const wake of this.#waiters.splice(0)) wake();
      if (this.#pending.size > 0) this.#schedule();
    });
    return this.#inFlight;
  }

  async #write(batch: Entry[]): Promise<void> {
    let results;
    const startedAt = performance.now();
    // The scene each entry records with its row: none when this engine recorded it already.
    const scenes = batch.map((e) => (e.sceneId !== undefined && this.#recordedScene.get(keyOf(e.kind, e.id)) !== e.sceneId ? e.sceneId : undefined));
    try {
      results = await this.#store.saveBatch(
        batch.map((e, i) => {
          const key = keyOf(e.kind, e.id);
          const fence = this.#fences.get(key);
          const sceneId = scenes[i];
          return {
            kind: e.kind,
            id: e.id,
            data: e.data,
            expectedVersion: this.#versions.get(key) ?? 0,
            ...(fence === undefined ? {} : { fence }),
            ...(sceneId === undefined ? {} : { sceneId }),
            ...(e.timers === undefined ? {} : { timers: e.timers }),
            ...(e.shared === undefined ? {} : { shared: e.shared }),
            ...(e.claims === undefined ? {} : { mailClaims: e.claims }),
          };
        }),
      );
    } catch (err) {
      this.#onBatch?.(batch.length, (performance.now() - startedAt) / 1000, true);
      this.#failedBatches++;
      this.#failures++;
      this.#logger.error({ err, rows: batch.length }, 'persist batch failed; will retry');
      // Put back what no newer snapshot replaced, so nothing is lost while the store is down;
      // a newer snapshot keeps the timer changes of this one under its own.
      for (const e of batch) {
        const key = keyOf(e.kind, e.id);
        const newer = this.#pending.get(key);
        if (newer === undefined) this.#pending.set(key, e);
        else {
          if (e.timers !== undefined) newer.timers = newer.timers === undefined ? e.timers : mergeTimerChanges([e.timers, newer.timers]);
          if (e.shared !== undefined) newer.shared = mergeShared([...e.shared, ...(newer.shared ?? [])]);
          if (e.claims !== undefined) newer.claims = [...e.claims, ...(newer.claims ?? [])];
        }
      }
      return;
    }
    this.#onBatch?.(batch.length, (performance.now() - startedAt) / 1000, false);
    this.#failures = 0;
    const refused = new Map<Refusal, { entries: Entry[]; error: ErrorData }>();
    results.forEach((result, i) => {
      const e = batch[i]!;
      const key = keyOf(e.kind, e.id);
      if (result.ok) {
        this.#written++;
        this.#versions.set(key, result.version);
        const scene = scenes[i];
        if (scene !== undefined) this.#recordedScene.set(key, scene);
        this.#settleClaims(e, result);
        return;
      }
      let refusal: Refusal;
      if (e.claims !== undefined && result.error.code !== ErrorCodes.STO_ERR_CONNECTION) {
        // The hot data holds what the claim granted: written without the claim, it would be granted twice.
        refusal = 'claim';
        if (result.error.code === ErrorCodes.STO_ERR_FENCED) this.#fenced++;
        if (result.error.code === ErrorCodes.STO_ERR_STALE_VERSION) this.#stale++;
        this.#block(e, result.error);
      } else if (result.error.code === ErrorCodes.OPT_ERR_INVALID) {
        // The snapshot itself is unwritable (not JSON-serialisable): retrying cannot help.
        refusal = 'invalid';
      } else if (result.error.code === ErrorCodes.STO_ERR_FENCED) {
        // Another engine claimed the row (this one was paused or cut off and lost the scene or
        // player): its state is the newer one. This snapshot is dropped, never retried.
        this.#fenced++;
        refusal = 'fenced';
      } else if (result.error.code === ErrorCodes.STO_ERR_STALE_VERSION) {
        this.#stale++;
        refusal = 'stale';
      } else {
        refusal = 'failed';
        const newer = this.#pending.get(key);
        if (newer === undefined) this.#pending.set(key, e);
        else if (e.claims !== undefined) newer.claims = [...e.claims, ...(newer.claims ?? [])];
      }
      this.#logger.debug({ kind: e.kind, id: e.id, error: result.error }, REFUSALS[refusal]);
      const group = refused.get(refusal);
      if (group === undefined) refused.set(refusal, { entries: [e], error: result.error });
      else group.entries.push(e);
    });
    // One line per kind of refusal and batch: an engine that lost its scenes has hundreds.
    for (const [refusal, { entries, error }] of refused) {
      let players = 0;
      for (const e of entries) if (e.kind === 'player') players++;
      const ids = entries.slice(0, SUMMARY_IDS).map((e) => `${e.kind}:${e.id}`);
      // The code says why a row was fenced or stale; other refusals carry their first error.
      const detail = refusal === 'fenced' || refusal === 'stale' ? {} : { error };
      if (refusal === 'claim' && error.code === ErrorCodes.STO_ERR_FENCED) {
        // Taken over by another engine meanwhile: expected, and the claim is that engine's to make.
        this.#logger.warn({ code: error.code, rows: entries.length, ids }, REFUSALS[refusal]);
        continue;
      }
      this.#logger.error({ code: error.code, rows: entries.length, players, scenes: entries.length - players, ids, ...detail }, REFUSALS[refusal]);
    }
  }

  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // Claims whose write never landed: not made (nor is what they granted saved).
    for (const waiters of this.#claimWaiters.values()) {
      for (const w of waiters) w.resolve({ ok: false, error: { code: ErrorCodes.STO_ERR_CONNECTION, message: 'the engine closed before the claim could be written' } });
    }
    this.#claimWaiters.clear();
  }
}

/** Shared writes in order, as one per table: only the latest write of each key is kept (readers see the latest either way). */
function mergeShared(parts: readonly SharedChanges[]): SharedChanges[] {
  const byTable = new Map<string, Map<string, SharedChanges['rows'][number]>>();
  for (const part of parts) {
    const rows = byTable.get(part.table) ?? new Map<string, SharedChanges['rows'][number]>();
    for (const row of part.rows) {
      const prev = rows.get(row.key);
      if (prev === undefined || row.version > prev.version) rows.set(row.key, row);
    }
    byTable.set(part.table, rows);
  }
  return [...byTable].map(([table, rows]) => ({ table, rows: [...rows.values()].sort((a, b) => a.version - b.version) }));
}
