import { CodedError, ErrorCodes } from '@gos/schema';
import type {
  Coordinator,
  LeaderElection,
  MemberHandle,
  MemberFigures,
  MemberInfo,
  MemberRole,
  Membership,
  MembershipEvent,
  LeaseState,
  MoveRequest,
  Placement,
  PlacementEvent,
  PlacementRecord,
  PlacementRequest,
  SceneHandover,
  SceneMoves,
  DrainRequest,
  MemberDrains,
} from './types.js';
import { sceneTypeOf } from './types.js';
import { PlacementAsker, placementTimeoutOf, REQUESTER } from './requests.js';
import { Emitter } from './emitter.js';

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
    const publish = async (figures: MemberFigures): Promise<void> => {
      if (left) return;
      current = Object.freeze({ ...current, ...figures });
      this.#members.set(current.id, current);
      this.#events.emit({ type: 'update', member: current });
    };
    return {
      get info() {
        return current;
      },
      setLoad: (load: number) => publish({ load }),
      publish: (figures) => publish(figures),
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

  /** In memory a member never loses its registration: every one registered is held. */
  leases(): LeaseState {
    return { held: this.#members.size, lost: 0, losses: 0 };
  }

  close(): void {
    this.#closed = true;
    this.#events.clear();
  }
}

class MemoryPlacement implements Placement {
  readonly #records = new Map<string, PlacementRecord>();
  readonly #requests = new Map<string, PlacementRequest>();
  readonly #events = new Emitter<PlacementEvent>();
  readonly #requestEvents = new Emitter<PlacementRequest>();
  readonly #refusals = new Emitter<{ sceneId: string; revision: number; error: { code: string; message: string } }>();
  /** Revision of request writes, as etcd's would be: a refusal is newer than the request it answers. */
  #revision = 0;
  readonly #asker: PlacementAsker;
  readonly #closedSignal = new AbortController();
  #epoch = 0;

  constructor(timeoutMs: number) {
    this.#asker = new PlacementAsker(timeoutMs, {
      lookup: (id) => this.#records.get(id),
      watch: (l) => this.#events.on(l),
      watchRefusals: (l) => this.#refusals.on((r) => l(r.sceneId, r.revision, r.error)),
      closed: this.#closedSignal.signal,
      put: async (sceneId) => {
        this.#put({ sceneId, requestedBy: REQUESTER, at: Date.now() });
        return this.#revision;
      },
    });
  }

  lookup(sceneId: string): PlacementRecord | undefined {
    return this.#records.get(sceneId);
  }

  /** The in-memory view is the store itself. */
  async fetch(sceneId: string): Promise<PlacementRecord | undefined> {
    return this.#records.get(sceneId);
  }

  ensure(sceneId: string): Promise<PlacementRecord> {
    return this.#asker.ensure(sceneId);
  }

  #put(request: PlacementRequest): void {
    this.#revision++;
    const frozen = Object.freeze(request);
    this.#requests.set(request.sceneId, frozen);
    this.#requestEvents.emit(frozen);
  }

  requests(): readonly PlacementRequest[] {
    return [...this.#requests.values()].sort((a, b) => a.at - b.at);
  }

  watchRequests(listener: (request: PlacementRequest) => void): () => void {
    return this.#requestEvents.on(listener);
  }

  async assign(sceneId: string, engineId: string): Promise<PlacementRecord> {
    this.#requests.delete(sceneId);
    const existing = this.#records.get(sceneId);
    if (existing !== undefined) return existing;
    const record: PlacementRecord = Object.freeze({ sceneId, sceneType: sceneTypeOf(sceneId), engineId, epoch: ++this.#epoch });
    this.#records.set(sceneId, record);
    this.#events.emit({ type: 'placed', record });
    return record;
  }

  async refuse(sceneId: string, error: { code: string; message: string }): Promise<void> {
    const request = this.#requests.get(sceneId);
    if (request === undefined) return;
    const refused = { code: error.code, message: error.message };
    this.#put({ ...request, refused });
    this.#refusals.emit({ sceneId, revision: this.#revision, error: refused });
  }

  async dismiss(sceneId: string): Promise<void> {
    this.#requests.delete(sceneId);
  }

  async release(sceneId: string, epoch: number): Promise<boolean> {
    const record = this.#records.get(sceneId);
    if (record === undefined || record.epoch !== epoch) return false;
    this.#records.delete(sceneId);
    this.#events.emit({ type: 'released', record });
    return true;
  }

  async move(sceneId: string, epoch: number, engineId: string, handover?: SceneHandover): Promise<PlacementRecord | undefined> {
    const record = this.#records.get(sceneId);
    if (record === undefined || record.epoch !== epoch) return undefined;
    const moved: PlacementRecord = Object.freeze({
      sceneId,
      sceneType: record.sceneType,
      engineId,
      epoch: ++this.#epoch,
      ...(handover === undefined ? {} : { handover: Object.freeze({ nextTickAt: handover.nextTickAt, players: handover.players }) }),
    });
    this.#records.set(sceneId, moved);
    this.#events.emit({ type: 'placed', record: moved });
    return moved;
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

  close(): void {
    this.#closedSignal.abort();
    this.#events.clear();
    this.#requestEvents.clear();
    this.#refusals.clear();
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

/** Move requests in memory (see SceneMoves). */
class MemoryMoves implements SceneMoves {
  readonly #requests = new Map<string, MoveRequest>();
  readonly #events = new Emitter<MoveRequest>();

  async request(move: Omit<MoveRequest, 'at'>): Promise<void> {
    const request: MoveRequest = Object.freeze({ sceneId: move.sceneId, from: move.from, epoch: move.epoch, to: move.to, at: Date.now() });
    // Re-inserted: the map keeps the oldest first.
    this.#requests.delete(move.sceneId);
    this.#requests.set(move.sceneId, request);
    this.#events.emit(request);
  }

  list(): readonly MoveRequest[] {
    return [...this.#requests.values()];
  }

  watch(listener: (request: MoveRequest) => void): () => void {
    return this.#events.on(listener);
  }

  async clear(sceneId: string, epoch: number): Promise<void> {
    if (this.#requests.get(sceneId)?.epoch === epoch) this.#requests.delete(sceneId);
  }

  close(): void {
    this.#events.clear();
  }
}

/** Drain requests in memory (see MemberDrains). */
class MemoryDrains implements MemberDrains {
  readonly #requests = new Map<string, DrainRequest>();
  readonly #events = new Emitter<DrainRequest>();

  async request(r: Omit<DrainRequest, 'at'>): Promise<void> {
    const share = r.share === undefined ? {} : { share: Object.freeze({ count: r.share.count, to: r.share.to }) };
    const request: DrainRequest = Object.freeze({ memberId: r.memberId, startedAt: r.startedAt, requestedBy: r.requestedBy, at: Date.now(), ...share });
    this.#requests.delete(r.memberId);
    this.#requests.set(r.memberId, request);
    this.#events.emit(request);
  }

  list(): readonly DrainRequest[] {
    return [...this.#requests.values()];
  }

  watch(listener: (request: DrainRequest) => void): () => void {
    return this.#events.on(listener);
  }

  async clear(memberId: string, startedAt: number): Promise<void> {
    if (this.#requests.get(memberId)?.startedAt === startedAt) this.#requests.delete(memberId);
  }

  close(): void {
    this.#events.clear();
  }
}

export interface MemoryCoordinatorOptions {
  /** How long `placement.ensure` waits for the leader to place a scene. @default 10000 */
  readonly placementTimeoutMs?: number;
}

/**
 * Everything in one process: the embedded default and unit tests. Every role in the process
 * shares one instance, so they see one consistent view, as they would through etcd.
 */
export class MemoryCoordinator implements Coordinator {
  readonly #membership = new MemoryMembership();
  readonly #placement: MemoryPlacement;
  readonly #election = new MemoryElection();
  readonly #moves = new MemoryMoves();
  readonly #drains = new MemoryDrains();
  #closed = false;

  constructor(options: MemoryCoordinatorOptions = {}) {
    this.#placement = new MemoryPlacement(placementTimeoutOf(options.placementTimeoutMs));
  }

  get membership(): Membership {
    return this.#membership;
  }
  get placement(): Placement {
    return this.#placement;
  }
  get election(): LeaderElection {
    return this.#election;
  }
  get moves(): SceneMoves {
    return this.#moves;
  }
  get drains(): MemberDrains {
    return this.#drains;
  }

  async start(): Promise<void> {}

  /**
   * Simulate a member's death (its lease expiring in etcd): peers see it go down, and the
   * leader (a {@link CoordinatorNode}) releases its scenes.
   */
  expire(memberId: string): void {
    this.#membership.remove(memberId);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#placement.close();
    this.#moves.close();
    this.#drains.close();
    this.#election.close();
    this.#membership.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
