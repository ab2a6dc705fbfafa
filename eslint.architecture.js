// The architecture, as lint rules (`no-restricted-imports`), so `npm test` fails on a violation:
//
// 1. Package direction: a workspace imports only the @gos packages its package.json declares
//    (dependencies; its tests also devDependencies). package.json is the one place the graph is
//    written; this makes it binding.
// 2. The gateway and the engine never import each other, whatever a package.json says: they
//    meet only through the link (@gos/link) and the coordinator.
// 3. Scene-thread code (the engine's worker/, and what it loads: ring/, records (with
//    record-json, world-records, entity-records, stats-records, leaderboard-records, log-records, config-records, mail-records and task-records), api (with
//    api-entities, api-mail and api-services), outbox, collect) imports only the ring, the scene API, @gos/schema and pino:
//    nothing of the main thread, no store, link, coordinator, metrics or pool. It may name the
//    types (only) of the services the scene API exposes (@gos/leaderboard).
// 4. Nobody reaches into another package's internals (@gos/<name>/...).
//
// ESLint applies one `no-restricted-imports` setting per file (the last matching one), so each
// file set below carries every restriction that applies to it.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(fileURLToPath(import.meta.url));
const readJson = (file) => JSON.parse(readFileSync(join(ROOT, file), 'utf8'));

const INTERNALS = { group: ['@gos/*/*'], message: 'Import a package through its entry (@gos/<name>), never its internals.' };
const NEVER = { '@gos/gateway': ['@gos/engine'], '@gos/engine': ['@gos/gateway'] };
const SCENE_THREAD_PACKAGES = ['@gos/schema', 'pino'];
// Packages whose types (only) scene-thread code may name: the scene API exposes their interfaces.
const SCENE_THREAD_TYPES = ['@gos/leaderboard'];

const workspaces = readJson('package.json').workspaces.map((dir) => ({ dir, pkg: readJson(`${dir}/package.json`) }));
const gosPackages = workspaces.map((w) => w.pkg.name);

function forbidden(name, allowed, reason) {
  return gosPackages
    .filter((other) => other !== name && !allowed.includes(other))
    .map((other) => ({ name: other, message: reason(other) }));
}

function packageRules({ dir, pkg }) {
  const deps = Object.keys(pkg.dependencies ?? {});
  const devDeps = Object.keys(pkg.devDependencies ?? {});
  const never = NEVER[pkg.name] ?? [];
  const why = (other) =>
    never.includes(other)
      ? `${pkg.name} never imports ${other}: they meet only through @gos/link and the coordinator.`
      : `${pkg.name} does not declare ${other} in its package.json; add it there if the dependency is meant (and keep the graph acyclic).`;
  const restrict = (allowed) => ['error', { paths: forbidden(pkg.name, allowed.filter((d) => !never.includes(d)), why), patterns: [INTERNALS] }];
  return [
    { files: [`${dir}/**/*.ts`], rules: { 'no-restricted-imports': restrict(deps) } },
    { files: [`${dir}/test/**/*.ts`], rules: { 'no-restricted-imports': restrict([...deps, ...devDeps]) } },
  ];
}

/** Scene-thread code: `local` are the relative imports it may use from where its files sit. */
function sceneThreadRules(files, local) {
  const others = gosPackages.filter((p) => !SCENE_THREAD_PACKAGES.includes(p));
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...others.map((name) => ({
              name,
              ...(SCENE_THREAD_TYPES.includes(name) ? { allowTypeImports: true } : {}),
              message: 'Scene-thread code imports only the ring, the scene API, @gos/schema and pino (and the types of the scene API\'s services).',
            })),
            ...['piscina', 'prom-client', 'ioredis', 'mysql2', 'better-sqlite3', 'etcd3', 'uWebSockets.js'].map((name) => ({
              name,
              message: 'Scene-thread code imports only the ring, the scene API, @gos/schema and pino.',
            })),
          ],
          patterns: [INTERNALS, { group: local, message: 'Scene-thread code imports only the ring, records, api, outbox and collect of the engine: nothing of its main thread.' }],
        },
      ],
    },
  };
}

const ALLOWED_FROM_SRC = ['!./ring', '!./ring/*', '!./records.js', '!./record-json.js', '!./world-records.js', '!./entity-records.js', '!./stats-records.js', '!./warm-records.js', '!./leaderboard-records.js', '!./log-records.js', '!./config-records.js', '!./mail-records.js', '!./task-records.js', '!./api.js', '!./api-entities.js', '!./api-mail.js', '!./api-services.js', '!./outbox.js', '!./collect.js'];

export default [
  ...workspaces.flatMap(packageRules),
  sceneThreadRules(['packages/engine/src/worker/**/*.ts', 'packages/engine/src/worker/**/*.cts'], ['../*', ...ALLOWED_FROM_SRC.map((p) => p.replace('./', '../'))]),
  sceneThreadRules(['packages/engine/src/ring/**/*.ts'], ['../*']),
  sceneThreadRules(['packages/engine/src/{records,record-json,world-records,entity-records,stats-records,warm-records,leaderboard-records,log-records,config-records,mail-records,task-records,api,api-entities,api-mail,api-services,outbox,collect}.ts'], ['./*', ...ALLOWED_FROM_SRC]),
];
