import { decodeDrainRequest } from './records.js';
import { EtcdRequests } from './etcd-requests.js';
import type { EtcdKeyspace } from './etcd-keyspace.js';
import type { DrainRequest, MemberDrains } from './types.js';

/** Drain requests on etcd: a key per member under `drains/`, read from a watched view. */
export class EtcdDrains {
  readonly #requests: EtcdRequests<DrainRequest>;

  constructor(keyspace: EtcdKeyspace) {
    this.#requests = new EtcdRequests(keyspace, 'drains', (memberId, text) => ({ ...decodeDrainRequest(text), memberId }));
  }

  follow(): Promise<void> {
    return this.#requests.follow();
  }

  readonly api: MemberDrains = {
    request: ({ memberId, startedAt, requestedBy, share }) =>
      this.#requests.put(memberId, JSON.stringify({ startedAt, requestedBy, at: Date.now(), ...(share === undefined ? {} : { share: { count: share.count, to: share.to } }) })),
    list: () => this.#requests.list(),
    watch: (listener) => this.#requests.watch(listener),
    clear: (memberId, startedAt) => this.#requests.clear(memberId, (r) => r.startedAt === startedAt),
  };

  clearListeners(): void {
    this.#requests.clearListeners();
  }
}
