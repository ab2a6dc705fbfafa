import type { IKeyValue } from 'etcd3';
import { decodeDrainRequest } from './records.js';
import { Emitter } from './emitter.js';
import type { EtcdKeyspace } from './etcd-keyspace.js';
import type { DrainRequest, MemberDrains } from './types.js';

/** Drain requests on etcd: a key per member under `drains/`, read from a watched view. */
export class EtcdDrains {
  readonly #keyspace: EtcdKeyspace;
  readonly #requests = new Map<string, DrainRequest & { readonly revision: number }>();
  readonly #events = new Emitter<DrainRequest>();

  constructor(keyspace: EtcdKeyspace) {
    this.#keyspace = keyspace;
  }

  follow(): Promise<void> {
    return this.#keyspace.follow(`${this.#keyspace.prefix}drains/`, 'drains', (kv, deleted) => this.#apply(kv, deleted));
  }

  #apply(kv: IKeyValue, deleted: boolean): void {
    const change = this.#keyspace.change('drains', kv, deleted);
    if (change === null) return;
    const { id, revision } = change;
    const known = this.#requests.get(id);
    if (deleted) {
      if (known !== undefined && known.revision <= revision) this.#requests.delete(id);
      return;
    }
    if (known !== undefined && known.revision >= revision) return;
    const value = this.#keyspace.decode('drains', id, () => decodeDrainRequest(kv.value.toString()));
    if (value === null) return;
    const request = Object.freeze({ ...value, memberId: id, revision });
    this.#requests.set(id, request);
    this.#events.emit(request);
  }

  readonly api: MemberDrains = {
    request: async ({ memberId, startedAt, requestedBy, share }) => {
      const key = this.#keyspace.key('drains', memberId);
      const value = JSON.stringify({ startedAt, requestedBy, at: Date.now(), ...(share === undefined ? {} : { share: { count: share.count, to: share.to } }) });
      const res = await this.#keyspace.client.put(key).value(value).exec();
      this.#apply({ key: Buffer.from(key), value: Buffer.from(value), mod_revision: res.header.revision } as IKeyValue, false);
    },
    list: () => [...this.#requests.values()].sort((a, b) => a.revision - b.revision),
    watch: (listener) => this.#events.on(listener),
    clear: async (memberId, startedAt) => {
      const known = this.#requests.get(memberId);
      if (known === undefined || known.startedAt !== startedAt) return;
      const client = this.#keyspace.client;
      const key = this.#keyspace.key('drains', memberId);
      // Only the request we saw: a newer one for the member stays.
      const res = await client.if(key, 'Mod', '==', known.revision).then(client.delete().key(key)).commit();
      if (res.succeeded) this.#apply({ key: Buffer.from(key), mod_revision: res.header.revision } as IKeyValue, true);
    },
  };

  clearListeners(): void {
    this.#events.clear();
  }
}
