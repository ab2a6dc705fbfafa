/**
 * A small local supervisor (what `npm run cluster` runs its processes under): a member that
 * exits without being asked to is started again after a back-off that doubles with each restart
 * in the last minute, up to a number of restarts a minute; past it, or on a configuration error
 * (exit code 2), the member is given up. Stopping stops every member, restarted ones included,
 * and cancels restarts still waiting.
 */
import { CodedError, ErrorCodes } from '@gos/schema';
import type { Role } from './config.js';
import type { MemberProcess } from './launcher.js';

export interface SupervisorOptions {
  /** Restarts of one member within a minute; one more exit and it is given up. @default 5 */
  readonly maxRestartsPerMinute?: number;
  /** Back-off before the first restart; doubles with each restart in the last minute. @default 500 */
  readonly restartMinMs?: number;
  /** @default 10000 */
  readonly restartMaxMs?: number;
  /** One line per event (started, exited, restarting, ready again, given up). */
  readonly report: (level: 'info' | 'warn' | 'error', line: string) => void;
  /** A member was given up. */
  readonly onGiveUp?: (id: string) => void;
}

export interface SupervisedMember {
  readonly role: Role;
  readonly id: string;
  /** The running (or last) process of this member. */
  readonly current: MemberProcess;
  /** Every process started for this member, restarts included. */
  readonly pids: readonly number[];
  /** Resolves when a process of this member is first ready; rejects when it is given up before. */
  readonly firstReady: Promise<void>;
  readonly givenUp: boolean;
}

const WINDOW_MS = 60_000;
/** A process entry's exit code for bad usage or configuration: restarting cannot help. */
const EXIT_BAD_CONFIG = 2;

class Member implements SupervisedMember {
  readonly role: Role;
  readonly id: string;
  readonly start: () => MemberProcess;
  current: MemberProcess;
  readonly pids: number[] = [];
  readonly firstReady: Promise<void>;
  /** When each restart of the last minute was scheduled. */
  restarts: number[] = [];
  timer: NodeJS.Timeout | null = null;
  givenUp = false;
  ready = false;
  settleFirstReady!: (err?: Error) => void;

  constructor(role: Role, id: string, start: () => MemberProcess) {
    this.role = role;
    this.id = id;
    this.start = start;
    this.firstReady = new Promise<void>((resolve, reject) => {
      this.settleFirstReady = (err) => (err === undefined ? resolve() : reject(err));
    });
    this.firstReady.catch(() => {}); // observed by whoever awaits it; a give-up is also reported
    this.current = start();
  }
}

export class Supervisor {
  readonly #max: number;
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #report: SupervisorOptions['report'];
  readonly #onGiveUp: (id: string) => void;
  readonly #members: Member[] = [];
  /** Members being retired (stopped for good), not yet exited. */
  readonly #retiring = new Set<Promise<void>>();
  #stopping: Promise<void> | null = null;

  /** @throws CodedError `OPT_ERR_INVALID` naming a limit that is not an integer ≥ 0. */
  constructor(o: SupervisorOptions) {
    this.#max = o.maxRestartsPerMinute ?? 5;
    this.#minMs = o.restartMinMs ?? 500;
    this.#maxMs = o.restartMaxMs ?? 10_000;
    for (const [name, v] of [['maxRestartsPerMinute', this.#max], ['restartMinMs', this.#minMs], ['restartMaxMs', this.#maxMs]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `supervisor option "${name}" must be an integer ≥ 0, got ${v}`);
    }
    this.#report = o.report;
    this.#onGiveUp = o.onGiveUp ?? (() => {});
  }

  get members(): readonly SupervisedMember[] {
    return this.#members;
  }

  /** Members still running or waiting to be restarted. */
  get alive(): readonly SupervisedMember[] {
    return this.#members.filter((m) => !m.givenUp && (m.current.running || m.timer !== null));
  }

  /** Start `start()`'s process now and keep it running. */
  add(role: Role, id: string, start: () => MemberProcess): SupervisedMember {
    // A member given up under this id is replaced; a live one is a mistake.
    const same = this.#members.findIndex((m) => m.id === id);
    if (same >= 0) {
      if (!this.#members[same]!.givenUp) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `a member ${id} runs already`);
      this.#members.splice(same, 1);
    }
    const m = new Member(role, id, start);
    this.#members.push(m);
    this.#follow(m);
    return m;
  }

  /** Stop member `id` for good (SIGTERM: it drains; not restarted) and forget it; resolves once it has exited. */
  async retire(id: string): Promise<void> {
    const i = this.#members.findIndex((m) => m.id === id);
    if (i < 0) return;
    const [m] = this.#members.splice(i, 1);
    if (m!.timer !== null) clearTimeout(m!.timer);
    m!.timer = null;
    // stop() waits for it too (a Ctrl-C during its drain).
    const stopped = m!.current.stop().then(() => undefined);
    this.#retiring.add(stopped);
    await stopped;
    this.#retiring.delete(stopped);
    this.#report('info', `${id} stopped and retired`);
  }

  /**
   * Stop every member (gateways first, so players are told; then engines, which persist their
   * scenes; then coordinators); restarts still waiting are cancelled. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const m of this.#members) {
        if (m.timer !== null) clearTimeout(m.timer);
        m.timer = null;
      }
      for (const role of ['gateway', 'engine', 'coordinator'] as const) {
        await Promise.all([...this.#members.filter((m) => m.role === role).map((m) => m.current.stop()), ...(role === 'engine' ? this.#retiring : [])]);
      }
    })();
    return this.#stopping;
  }

  #follow(m: Member): void {
    const p = m.current;
    m.pids.push(p.pid);
    this.#report('info', `${m.id} started (pid ${p.pid})`);
    p.ready.then(
      () => {
        if (m.ready) this.#report('info', `${m.id} ready again (pid ${p.pid})`);
        m.ready = true;
        m.settleFirstReady();
      },
      () => {}, // an exit before ready is handled below
    );
    void p.exited.then((how) => this.#onExit(m, p, how));
  }

  #onExit(m: Member, p: MemberProcess, how: number | string): void {
    if (this.#stopping !== null || p.stopRequested) return;
    const now = Date.now();
    m.restarts = m.restarts.filter((t) => t > now - WINDOW_MS);
    if (how === EXIT_BAD_CONFIG) return this.#giveUp(m, `${m.id} exited (${how}: bad usage or configuration); not restarting it`);
    if (m.restarts.length >= this.#max) {
      return this.#giveUp(m, `${m.id} exited (${how}) after ${m.restarts.length} restarts within a minute; giving up on it (--max-restarts ${this.#max})`);
    }
    const delayMs = Math.min(this.#minMs * 2 ** m.restarts.length, this.#maxMs);
    m.restarts.push(now);
    this.#report('warn', `${m.id} exited (${how}); restarting in ${delayMs} ms (restart ${m.restarts.length} of at most ${this.#max} a minute)`);
    m.timer = setTimeout(() => {
      m.timer = null;
      if (this.#stopping !== null) return;
      m.current = m.start();
      this.#follow(m);
    }, delayMs);
  }

  #giveUp(m: Member, line: string): void {
    m.givenUp = true;
    this.#report('error', line);
    m.settleFirstReady(new Error(line));
    this.#onGiveUp(m.id);
  }
}
