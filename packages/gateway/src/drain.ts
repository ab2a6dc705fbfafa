/**
 * A gateway's drain (docs/scaling.md#gateways): it takes no new socket, logins stop handing it
 * out, and every connected client is told to move to another gateway (the core push
 * `Reconnect`), spread over the others by their free capacity. The SDK moves by itself without
 * an error, and its player keeps its scene (the engine hands the seat over: onRejoin, not
 * onJoin). The gateway then waits until its clients have gone, at most `timeoutMs`.
 */
import { encodeReconnectFrame } from '@gos/schema';
import type { MemberInfo } from '@gos/coordinator';
import type { ConnData } from './socket.js';

export interface GatewayDrainOutcome {
  readonly gatewayId: string;
  /** Clients told to move. */
  readonly told: number;
  /** Clients still connected when the drain ended (closed with SERVER_SHUTDOWN: they reconnect on their own). */
  readonly left: number;
  /** How many clients were sent to each gateway. */
  readonly targets: Readonly<Record<string, number>>;
  readonly ms: number;
}

/**
 * The gateway each of `count` clients moves to: the live gateways other than `self` that are
 * not draining, each client to the one with the most room left counting those already sent
 * there (load against capacity; ties by id). Empty when there is none.
 */
export function planMoves(gateways: readonly MemberInfo[], self: string, count: number): MemberInfo[] {
  const targets = gateways
    .filter((g) => g.id !== self && g.draining !== true)
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((member) => ({ member, sent: 0 }));
  if (targets.length === 0) return [];
  const after = (t: { member: MemberInfo; sent: number }): number => (t.member.load + t.sent + 1) / Math.max(1, t.member.capacity);
  const plan: MemberInfo[] = [];
  for (let n = 0; n < count; n++) {
    const best = targets.reduce((a, b) => (after(b) < after(a) ? b : a));
    best.sent++;
    plan.push(best.member);
  }
  return plan;
}

/**
 * Whether a client can be told to move to another gateway now: in its scene, neither travelling
 * nor in a scene's live move nor resuming (its frames wait on this gateway then, and must reach
 * the engine before its seat moves).
 */
export function canMoveNow(d: Pick<ConnData, 'state' | 'travel' | 'travelAsked' | 'migrating' | 'resuming'>): boolean {
  return d.state === 'joined' && d.travel === null && d.travelAsked === null && d.migrating === null && d.resuming === null;
}

/** The frame telling a client to move to `target`. */
export function reconnectFrame(target: MemberInfo, reason: string): Uint8Array {
  return encodeReconnectFrame(target.address, target.id, reason);
}

/** Resolves once `count()` is 0 (checked whenever `changed` is called) or after `timeoutMs`. */
export class SocketsGone {
  readonly #count: () => number;
  #done: (() => void) | null = null;

  constructor(count: () => number) {
    this.#count = count;
  }

  wait(timeoutMs: number): Promise<void> {
    if (this.#count() === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.#done = null;
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.#done = finish;
    });
  }

  /** The number of sockets changed. */
  changed(): void {
    if (this.#done !== null && this.#count() === 0) this.#done();
  }
}
