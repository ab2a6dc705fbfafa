/**
 * Entity replication end to end (docs/aoi.md) on the embedded cluster: two SDK clients on the
 * demo's large map `field:1` over real sockets. Each hears only the cells around its player:
 * the other comes into view as it walks near, its moves arrive as updates, and it leaves the
 * view as it walks away and when it leaves the map.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EntityTable, type ClientEntity } from '@gos/client';
import { waitFor } from '@gos/testing';
import type { EntityMap } from '../src/generated/protocol.js';
import { FIELD_VIEW } from '../src/field-map.js';
import { joinAs, startCluster, tempDir, uniqueName, type Player } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.remove();
});

type Field = EntityTable<EntityMap['field']>;

const avatarOf = (table: Field, name: string): ClientEntity | undefined => [...table.values()].find((e) => e.type === 'Avatar' && e.values.name === name);

/** Walk `p` towards (x, y), one step every 100 ms (the server caps the speed), until `done`. */
async function walkUntil(p: Player, x: number, y: number, done: () => boolean, message: string): Promise<void> {
  await waitFor(
    () => {
      if (done()) return true;
      void p.api.walk({ x, y });
      return false;
    },
    { timeoutMs: 15_000, intervalMs: 100, message },
  );
}

test('two players on the large map: out of range, walking into range, updates, walking out, leaving the map', { timeout: 60_000 }, async () => {
  const cluster = await startCluster(join(dir.path, 'field.db'));
  try {
    const [a, b] = [await joinAs(cluster.url, uniqueName('fa')), await joinAs(cluster.url, uniqueName('fb'))];
    const ta: Field = new EntityTable(a.client);
    const tb: Field = new EntityTable(b.client);
    const seenByA: string[] = [];
    ta.onEnter((e) => e.type === 'Avatar' && seenByA.push(`enter ${String(e.values.name)}`));
    ta.onLeave((e) => e.type === 'Avatar' && seenByA.push(`leave ${String(e.values.name)}`));

    await a.api.travel({ sceneId: 'field:1', x: 500, y: 500 });
    await b.api.travel({ sceneId: 'field:1', x: 1000, y: 500 });
    // Each sees itself (its own cell is heard) and the critters near it, never the whole map.
    await waitFor(() => avatarOf(ta, a.username) !== undefined && avatarOf(tb, b.username) !== undefined, { timeoutMs: 10_000, message: 'each player seeing itself' });
    assert.equal(ta.sceneId, 'field:1');
    assert.equal(avatarOf(ta, b.username), undefined, 'b is 500 away: out of range');
    for (const e of ta.values()) {
      const { x, y } = e.values as { x: number; y: number };
      assert.ok(Math.hypot(x - 500, y - 500) < FIELD_VIEW + 2 * 100 * Math.SQRT2, `${e.type} ${e.id} at (${x}, ${y}) is within the cells a hears`);
    }

    // b walks west, into a's range.
    await walkUntil(b, 600, 500, () => avatarOf(ta, b.username) !== undefined, 'a seeing b once it walked near');
    // b's moves reach a as updates: where a thinks b is follows where b is.
    await walkUntil(b, 650, 520, () => {
      const seen = avatarOf(ta, b.username)?.values as { x: number; y: number } | undefined;
      return seen !== undefined && Math.abs(seen.x - 650) < 0.01 && Math.abs(seen.y - 520) < 0.01;
    }, "a seeing b's last position");
    const own = avatarOf(tb, b.username)!.values as { x: number; y: number };
    assert.ok(Math.abs(own.x - 650) < 0.01, 'b sees itself where a sees it');

    // b walks away east, out of a's range (view + hysteresis).
    await walkUntil(b, 1200, 520, () => avatarOf(ta, b.username) === undefined, 'a losing sight of b');
    // And back, then b leaves the map: a sees it go.
    await walkUntil(b, 560, 500, () => avatarOf(ta, b.username) !== undefined, 'a seeing b again');
    await b.api.leaveField({ sceneId: 'world:1', x: 100, y: 100 });
    await waitFor(() => avatarOf(ta, b.username) === undefined, { timeoutMs: 5000, message: 'a seeing b leave the map' });
    await waitFor(() => tb.size === 0, { timeoutMs: 5000, message: "b's table emptied by SceneChanged" });
    assert.deepEqual(seenByA.filter((s) => s.endsWith(b.username)), [`enter ${b.username}`, `leave ${b.username}`, `enter ${b.username}`, `leave ${b.username}`]);
    await a.client.close();
    await b.client.close();
  } finally {
    await cluster.close();
  }
});
