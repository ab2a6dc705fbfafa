import { MemoryCoordinator } from '../src/index.js';
import { runCoordinatorContract } from './contract.js';

runCoordinatorContract('memory', async (options) => {
  const c = new MemoryCoordinator(options);
  await c.start();
  return c;
});
