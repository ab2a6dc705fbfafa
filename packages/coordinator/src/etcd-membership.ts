import type { IKeyValue, Lease } from 'etcd3';
import type { MemberFigures, MemberHandle, MemberInfo, MemberRole, Membership, MembershipEvent } from './types.js';
import { decodeMemberInfo } from './records.js';
import { Emitter } from './emitter.js';
import type { EtcdKeyspace } from './etcd-keyspace.js';

/** The coordinator's validated options that membership reads. */
export interface EtcdMembershipOptions {
  readonly leaseTtlSeconds: number;
  readonly loadPublishIntervalMs: number;
}

/**
 * Membership on etcd: each member is a key under its own lease (a dead process vanishes within
 * the TTL, and a process whose lease was lost registers again), and reads come from a local
 * view of the `members/` keys kept current by a watch.
 */
export class EtcdMembership {
  readonly #keyspace: EtcdKeyspace;
  readonly #ttl: number;
  readonly #loadIntervalMs: number;
  readonly #members = new Map<string, { info: MemberInfo; revision: number }>();
  readonly #events = new Emitter<MembershipEvent>();
  /** Leases of the members registered here, revoked by close(). */
  readonly #leases = new Set<Lease>();
  /** Members registered here and not left, by id: whether each holds its lease now. */
  readonly #holding = new Map<string, boolean>();
  #losses = 0;

  constructor(keyspace: EtcdKeyspace, options: EtcdMembershipOptions) {
    this.#keyspace = keyspace;
    this.#ttl = options.leaseTtlSeconds;
    this.#loadIntervalMs = options.loadPublishIntervalMs;
  }

  /** How many members the view holds. */
  get size(): number {
    return this.#members.size;
  }

  /** Read and watch the members. */
  follow(): Promise<void> {
    return this.#keyspace.follow(`${this.#keyspace.prefix}members/`, 'members', (kv, deleted) => this.#apply(kv, deleted));
  }

  /**
   * Bring a member key change into the view; emits once per revision. A delete older than what
   * the view holds (a late watch event after a write of ours brought a newer put) is ignored.
   */
  #apply(kv: IKeyValue, deleted: boolean): void {
    const change = this.#keyspace.change('members', kv, deleted);
    if (change === null) return;
    const { id, revision } = change;
    const known = this.#members.get(id);
    if (deleted) {
      if (known === undefined || known.revision > revision) return;
      this.#members.delete(id);
      this.#events.emit({ type: 'down', member: known.info });
      return;
    }
    if (known !== undefined && known.revision >= revision) return;
    const info = this.#keyspace.decode('members', id, () => Object.freeze(decodeMemberInfo(kv.value.toString())));
    if (info === null) return;
    this.#members.set(id, { info, revision });
    this.#events.emit({ type: known === undefined ? 'up' : 'update', member: info });
  }

  readonly api: Membership = {
    register: async (input) => {
      let info: MemberInfo = Object.freeze({ ...input, load: input.load ?? 0, startedAt: Date.now() });
      const key = this.#keyspace.key('members', info.id);
      const log = this.#keyspace.log.child({ memberId: info.id });
      let left = false;
      let lease = this.#newLease();
      const put = async (): Promise<void> => {
        const res = await lease.put(key).value(JSON.stringify(info)).exec();
        this.#apply({ key: Buffer.from(key), value: Buffer.from(JSON.stringify(info)), mod_revision: res.header.revision } as IKeyValue, false);
      };
      // A lost lease (the process was paused past its TTL, or cut off from etcd that long) has
      // deleted the key and peers have seen this member go: register again under a new lease,
      // retrying with a backoff until etcd answers.
      const onLost = (err: unknown): void => {
        log.error({ err }, 'membership lease lost; registering again');
        this.#losses++;
        if (!left) this.#holding.set(info.id, false);
        void (async () => {
          for (let attempt = 0; !left && !this.#keyspace.closed; attempt++) {
            lease.off('lost', onLost);
            this.#leases.delete(lease);
            lease = this.#newLease();
            try {
              await put();
              lease.on('lost', onLost);
              if (!left) this.#holding.set(info.id, true);
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
      this.#holding.set(info.id, true);
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
          this.#holding.delete(info.id);
          this.#leases.delete(lease);
          await lease.revoke();
          // The revoke's revision is not returned; any read after it carries a revision at least as new.
          const after = await this.#keyspace.client.get(key).exec();
          this.#apply({ key: Buffer.from(key), mod_revision: after.header.revision } as IKeyValue, true);
        },
      } satisfies MemberHandle;
    },
    list: (role?: MemberRole) => {
      const all = [...this.#members.values()].map((m) => m.info);
      return role === undefined ? all : all.filter((m) => m.role === role);
    },
    get: (id: string) => this.#members.get(id)?.info,
    watch: (listener) => this.#events.on(listener),
    leases: () => {
      let held = 0;
      for (const holds of this.#holding.values()) if (holds) held++;
      return { held, lost: this.#holding.size - held, losses: this.#losses };
    },
  };

  #newLease(): Lease {
    const lease = this.#keyspace.client.lease(this.#ttl);
    this.#leases.add(lease);
    return lease;
  }

  /** Revoke the leases of the members registered here (close): their keys go at once. */
  async revokeLeases(): Promise<void> {
    for (const lease of this.#leases) await lease.revoke().catch(() => {});
    this.#leases.clear();
  }

  clearListeners(): void {
    this.#events.clear();
  }
}
