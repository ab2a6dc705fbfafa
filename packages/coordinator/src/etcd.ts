import { Etcd3 } from 'etcd3';
import { CodedError, ErrorCodes, isCodedError, silentLogger, type Logger } from '@gos/schema';
import type { Coordinator, LeaderElection, MemberDrains, Membership, Placement, SceneMoves } from './types.js';
import { placementTimeoutOf } from './requests.js';
import { Tombstones } from './etcd-tombstones.js';
import { EtcdKeyspace } from './etcd-keyspace.js';
import { EtcdMembership } from './etcd-membership.js';
import { EtcdPlacement } from './etcd-placement.js';
import { EtcdMoves } from './etcd-moves.js';
import { EtcdDrains } from './etcd-drains.js';
import { EtcdLeaderElection } from './etcd-election.js';

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
  /**
   * How long a deleted key is remembered, so that a late watch event for an older put cannot
   * bring it back. Watch and read races settle in milliseconds; a minute is ample, and keeps
   * the view from growing with every key ever deleted (election keys, requests). @default 60000
   */
  readonly tombstoneTtlMs?: number;
  /** The clock tombstones are aged by (tests). @default Date.now */
  readonly now?: () => number;
}

/** How many entries the local view holds (tests and diagnostics: none of them may grow without bound). */
export interface EtcdViewStats {
  readonly members: number;
  readonly placements: number;
  readonly requests: number;
  readonly candidates: number;
  readonly tombstones: number;
}

/**
 * The coordinator on etcd: membership (`etcd-membership.ts`), placement and its requests
 * (`etcd-placement.ts`) and election (`etcd-election.ts`) over one shared keyspace
 * (`etcd-keyspace.ts`). Reads (`list`, `lookup`, …) come from a local view kept current by
 * watches, so the data path never waits on etcd. Writes made here update the view at once; the
 * watch brings everyone else's, and an event is emitted once per revision whichever arrives first.
 */
export class EtcdCoordinator implements Coordinator {
  readonly #keyspace: EtcdKeyspace;
  readonly #membership: EtcdMembership;
  readonly #placement: EtcdPlacement;
  readonly #moves: EtcdMoves;
  readonly #drains: EtcdDrains;
  readonly #election: EtcdLeaderElection;
  /** Aborted by close(): placement waits fail at once. */
  readonly #closed = new AbortController();
  #started = false;

  constructor(options: EtcdCoordinatorOptions = {}) {
    const ttl = options.leaseTtlSeconds ?? 5;
    if (!Number.isInteger(ttl) || ttl < 1) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `coordinator option "leaseTtlSeconds" must be a positive integer, got ${ttl}`);
    const client = new Etcd3({ hosts: [...(options.hosts ?? ['http://127.0.0.1:2379'])] });
    const interval = options.loadPublishIntervalMs ?? 250;
    if (!Number.isInteger(interval) || interval < 0) {
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `coordinator option "loadPublishIntervalMs" must be an integer ≥ 0, got ${interval}`);
    }
    const tombstoneTtl = options.tombstoneTtlMs ?? 60_000;
    if (!Number.isInteger(tombstoneTtl) || tombstoneTtl < 1000) {
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `coordinator option "tombstoneTtlMs" must be an integer ≥ 1000, got ${tombstoneTtl}`);
    }
    const placementTimeoutMs = placementTimeoutOf(options.placementTimeoutMs);
    this.#keyspace = new EtcdKeyspace({
      client,
      prefix: options.prefix ?? 'gos/',
      log: options.logger ?? silentLogger,
      tombstones: new Tombstones(tombstoneTtl, options.now ?? Date.now),
      closedSignal: this.#closed.signal,
    });
    this.#membership = new EtcdMembership(this.#keyspace, { leaseTtlSeconds: ttl, loadPublishIntervalMs: interval });
    this.#placement = new EtcdPlacement(this.#keyspace, placementTimeoutMs);
    this.#moves = new EtcdMoves(this.#keyspace);
    this.#drains = new EtcdDrains(this.#keyspace);
    this.#election = new EtcdLeaderElection(this.#keyspace, ttl);
  }

  get membership(): Membership {
    return this.#membership.api;
  }
  get placement(): Placement {
    return this.#placement.api;
  }
  get moves(): SceneMoves {
    return this.#moves.api;
  }
  get drains(): MemberDrains {
    return this.#drains.api;
  }
  get election(): LeaderElection {
    return this.#election.api;
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
      await this.#keyspace.client.get(`${this.#keyspace.prefix}members/`).exec();
      await this.#membership.follow();
      await this.#placement.follow();
      await this.#moves.follow();
      await this.#drains.follow();
      if (this.#keyspace.closed) throw new CodedError(ErrorCodes.CRD_ERR_CLOSED, 'coordinator closed while starting');
      await this.#election.start();
    } catch (err) {
      if (isCodedError(err)) throw err;
      throw new CodedError(ErrorCodes.CRD_ERR_UNAVAILABLE, `cannot reach etcd: ${(err as Error).message}`, { cause: err });
    }
  }

  /** How many entries the local view holds. */
  viewStats(): EtcdViewStats {
    return {
      members: this.#membership.size,
      placements: this.#placement.placementCount,
      requests: this.#placement.requestCount,
      candidates: this.#election.candidateCount,
      tombstones: this.#keyspace.tombstones.size,
    };
  }

  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    await this.#election.resignAll();
    await this.#membership.revokeLeases();
    await this.#keyspace.cancelWatches();
    // Listeners are kept until the watches are gone: events arriving meanwhile still reach them.
    this.#membership.clearListeners();
    this.#placement.clearListeners();
    this.#moves.clearListeners();
    this.#drains.clearListeners();
    this.#election.clearListeners();
    this.#keyspace.client.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
