/**
 * An engine closed while a join is loading its player: the scenes to stop are counted when the
 * close begins, so the join must not start its scene again afterwards (found with the
 * in-process link, where a JOIN reaches the engine the instant the player connects: the close
 * then waited on a scene nobody would stop, and the worker pool never closed).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SqliteStore } from '@gos/store';
import { GatewayToEngine, encodeJoinBody } from '@gos/link';
import { waitFor } from '@gos/testing';
import { startCluster } from './helpers.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-close-join-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A SQLite store whose player claims (one or many at once) wait until `release()`. */
class SlowClaims extends SqliteStore {
  claims = 0;
  #released!: () => void;
  readonly #gate = new Promise<void>((resolve) => (this.#released = resolve));

  override async claimPlayer(playerId: string): ReturnType<SqliteStore['claimPlayer']> {
    this.claims++;
    await this.#gate;
    return super.claimPlayer(playerId);
  }

  override async claimPlayers(playerIds: readonly string[]): ReturnType<SqliteStore['claimPlayers']> {
    this.claims++;
    await this.#gate;
    return super.claimPlayers(playerIds);
  }

  release(): void {
    this.#released();
  }
}

test('close during a join that is loading its player: the join does not start its scene again, and the close ends', async () => {
  const store = new SlowClaims({ file: join(dir, 'slow.db') });
  await store.start();
  const c = await startCluster(dir, 'close-join', { engine: { store } });
  try {
    c.gw.link.send(GatewayToEngine.JOIN, 1, encodeJoinBody({ playerId: 'late', name: 'late', sceneId: 'arena:1' }));
    await waitFor(() => store.claims === 1 && c.engine.stats.scenes === 1, { timeoutMs: 5000, message: 'the scene started, the join loading its player' });
    // No leader from here: the scene stays placed on this engine while it closes, so nothing
    // but the engine itself can keep a late join from starting the scene again.
    await c.leader.close();
    const closing = c.engine.close();
    // The close has taken the scenes to stop: only now does the player's data arrive.
    await waitFor(() => c.engine.stats.scenes === 0, { timeoutMs: 5000, message: 'the close taking the scenes' });
    store.release();
    // Before, the join started the scene again, nobody stopped it, and the worker pool's close
    // failed after 30 s ("Close operation timed out").
    await closing;
    assert.equal(c.engine.stats.scenes, 0, 'no scene left running');
  } finally {
    await c.close();
    await store.close();
  }
});
