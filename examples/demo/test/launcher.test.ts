/**
 * The members a launcher starts (`MemberProcess`: `npm run cluster`, the process tests) end with
 * it, however it ends: a launcher killed with SIGKILL leaves no member running on, orphaned,
 * holding its ports and its scenes' placements (and, in a test run, playing in later tests).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { waitFor } from '@gos/testing';
import { testCluster } from './cluster-helpers.js';
import { alive } from './helpers.js';

const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 1000 });
after(() => cluster.cleanup());

/** A launcher of its own, in its own process: it starts one coordinator and prints its pid once ready. */
const LAUNCHER = `
import { MemberProcess } from '@gos/cluster';
const m = new MemberProcess({ role: 'coordinator', id: 'coordinator-7', config: process.env.LAUNCHER_CONFIG });
await m.ready;
console.log(JSON.stringify({ pid: m.pid }));
setInterval(() => {}, 60_000);
`;

test('a member stops when its launcher is killed with SIGKILL', async () => {
  const launcher = spawn(process.execPath, ['--input-type=module', '-e', LAUNCHER], {
    // From the demo's folder: '@gos/cluster' resolves as it does for the demo.
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, LAUNCHER_CONFIG: cluster.configFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let member: number | null = null;
  try {
    const [line] = await Promise.race([
      once(createInterface({ input: launcher.stdout }), 'line'),
      once(launcher, 'exit').then(([code]) => Promise.reject(new Error(`the launcher exited (${String(code)}) before its member was ready`))),
    ]);
    member = (JSON.parse(String(line)) as { pid: number }).pid;
    assert.ok(alive(member), 'the member runs while its launcher does');

    launcher.kill('SIGKILL');
    await once(launcher, 'exit');
    await waitFor(() => !alive(member!), { timeoutMs: 15_000, message: `member ${member} gone after its launcher was killed` });
  } finally {
    launcher.kill('SIGKILL');
    // Whatever happened above: no member left running by this test.
    if (member !== null && alive(member)) process.kill(member, 'SIGKILL');
  }
});
