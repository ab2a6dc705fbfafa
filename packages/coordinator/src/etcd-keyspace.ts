import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import { BadRecord } from './records.js';
import type { Tombstones } from './etcd-tombstones.js';

/** The key families of the coordinator, each under `<prefix><kind>/`. */
export type Kind = 'members' | 'placement' | 'requests' | 'moves' | 'drains';

/** What {@link EtcdKeyspace} is built from: the coordinator's validated options. */
export interface EtcdKeyspaceInit {
  readonly client: Etcd3;
  /** Prefix of every key (one cluster per prefix). */
  readonly prefix: string;
  readonly log: Logger;
  readonly tombstones: Tombstones;
  /** Aborted by the coordinator's close(). */
  readonly closedSignal: AbortSignal;
}

/**
 * What the parts of the etcd coordinator share: one client under one key prefix, the watches
 * that keep their local views current, the tombstones those views consult, and the closed state.
 * Each part owns its own keys and view; this owns none.
 */
export class EtcdKeyspace {
  readonly client: Etcd3;
  readonly prefix: string;
  readonly log: Logger;
  readonly tombstones: Tombstones;
  /** Aborted by close(): placement waits fail at once, and nothing new is watched or registered. */
  readonly closedSignal: AbortSignal;
  readonly #watchers: Watcher[] = [];

  constructor(init: EtcdKeyspaceInit) {
    this.client = init.client;
    this.prefix = init.prefix;
    this.log = init.log;
    this.tombstones = init.tombstones;
    this.closedSignal = init.closedSignal;
  }

  get closed(): boolean {
    return this.closedSignal.aborted;
  }

  key(kind: Kind, id: string): string {
    return `${this.prefix}${kind}/${id}`;
  }

  /**
   * A change of a `kind` key as the view takes it: its id and revision, or null for a put no
   * newer than the key's last delete (a late watch event).
   */
  change(kind: Kind, kv: IKeyValue, deleted: boolean): { readonly id: string; readonly revision: number } | null {
    const id = kv.key.toString().slice(`${this.prefix}${kind}/`.length);
    const revision = Number(kv.mod_revision);
    return this.tombstones.admit(`${kind}/${id}`, revision, deleted) ? { id, revision } : null;
  }

  /** Watch a prefix, then read it: nothing that changes in between is missed. */
  async follow(prefix: string, kind: string, apply: (kv: IKeyValue, deleted: boolean) => void): Promise<void> {
    // Closed meanwhile (a start that timed out, as `readStatus` bounds it): a watch asked of a
    // closed client would wait to connect for ever and keep the process alive.
    if (this.closed) throw new CodedError(ErrorCodes.CRD_ERR_CLOSED, 'coordinator closed while starting');
    const watcher = await this.client.watch().prefix(prefix).create();
    if (this.closed) {
      // close() ran while the watch was being set up (a start that timed out): cancel it, or
      // it would live on, reconnecting for ever.
      await watcher.cancel().catch(() => {});
      throw new CodedError(ErrorCodes.CRD_ERR_CLOSED, 'coordinator closed while starting');
    }
    watcher.on('put', (kv) => apply(kv, false));
    watcher.on('delete', (kv) => apply(kv, true));
    watcher.on('error', (err) => this.log.warn({ err, kind }, 'etcd watch error'));
    this.#watchers.push(watcher);
    const kvs = await this.client.getAll().prefix(prefix).exec();
    for (const kv of kvs.kvs) apply(kv, false);
  }

  /** A record decoded, or null (logged) when its value is not what this version reads. */
  decode<T>(kind: Kind, id: string, decode: () => T): T | null {
    try {
      return decode();
    } catch (err) {
      if (!(err instanceof BadRecord)) throw err;
      this.log.warn({ kind, id, err }, `ignoring a bad ${kind} record in etcd: ${err.message}`);
      return null;
    }
  }

  /** Cancel every watch (close). */
  async cancelWatches(): Promise<void> {
    for (const w of this.#watchers) await w.cancel().catch(() => {});
  }
}
