import { MemoryChatBackend, MemoryChatHub } from '../src/index.js';
import { runChatContract } from './contract.js';

// Backends on one hub share their state and fan-out, as gateways on one Redis do.
const hub = new MemoryChatHub();
runChatContract('memory', {
  make: async () => {
    const backend = new MemoryChatBackend({ hub });
    await backend.start();
    return backend;
  },
});
