import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { isCodedError } from '@gos/schema';
import { chooseLogFormat } from '../src/index.js';

test('chooseLogFormat: pretty on a terminal, JSON elsewhere, LOG_FORMAT wins', () => {
  assert.equal(chooseLogFormat({ isTTY: true }), 'pretty');
  assert.equal(chooseLogFormat({ isTTY: false }), 'json');
  assert.equal(chooseLogFormat({ isTTY: true, logFormat: '' }), 'pretty');
  assert.equal(chooseLogFormat({ isTTY: true, logFormat: 'json' }), 'json');
  assert.equal(chooseLogFormat({ isTTY: false, logFormat: 'pretty' }), 'pretty');
  assert.throws(
    () => chooseLogFormat({ isTTY: true, logFormat: 'JSON' }),
    (err) => isCodedError(err) && err.code === 'OPT_ERR_INVALID' && err.message === 'LOG_FORMAT must be json or pretty, got "JSON"',
  );
});

test('the JSON format writes each line before the call returns: lines come before what the process writes next, and an exit loses none', () => {
  // A child logs 200 lines, writes a marker straight to stdout, and exits at once: with an
  // asynchronous stream the marker overtakes queued lines and process.exit drops the rest.
  const entry = new URL('../src/index.js', import.meta.url).href;
  const script = `
    const { createProcessLogger } = await import(${JSON.stringify(entry)});
    const log = createProcessLogger({ level: 'info', format: 'json' });
    for (let i = 0; i < 200; i++) log.info({ i }, 'line');
    process.stdout.write('MARK\\n');
    process.exit(0);
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const out = run.stdout.trimEnd().split('\n');
  assert.equal(out.length, 201, run.stdout.slice(0, 500));
  assert.equal(out.at(-1), 'MARK');
  assert.deepEqual(
    out.slice(0, 200).map((l) => (JSON.parse(l) as { i: number }).i),
    Array.from({ length: 200 }, (_, i) => i),
  );
});
