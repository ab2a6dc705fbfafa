import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { waitFor } from '@gos/testing';
import { MAX_FRAME_BYTES } from '../src/index.js';
import { recorder, uniq, withBackends, type ChatFixture } from './helpers.js';

interface Sent {
  readonly channel: string;
  readonly frame: Buffer;
}

/** Frames of every kind: empty, zero bytes, every byte value, large, the largest allowed. */
function frames(): Sent[] {
  return [
    { channel: 'world', frame: Buffer.alloc(0) },
    { channel: 'world', frame: Buffer.from([0]) },
    { channel: `group:чат😀`, frame: Buffer.from([0, 0, 0, 255, 0]) },
    { channel: 'scene:1', frame: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) },
    { channel: `p:${'x'.repeat(250)}`, frame: randomBytes(64 * 1024) },
    { channel: '*', frame: Buffer.from('\r\n$-1\r\n', 'latin1') },
    { channel: 'world', frame: randomBytes(MAX_FRAME_BYTES) },
  ];
}

function assertHeard(heard: ReturnType<typeof recorder>['heard'], sent: readonly Sent[], who: string): void {
  assert.equal(heard.length, sent.length, `${who} heard ${heard.length} of ${sent.length}`);
  for (const [i, s] of sent.entries()) {
    const h = heard[i]!;
    assert.equal(h.channel, s.channel, `${who} frame ${i}: channel`);
    assert.ok(h.isUint8Array, `${who} frame ${i}: a Uint8Array`);
    assert.ok(h.frame.equals(s.frame), `${who} frame ${i}: ${h.frame.length} bytes, ${s.frame.length} sent, equal bytes`);
  }
}

export function runFanoutContract(name: string, fixture: ChatFixture): void {
  test(`${name}: a published frame reaches every subscribed gateway, the publisher too, once each, bytes exact`, () =>
    withBackends(fixture, 3, async (a, b, quiet) => {
      const onA = recorder();
      const onB = recorder();
      await a.subscribe(onA.onFrame);
      await b.subscribe(onB.onFrame);
      const sent = frames();
      for (const s of sent) {
        const mine = Buffer.from(s.frame);
        await a.publish(s.channel, mine);
        // The publisher's buffer is its own again once publish returns.
        mine.fill(0xaa);
      }
      // Once the last frame is heard, every frame before it was (one publisher: its order is kept).
      const last = { channel: uniq(), frame: Buffer.from('last') };
      await a.publish(last.channel, last.frame);
      await waitFor(() => onA.heard.length >= sent.length + 1 && onB.heard.length >= sent.length + 1, { message: 'both gateways to hear every frame' });
      assertHeard(onA.heard, [...sent, last], 'a');
      assertHeard(onB.heard, [...sent, last], 'b');
      assert.equal(onA.heard[4]!.frame.length, 64 * 1024);
      assert.equal(onA.heard[6]!.frame.length, MAX_FRAME_BYTES);
      // One more round trip: nothing arrives twice.
      await quiet.publish('world', Buffer.from('end'));
      await waitFor(() => onA.heard.at(-1)?.frame.toString() === 'end' && onB.heard.at(-1)?.frame.toString() === 'end', { message: 'the end frame' });
      assert.equal(onA.heard.length, sent.length + 2);
      assert.equal(onB.heard.length, sent.length + 2);
    }));

  test(`${name}: subscriptions of one gateway each hear a frame (their own bytes); a throwing handler harms none; unsubscribe and close end them`, () =>
    withBackends(fixture, 3, async (a, b, c) => {
      const first = recorder();
      const second = recorder();
      const onB = recorder();
      const onC = recorder();
      await a.subscribe(() => {
        throw new Error('a handler that fails');
      });
      await a.subscribe((_ch, frame) => {
        first.onFrame(_ch, frame);
        frame.fill(0);
      });
      const unsubscribe = await a.subscribe(second.onFrame);
      await b.subscribe(onB.onFrame);
      await c.subscribe(onC.onFrame);
      await b.publish('world', Buffer.from('one'));
      await waitFor(() => first.heard.length === 1 && second.heard.length === 1 && onB.heard.length === 1 && onC.heard.length === 1, { message: 'every subscription to hear "one"' });
      assert.equal(second.heard[0]!.frame.toString(), 'one', 'a handler zeroing its bytes does not change another’s');

      await unsubscribe();
      await unsubscribe();
      await c.close();
      await b.publish('world', Buffer.from('two'));
      await waitFor(() => first.heard.length === 2 && onB.heard.length === 2, { message: 'the remaining subscriptions to hear "two"' });
      await a.publish('world', Buffer.from('three'));
      await waitFor(() => first.heard.length === 3 && onB.heard.length === 3, { message: 'the remaining subscriptions to hear "three"' });
      assert.deepEqual(second.heard.map((h) => h.frame.toString()), ['one'], 'unsubscribed');
      assert.deepEqual(onC.heard.map((h) => h.frame.toString()), ['one'], 'closed');
      assert.deepEqual(onB.heard.map((h) => h.frame.toString()), ['one', 'two', 'three']);
    }));
}
