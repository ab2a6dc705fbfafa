/**
 * An engine closed right after it started, while its scene threads still load their module
 * (Ctrl-C on `npm start` just after the banner). piscina loads a thread's module with
 * `require()`, which on Node 20.19+ instantiates an ES module synchronously, and terminating a
 * thread inside that step aborted the whole process in V8 (`v8::Module::IsGraphAsync must be
 * used on an instantiated module`, seen once in CI). The threads now load a CommonJS module
 * that imports the scene code asynchronously (`worker/load.cts`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const FIXTURE = fileURLToPath(new URL('./fixtures/start-close.js', import.meta.url));

test('engines closed while their threads load their module: the process neither aborts nor hangs', () => {
  const run = spawnSync(process.execPath, [FIXTURE, '20'], { encoding: 'utf8', timeout: 120_000 });
  const output = `${run.stdout}\n${run.stderr}`;
  assert.equal(run.signal, null, `killed by ${String(run.signal)}:\n${output}`);
  assert.doesNotMatch(output, /FATAL ERROR/, output);
  assert.equal(run.status, 0, output);
  assert.match(run.stdout, /closed 20 engines/);
});
