/**
 * The `project` target: this framework running the mmo-move game.
 *
 *   SHAPE=embedded  one process: gateway, engine (scenes on worker threads) and an in-memory
 *                   coordinator, linked in-process, as `npm start` runs.
 *   SHAPE=fat       one process as a `gateway+engine` cluster member runs: gateway and engine
 *                   linked in-process, the coordinator on etcd (GOS_ETCD_URL) under a fresh
 *                   key prefix.
 *   SHAPE=cluster   this process is the gateway; it spawns the engine as a second process
 *                   (bin/servers/project-engine.ts); they find each other through etcd
 *                   (GOS_ETCD_URL, default http://127.0.0.1:2379) under a fresh key prefix and
 *                   talk over the authenticated TCP link.
 *
 * Both use SQLite in DATA_DIR (a new temporary folder by default) and in-memory sessions.
 * Prints {"ready":true,…} once a player can log in and play; SIGTERM stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CoordinatorNode, EtcdCoordinator, MemoryCoordinator, type Coordinator } from '@gos/coordinator';
import { Engine } from '@gos/engine';
import { Gateway, MemorySessionStore } from '@gos/gateway';
import { MemoryChatBackend } from '@gos/chat';
import { LocalLinks } from '@gos/link';
import { createStore } from '@gos/store';
import { Registry } from 'prom-client';
import { protocol } from '../../src/generated/protocol.js';
import { serverLifecycle } from './lifecycle.js';
import { BENCH_LIMITS, GAME_MODULE, ENGINE_CAPACITY, SCENES_PER_WORKER, sceneSharder } from '../../src/targets/project/server.js';
import { parseCommandLine } from '@gos/cluster';

parseCommandLine(
  { name: 'project', usage: `usage: PORT=3900 SHAPE=embedded|fat|cluster [LINK=tcp] [RING_FLUSH=microtask] [INPUT_HOLD_LEAD_MS=10] [SCENARIO=…] [DATA_DIR=…] [GOS_ETCD_URL=…] node bench/dist/bin/servers/project.js
The bench's target for this framework (npm run bench starts it): embedded, one process; fat, one process
on etcd (GOS_ETCD_URL, http://127.0.0.1:2379); cluster, this gateway plus an engine process found through etcd. Prints
{"ready":true,…} once a player can log in and play; stops on SIGTERM/SIGINT. No options.` },
  {},
);
const port = Number(process.env['PORT']);
const shape = process.env['SHAPE'] ?? 'embedded';
if (!Number.isInteger(port) || port <= 0 || (shape !== 'embedded' && shape !== 'cluster' && shape !== 'fat')) {
  console.error('project: set PORT and SHAPE=embedded|fat|cluster');
  process.exit(2);
}
const etcdUrl = process.env['GOS_ETCD_URL'] ?? 'http://127.0.0.1:2379';
const ownDir = process.env['DATA_DIR'] === undefined;
const dataDir = process.env['DATA_DIR'] ?? mkdtempSync(path.join(tmpdir(), 'gos-bench-'));
const dbFile = path.join(dataDir, 'bench.db');
const clusterSecret = randomBytes(24).toString('base64url');
const prefix = `gos-bench/${randomBytes(6).toString('hex')}/`;

const store = createStore({ kind: 'sqlite', file: dbFile });
const coordinator: Coordinator = shape === 'embedded' ? new MemoryCoordinator() : new EtcdCoordinator({ hosts: [etcdUrl], prefix });
// One process (embedded, fat): the gateway reaches its engine without a socket, unless LINK=tcp
// (the embedded shape as it was before the in-process link, for an A/B in one run).
const localLinks = shape === 'cluster' || process.env['LINK'] === 'tcp' ? null : new LocalLinks();
// RING_FLUSH=microtask: frames published into the scene's ring per callback, as before the
// engine's ringFlush option (an A/B knob; the default is the engine's).
const ringFlush = process.env['RING_FLUSH'] === 'microtask' ? 'microtask' : 'immediate';
// INPUT_HOLD_LEAD_MS: the gateway's inputHoldLeadMs (0: every input to the engine at once, as
// before held inputs; an A/B knob of the cluster shape). Unset: the gateway's default.
const inputHoldLead = process.env['INPUT_HOLD_LEAD_MS'];
// This process also runs the coordinator replica, the leader that places scenes.
const leader = new CoordinatorNode({ id: 'coordinator-1', coordinator });
const sessions = new MemorySessionStore();
// Chat on the one gateway (memory: one gateway). The chat-fanout sender says 2 lines a second:
// above a player's default rate (1 a second), so the bench lifts it.
const chat = new MemoryChatBackend();
// One registry: the gateway's GET /metrics serves the engine's too (mmo-aoi reads its tick histogram).
const metrics = new Registry();
const engine =
  shape === 'cluster'
    ? null
    : new Engine({ engineId: 'engine-1', clusterSecret, gameModule: GAME_MODULE, store, coordinator, localLinks, scenesPerWorker: SCENES_PER_WORKER, capacity: ENGINE_CAPACITY, ringFlush, metrics });
const gateway = new Gateway({
  gatewayId: 'gateway-1',
  clusterSecret,
  coordinator,
  store,
  sessions,
  protocol,
  host: '127.0.0.1',
  port,
  localLinks,
  sceneForLogin: sceneForScenario(process.env['SCENARIO']),
  limits: BENCH_LIMITS,
  chat: { backend: chat, rate: { perSecond: 10, burst: 20 } },
  metrics,
  ...(inputHoldLead === undefined ? {} : { inputHoldLeadMs: Number(inputHoldLead) }),
});
let child: ChildProcess | null = null;

/** mmo-move: `mmo` scenes of 100; idle-ccu and reconnect-storm: `idle` scenes of 100; chat-fanout: everyone in one `chat` scene; mmo-aoi: everyone in one `aoi` map. */
function sceneForScenario(scenario: string | undefined): ReturnType<typeof sceneSharder> {
  if (scenario === 'idle-ccu' || scenario === 'reconnect-storm') return sceneSharder('idle');
  if (scenario === 'chat-fanout') return sceneSharder('chat', Number.MAX_SAFE_INTEGER);
  if (scenario === 'mmo-aoi') return sceneSharder('aoi', Number.MAX_SAFE_INTEGER);
  return sceneSharder('mmo');
}

/** Start the engine process and resolve once it has registered with the cluster. */
async function startEngineProcess(): Promise<void> {
  const entry = fileURLToPath(new URL('./project-engine.js', import.meta.url));
  const proc = spawn(process.execPath, [...process.execArgv, entry], {
    env: { ...process.env, GOS_CLUSTER_SECRET: clusterSecret, GOS_ETCD_URL: etcdUrl, GOS_ETCD_PREFIX: prefix, DB_FILE: dbFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child = proc;
  proc.on('exit', (code, signal) => {
    if (!lifecycle.stopping) {
      console.error(`project: engine process exited (${code ?? signal})`);
      void lifecycle.shutdown(1);
    }
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if (line.includes('"ready":true')) resolve();
    });
    proc.once('exit', () => reject(new Error('engine process exited before it was ready')));
  });
  // The gateway learns of the engine through its etcd watch.
  while (coordinator.membership.list('engine').length === 0) await new Promise((r) => setTimeout(r, 20));
}

const lifecycle = serverLifecycle(
  'project',
  async () => {
    await store.start();
    await coordinator.start();
    await leader.start();
    await sessions.start();
    await chat.start();
    if (engine !== null) await engine.start();
    else await startEngineProcess();
    await gateway.start();
    return { target: 'project', shape, port };
  },
  async () => {
    try {
      await gateway.close();
      if (child !== null && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await engine?.close();
      await leader.close();
      await chat.close();
      await sessions.close();
      await store.close();
      await coordinator.close();
    } finally {
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
