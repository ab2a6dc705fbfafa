import { CodedError, ErrorCodes } from '@gos/schema';
import type {
  Coordinator,
  LeaderElection,
  MemberHandle,
  MemberInfo,
  MemberRole,
  Membership,
  MembershipEvent,
  Placement,
  PlacementEvent,
  PlacementRecord,
} from './types.js';
import { sceneTypeOf } from './types.js';
import { pickLeastLoadedEngine } from './policy.js';

type Listener<E> = (event: E) => void;

class Emitter<E> {
  readonly #listeners = new Set<Listener<E>>();
  on(listener: Listener<E>): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  emit(event: E): void {
    for (const l of [...this.#listeners]) l(event);
  }
  clear(): void {
    this.#listeners.clear();
  }
}

class MemoryMembership implements Membership {
  readonly #members = new Map<string, MemberInfo>();
  readonly #events = new Emitter<MembershipEvent>();
  #closed = false;

  async register(input: Omit<MemberInfo, 'startedAt' | 'load'> & { load?: number }): Promise<MemberHandle> {
    if (this.#closed) throw new CodedError(ErrorCodes.CRD_ERR_CLOSED, 'coordinator is closed');
    const info: MemberInfo = Object.freeze({ ...input, load: input.load ?? 0, startedAt: Date.now() });
    this.#members.set(info.id, info);
    this.#events.emit({ type: 'up', member: info });
    let current = info;
    let left = false;
    return {
      get info() {
        return current;
      },
      setLoad: async (load: number) => {
        if (left) return;
        current = Object.freeze({ ...current, load });
        this.#members.set(current.id, current);
        this.#events.emit({ type: 'update', member: current });
      },
      leave: async () => {
        if (left) return;
        left = true;
        this.remove(current.id);
      },
    };
  }

  remove(id: string): void {
    const member = this.#members.get(id);
    if (member === undefined) return;
    this.#members.delete(id);
    this.#events.emit({ type: 'down', member });
  }

  list(role?: MemberRole): readonly MemberInfo[] {
    const all = [...this.#members.values()];
    return role === undefined ? all : all.filter((m) => m.role === role);
  }

  get(id: string): MemberInfo | undefined {
    return this.#members.get(id);
  }

  watch(listener: (event: MembershipEvent) => void): () => void {
    return this.#events.on(listener);
  }

  close(): void {
    this.#closed = true;
    this.#events.clear();
  }
}

class MemoryPlacement implements Placement {
  readonly #records = new Map<string, PlacementRecord>();
  readonly #events = new Emitter<PlacementEvent>();
  readonly #membership: MemoryMembership;
  #epoch = 0;

  constructor(membership: MemoryMembership) {
    this.#membership = membership;
    // A dead engine's scenes are unplaced, so the next `ensure` re-places them elsewhere.
    membership.watch((event) => {
      if (event.type !== 'down' || event.member.role !== 'engine') return;
      for (const record of this.scenesOf(event.member.id)) void this.release(record.sceneId, record.epoch);
    });
  }

  lookup(sceneId: string): PlacementRecord | undefined {
    return this.#records.get(sceneId);
  }

  /** The in-memory view is the store itself. */
  async fetch(sceneId: string): Promise<PlacementRecord | undefined> {
    return this.#records.get(sceneId);
  }

  async ensure(sceneId: string): Promise<PlacementRecord> {
    const existing = this.#records.get(sceneId);
    if (existing !== undefined) return existing;
    const engine = this.#pickEngine();
    const record: PlacementRecord = Object.freeze({
      sceneId,
      sceneType: sceneTypeOf(sceneId),
      engineId: engine.id,
      epoch: ++this.#epoch,
    });
    this.#records.set(sceneId, record);
    this.#events.emit({ type: 'placed', record });
    return record;
  }

  async release(sceneId: string, epoch: number): Promise<boolean> {
    const record = this.#records.get(sceneId);
    if (record === undefined || record.epoch !== epoch) return false;
    this.#records.delete(sceneId);
    this.#events.emit({ type: 'released', record });
    return true;
  }

  scenesOf(engineId: string): readonly PlacementRecord[] {
    return [...this.#records.values()].filter((r) => r.engineId === engineId);
  }

  list(): readonly PlacementRecord[] {
    return [...this.#records.values()].sort((a, b) => a.sceneId.localeCompare(b.sceneId));
  }

  watch(listener: (event: PlacementEvent) => void): () => void {
    return this.#events.on(listener);
  }

  #pickEngine(): MemberInfo {
    return pickLeastLoadedEngine(this.#membership.list('engine'), (id) => this.scenesOf(id).length);
  }


  close(): void {
    this.#events.clear();
  }
}

class MemoryElection implements LeaderElection {
  #leader: string | undefined;
  readonly #queue: Array<{ id: string; resolve: () => void; done: Promise<void> }> = [];
  readonly #events = new Emitter<string | undefined>();

  async campaign(candidateId: string): Promise<void> {
    if (this.#leader === undefined) {
      this.#leader = candidateId;
      this.#events.emit(candidateId);
      return;
    }
    if (this.#leader === candidateId) return;
    const waiting = this.#queue.find((c) => c.id === candidateId);
    if (waiting !== undefined) return waiting.done;
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.#queue.push({ id: candidateId, resolve, done });
    await done;
  }

  leader(): string | undefined {
    return this.#leader;
  }

  isLeader(candidateId: string): boolean {
    return this.#leader === candidateId;
  }

  async resign(candidateId: string): Promise<void> {
    const waiting = this.#queue.findIndex((c) => c.id === candidateId);
    if (waiting !== -1) {
      // A waiting candidate that resigns stops waiting; its campaign resolves without leadership.
      this.#queue.splice(waiting, 1)[0]?.resolve();
      return;
    }
    if (this.#leader !== candidateId) return;
    const next = this.#queue.shift();
    this.#leader = next?.id;
    this.#events.emit(this.#leader);
    next?.resolve();
  }

  watch(listener: (leaderId: string | undefined) => void): () => void {
    return this.#events.on(listener);
  }

  close(): void {
    for (const c of this.#queue.splice(0)) c.resolve();
    this.#events.clear();
  }
}

/**
 * Everything in one process: the embedded default and unit tests. Every role in the process
 * shares one instance, so they see one consistent view, as they would through etcd.
 */
export class MemoryCoordinator implements Coordinator {
  readonly #membership = new MemoryMembership();
  readonly #placement = new MemoryPlacement(this.#membership);
  readonly #election = new MemoryElection();
  #closed = false;

  get membership(): Membership {
    return this.#membership;
  }
  get placement(): Placement {
    return this.#placement;
  }
  get election(): LeaderElection {
    return this.#election;
  }

  async start(): Promise<void> {}

  /**
   * Simulate a member's death (its lease expiring in etcd): peers see it go down and its
   * scenes become unplaced.
   */
  expire(memberId: string): void {
    this.#membership.remove(memberId);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#placement.close();
    this.#election.close();
    this.#membership.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
