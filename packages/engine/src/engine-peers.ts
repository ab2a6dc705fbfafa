/**
 * This engine's links to other engines, for calls between scenes on different engines: one
 * link per engine, dialled on first use to the address in its member record (the same link
 * server gateways dial, the same secret and TLS), redialled by the link itself while the engine
 * is a member, dropped when it leaves. What comes back on a link (ANSWER) goes to `onMessage`.
 */
import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import type { Membership } from '@gos/coordinator';
import { LinkClient, type LinkTlsOptions } from '@gos/link';

/** How long a call waits for a link to another engine to come up. */
const LINK_UP_TIMEOUT_MS = 5000;

export interface EnginePeersOptions {
  readonly engineId: string;
  readonly clusterSecret: string;
  readonly tls: LinkTlsOptions | null;
  readonly membership: Pick<Membership, 'get'>;
  readonly onMessage: (engineId: string, type: number, channel: number, body: Uint8Array) => void;
  /** The link to `engineId` went down: what waits for an answer on it will not get one. */
  readonly onDown: (engineId: string) => void;
  readonly logger: Logger;
}

export class EnginePeers {
  readonly #o: EnginePeersOptions;
  readonly #links = new Map<string, LinkClient>();
  /** Links being brought up: concurrent calls to one engine wait for the same one. */
  readonly #connecting = new Map<string, Promise<LinkClient>>();
  #closed = false;

  constructor(options: EnginePeersOptions) {
    this.#o = options;
  }

  /** The link to `engineId`, up. @throws CodedError `ENG_ERR_NOT_PLACED` when it is no member or does not come up. */
  connect(engineId: string): Promise<LinkClient> {
    const up = this.#links.get(engineId);
    if (up?.isUp === true && !this.#closed) return Promise.resolve(up);
    let pending = this.#connecting.get(engineId);
    if (pending === undefined) {
      pending = this.#connect(engineId).finally(() => this.#connecting.delete(engineId));
      this.#connecting.set(engineId, pending);
    }
    return pending;
  }

  async #connect(engineId: string): Promise<LinkClient> {
    if (this.#closed) throw new CodedError(ErrorCodes.ENG_ERR_SHUTTING_DOWN, 'engine is shutting down');
    let link = this.#links.get(engineId);
    if (link === undefined) {
      const member = this.#o.membership.get(engineId);
      // Placement named an engine that has left: its scenes are placed again shortly.
      if (member === undefined) throw new CodedError(ErrorCodes.LNK_ERR_NOT_CONNECTED, `engine ${engineId} is not a member (any more); retry`);
      const sep = member.address.lastIndexOf(':');
      link = new LinkClient({
        nodeId: this.#o.engineId,
        secret: this.#o.clusterSecret,
        host: member.address.slice(0, sep),
        port: Number(member.address.slice(sep + 1)),
        // A new process on a dead engine's address must not receive calls meant for that engine.
        expectedPeerId: engineId,
        tls: this.#o.tls,
        logger: this.#o.logger.child({ peerEngineId: engineId }),
      });
      const client = link;
      client.on('message', (type: number, channel: number, body: Uint8Array) => this.#o.onMessage(engineId, type, channel, body));
      // Only this link's: after a drop and a new link to the same engine, the old one's late 'down' is not news.
      client.on('down', () => {
        if (this.#links.get(engineId) === client || !this.#links.has(engineId)) this.#o.onDown(engineId);
      });
      this.#links.set(engineId, client);
      void client.start();
    }
    if (link.isUp) return link;
    const client = link;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off('up', onUp);
        reject(new CodedError(ErrorCodes.LNK_ERR_NOT_CONNECTED, `engine ${engineId}'s link not up within ${LINK_UP_TIMEOUT_MS} ms`));
      }, LINK_UP_TIMEOUT_MS);
      timer.unref();
      const onUp = (): void => {
        clearTimeout(timer);
        resolve();
      };
      client.once('up', onUp);
    });
    return client;
  }

  /** The engine left the cluster: its link is closed. */
  drop(engineId: string): void {
    const link = this.#links.get(engineId);
    if (link === undefined) return;
    this.#links.delete(engineId);
    void link.close();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#links.values()].map((l) => l.close()));
    this.#links.clear();
  }
}
