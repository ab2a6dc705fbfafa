/**
 * The link contract (packages/link/src/endpoints.ts), run against every transport: TCP
 * (LinkServer + LinkClient) and in-process (LocalLinks). The gateway and the engine rely on
 * nothing else, so either transport can carry them.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { ErrorCodes, type CodedError, type Logger } from '@gos/schema';
import { waitFor } from '@gos/testing';
import type { EngineLink, GatewayPeer } from '../src/index.js';
import { bodyFor, bodyMatches, captureLogger, nextTurn } from './helpers.js';

export interface LinkedPair {
  /** The gateway's end. */
  readonly client: EngineLink;
  /** The engine's end. */
  readonly peer: GatewayPeer;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface PairOptions {
  /** Largest frame, header included, on both ends. */
  readonly maxFrameBytes?: number;
  /** Logger of the engine's end. */
  readonly logger?: Logger;
}

export function runLinkContract(transport: string, link: (options?: PairOptions) => Promise<LinkedPair>): void {
  test(`${transport}: 2 000 messages of mixed sizes arrive in order and intact, both ways`, async () => {
    const COUNT = 2000;
    await using pair = await link();
    const atPeer: number[] = [];
    let bad = 0;
    pair.peer.on('message', (type, channel, body) => {
      if (type !== 16 + (channel % 200) || !bodyMatches(channel, body)) bad++;
      atPeer.push(channel);
      pair.peer.send(type, channel, body); // echo
    });
    const atClient: number[] = [];
    pair.client.on('message', (type, channel, body) => {
      if (type !== 16 + (channel % 200) || !bodyMatches(channel, body)) bad++;
      atClient.push(channel);
    });
    for (let i = 0; i < COUNT; i++) {
      pair.client.send(16 + (i % 200), i, bodyFor(i));
      if (i % 200 === 199) await nextTurn();
    }
    await waitFor(() => atClient.length === COUNT, { timeoutMs: 20_000, message: 'every echo' });
    assert.equal(bad, 0, 'types and bodies intact');
    assert.deepEqual(atPeer, Array.from({ length: COUNT }, (_, i) => i));
    assert.deepEqual(atClient, atPeer);
    assert.ok(pair.client.stats.framesOut >= COUNT && pair.peer.stats.framesIn >= COUNT, 'counted');
  });

  test(`${transport}: the sender may reuse its buffer once send returns; a listener copies what it keeps`, async () => {
    await using pair = await link();
    let kept: Buffer | null = null;
    pair.peer.on('message', (_t, _c, body) => (kept = Buffer.from(body)));
    const scratch = Buffer.from('original');
    pair.client.send(16, 0, scratch);
    scratch.fill(0);
    await waitFor(() => kept !== null, { timeoutMs: 3000, message: 'the message' });
    assert.equal(kept!.toString(), 'original');
  });

  test(`${transport}: a send made inside a listener is delivered after it returns, in order`, async () => {
    await using pair = await link();
    let running = 0;
    let nested = 0;
    const order: string[] = [];
    const enter = (): void => {
      if (running > 0) nested++;
      running++;
    };
    pair.peer.on('message', (_t, channel) => {
      enter();
      order.push(`peer ${channel}`);
      // Answered from inside the listener, twice: both after this listener, in order.
      if (channel < 3) {
        pair.peer.send(32, channel * 10, new Uint8Array(1));
        pair.peer.send(32, channel * 10 + 1, new Uint8Array(1));
      }
      running--;
    });
    pair.client.on('message', (_t, channel) => {
      enter();
      order.push(`client ${channel}`);
      // The client answers back from inside its own listener.
      if (channel % 10 === 1) pair.client.send(16, Math.floor(channel / 10) + 1, new Uint8Array(1));
      running--;
    });
    pair.client.send(16, 0, new Uint8Array(1));
    await waitFor(() => order.length === 10, { timeoutMs: 3000, message: '10 deliveries' });
    assert.equal(nested, 0, 'no listener ran inside another');
    assert.deepEqual(order, ['peer 0', 'client 0', 'client 1', 'peer 1', 'client 10', 'client 11', 'peer 2', 'client 20', 'client 21', 'peer 3']);
  });

  test(`${transport}: send validates type and channel (RangeError) and size (LNK_ERR_FRAME_TOO_LARGE); the link goes on`, async () => {
    await using pair = await link({ maxFrameBytes: 4096 });
    assert.throws(() => pair.client.send(15, 0, new Uint8Array(0)), RangeError, 'reserved type');
    assert.throws(() => pair.client.send(256, 0, new Uint8Array(0)), RangeError);
    assert.throws(() => pair.peer.send(32, -1, new Uint8Array(0)), RangeError);
    assert.throws(() => pair.peer.send(32, 2 ** 32, new Uint8Array(0)), RangeError);
    assert.throws(() => pair.client.send(16, 0, new Uint8Array(4096 - 8)), { code: ErrorCodes.LNK_ERR_FRAME_TOO_LARGE });
    assert.throws(() => pair.peer.send(32, 0, new Uint8Array(4096 - 8)), { code: ErrorCodes.LNK_ERR_FRAME_TOO_LARGE });
    const got = once(pair.peer, 'message');
    pair.client.send(255, 2 ** 32 - 1, new Uint8Array(4096 - 9)); // exactly maxFrameBytes
    const [type, channel, body] = (await got) as [number, number, Uint8Array];
    assert.deepEqual([type, channel, body.byteLength], [255, 2 ** 32 - 1, 4096 - 9]);
  });

  test(`${transport}: a throwing listener is logged and does not break the link`, async () => {
    const log = captureLogger();
    await using pair = await link({ logger: log });
    const seen: number[] = [];
    pair.peer.on('message', (_t, channel) => {
      seen.push(channel);
      if (channel === 1) throw new Error('listener bug');
    });
    for (let i = 0; i < 3; i++) pair.client.send(16, i, new Uint8Array(0));
    await waitFor(() => seen.length === 3, { timeoutMs: 3000, message: 'all three' });
    assert.ok(log.entries.some((e) => e.level === 'error' && e.msg === 'link listener threw'));
    assert.equal(pair.peer.isOpen, true);
  });

  test(`${transport}: the gateway closing delivers what it sent first; it sees null, the engine LNK_ERR_CLOSED; sends then throw`, async () => {
    await using pair = await link();
    const received: number[] = [];
    const peerClosed: Array<CodedError | null> = [];
    const downs: Array<CodedError | null> = [];
    pair.peer.on('message', (_t, channel) => received.push(channel));
    pair.peer.on('close', (reason) => peerClosed.push(reason));
    pair.client.on('down', (reason) => downs.push(reason));
    for (let i = 0; i < 50; i++) pair.client.send(16, i, new Uint8Array(10));
    await pair.client.close();
    await pair.client.close();
    assert.deepEqual(downs, [null]);
    assert.equal(pair.client.isUp, false);
    assert.throws(() => pair.client.send(16, 0, new Uint8Array(0)), { code: ErrorCodes.LNK_ERR_CLOSED });
    await waitFor(() => peerClosed.length === 1, { timeoutMs: 3000, message: 'the engine end closes' });
    assert.equal(peerClosed[0]?.code, ErrorCodes.LNK_ERR_CLOSED);
    assert.deepEqual(received, Array.from({ length: 50 }, (_, i) => i), 'delivered before the close');
    assert.equal(pair.peer.isOpen, false);
    assert.throws(() => pair.peer.send(32, 0, new Uint8Array(0)), { code: ErrorCodes.LNK_ERR_CLOSED });
  });

  test(`${transport}: the engine closing ends the gateway's link with LNK_ERR_CLOSED`, async () => {
    await using pair = await link();
    const received: number[] = [];
    pair.client.on('message', (_t, channel) => received.push(channel));
    const down = once(pair.client, 'down');
    const closed: Array<CodedError | null> = [];
    pair.peer.on('close', (reason) => closed.push(reason));
    pair.peer.send(32, 7, new Uint8Array(3));
    await pair.peer.close();
    const [reason] = (await down) as [CodedError | null];
    assert.equal(reason?.code, ErrorCodes.LNK_ERR_CLOSED);
    assert.deepEqual(closed, [null]);
    assert.deepEqual(received, [7], 'delivered before the close');
    assert.throws(() => pair.peer.send(32, 0, new Uint8Array(0)), { code: ErrorCodes.LNK_ERR_CLOSED });
  });
}
