import { MemoryLeaderboardBackend } from '../src/index.js';
import { runLeaderboardContract } from './contract.js';

const shared = new MemoryLeaderboardBackend();
runLeaderboardContract('memory', { make: async () => shared });
