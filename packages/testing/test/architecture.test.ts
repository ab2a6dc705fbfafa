/**
 * The import rules of eslint.architecture.js hold: each one refuses what it must refuse and
 * lets through what the code does today, so a violation fails `npm test` (which lints) and a
 * rule that stopped matching fails here.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

async function restricted(file: string, source: string): Promise<string[]> {
  const { default: architecture } = (await import(join(ROOT, 'eslint.architecture.js'))) as { default: Linter.Config[] };
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts', '**/*.cts'], languageOptions: { parser: tseslint.parser } }, ...architecture],
  });
  const [result] = await eslint.lintText(source, { filePath: join(ROOT, file) });
  return result!.messages.map((m) => `${m.line}:${m.ruleId ?? 'parse'}`);
}

test('the gateway and the engine never import each other', async () => {
  assert.deepEqual(await restricted('packages/gateway/src/x.ts', "import { Engine } from '@gos/engine';\n"), ['1:no-restricted-imports']);
  assert.deepEqual(await restricted('packages/engine/src/x.ts', "import { Gateway } from '@gos/gateway';\n"), ['1:no-restricted-imports']);
});

test('a package imports only the @gos packages its package.json declares, and never their internals', async () => {
  assert.deepEqual(await restricted('packages/store/src/x.ts', "import { LinkServer } from '@gos/link';\nimport { CodedError } from '@gos/schema';\n"), ['1:no-restricted-imports']);
  assert.deepEqual(await restricted('packages/gateway/src/x.ts', "import { LinkServer } from '@gos/link';\nimport { x } from '@gos/link/src/x.js';\n"), ['2:no-restricted-imports']);
  assert.deepEqual(await restricted('packages/schema/src/x.ts', "import { Engine } from '@gos/engine';\n"), ['1:no-restricted-imports'], 'schema depends on nothing');
});

test('scene-thread code imports only the ring, records, api, outbox, collect, @gos/schema and pino', async () => {
  const allowed = [
    "import { RingReader } from '../ring/index.js';",
    "import { ToScene } from '../records.js';",
    "import type { SceneDefinition } from '../api.js';",
    "import { Outbox } from '../outbox.js';",
    "import { answerCollections } from '../collect.js';",
    "import { SceneRuntime } from './runtime.js';",
    "import { CodedError } from '@gos/schema';",
    "import { pino } from 'pino';",
  ];
  assert.deepEqual(await restricted('packages/engine/src/worker/x.ts', allowed.join('\n')), []);
  const refused = ["import { Persister } from '../persister.js';", "import { Scenes } from '../scenes.js';", "import { LinkServer } from '@gos/link';", "import { Piscina } from 'piscina';", "import { Registry } from 'prom-client';"];
  assert.deepEqual(await restricted('packages/engine/src/worker/x.ts', refused.join('\n')), refused.map((_, i) => `${i + 1}:no-restricted-imports`));
  assert.deepEqual(await restricted('packages/engine/src/outbox.ts', "import { RingWriter } from './ring/index.js';\nimport { Engine } from './engine.js';\n"), ['2:no-restricted-imports']);
  assert.deepEqual(await restricted('packages/engine/src/ring/x.ts', "import { ToScene } from '../records.js';\nimport { RING } from './layout.js';\n"), ['1:no-restricted-imports']);
});
