import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { build } from 'esbuild';

test('the SDK bundles for the browser: no Node-only imports', async () => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../src/index.js', import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  assert.deepEqual(result.errors, []);
  const code = result.outputFiles[0]?.text ?? '';
  assert.ok(code.includes('GameClient'));
  assert.doesNotMatch(code, /\bfrom\s+["']node:|require\(["']node:/);
});
