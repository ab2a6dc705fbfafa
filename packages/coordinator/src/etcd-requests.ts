import type { IKeyValue } from 'etcd3';
import { Emitter } from './emitter.js';
import type { EtcdKeyspace, Kind } from './etcd-keyspace.js';

/**
 * A family of request keys on etcd (`<prefix><kind>/<id>`, one request per id: move requests,
 * drain requests), read from a watched view: put, listed oldest first, watched (one event per
 * revision, whichever of our own put and the watch arrives first), and deleted only when the
 * request seen is still the one there (compare-and-delete on its revision).
 */
export class EtcdRequests<T extends object> {
  readonly #keyspace: EtcdKeyspace;
  readonly #kind: Kind;
  /** The request as the API gives it, from its id and its decoded value (throws BadRecord when bad). */
  readonly #read: (id: string, text: string) => T;
  readonly #requests = new Map<string, T & { readonly revision: number }>();
  readonly #events = new Emitter<T>();

  constructor(keyspace: EtcdKeyspace, kind: Kind, read: (id: string, text: string) => T) {
    this.#keyspace = keyspace;
    this.#kind = kind;
    this.#read = read;
  }

  get size(): number {
    return this.#requests.size;
  }

  follow(): Promise<void> {
    return this.#keyspace.follow(`${this.#keyspace.prefix}${this.#kind}/`, this.#kind, (kv, deleted) => this.#apply(kv, deleted));
  }

  #apply(kv: IKeyValue, deleted: boolean): void {
    const change = this.#keyspace.change(this.#kind, kv, deleted);
    if (change === null) return;
    const { id, revision } = change;
    const known = this.#requests.get(id);
    if (deleted) {
      if (known !== undefined && known.revision <= revision) this.#requests.delete(id);
      return;
    }
    if (known !== undefined && known.revision >= revision) return;
    const value = this.#keyspace.decode(this.#kind, id, () => this.#read(id, kv.value.toString()));
    if (value === null) return;
    const request = Object.freeze({ ...value, revision });
    this.#requests.set(id, request);
    this.#events.emit(request);
  }

  /** Put (or replace) the request for `id`; the view has it when this resolves. */
  async put(id: string, value: string): Promise<void> {
    const key = this.#keyspace.key(this.#kind, id);
    const res = await this.#keyspace.client.put(key).value(value).exec();
    this.#apply({ key: Buffer.from(key), value: Buffer.from(value), mod_revision: res.header.revision } as IKeyValue, false);
  }

  get(id: string): (T & { readonly revision: number }) | undefined {
    return this.#requests.get(id);
  }

  /** Every request, oldest first. */
  list(): T[] {
    return [...this.#requests.values()].sort((a, b) => a.revision - b.revision);
  }

  watch(listener: (request: T) => void): () => void {
    return this.#events.on(listener);
  }

  /** Delete the request for `id` when the one in the view passes `matches`, and only if it is still that one in etcd. */
  async clear(id: string, matches: (request: T) => boolean): Promise<void> {
    const known = this.#requests.get(id);
    if (known === undefined || !matches(known)) return;
    const client = this.#keyspace.client;
    const key = this.#keyspace.key(this.#kind, id);
    // Only the request we saw: a newer one for the same id stays.
    const res = await client.if(key, 'Mod', '==', known.revision).then(client.delete().key(key)).commit();
    if (res.succeeded) this.#apply({ key: Buffer.from(key), mod_revision: res.header.revision } as IKeyValue, true);
  }

  clearListeners(): void {
    this.#events.clear();
  }
}
