/** The link contract over both transports: TCP (LinkServer + LinkClient) and in-process (LocalLinks). */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after } from 'node:test';
import { waitFor } from '@gos/testing';
import { LinkClient, LinkServer, LocalLinks, type GatewayPeer } from '../src/index.js';
import { runLinkContract } from './contract.js';
import { SECRET, openTcpHandles } from './helpers.js';

after(async () => assert.deepEqual(await openTcpHandles(), [], 'no TCP handle left open'));

runLinkContract('tcp', async (options = {}) => {
  const max = options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes };
  const server = new LinkServer({ nodeId: 'engine-1', secret: SECRET, ...max, ...(options.logger === undefined ? {} : { logger: options.logger }) });
  const peers: GatewayPeer[] = [];
  server.on('peer', (peer) => peers.push(peer));
  await server.start();
  // No redial within a test: a closed link stays closed, as the in-process one does.
  const client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: server.port, reconnectMinMs: 60_000, reconnectMaxMs: 60_000, ...max });
  const up = once(client, 'up');
  await client.start();
  await up;
  await waitFor(() => peers.length === 1, { timeoutMs: 3000, message: 'the peer' });
  return {
    client,
    peer: peers[0]!,
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.close();
    },
  };
});

runLinkContract('in-process', async (options = {}) => {
  const links = new LocalLinks({ ...options });
  const peers: GatewayPeer[] = [];
  const stop = links.serve('engine-1', (peer) => peers.push(peer));
  const client = links.connect('engine-1', 'gw-1');
  assert.equal(client.isUp, true, 'up at once');
  assert.equal(peers.length, 1, 'the engine has its peer before connect returns');
  return {
    client,
    peer: peers[0]!,
    async [Symbol.asyncDispose]() {
      await client.close();
      await stop();
    },
  };
});
