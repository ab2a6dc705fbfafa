/**
 * The closing lines of `npm test` (scripts/lib/tap-summary.sh, sourced by scripts/test.sh): the
 * summary summed over the workspaces' TAP copies, and one FAILED line per failed test, read from
 * the TAP report node's runner really writes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const LIB = path.join(ROOT, 'scripts/lib/tap-summary.sh');

const cwd = await tempDir();
after(() => cwd.remove());

function run(command: string, args: readonly string[], options: { cwd: string }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // A runner started from a test would otherwise report to this one (NODE_TEST_CONTEXT), not to its file.
  const env = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Run `file` (a test file in cwd) with node's runner, its TAP report written to `<workspace>/.test-results/tap.txt`. */
async function tapOf(workspace: string, file: string, source: string): Promise<string> {
  await mkdir(path.join(cwd.path, workspace, '.test-results'), { recursive: true });
  await writeFile(path.join(cwd.path, file), source);
  const tap = `${workspace}/.test-results/tap.txt`;
  const r = await run(process.execPath, ['--test', '--test-reporter=tap', `--test-reporter-destination=${tap}`, file], { cwd: cwd.path });
  assert.ok(r.code !== null, 'the runner ran');
  return tap;
}

/** Source the library in bash (errexit, nounset, pipefail, as scripts/test.sh) and run `script`. */
function lib(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run('bash', ['-c', `set -euo pipefail; source '${LIB}'; ${script}`], { cwd: cwd.path });
}

test('the failed tests are named with their error and place, their parents are not; the summary sums every file', async () => {
  const failing = await tapOf(
    'packages/alpha',
    'alpha.test.mjs',
    `import { test } from 'node:test';
import assert from 'node:assert/strict';
test('passes', () => {});
test('fails with a message', () => assert.ok(false, "the tree's CPU time to grow"));
test('a parent', async (t) => {
  await t.test('its child fails', () => { throw new Error('first line\\nsecond line'); });
});
`,
  );
  const passing = await tapOf('bench', 'bench.test.mjs', `import { test } from 'node:test';\ntest('one', () => {});\ntest('two', () => {});\n`);

  const failures = await lib(`tap_failures ${failing} ${passing} missing/.test-results/tap.txt`);
  assert.equal(failures.code, 0, failures.stderr);
  assert.deepEqual(failures.stdout.trimEnd().split('\n'), [
    `FAILED  packages/alpha: fails with a message -- the tree's CPU time to grow (${path.join(cwd.path, 'alpha.test.mjs')}:4:1)`,
    `FAILED  packages/alpha: its child fails -- first line (${path.join(cwd.path, 'alpha.test.mjs')}:6:11)`,
  ]);

  const sums = await lib(`for f in tests pass fail cancelled; do tap_sum "$f" ${failing} ${passing} missing/.test-results/tap.txt; done`);
  assert.equal(sums.code, 0, sums.stderr);
  // node counts a parent whose subtest failed as a failed test too.
  assert.deepEqual(sums.stdout.trimEnd().split('\n'), ['6', '3', '3', '0']);
});

test('at most 30 FAILED lines, and the caller goes on (a closed pipe under pipefail is not an error)', async () => {
  const many = Array.from({ length: 40 }, (_, i) => `test('t${i}', () => { throw new Error('e${i}'); });`).join('\n');
  const tap = await tapOf('packages/many', 'many.test.mjs', `import { test } from 'node:test';\n${many}\n`);
  const r = await lib(`tap_failures ${tap}; echo reached`);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 31);
  assert.match(lines[0]!, /^FAILED {2}packages\/many: t0 -- e0 \(/);
  assert.equal(lines[30], 'reached');
});
