import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import type { Membership } from '@gos/coordinator';
import { LinkClient, type EngineLink, type LinkTlsOptions, type LocalLinks } from '@gos/link';

/** How long a new link to an engine may take to come up before the player's routing fails. */
const LINK_UP_TIMEOUT_MS = 5000;

export interface EngineLinksOptions {
  readonly gatewayId: string;
  readonly clusterSecret: string;
  readonly tls: LinkTlsOptions | null;
  /** Engines of this process, linked in-process rather than over TCP. */
  readonly localLinks: LocalLinks | null;
  /** Where an engine's link address is found (its member record). */
  readonly membership: Membership;
  /** Whether new links may be opened (false once the gateway closes). */
  readonly accepting: () => boolean;
  readonly onMessage: (engineId: string, type: number, channel: number, body: Uint8Array) => void;
  /** The link to `engineId` went down (it may come back by itself). */
  readonly onDown: (engineId: string) => void;
  readonly logger: Logger;
}

/**
 * The gateway's links to engines, one per engine, opened as engines join (`prepare`) or on
 * first use: `connect(engineId)`
 * resolves once the link is up (one attempt at a time per engine); `drop` forgets an engine
 * that left the cluster. An engine of this process is linked in-process (no socket), every
 * other one over TCP.
 */
export class EngineLinks {
  readonly #o: EngineLinksOptions;
  readonly #links = new Map<string, EngineLink>();
  readonly #connecting = new Map<string, Promise<EngineLink>>();

  constructor(options: EngineLinksOptions) {
    this.#o = options;
  }

  get(engineId: string): EngineLink | undefined {
    return this.#links.get(engineId);
  }

  /** Every link, by engine id (for metrics). */
  entries(): IterableIterator<[string, EngineLink]> {
    return this.#links.entries();
  }

  /**
   * The link to `engineId`, up.
   * @throws CodedError `GW_ERR_NO_ENGINE` when the engine is not a member, the gateway is
   *   closing, or the link is not up within LINK_UP_TIMEOUT_MS.
   */
  connect(engineId: string): Promise<EngineLink> {
    const up = this.#links.get(engineId);
    if (up?.isUp === true) return Promise.resolve(up);
    let pending = this.#connecting.get(engineId);
    if (pending === undefined) {
      pending = this.#connect(engineId).finally(() => this.#connecting.delete(engineId));
      this.#connecting.set(engineId, pending);
    }
    return pending;
  }

  async #connect(engineId: string): Promise<EngineLink> {
    if (!this.#o.accepting()) throw new CodedError(ErrorCodes.GW_ERR_NO_ENGINE, 'gateway is closing');
    let link = this.#links.get(engineId);
    const local = this.#o.localLinks;
    if (local?.serves(engineId) === true && link?.isUp !== true) {
      // In-process: up at once, or not at all (an in-process link is not redialled).
      void link?.close();
      const client = local.connect(engineId, this.#o.gatewayId);
      client.on('message', (type: number, channel: number, body: Uint8Array) => this.#o.onMessage(engineId, type, channel, body));
      client.on('down', () => this.#o.onDown(engineId));
      this.#links.set(engineId, client);
      return client;
    }
    if (link === undefined) {
      const member = this.#o.membership.get(engineId);
      if (member === undefined) throw new CodedError(ErrorCodes.GW_ERR_NO_ENGINE, `engine ${engineId} is not a member`);
      const sep = member.address.lastIndexOf(':');
      link = new LinkClient({
        nodeId: this.#o.gatewayId,
        secret: this.#o.clusterSecret,
        host: member.address.slice(0, sep),
        port: Number(member.address.slice(sep + 1)),
        // A new process on a dead engine's address must not receive that engine's players.
        expectedPeerId: engineId,
        tls: this.#o.tls,
        logger: this.#o.logger.child({ engineId }),
      });
      const client = link;
      client.on('message', (type: number, channel: number, body: Uint8Array) => this.#o.onMessage(engineId, type, channel, body));
      client.on('down', () => this.#o.onDown(engineId));
      this.#links.set(engineId, client);
      void client.start();
    }
    if (link.isUp) return link;
    const client = link;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off('up', onUp);
        reject(new CodedError(ErrorCodes.GW_ERR_NO_ENGINE, `engine ${engineId} link not up within ${LINK_UP_TIMEOUT_MS} ms`));
      }, LINK_UP_TIMEOUT_MS);
      const onUp = (): void => {
        clearTimeout(timer);
        resolve();
      };
      client.once('up', onUp);
    });
    return client;
  }

  /**
   * Open the link to `engineId` ahead of its first player (it joined the cluster, or was there
   * when this gateway started), so that a scene moving onto a new engine does not wait for the
   * dial. A link that does not come up keeps redialling until the engine leaves; nothing waits
   * on it here.
   */
  prepare(engineId: string): void {
    if (this.#links.has(engineId) || this.#connecting.has(engineId) || !this.#o.accepting()) return;
    this.connect(engineId).catch((err: unknown) => this.#o.logger.debug({ err, engineId }, 'engine link not up yet'));
  }

  /** Forget the link to an engine that left the cluster, and close it. True when there was one. */
  drop(engineId: string): boolean {
    const link = this.#links.get(engineId);
    if (link === undefined) return false;
    this.#links.delete(engineId);
    void link.close();
    return true;
  }

  /** Close every link. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#links.values()].map((l) => l.close()));
    this.#links.clear();
  }
}
