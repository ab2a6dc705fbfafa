import type { PlayerLocator } from '@gos/engine';
import type { SessionStore } from '@gos/gateway';

/**
 * The presence store of an engine process without a gateway: the session store, opened on the
 * first `sendTo` that needs it rather than at start, so an engine starts (and keeps its scenes
 * running) while Redis is down. A failed open is tried again by the next lookup; until then
 * lookups reject with the store's error (`GW_ERR_SESSION_STORE`).
 */
export class LazyPresence implements PlayerLocator {
  readonly #open: () => Promise<SessionStore>;
  #store: Promise<SessionStore> | undefined;
  #closed = false;

  constructor(open: () => Promise<SessionStore>) {
    this.#open = open;
  }

  async locate(playerId: string): Promise<{ readonly sceneId: string } | null> {
    if (this.#closed) return null;
    this.#store ??= this.#open().catch((err: unknown) => {
      this.#store = undefined;
      throw err;
    });
    return (await this.#store).locate(playerId);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const store = await this.#store?.catch(() => undefined);
    await store?.close();
  }
}
