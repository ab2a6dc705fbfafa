/**
 * A gateway's drain (docs/scaling.md#gateways): it takes no new socket, logins stop handing it
 * out, and every connected client is told to move to another gateway (the core push
 * `Reconnect`), spread over the others by their free capacity. The SDK moves by itself without
 * an error, and its player keeps its scene (the engine hands the seat over: onRejoin, not
 * onJoin). The gateway then waits until its clients have gone, at most `timeoutMs`.
 */
import { encodeReconnectFrame, type Logger } from '@gos/schema';
import type { GatewayShare, MemberInfo } from '@gos/coordinator';
import { connOf, type ConnData, type Socket } from './socket.js';

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

/** What {@link ClientMoves} needs of the gateway. */
export interface ClientMovesDeps {
  readonly gatewayId: string;
  readonly membership: { list(role: 'gateway'): readonly MemberInfo[]; get(id: string): MemberInfo | undefined };
  /** The gateway's open sockets, and a way to send to one. */
  readonly sockets: { values(): IterableIterator<Socket>; sendTo(ws: Socket, frame: Uint8Array): void };
  readonly logger: Logger;
}

/**
 * Telling clients to move to other gateways (core push `Reconnect`): every client, spread by free
 * capacity, when the gateway drains ({@link tellToMove}, again at each sweep for those that could
 * not move at first); some, to one gateway, when the leader evens the gateways out ({@link share}).
 */
export class ClientMoves {
  readonly #d: ClientMovesDeps;
  /** The clients a drain told to move, and where. */
  readonly told: { readonly sockets: WeakSet<object>; count: number; readonly targets: Record<string, number> } = { sockets: new WeakSet(), count: 0, targets: {} };

  constructor(d: ClientMovesDeps) {
    this.#d = d;
  }

  /**
   * Tell the clients that can move now to move: those in their scene, neither travelling nor
   * in a scene's live move (their frames wait here then, and must reach the engine before the
   * seat moves); the others at a later sweep. False when there is no other gateway to go to.
   */
  tellToMove(): boolean {
    const ready = [...this.#d.sockets.values()].filter((ws) => !this.told.sockets.has(ws) && canMoveNow(connOf(ws)));
    const plan = planMoves(this.#d.membership.list('gateway'), this.#d.gatewayId, Math.max(1, ready.length));
    if (plan.length === 0) return false;
    ready.forEach((ws, i) => {
      const target = plan[i]!;
      this.told.sockets.add(ws);
      this.told.count++;
      this.told.targets[target.id] = (this.told.targets[target.id] ?? 0) + 1;
      this.#d.sockets.sendTo(ws, reconnectFrame(target, 'gateway draining'));
    });
    return true;
  }

  /**
   * The leader evens out the gateways: tell up to `share.count` clients (those that can move
   * now) to move to gateway `share.to`, as a drain would; nothing when `serving` is false (this
   * gateway drains or stops) or the target is gone or draining.
   */
  share(share: GatewayShare, serving: boolean): void {
    const target = this.#d.membership.get(share.to);
    if (target?.role !== 'gateway' || target.id === this.#d.gatewayId || target.draining === true || !serving) {
      this.#d.logger.info({ to: share.to }, 'rebalancing: not sharing clients (the target is gone or draining, or this gateway is)');
      return;
    }
    const movable = [...this.#d.sockets.values()].filter((ws) => canMoveNow(connOf(ws)));
    const told = movable.slice(0, share.count);
    for (const ws of told) this.#d.sockets.sendTo(ws, reconnectFrame(target, 'gateway rebalancing'));
    this.#d.logger.info({ to: share.to, asked: share.count, told: told.length }, 'rebalancing: clients told to move to another gateway');
  }
}
