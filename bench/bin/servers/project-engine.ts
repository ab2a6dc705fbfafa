/**
 * The engine process of the `project` target's cluster shape, spawned by bin/servers/project.ts
 * with GOS_CLUSTER_SECRET, GOS_ETCD_URL, GOS_ETCD_PREFIX and DB_FILE. Prints {"ready":true}
 * once registered; SIGTERM persists every scene and exits.
 */
import { EtcdCoordinator } from '@gos/coordinator';
import { Engine } from '@gos/engine';
import { createStore } from '@gos/store';
import { serverLifecycle } from './lifecycle.js';
import { GAME_MODULE, ENGINE_CAPACITY, SCENES_PER_WORKER } from '../../src/targets/project/server.js';
import { parseCommandLine } from '@gos/cluster';

parseCommandLine(
  { name: 'project-engine', usage: `usage: DB_FILE=… GOS_CLUSTER_SECRET=… GOS_ETCD_URL=… GOS_ETCD_PREFIX=… node bench/dist/bin/servers/project-engine.js
The engine process of the bench's project target in its cluster shape (bin/servers/project.js
starts it). Prints {"ready":true} once registered; SIGTERM persists every scene and exits. No options.` },
  {},
);
const need = (name: string): string => {
  const v = process.env[name];
  if (v === undefined || v === '') {
    console.error(`project-engine: set ${name}`);
    process.exit(2);
  }
  return v;
};
const store = createStore({ kind: 'sqlite', file: need('DB_FILE') });
const coordinator = new EtcdCoordinator({ hosts: [need('GOS_ETCD_URL')], prefix: need('GOS_ETCD_PREFIX') });
const engine = new Engine({
  engineId: 'engine-1',
  clusterSecret: need('GOS_CLUSTER_SECRET'),
  gameModule: GAME_MODULE,
  store,
  coordinator,
  scenesPerWorker: SCENES_PER_WORKER, capacity: ENGINE_CAPACITY,
});

serverLifecycle(
  'project-engine',
  async () => {
    await store.start();
    await coordinator.start();
    await engine.start();
    return { role: 'engine', address: engine.address };
  },
  async () => {
    await engine.close();
    await store.close();
    await coordinator.close();
  },
);
