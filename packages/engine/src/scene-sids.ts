/**
 * The players of one scene instance by engine-local connection id (sid), with the gateway link
 * each one came over. A scene's broadcast goes once to each gateway with players there: those
 * are counted as players join and leave, so a tick's broadcast does not walk the scene's players.
 * `Peer` is the engine's GatewayPeer.
 */
export class SceneSids<Peer> implements Iterable<number> {
  readonly #peerOf = new Map<number, Peer>();
  /** Players here per gateway link; a link with none is not a key. */
  readonly #perGateway = new Map<Peer, number>();

  get size(): number {
    return this.#peerOf.size;
  }

  has(sid: number): boolean {
    return this.#peerOf.has(sid);
  }

  /** Player `sid`, connected through `peer` (its Conn's link), is in the scene. */
  add(sid: number, peer: Peer): void {
    const before = this.#peerOf.get(sid);
    if (before === peer) return;
    if (before !== undefined) this.#uncount(before);
    this.#peerOf.set(sid, peer);
    this.#perGateway.set(peer, (this.#perGateway.get(peer) ?? 0) + 1);
  }

  /** Player `sid` is no longer in the scene; false when it was not. */
  delete(sid: number): boolean {
    const peer = this.#peerOf.get(sid);
    if (peer === undefined) return false;
    this.#peerOf.delete(sid);
    this.#uncount(peer);
    return true;
  }

  /** The sids, in the order they came. */
  [Symbol.iterator](): IterableIterator<number> {
    return this.#peerOf.keys();
  }

  /** The gateway links with players in the scene, each once. */
  gateways(): IterableIterator<Peer> {
    return this.#perGateway.keys();
  }

  #uncount(peer: Peer): void {
    const left = (this.#perGateway.get(peer) ?? 1) - 1;
    if (left === 0) this.#perGateway.delete(peer);
    else this.#perGateway.set(peer, left);
  }
}
