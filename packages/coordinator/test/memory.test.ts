import { MemoryCoordinator } from '../src/index.js';
import { runCoordinatorContract } from './contract.js';

runCoordinatorContract('memory', async () => {
  const c = new MemoryCoordinator();
  await c.start();
  return c;
});
