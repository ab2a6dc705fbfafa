import { decodeMoveRequest } from './records.js';
import { EtcdRequests } from './etcd-requests.js';
import type { EtcdKeyspace } from './etcd-keyspace.js';
import type { MoveRequest, SceneMoves } from './types.js';

/** Move requests on etcd: a key per scene under `moves/`, read from a watched view. */
export class EtcdMoves {
  readonly #requests: EtcdRequests<MoveRequest>;

  constructor(keyspace: EtcdKeyspace) {
    this.#requests = new EtcdRequests(keyspace, 'moves', (sceneId, text) => ({ ...decodeMoveRequest(text), sceneId }));
  }

  get size(): number {
    return this.#requests.size;
  }

  follow(): Promise<void> {
    return this.#requests.follow();
  }

  readonly api: SceneMoves = {
    request: ({ sceneId, from, epoch, to }) => this.#requests.put(sceneId, JSON.stringify({ from, epoch, to, at: Date.now() })),
    list: () => this.#requests.list(),
    watch: (listener) => this.#requests.watch(listener),
    clear: (sceneId, epoch) => this.#requests.clear(sceneId, (r) => r.epoch === epoch),
  };

  clearListeners(): void {
    this.#requests.clearListeners();
  }
}
