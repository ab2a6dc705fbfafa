import { Election as EtcdElection, type Campaign, type Election, type IKeyValue } from 'etcd3';
import { CodedError, ErrorCodes } from '@gos/schema';
import type { LeaderElection } from './types.js';
import { Emitter } from './emitter.js';
import type { EtcdKeyspace } from './etcd-keyspace.js';

/**
 * Leader election on etcd: etcd3's recipe (one key per campaign under a lease, the oldest leads)
 * with its own watched view of the candidate keys. etcd3's own ElectionObserver is not used:
 * starting with no candidate, it takes the last key of its first watch batch as leader, not the
 * oldest.
 */
export class EtcdLeaderElection {
  readonly #keyspace: EtcdKeyspace;
  readonly #ttl: number;
  #election: Election | undefined;
  /** Live campaigns by candidate: one per candidate, and `elected` settles with it. */
  readonly #campaigns = new Map<string, { readonly campaign: Campaign; whenElected: Promise<void>; elected: boolean }>();
  /** The election's candidate keys, kept by a watch like members and placement. */
  readonly #candidates = new Map<string, { readonly created: bigint; readonly value: string; readonly revision: number }>();
  /** Candidate ids this coordinator has stood for: a key of one not campaigning any more is stale (its lease is dying). */
  readonly #ownCandidates = new Set<string>();
  #leader: string | undefined;
  readonly #events = new Emitter<string | undefined>();

  /** `leaseTtlSeconds` is validated by the coordinator: a campaign's key lives under such a lease. */
  constructor(keyspace: EtcdKeyspace, leaseTtlSeconds: number) {
    this.#keyspace = keyspace;
    this.#ttl = leaseTtlSeconds;
  }

  /** How many candidate keys the view holds. */
  get candidateCount(): number {
    return this.#candidates.size;
  }

  /** Set up the election and watch its candidate keys; campaigns are refused until then. */
  async start(): Promise<void> {
    const prefix = this.#keyspace.prefix;
    this.#election = this.#keyspace.client.election(`${prefix}leader`, this.#ttl);
    await this.#keyspace.follow(`${EtcdElection.prefix}/${prefix}leader/`, 'election', (kv, deleted) => this.#applyCandidate(kv, deleted));
  }

  #applyCandidate(kv: IKeyValue, deleted: boolean): void {
    const key = kv.key.toString();
    const revision = Number(kv.mod_revision);
    if (!this.#keyspace.tombstones.admit(`election/${key}`, revision, deleted)) return;
    if (deleted) {
      this.#candidates.delete(key);
    } else {
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
    this.#events.emit(leader);
  }

  readonly api: LeaderElection = {
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
          this.#keyspace.log.warn({ err, candidateId }, 'leadership lost');
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
    watch: (listener) => this.#events.on(listener),
  };

  /** Resign every live campaign (close): a successor need not wait for the leases to expire. */
  async resignAll(): Promise<void> {
    for (const c of this.#campaigns.values()) await c.campaign.resign().catch(() => {});
    this.#campaigns.clear();
  }

  clearListeners(): void {
    this.#events.clear();
  }
}
