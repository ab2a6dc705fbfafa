/**
 * Frames a gateway forwards while the player's join is still loading (the scene starting, the
 * player's row being claimed) wait for the join instead of being refused, up to a bound. A
 * client that sent a burst of 100 right after connecting used to get 36 `ENG_ERR_QUEUE_FULL`
 * errors (100 past a cap of 64) whenever its join was slow, on an idle server.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FrameKind, encodeFrame, readFrameHeader } from '@gos/schema';
import { EngineToGateway, GatewayToEngine, encodeJoinBody } from '@gos/link';
import { waitFor } from '@gos/testing';
import { jsonCodec } from './fixtures/json-protocol.js';
import { decodeAnswer, startCluster, type ClusterOptions } from './helpers.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-joining-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Join `playerId` on connection 1 of a fresh engine (its scene not started yet) and, in the
 * same turn, send `count` `add {n: 1}` requests: all of them reach the engine before the join
 * can finish. Returns the answers in request order.
 */
async function burstWithJoin(name: string, count: number, opts: ClusterOptions = {}): Promise<Array<{ kind: number; body: unknown }>> {
  const c = await startCluster(dir, name, opts);
  try {
    c.gw.link.send(GatewayToEngine.JOIN, 1, encodeJoinBody({ playerId: 'burst', name: 'burst', sceneId: 'arena:1' }));
    const ids = Array.from({ length: count }, () => c.gw.send(1, 'add', { n: 1 }));
    const answered = (): number => c.gw.inbox.filter((m) => m.type === EngineToGateway.TO_CLIENT && m.channel === 1 && readFrameHeader(m.body)?.kind !== FrameKind.PUSH).length;
    await waitFor(
      () => {
        const have = answered();
        if (have !== count) throw new Error(`have ${have}`);
        return true;
      },
      { timeoutMs: 10_000, message: `${count} answers` },
    );
    const byId = new Map(c.gw.inbox.filter((m) => m.type === EngineToGateway.TO_CLIENT && m.channel === 1).map((m) => [readFrameHeader(m.body)!.requestId, m.body]));
    return ids.map((id) => decodeAnswer(byId.get(id)!));
  } finally {
    await c.close();
  }
}

test('a burst of 100 frames sent with the join, while the scene starts, is delivered in order once joined', async () => {
  const answers = await burstWithJoin('burst', 100);
  const refused: Record<string, number> = {};
  for (const a of answers) if (a.kind === FrameKind.ERROR) refused[(a.body as { code: string }).code] = (refused[(a.body as { code: string }).code] ?? 0) + 1;
  assert.deepEqual(refused, {}, 'no frame refused');
  assert.deepEqual(
    answers.map((a) => (a.body as { total: number }).total),
    Array.from({ length: 100 }, (_, i) => i + 1),
    'every frame reached the scene, in order',
  );
});

test('past maxFramesWhileJoining a frame is refused with ENG_ERR_NOT_JOINED; those held are delivered', async () => {
  const answers = await burstWithJoin('frames-cap', 15, { engine: { maxFramesWhileJoining: 10 } });
  assert.deepEqual(
    answers.slice(0, 10).map((a) => (a.body as { total: number }).total),
    Array.from({ length: 10 }, (_, i) => i + 1),
  );
  for (const a of answers.slice(10)) {
    assert.equal(a.kind, FrameKind.ERROR);
    assert.equal((a.body as { code: string }).code, 'ENG_ERR_NOT_JOINED');
  }
});

test('past maxBytesWhileJoining a frame is refused with ENG_ERR_NOT_JOINED; those held are delivered', async () => {
  const frameBytes = encodeFrame(FrameKind.REQUEST, 1, 1, jsonCodec.encode({ n: 1 })).byteLength;
  const answers = await burstWithJoin('bytes-cap', 8, { engine: { maxBytesWhileJoining: 5 * frameBytes } });
  assert.deepEqual(
    answers.slice(0, 5).map((a) => (a.body as { total: number }).total),
    [1, 2, 3, 4, 5],
  );
  for (const a of answers.slice(5)) assert.equal((a.body as { code: string }).code, 'ENG_ERR_NOT_JOINED');
});
