import type { IKeyValue } from 'etcd3';
import { CodedError, ErrorCodes } from '@gos/schema';
import type { Placement, PlacementEvent, PlacementRecord, PlacementRequest } from './types.js';
import { sceneTypeOf } from './types.js';
import { decodePlacement, decodePlacementRequest } from './records.js';
import { PlacementAsker, REQUESTER } from './requests.js';
import { Emitter } from './emitter.js';
import type { EtcdKeyspace } from './etcd-keyspace.js';

interface Refusal {
  readonly sceneId: string;
  readonly revision: number;
  readonly error: { code: string; message: string };
}

/**
 * Placement on etcd: placements are keys whose `mod_revision` is the epoch, written by the
 * leader only; placement requests are keys the members write and the leader serves (assigns,
 * refuses or dismisses). Reads come from a local view of both kept current by watches.
 */
export class EtcdPlacement {
  readonly #keyspace: EtcdKeyspace;
  readonly #placements = new Map<string, PlacementRecord>();
  readonly #requests = new Map<string, PlacementRequest & { readonly revision: number }>();
  /** Placement requests of this process (see Placement.ensure). */
  readonly #asker: PlacementAsker;
  readonly #placementEvents = new Emitter<PlacementEvent>();
  readonly #requestEvents = new Emitter<PlacementRequest>();
  readonly #refusals = new Emitter<Refusal>();

  /** `placementTimeoutMs` is validated by the coordinator. */
  constructor(keyspace: EtcdKeyspace, placementTimeoutMs: number) {
    this.#keyspace = keyspace;
    this.#asker = new PlacementAsker(placementTimeoutMs, {
      lookup: (id) => this.#placements.get(id),
      watch: (l) => this.api.watch(l),
      watchRefusals: (l) => this.#refusals.on((r) => l(r.sceneId, r.revision, r.error)),
      closed: keyspace.closedSignal,
      put: async (sceneId) => {
        const value: Omit<PlacementRequest, 'sceneId'> = { requestedBy: REQUESTER, at: Date.now() };
        const res = await this.#keyspace.client.put(this.#keyspace.key('requests', sceneId)).value(JSON.stringify(value)).exec();
        return Number(res.header.revision);
      },
    });
  }

  /** How many placements the view holds. */
  get placementCount(): number {
    return this.#placements.size;
  }

  /** How many placement requests the view holds. */
  get requestCount(): number {
    return this.#requests.size;
  }

  /** Read and watch the placements, then the requests. */
  async follow(): Promise<void> {
    const prefix = this.#keyspace.prefix;
    await this.#keyspace.follow(`${prefix}placement/`, 'placement', (kv, deleted) => this.#applyPlacement(kv, deleted));
    await this.#keyspace.follow(`${prefix}requests/`, 'requests', (kv, deleted) => this.#applyRequest(kv, deleted));
  }

  /**
   * Bring a placement key change into the view; emits once per revision. A delete older than
   * what the view holds (a late watch event after `fetch` or a write of ours brought a newer
   * put) is ignored.
   */
  #applyPlacement(kv: IKeyValue, deleted: boolean): void {
    const change = this.#keyspace.change('placement', kv, deleted);
    if (change === null) return;
    const { id, revision } = change;
    const known = this.#placements.get(id);
    if (deleted) {
      if (known === undefined || known.epoch > revision) return;
      this.#placements.delete(id);
      this.#placementEvents.emit({ type: 'released', record: known });
      return;
    }
    if (known !== undefined && known.epoch >= revision) return;
    const value = this.#keyspace.decode('placement', id, () => decodePlacement(kv.value.toString()));
    if (value === null) return;
    const record: PlacementRecord = Object.freeze({ sceneId: id, sceneType: sceneTypeOf(id), engineId: value.engineId, epoch: revision, ...(value.handover === undefined ? {} : { handover: value.handover }) });
    this.#placements.set(id, record);
    this.#placementEvents.emit({ type: 'placed', record });
  }

  /** Bring a request key change into the view, as placements are; a refusal also goes to this process's waits. */
  #applyRequest(kv: IKeyValue, deleted: boolean): void {
    const change = this.#keyspace.change('requests', kv, deleted);
    if (change === null) return;
    const { id, revision } = change;
    const known = this.#requests.get(id);
    if (deleted) {
      if (known !== undefined && known.revision <= revision) this.#requests.delete(id);
      return;
    }
    if (known !== undefined && known.revision >= revision) return;
    const value = this.#keyspace.decode('requests', id, () => decodePlacementRequest(kv.value.toString()));
    if (value === null) return;
    const request = Object.freeze({ ...value, sceneId: id, revision });
    this.#requests.set(id, request);
    this.#requestEvents.emit(request);
    if (request.refused !== undefined) this.#refusals.emit({ sceneId: id, revision, error: request.refused });
  }

  readonly api: Placement = {
    lookup: (sceneId) => this.#placements.get(sceneId),
    fetch: async (sceneId) => {
      const key = this.#keyspace.key('placement', sceneId);
      const res = await this.#keyspace.client.get(key).exec();
      const kv = res.kvs[0];
      // Applied like watch events, so a newer event already seen is not overwritten. Absent:
      // deleted at or before the read's revision.
      if (kv !== undefined) this.#applyPlacement(kv, false);
      else this.#applyPlacement({ key: Buffer.from(key), mod_revision: res.header.revision } as IKeyValue, true);
      return kv === undefined ? undefined : this.#placements.get(sceneId);
    },
    ensure: (sceneId) => this.#asker.ensure(sceneId),
    requests: () => [...this.#requests.values()].sort((a, b) => a.revision - b.revision),
    watchRequests: (listener) => this.#requestEvents.on(listener),
    assign: async (sceneId, engineId) => {
      const client = this.#keyspace.client;
      const key = this.#keyspace.key('placement', sceneId);
      const requestKey = this.#keyspace.key('requests', sceneId);
      const value = JSON.stringify({ engineId });
      // Put only if absent, and clear the request either way, in one transaction.
      const res = await client
        .if(key, 'Create', '==', 0)
        .then(client.put(key).value(value), client.delete().key(requestKey))
        .else(client.get(key), client.delete().key(requestKey))
        .commit();
      this.#applyRequest({ key: Buffer.from(requestKey), mod_revision: res.header.revision } as IKeyValue, true);
      if (res.succeeded) {
        this.#applyPlacement({ key: Buffer.from(key), value: Buffer.from(value), mod_revision: res.header.revision } as IKeyValue, false);
      } else {
        const kv = res.responses[0]?.response_range?.kvs[0];
        if (kv !== undefined) this.#applyPlacement(kv, false);
      }
      const record = this.#placements.get(sceneId);
      if (record === undefined) throw new CodedError(ErrorCodes.CRD_ERR_UNAVAILABLE, `placement of ${sceneId} vanished while being assigned`);
      return record;
    },
    refuse: async (sceneId, error) => {
      const client = this.#keyspace.client;
      const requestKey = this.#keyspace.key('requests', sceneId);
      const known = this.#requests.get(sceneId);
      if (known === undefined) return;
      const value: Omit<PlacementRequest, 'sceneId'> = { requestedBy: known.requestedBy, at: known.at, refused: { code: error.code, message: error.message } };
      // Only the request we saw: one asked again since (after an engine came up) is served anew.
      await client.if(requestKey, 'Mod', '==', known.revision).then(client.put(requestKey).value(JSON.stringify(value))).commit();
    },
    dismiss: async (sceneId) => {
      const client = this.#keyspace.client;
      const requestKey = this.#keyspace.key('requests', sceneId);
      const known = this.#requests.get(sceneId);
      if (known === undefined) return;
      // Only the request we saw: a player asking again meanwhile keeps its fresh one.
      const res = await client.if(requestKey, 'Mod', '==', known.revision).then(client.delete().key(requestKey)).commit();
      if (res.succeeded) this.#applyRequest({ key: Buffer.from(requestKey), mod_revision: res.header.revision } as IKeyValue, true);
    },
    release: async (sceneId, epoch) => {
      const client = this.#keyspace.client;
      const key = this.#keyspace.key('placement', sceneId);
      const res = await client.if(key, 'Mod', '==', epoch).then(client.delete().key(key)).commit();
      if (res.succeeded) this.#applyPlacement({ key: Buffer.from(key), mod_revision: res.header.revision } as IKeyValue, true);
      return res.succeeded;
    },
    move: async (sceneId, epoch, engineId, handover) => {
      const client = this.#keyspace.client;
      const key = this.#keyspace.key('placement', sceneId);
      const value = JSON.stringify(handover === undefined ? { engineId } : { engineId, handover: { nextTickAt: handover.nextTickAt, players: handover.players } });
      const res = await client.if(key, 'Mod', '==', epoch).then(client.put(key).value(value)).commit();
      if (!res.succeeded) return undefined;
      this.#applyPlacement({ key: Buffer.from(key), value: Buffer.from(value), mod_revision: res.header.revision } as IKeyValue, false);
      return this.#placements.get(sceneId);
    },
    scenesOf: (engineId) => [...this.#placements.values()].filter((r) => r.engineId === engineId),
    list: () => [...this.#placements.values()].sort((a, b) => a.sceneId.localeCompare(b.sceneId)),
    watch: (listener) => this.#placementEvents.on(listener),
  };

  clearListeners(): void {
    this.#placementEvents.clear();
    this.#requestEvents.clear();
    this.#refusals.clear();
  }
}
