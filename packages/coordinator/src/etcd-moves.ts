import type { IKeyValue } from 'etcd3';
import { decodeMoveRequest } from './records.js';
import { Emitter } from './emitter.js';
import type { EtcdKeyspace } from './etcd-keyspace.js';
import type { MoveRequest, SceneMoves } from './types.js';

/** Move requests on etcd: a key per scene under `moves/`, read from a watched view. */
export class EtcdMoves {
  readonly #keyspace: EtcdKeyspace;
  readonly #requests = new Map<string, MoveRequest & { readonly revision: number }>();
  readonly #events = new Emitter<MoveRequest>();

  constructor(keyspace: EtcdKeyspace) {
    this.#keyspace = keyspace;
  }

  get size(): number {
    return this.#requests.size;
  }

  follow(): Promise<void> {
    return this.#keyspace.follow(`${this.#keyspace.prefix}moves/`, 'moves', (kv, deleted) => this.#apply(kv, deleted));
  }

  #apply(kv: IKeyValue, deleted: boolean): void {
    const change = this.#keyspace.change('moves', kv, deleted);
    if (change === null) return;
    const { id, revision } = change;
    const known = this.#requests.get(id);
    if (deleted) {
      if (known !== undefined && known.revision <= revision) this.#requests.delete(id);
      return;
    }
    if (known !== undefined && known.revision >= revision) return;
    const value = this.#keyspace.decode('moves', id, () => decodeMoveRequest(kv.value.toString()));
    if (value === null) return;
    const request = Object.freeze({ ...value, sceneId: id, revision });
    this.#requests.set(id, request);
    this.#events.emit(request);
  }

  readonly api: SceneMoves = {
    request: async ({ sceneId, from, epoch, to }) => {
      const key = this.#keyspace.key('moves', sceneId);
      const value = JSON.stringify({ from, epoch, to, at: Date.now() });
      const res = await this.#keyspace.client.put(key).value(value).exec();
      this.#apply({ key: Buffer.from(key), value: Buffer.from(value), mod_revision: res.header.revision } as IKeyValue, false);
    },
    list: () => [...this.#requests.values()].sort((a, b) => a.revision - b.revision),
    watch: (listener) => this.#events.on(listener),
    clear: async (sceneId, epoch) => {
      const known = this.#requests.get(sceneId);
      if (known === undefined || known.epoch !== epoch) return;
      const client = this.#keyspace.client;
      const key = this.#keyspace.key('moves', sceneId);
      // Only the request we saw: a newer one for the scene stays.
      const res = await client.if(key, 'Mod', '==', known.revision).then(client.delete().key(key)).commit();
      if (res.succeeded) this.#apply({ key: Buffer.from(key), mod_revision: res.header.revision } as IKeyValue, true);
    },
  };

  clearListeners(): void {
    this.#events.clear();
  }
}
