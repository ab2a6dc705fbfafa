import { Etcd3, Election as EtcdElection, type Campaign, type Election, type IKeyValue, type Lease, type Watcher } from 'etcd3';
import { CodedError, ErrorCodes, isCodedError, silentLogger, type Logger } from '@gos/schema';
import type {
  Coordinator,
  LeaderElection,
  MemberFigures,
  MemberHandle,
  MemberInfo,
  MemberRole,
  Membership,
  MembershipEvent,
  Placement,
  PlacementEvent,
  PlacementRecord,
  PlacementRequest,
} from './types.js';
import { sceneTypeOf } from './types.js';
import { PlacementAsker, placementTimeoutOf, REQUESTER } from './requests.js';

type Kind = 'members' | 'placement' | 'requests';

interface Refusal {
  readonly sceneId: string;
  readonly revision: number;
  readonly error: { code: string; message: string };
}

export interface EtcdCoordinatorOptions {
  /** etcd endpoints. @default ['http://127.0.0.1:2379'] */
  readonly hosts?: readonly string[];
  /** Prefix of every key (one cluster per prefix). @default 'gos/' */
  readonly prefix?: string;
  /** Member lease time to live: a dead process disappears within it. @default 5 */
  readonly leaseTtlSeconds?: number;
  /**
   * Load figures (`MemberHandle.setLoad`) are written at most this often; in between the
   * latest figure waits and older ones are skipped. A gateway's load changes with every socket,
   * and a write per socket would make a reconnect storm an etcd write storm. @default 250
   */
  readonly loadPublishIntervalMs?: number;
  /** How long `placement.ensure` waits for the leader to place a scene. @default 10000 */
  readonly placementTimeoutMs?: number;
  readonly logger?: Logger;
}

type Listener<E> = (event: E) => void;

function emit<E>(listeners: Set<Listener<E>>, event: E): void {
  for (const l of [...listeners]) l(event);
}

/**
 * The coordinator on etcd. Members are keys under a lease (a dead process vanishes within the
 * TTL, and a process whose lease was lost registers again); placements are keys whose
 * `mod_revision` is the epoch, written by the leader only; placement requests are keys the
 * members write and the leader serves; election is etcd3's recipe with its own watched view.
 * Reads (`list`, `lookup`, …) come from a local view kept current by watches, so the data path
 * never waits on etcd. Writes made here update the view at once; the watch brings everyone
 * else's, and an event is emitted once per revision whichever arrives first.
 */
export class EtcdCoordinator implements Coordinator {
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #ttl: number;
  readonly #loadIntervalMs: number;
  readonly #log: Logger;
  readonly #members = new Map<string, { info: MemberInfo; revision: number }>();
  readonly #placements = new Map<string, PlacementRecord>();
  readonly #requests = new Map<string, PlacementRequest & { readonly revision: number }>();
  /** Placement requests of this process (see Placement.ensure). */
  readonly #asker: PlacementAsker;
  /**
   * Revision at which a key was last deleted: a late watch event for an older put must not
   * bring it back.
   */
  readonly #tombstones = new Map<string, number>();
  readonly #memberListeners = new Set<Listener<MembershipEvent>>();
  readonly #placementListeners = new Set<Listener<PlacementEvent>>();
  readonly #requestListeners = new Set<Listener<PlacementRequest>>();
  readonly #refusalListeners = new Set<Listener<Refusal>>();
  readonly #leaderListeners = new Set<Listener<string | undefined>>();
  readonly #leases = new Set<Lease>();
  /** Live campaigns by candidate: one per candidate, and `elected` settles with it. */
  readonly #campaigns = new Map<string, { readonly campaign: Campaign; whenElected: Promise<void>; elected: boolean }>();
  readonly #watchers: Watcher[] = [];
  #election: Election | undefined;
  /**
   * The election's candidate keys (etcd3's recipe: one key per campaign, the oldest leads), kept
   * by a watch like members and placement. etcd3's own ElectionObserver is not used: starting
   * with no candidate, it takes the last key of its first watch batch as leader, not the oldest.
   */
  readonly #candidates = new Map<string, { readonly created: bigint; readonly value: string; readonly revision: number }>();
  /** Candidate ids this coordinator has stood for: a key of one not campaigning any more is stale (its lease is dying). */
  readonly #ownCandidates = new Set<string>();
  #leader: string | undefined;
  /** Aborted by close(): placement waits fail at once. */
  readonly #closedSignal = new AbortController();
  #started = false;
  #closed = false;

  constructor(options: EtcdCoordinatorOptions = {}) {
    const ttl = options.leaseTtlSeconds ?? 5;
    if (!Number.isInteger(ttl) || ttl < 1) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `coordinator option "leaseTtlSeconds" must be a positive integer, got ${ttl}`);
    this.#client = new Etcd3({ hosts: [...(options.hosts ?? ['http://127.0.0.1:2379'])] });
    this.#prefix = options.prefix ?? 'gos/';
    this.#ttl = ttl;
    const interval = options.loadPublishIntervalMs ?? 250;
    if (!Number.isInteger(interval) || interval < 0) {
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `coordinator option "loadPublishIntervalMs" must be an integer ≥ 0, got ${interval}`);
    }
    this.#loadIntervalMs = interval;
    this.#asker = new PlacementAsker(placementTimeoutOf(options.placementTimeoutMs), {
      lookup: (id) => this.#placements.get(id),
      watch: (l) => this.#placement.watch(l),
      watchRefusals: (l) => {
        const listener = (r: Refusal): void => l(r.sceneId, r.revision, r.error);
        this.#refusalListeners.add(listener);
        return () => this.#refusalListeners.delete(listener);
      },
      closed: this.#closedSignal.signal,
      put: async (sceneId) => {
        const value: Omit<PlacementRequest, 'sceneId'> = { requestedBy: REQUESTER, at: Date.now() };
        const res = await this.#client.put(this.#key('requests', sceneId)).value(JSON.stringify(value)).exec();
        return Number(res.header.revision);
      },
    });
    this.#log = options.logger ?? silentLogger;
  }

  get membership(): Membership {
    return this.#membership;
  }
  get placement(): Placement {
    return this.#placement;
  }
  get election(): LeaderElection {
    return this.#electionApi;
  }

  #key(kind: Kind, id: string): string {
    return `${this.#prefix}${kind}/${id}`;
  }

  /**
   * Read and watch members, placement, requests and the election. Idempotent.
   * @throws CodedError `CRD_ERR_UNAVAILABLE` when etcd cannot be reached: at once when it refuses
   *   or its name does not resolve (the caller bounds the wait on one that does not answer).
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    try {
      // A read fails at once when etcd cannot be reached; the watches below would wait for it, reconnecting, for ever.
      await this.#client.get(`${this.#prefix}members/`).exec();
      for (const kind of ['members', 'placement', 'requests'] as const) {
        await this.#follow(`${this.#prefix}${kind}/`, kind, (kv, deleted) => this.#apply(kind, kv, deleted));
      }
      this.#election = this.#client.election(`${this.#prefix}leader`, this.#ttl);
      await this.#follow(`${EtcdElection.prefix}/${this.#prefix}leader/`, 'election', (kv, deleted) => this.#applyCandidate(kv, deleted));
    } catch (err) {
      if (isCodedError(err)) throw err;
      throw new CodedError(ErrorCodes.CRD_ERR_UNAVAILABLE, `cannot reach etcd: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Watch a prefix, then read it: nothing that changes in between is missed. */
  async #follow(prefix: string, kind: string, apply: (kv: IKeyValue, deleted: boolean) => void): Promise<void> {
    const watcher = await this.#client.watch().prefix(prefix).create();
    if (this.#closed) {
      // close() ran while the watch was being set up (a start that timed out): cancel it, or
      // it would live on, reconnecting for ever.
      await watcher.cancel().catch(() => {});
      throw new CodedError(ErrorCodes.CRD_ERR_CLOSED, 'coordinator closed while starting');
    }
    watcher.on('put', (kv) => apply(kv, false));
    watcher.on('delete', (kv) => apply(kv, true));
    watcher.on('error', (err) => this.#log.warn({ err, kind }, 'etcd watch error'));
    this.#watchers.push(watcher);
    const kvs = await this.#client.getAll().prefix(prefix).exec();
    for (const kv of kvs.kvs) apply(kv, false);
  }

  #applyCandidate(kv: IKeyValue, deleted: boolean): void {
    const key = kv.key.toString();
    const revision = Number(kv.mod_revision);
    const tomb = `election/${key}`;
    if (deleted) {
      this.#tombstones.set(tomb, Math.max(revision, this.#tombstones.get(tomb) ?? 0));
      this.#candidates.delete(key);
    } else {
      if (revision <= (this.#tombstones.get(tomb) ?? 0)) return;
      const known = this.#candidates.get(key);
      if (known !== undefined && known.revision >= revision) return;
      this.#candidates.set(key, { created: BigInt(kv.create_revision), value: kv.value.toString(), revision });
    }
    this.#updateLeader();
  }

  /**
   * The leader: ours while our campaign is elected and its key is still there (a process paused
   * past its TTL sees its key deleted before etcd3 reports the lease lost), else the oldest
   * candidate. Emits on change.
   */
  #updateLeader(): void {
    let leader: string | undefined;
    const present = new Set([...this.#candidates.values()].map((c) => c.value));
    for (const [id, c] of this.#campaigns) if (c.elected && present.has(id)) leader = id;
    if (leader === undefined) {
      let oldest: { created: bigint; value: string } | undefined;
      for (const c of this.#candidates.values()) {
        if (this.#ownCandidates.has(c.value) && !this.#campaigns.has(c.value)) continue;
        if (oldest === undefined || c.created < oldest.created) oldest = c;
      }
      leader = oldest?.value;
    }
    if (leader === this.#leader) return;
    this.#leader = leader;
    emit(this.#leaderListeners, leader);
  }

  /**
   * Bring a key change into the local view; emits once per revision. A delete older than what
   * the view holds (a late watch event after `fetch` or a write of ours brought a newer put) is
   * ignored.
   */
  #apply(kind: Kind, kv: IKeyValue, deleted: boolean): void {
    const id = kv.key.toString().slice(`${this.#prefix}${kind}/`.length);
    const revision = Number(kv.mod_revision);
    const tomb = `${kind}/${id}`;
    if (deleted) {
      this.#tombstones.set(tomb, Math.max(revision, this.#tombstones.get(tomb) ?? 0));
    } else {
      if (revision <= (this.#tombstones.get(tomb) ?? 0)) return;
      this.#tombstones.delete(tomb);
    }
    if (kind === 'members') {
      const known = this.#members.get(id);
      if (deleted) {
        if (known === undefined || known.revision > revision) return;
        this.#members.delete(id);
        emit(this.#memberListeners, { type: 'down', member: known.info });
        return;
      }
      if (known !== undefined && known.revision >= revision) return;
      const info = Object.freeze(JSON.parse(kv.value.toString()) as MemberInfo);
      this.#members.set(id, { info, revision });
      emit(this.#memberListeners, { type: known === undefined ? 'up' : 'update', member: info });
      return;
    }
    if (kind === 'requests') {
      const known = this.#requests.get(id);
      if (deleted) {
        if (known !== undefined && known.revision <= revision) this.#requests.delete(id);
        return;
      }
      if (known !== undefined && known.revision >= revision) return;
      const value = JSON.parse(kv.value.toString()) as Omit<PlacementRequest, 'sceneId'>;
      const request = Object.freeze({ ...value, sceneId: id, revision });
      this.#requests.set(id, request);
      emit(this.#requestListeners, request);
      if (request.refused !== undefined) emit(this.#refusalListeners, { sceneId: id, revision, error: request.refused });
      return;
    }
    const known = this.#placements.get(id);
    if (deleted) {
      if (known === undefined || known.epoch > revision) return;
      this.#placements.delete(id);
      emit(this.#placementListeners, { type: 'released', record: known });
      return;
    }
    if (known !== undefined && known.epoch >= revision) return;
    const value = JSON.parse(kv.value.toString()) as { engineId: string };
    const record: PlacementRecord = Object.freeze({ sceneId: id, sceneType: sceneTypeOf(id), engineId: value.engineId, epoch: revision });
    this.#placements.set(id, record);
    emit(this.#placementListeners, { type: 'placed', record });
  }

  readonly #membership: Membership = {
    register: async (input) => {
      let info: MemberInfo = Object.freeze({ ...input, load: input.load ?? 0, startedAt: Date.now() });
      const key = this.#key('members', info.id);
      const log = this.#log.child({ memberId: info.id });
      let left = false;
      let lease = this.#newLease();
      const put = async (): Promise<void> => {
        const res = await lease.put(key).value(JSON.stringify(info)).exec();
        this.#apply('members', { key: Buffer.from(key), value: Buffer.from(JSON.stringify(info)), mod_revision: res.header.revision } as IKeyValue, false);
      };
      // A lost lease (the process was paused past its TTL, or cut off from etcd that long) has
      // deleted the key and peers have seen this member go: register again under a new lease,
      // retrying with a backoff until etcd answers.
      const onLost = (err: unknown): void => {
        log.error({ err }, 'membership lease lost; registering again');
        void (async () => {
          for (let attempt = 0; !left && !this.#closed; attempt++) {
            lease.off('lost', onLost);
            this.#leases.delete(lease);
            lease = this.#newLease();
            try {
              await put();
              lease.on('lost', onLost);
              log.warn('registered again under a new lease');
              return;
            } catch (e) {
              // Its grant may have succeeded: revoke it, or its keep-alive would run for ever.
              void lease.revoke().catch(() => {});
              log.warn({ err: e }, 'cannot register again yet');
              await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)).unref());
            }
          }
        })();
      };
      lease.on('lost', onLost);
      await put();
      // Figure writes: one in flight at most, the latest figures win, at most one per interval;
      // a failed write is tried again after an interval even if no new figure comes.
      let dirty = false;
      let flushing: Promise<void> | null = null;
      let lastPutAt = -Infinity;
      const flush = async (): Promise<void> => {
        try {
          while (dirty && !left) {
            const wait = lastPutAt + this.#loadIntervalMs - Date.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            if (left) return;
            dirty = false;
            lastPutAt = Date.now();
            try {
              await put();
            } catch (err) {
              dirty = true;
              setTimeout(() => {
                if (dirty && !left) kick().catch((e: unknown) => log.warn({ err: e }, 'cannot publish load'));
              }, this.#loadIntervalMs).unref();
              throw err;
            }
          }
        } finally {
          // Runs right after the loop's last check, with no await between: a publish after
          // this starts a new flush.
          flushing = null;
        }
      };
      const kick = (): Promise<void> => (flushing ??= flush());
      const publish = (figures: MemberFigures): Promise<void> => {
        if (left) return Promise.resolve();
        info = Object.freeze({ ...info, ...figures });
        dirty = true;
        return kick();
      };
      return {
        get info() {
          return info;
        },
        setLoad: (load: number) => publish({ load }),
        publish,
        leave: async () => {
          if (left) return;
          left = true;
          this.#leases.delete(lease);
          await lease.revoke();
          // The revoke's revision is not returned; any read after it carries a revision at least as new.
          const after = await this.#client.get(key).exec();
          this.#apply('members', { key: Buffer.from(key), mod_revision: after.header.revision } as IKeyValue, true);
        },
      } satisfies MemberHandle;
    },
    list: (role?: MemberRole) => {
      const all = [...this.#members.values()].map((m) => m.info);
      return role === undefined ? all : all.filter((m) => m.role === role);
    },
    get: (id: string) => this.#members.get(id)?.info,
    watch: (listener) => {
      this.#memberListeners.add(listener);
      return () => this.#memberListeners.delete(listener);
    },
  };

  readonly #placement: Placement = {
    lookup: (sceneId) => this.#placements.get(sceneId),
    fetch: async (sceneId) => {
      const key = this.#key('placement', sceneId);
      const res = await this.#client.get(key).exec();
      const kv = res.kvs[0];
      // Applied like watch events, so a newer event already seen is not overwritten. Absent:
      // deleted at or before the read's revision.
      if (kv !== undefined) this.#apply('placement', kv, false);
      else this.#apply('placement', { key: Buffer.from(key), mod_revision: res.header.revision } as IKeyValue, true);
      return kv === undefined ? undefined : this.#placements.get(sceneId);
    },
    ensure: (sceneId) => this.#asker.ensure(sceneId),
    requests: () => [...this.#requests.values()].sort((a, b) => a.revision - b.revision),
    watchRequests: (listener) => {
      this.#requestListeners.add(listener);
      return () => this.#requestListeners.delete(listener);
    },
    assign: async (sceneId, engineId) => {
      const key = this.#key('placement', sceneId);
      const requestKey = this.#key('requests', sceneId);
      const value = JSON.stringify({ engineId });
      // Put only if absent, and clear the request either way, in one transaction.
      const res = await this.#client
        .if(key, 'Create', '==', 0)
        .then(this.#client.put(key).value(value), this.#client.delete().key(requestKey))
        .else(this.#client.get(key), this.#client.delete().key(requestKey))
        .commit();
      this.#apply('requests', { key: Buffer.from(requestKey), mod_revision: res.header.revision } as IKeyValue, true);
      if (res.succeeded) {
        this.#apply('placement', { key: Buffer.from(key), value: Buffer.from(value), mod_revision: res.header.revision } as IKeyValue, false);
      } else {
        const kv = res.responses[0]?.response_range?.kvs[0];
        if (kv !== undefined) this.#apply('placement', kv, false);
      }
      const record = this.#placements.get(sceneId);
      if (record === undefined) throw new CodedError(ErrorCodes.CRD_ERR_UNAVAILABLE, `placement of ${sceneId} vanished while being assigned`);
      return record;
    },
    refuse: async (sceneId, error) => {
      const requestKey = this.#key('requests', sceneId);
      const known = this.#requests.get(sceneId);
      if (known === undefined) return;
      const value: Omit<PlacementRequest, 'sceneId'> = { requestedBy: known.requestedBy, at: known.at, refused: { code: error.code, message: error.message } };
      // Only the request we saw: one asked again since (after an engine came up) is served anew.
      await this.#client.if(requestKey, 'Mod', '==', known.revision).then(this.#client.put(requestKey).value(JSON.stringify(value))).commit();
    },
    dismiss: async (sceneId) => {
      const requestKey = this.#key('requests', sceneId);
      const known = this.#requests.get(sceneId);
      if (known === undefined) return;
      // Only the request we saw: a player asking again meanwhile keeps its fresh one.
      const res = await this.#client.if(requestKey, 'Mod', '==', known.revision).then(this.#client.delete().key(requestKey)).commit();
      if (res.succeeded) this.#apply('requests', { key: Buffer.from(requestKey), mod_revision: res.header.revision } as IKeyValue, true);
    },
    release: async (sceneId, epoch) => {
      const key = this.#key('placement', sceneId);
      const res = await this.#client.if(key, 'Mod', '==', epoch).then(this.#client.delete().key(key)).commit();
      if (res.succeeded) this.#apply('placement', { key: Buffer.from(key), mod_revision: res.header.revision } as IKeyValue, true);
      return res.succeeded;
    },
    scenesOf: (engineId) => [...this.#placements.values()].filter((r) => r.engineId === engineId),
    list: () => [...this.#placements.values()].sort((a, b) => a.sceneId.localeCompare(b.sceneId)),
    watch: (listener) => {
      this.#placementListeners.add(listener);
      return () => this.#placementListeners.delete(listener);
    },
  };

  #newLease(): Lease {
    const lease = this.#client.lease(this.#ttl);
    this.#leases.add(lease);
    return lease;
  }

  readonly #electionApi: LeaderElection = {
    campaign: async (candidateId) => {
      if (this.#election === undefined) throw new CodedError(ErrorCodes.CRD_ERR_CLOSED, 'coordinator not started');
      // Standing again while a campaign lives (waiting or elected) joins it: a second one would
      // queue behind the first one's own key for ever.
      const live = this.#campaigns.get(candidateId);
      if (live !== undefined) return live.whenElected;
      const campaign = this.#election.campaign(candidateId);
      this.#ownCandidates.add(candidateId);
      const entry = { campaign, whenElected: Promise.resolve(), elected: false };
      entry.whenElected = new Promise<void>((resolve, reject) => {
        campaign.once('elected', () => {
          entry.elected = true;
          this.#updateLeader();
          resolve();
        });
        // Also after the election: a campaign whose lease is lost (the process was paused past
        // its TTL, etcd was unreachable) errs. Leadership is gone; campaign again to get it back.
        campaign.on('error', (err) => {
          if (this.#campaigns.get(candidateId) === entry) this.#campaigns.delete(candidateId);
          if (!entry.elected) {
            reject(new CodedError(ErrorCodes.CRD_ERR_CLOSED, 'campaign failed', { cause: err }));
            return;
          }
          this.#log.warn({ err, candidateId }, 'leadership lost');
          this.#updateLeader();
        });
      });
      this.#campaigns.set(candidateId, entry);
      await entry.whenElected;
    },
    leader: () => this.#leader,
    isLeader: (candidateId) => this.#leader === candidateId,
    resign: async (candidateId) => {
      const live = this.#campaigns.get(candidateId);
      if (live === undefined) return;
      this.#campaigns.delete(candidateId);
      await live.campaign.resign();
      this.#updateLeader();
    },
    watch: (listener) => {
      this.#leaderListeners.add(listener);
      return () => this.#leaderListeners.delete(listener);
    },
  };

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closedSignal.abort();
    for (const c of this.#campaigns.values()) await c.campaign.resign().catch(() => {});
    this.#campaigns.clear();
    for (const lease of this.#leases) await lease.revoke().catch(() => {});
    this.#leases.clear();
    for (const w of this.#watchers) await w.cancel().catch(() => {});
    this.#memberListeners.clear();
    this.#placementListeners.clear();
    this.#requestListeners.clear();
    this.#refusalListeners.clear();
    this.#leaderListeners.clear();
    this.#client.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
