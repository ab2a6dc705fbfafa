/** The generated `rpc:` helpers of the kitchen fixture: the codec table and the typed callers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeCodec, ScalarsCodec, Vec2Codec, NoFieldsCodec, createRpc, protocol, type RpcCaller } from './generated/protocol.js';

test('the protocol carries each rpc message with its target and codecs; a cast has no response codec', () => {
  assert.deepEqual(Object.keys(protocol.rpc), ['arena', 'lobby']);
  assert.equal(protocol.rpc.arena.tree.request, NodeCodec);
  assert.equal(protocol.rpc.arena.tree.response, NodeCodec);
  assert.equal(protocol.rpc.arena.tree.target, 'arena');
  assert.equal(protocol.rpc.arena.poke.request, Vec2Codec);
  assert.equal(protocol.rpc.arena.poke.response, null);
  assert.equal(protocol.rpc.lobby.count.request, NoFieldsCodec);
  assert.equal(protocol.rpc.lobby.count.response, ScalarsCodec);
  assert.ok(Object.isFrozen(protocol.rpc) && Object.isFrozen(protocol.rpc.arena));
});

test('createRpc calls and casts through the caller with the message name, payload and options', async () => {
  const seen: unknown[] = [];
  const caller: RpcCaller = {
    call: async (...args) => {
      seen.push(['call', ...args]);
      return { label: 'answer', children: [] };
    },
    cast: (...args) => void seen.push(['cast', ...args]),
  };
  const rpc = createRpc(caller);
  const node = { label: 'root', children: [] };
  assert.deepEqual(await rpc.arena.tree('arena:1', node, { timeoutMs: 50 }), { label: 'answer', children: [] });
  rpc.arena.poke('arena:2', { x: 1, y: 2 });
  assert.deepEqual(seen, [
    ['call', 'arena:1', 'tree', node, { timeoutMs: 50 }],
    ['cast', 'arena:2', 'poke', { x: 1, y: 2 }, undefined],
  ]);
});
