/** `codegen.yaml`: what gos-gen generates with no arguments, read and checked. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ErrorCodes, isCodedError } from '@gos/schema';
import { readTargets } from '../src/index.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gos-codegen-targets-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const invalid = (pattern: RegExp) => (err: unknown): boolean => isCodedError(err) && err.code === ErrorCodes.OPT_ERR_INVALID && pattern.test(err.message);

test('targets are read relative to the workspace root', async () => {
  await writeFile(path.join(dir, 'codegen.yaml'), 'targets:\n  - inputs: [proto/a.yaml, proto/b.yaml]\n    out: src/generated\n');
  assert.deepEqual(readTargets(dir), [{ inputs: [path.join(dir, 'proto/a.yaml'), path.join(dir, 'proto/b.yaml')], outDir: path.join(dir, 'src/generated') }]);
});

test('a missing, malformed or misshapen codegen.yaml is OPT_ERR_INVALID naming the file and the problem', async () => {
  const empty = await mkdtemp(path.join(dir, 'none-'));
  assert.throws(() => readTargets(empty), invalid(/codegen\.yaml: cannot read/));
  await writeFile(path.join(dir, 'codegen.yaml'), 'targets: [');
  assert.throws(() => readTargets(dir), invalid(/cannot read/));
  await writeFile(path.join(dir, 'codegen.yaml'), 'targets:\n  - inputs: []\n    out: x\n');
  assert.throws(() => readTargets(dir), invalid(/targets\.0\.inputs/));
  await writeFile(path.join(dir, 'codegen.yaml'), 'targets:\n  - inputs: [a.yaml]\n    outDir: x\n');
  assert.throws(() => readTargets(dir), invalid(/targets\.0/));
});
