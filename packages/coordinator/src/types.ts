/**
 * The coordinator's interfaces: membership (who is alive, with what load), placement (which
 * engine hosts which scene, with an epoch for fencing) and leader election. Gateways and engines
 * read placement only through {@link Placement}; the in-memory implementation backs the embedded
 * default and an etcd implementation backs clusters.
 */

export type MemberRole = 'gateway' | 'engine' | 'coordinator';

export interface MemberInfo {
  /** Unique id of the process in its role, e.g. `engine-1`. */
  readonly id: string;
  readonly role: MemberRole;
  /**
   * Where peers reach it. Engines: the link address `host:port`. Gateways: the public WebSocket
   * URL handed to players at login.
   */
  readonly address: string;
  /** Current load in the member's own unit (engines: players hosted; gateways: sockets). */
  readonly load: number;
  /**
   * Capacity in the same unit. Engines: a hard CCU cap (the leader places no scene on an engine
   * at its cap, and the engine refuses players past it). Gateways: login sends no player to a
   * gateway at its cap while another has room.
   */
  readonly capacity: number;
  readonly startedAt: number;
  /**
   * Engines: scenes placed on this engine that have had no player for the engine's idle time,
   * with the epoch of their placement. The scene is stopped and saved before it is listed; the
   * leader then releases those placements (only the leader writes placement).
   */
  readonly idleScenes?: Readonly<Record<string, number>>;
  /** Engines: scenes running. */
  readonly scenes?: number;
  /** Engines: the players of each scene running (the leader's rebalancing picks scenes by it). */
  readonly sceneLoads?: Readonly<Record<string, number>>;
  /**
   * Engines: how busy its scene threads are, 0–1 (the mean event-loop utilisation of its
   * workers over the last second: ticks, handlers and ring I/O). Placement avoids busy engines.
   */
  readonly utilisation?: number;
  /** Engines: how many scene threads it runs (utilisation is their mean). */
  readonly threads?: number;
  /**
   * Engines: the thread time each scene's ticks take, in threads (0.2: a fifth of one thread),
   * over the last second or so. Rebalancing by thread utilisation picks scenes by it.
   */
  readonly sceneCosts?: Readonly<Record<string, number>>;
  /**
   * Stopping gracefully. Engines: moving or saving their scenes before they leave; nothing new is
   * placed on them. Gateways: telling their clients to move to the others; logins skip them.
   */
  readonly draining?: boolean;
  /**
   * Gateways of a `gateway+engine` process: the engine of that process, which the gateway
   * reaches in-process. Login prefers this gateway for players whose scene that engine hosts.
   */
  readonly localEngineId?: string;
  /**
   * Coordinators, while leading: how many engines and gateways the cluster should have for its
   * load (the leader's scale decision, docs/scaling.md "Scale decisions"). Read only the
   * leader's: a replica that led before may still show its last one.
   */
  readonly desired?: { readonly engines: number; readonly gateways: number };
}

/** What a member publishes about itself after registering. */
export type MemberFigures = Partial<Pick<MemberInfo, 'load' | 'idleScenes' | 'scenes' | 'sceneLoads' | 'utilisation' | 'threads' | 'sceneCosts' | 'draining' | 'desired'>>;

export interface MemberHandle {
  readonly info: MemberInfo;
  /**
   * Publish a new load figure. `info` shows it at once; peers may see it later, since a
   * backend may coalesce bursts (etcd writes the latest figure at most every
   * `loadPublishIntervalMs`). Resolves once this figure or a newer one is published.
   */
  setLoad(load: number): Promise<void>;
  /** Publish several figures at once (same coalescing as {@link setLoad}). */
  publish(figures: MemberFigures): Promise<void>;
  /** Leave the cluster (graceful shutdown): peers stop routing to this member. Idempotent. */
  leave(): Promise<void>;
}

export type MembershipEvent =
  | { readonly type: 'up'; readonly member: MemberInfo }
  | { readonly type: 'update'; readonly member: MemberInfo }
  | { readonly type: 'down'; readonly member: MemberInfo };

export interface Membership {
  /** Join the cluster. The member stays registered while the process lives (a lease in etcd). */
  register(info: Omit<MemberInfo, 'startedAt' | 'load'> & { load?: number }): Promise<MemberHandle>;
  /** Current view of the members, optionally of one role. */
  list(role?: MemberRole): readonly MemberInfo[];
  get(id: string): MemberInfo | undefined;
  /** Returns an unsubscribe function. */
  watch(listener: (event: MembershipEvent) => void): () => void;
  /** The leases of the members registered through this view (this process's own). */
  leases(): LeaseState;
}

/** The lease state of the members a process registered (`gos_member_lease_*` metrics). */
export interface LeaseState {
  /** Members registered here that hold their lease now. */
  readonly held: number;
  /** Members registered here that lost their lease and are registering again. */
  readonly lost: number;
  /** Leases lost since the start (a pause past the TTL, or etcd out of reach that long). */
  readonly losses: number;
}

export interface PlacementRecord {
  readonly sceneId: string;
  /** Scene type: the part of the scene id before the first `:` (`world:1` → `world`). */
  readonly sceneType: string;
  readonly engineId: string;
  /**
   * Fencing token: grows every time the scene is (re)placed. Persistence writes carry it; a
   * write with an older epoch than the store has seen is refused.
   */
  readonly epoch: number;
  /** Set by a live move ({@link Placement.move}): what the new engine needs to carry on in step. */
  readonly handover?: SceneHandover;
}

/**
 * What the engine that moved a scene live tells the one it moved to, with the placement: the
 * target ticks first when the source's next tick was due, once the players it sent are in, so
 * its players hear no longer a gap between two ticks than the move itself costs.
 */
export interface SceneHandover {
  /** When the scene's next tick was due on the engine it left, ms since the epoch (wall clock). */
  readonly nextTickAt: number;
  /** Players the source sent on to the target. */
  readonly players: number;
}

/** A member asking the leader to place a scene (a player entered a scene placed nowhere). */
export interface PlacementRequest {
  readonly sceneId: string;
  /** Who asked (diagnostics): `host:pid`. */
  readonly requestedBy: string;
  /** When it asked (ms since the epoch, the asker's clock). */
  readonly at: number;
  /** Set by the leader when it cannot place the scene: the askers fail with this error. */
  readonly refused?: { readonly code: string; readonly message: string };
}

export type PlacementEvent =
  | { readonly type: 'placed'; readonly record: PlacementRecord }
  | { readonly type: 'released'; readonly record: PlacementRecord };

export interface Placement {
  /** Cached lookup: where the scene runs now, if anywhere. */
  lookup(sceneId: string): PlacementRecord | undefined;
  /**
   * Authoritative read from the coordinator's store, bypassing (and refreshing) the cached view:
   * for a member that hears of a placement another member just made, before its own watch
   * delivers it.
   */
  fetch(sceneId: string): Promise<PlacementRecord | undefined>;
  /**
   * Where the scene runs. When it runs nowhere, asks the leader to place it (a
   * {@link PlacementRequest}) and waits for the placement: only the leader writes placement.
   * Concurrent calls for the same scene share one request. Throws the leader's refusal
   * (`CRD_ERR_NO_ENGINE`: no live engine under its cap), or `CRD_ERR_NO_LEADER` when no
   * placement comes within the coordinator's `placementTimeoutMs` (no leader elected).
   */
  ensure(sceneId: string): Promise<PlacementRecord>;
  /** The leader's side: requests not yet served, oldest first. */
  requests(): readonly PlacementRequest[];
  /** Every request put or updated (not deleted). Returns an unsubscribe function. */
  watchRequests(listener: (request: PlacementRequest) => void): () => void;
  /**
   * The leader's side: place the scene on `engineId` unless it is placed already, and clear its
   * request. Returns the placement that holds (this one or the earlier one).
   */
  assign(sceneId: string, engineId: string): Promise<PlacementRecord>;
  /** The leader's side: fail the askers of a request it cannot serve. */
  refuse(sceneId: string, error: { code: string; message: string }): Promise<void>;
  /** The leader's side: forget a request (served elsewhere, or stale). */
  dismiss(sceneId: string): Promise<void>;
  /** Drop a placement, only if it still has this epoch (a stale owner cannot release a newer one). */
  release(sceneId: string, epoch: number): Promise<boolean>;
  /**
   * Hand a placement to engine `engineId`, only if it still has this epoch: the owner of a scene
   * moving live (docs/scaling.md) does it once the scene is saved and stopped, so the placement
   * never names two engines and the new epoch fences the old owner's late writes. Returns the
   * new placement, or undefined when the epoch was not current (released or moved meanwhile).
   * `handover` goes with the new placement, for the target.
   */
  move(sceneId: string, epoch: number, engineId: string, handover?: SceneHandover): Promise<PlacementRecord | undefined>;
  /** Scenes currently placed on an engine. */
  scenesOf(engineId: string): readonly PlacementRecord[];
  /** Every placement in the view, by scene id. */
  list(): readonly PlacementRecord[];
  watch(listener: (event: PlacementEvent) => void): () => void;
}

/** The leader asks the engine running a scene to move it live to another engine (rebalancing). */
export interface MoveRequest {
  readonly sceneId: string;
  /** The engine running the scene, placed there at `epoch`: only it acts on the request. */
  readonly from: string;
  readonly epoch: number;
  readonly to: string;
  /** When the leader asked (ms since the epoch, its clock). */
  readonly at: number;
}

/**
 * Requests to move scenes live (docs/scaling.md "Rebalancing"): the leader writes them; the
 * engine a request names moves the scene (`Engine.migrateScene`) and clears it, whatever the
 * outcome. One request per scene.
 */
export interface SceneMoves {
  /** The leader's side: ask for a move (replaces a request for the same scene). */
  request(move: Omit<MoveRequest, 'at'>): Promise<void>;
  /** Requests not cleared yet, oldest first. */
  list(): readonly MoveRequest[];
  /** Every request put. Returns an unsubscribe function. */
  watch(listener: (request: MoveRequest) => void): () => void;
  /** Forget the request for `sceneId` made at placement epoch `epoch` (a newer one stays). */
  clear(sceneId: string, epoch: number): Promise<void>;
}

/** An operator asking a member to drain and leave (`npm run status -- drain gateway-1`). */
export interface DrainRequest {
  readonly memberId: string;
  /**
   * The `startedAt` of the member instance asked: a process started again under the same id
   * (its supervisor restarted it after the drain) does not drain again on an old request.
   */
  readonly startedAt: number;
  /** Who asked (diagnostics), e.g. `host:pid`. */
  readonly requestedBy: string;
  /** When it asked (ms since the epoch, its clock). */
  readonly at: number;
  /**
   * A partial drain (the leader evening out the gateways' loads): tell `count` clients to move to
   * gateway `to`, and keep running. The gateway clears such a request once it has told them.
   */
  readonly share?: GatewayShare;
}

export interface GatewayShare {
  readonly count: number;
  readonly to: string;
}

/**
 * Drain requests (docs/scaling.md "Draining a gateway"): an operator's tool puts one; the member
 * it names drains and leaves, and the tool clears it once the member is gone. The leader puts
 * partial ones (`share`) to even out the gateways; the gateway clears those itself. One request
 * per member id.
 */
export interface MemberDrains {
  /** Ask `memberId` (the instance started at `startedAt`) to drain; replaces an earlier request. */
  request(request: Omit<DrainRequest, 'at'>): Promise<void>;
  /** Requests not cleared yet. */
  list(): readonly DrainRequest[];
  /** Every request put. Returns an unsubscribe function. */
  watch(listener: (request: DrainRequest) => void): () => void;
  /** Forget the request for `memberId` made for the instance started at `startedAt` (a newer one stays). */
  clear(memberId: string, startedAt: number): Promise<void>;
}

export interface LeaderElection {
  /**
   * Stand for election; resolves once this candidate is leader or the election is closed.
   * Standing again while already standing (waiting or leading) joins the same campaign.
   */
  campaign(candidateId: string): Promise<void>;
  /** Current leader's id, if any. */
  leader(): string | undefined;
  isLeader(candidateId: string): boolean;
  /** Step down (graceful shutdown). */
  resign(candidateId: string): Promise<void>;
  watch(listener: (leaderId: string | undefined) => void): () => void;
}

export interface Coordinator {
  readonly membership: Membership;
  readonly placement: Placement;
  readonly moves: SceneMoves;
  readonly drains: MemberDrains;
  readonly election: LeaderElection;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** `world:1` → `world`. A scene id without `:` is its own type. */
export function sceneTypeOf(sceneId: string): string {
  const i = sceneId.indexOf(':');
  return i === -1 ? sceneId : sceneId.slice(0, i);
}
