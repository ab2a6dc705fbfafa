/**
 * Committed generated code must be what the YAML generates now (needs flatc: CI installs it),
 * and the demo's generated module must type-check against this package.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { checkFresh, findWorkspaceRoot, generate, readTargets } from '../src/generate.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = findWorkspaceRoot(here)!;
const genBin = path.join(root, 'packages/codegen/dist/bin/gen.js');

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await listFiles(path.join(dir, e.name), `${prefix}${e.name}/`)));
    else out.push(`${prefix}${e.name}`);
  }
  return out.sort();
}

describe('generated files', () => {
  let tmp = '';
  before(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'gos-gen-test-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('the workspace root is found', () => {
    assert.ok(root !== null, 'no package.json with workspaces above the test');
  });

  for (const target of readTargets(root)) {
    const name = path.relative(root, target.outDir);
    it(`${name} is fresh`, async () => {
      const stale = await checkFresh({ ...target, rootDir: root });
      assert.deepEqual(
        stale.map((f) => path.relative(root, f)),
        [],
        `stale generated files (SCH_ERR_STALE_GENERATED): ${stale.map((f) => path.relative(root, f)).join(', ')}. Regenerate with: npm run gen`,
      );
    });

    it(`${name}: regenerating into a temp dir gives byte-identical files`, async () => {
      const committed = await listFiles(target.outDir);
      const out = path.join(tmp, name);
      // In the temp dir the runtime import cannot be worked out from the location: pass the committed one.
      const protocolTs = await readFile(path.join(target.outDir, 'protocol.ts'), 'utf8');
      const runtimeImport = /import \* as rt from '([^']+)';/.exec(protocolTs)?.[1];
      assert.ok(runtimeImport !== undefined);
      const { files } = await generate({ ...target, outDir: out, rootDir: root, runtimeImport });
      assert.deepEqual(files.map((f) => path.relative(out, f).split(path.sep).join('/')).sort(), committed);
      for (const rel of committed) {
        const [a, b] = await Promise.all([readFile(path.join(target.outDir, rel)), readFile(path.join(out, rel))]);
        assert.ok(a.equals(b), `${path.join(name, rel)} is stale. Regenerate with: npm run gen`);
      }
    });
  }

  it('the demo protocol type-checks under the strict tsconfig', async () => {
    const dir = path.join(root, 'examples/demo/src/generated');
    const tsconfig = path.join(tmp, 'tsconfig.json');
    await writeFile(
      tsconfig,
      JSON.stringify({
        extends: path.join(root, 'tsconfig.base.json'),
        compilerOptions: { noEmit: true, composite: false, incremental: false, declaration: false, declarationMap: false, typeRoots: [path.join(root, 'node_modules/@types')] },
        files: [path.join(dir, 'protocol.ts')],
      }),
    );
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    try {
      await run(process.execPath, [tsc, '-p', tsconfig], { cwd: root });
    } catch (err) {
      const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
      assert.fail(`tsc failed on ${path.relative(root, dir)}:\n${stdout}${stderr}`);
    }
  });
});

describe('gen CLI', () => {
  let tmp = '';
  let yaml = '';
  before(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'gos-gen-cli-'));
    yaml = path.join(tmp, 'mini.yaml');
    await writeFile(yaml, 'namespace: mini\nversion: 1\nmessages:\n  Hi: { fields: { n: int32 } }\npushes:\n  Hi: { id: 7 }\n');
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const cli = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    run(process.execPath, [genBin, ...args], { cwd: root }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
    );

  it('--check with no inputs: the repository is fresh', async () => {
    const r = await cli('--check');
    assert.equal(r.code, 0, r.stderr);
  });

  it('--in/--out generates; --check then passes, and fails with SCH_ERR_STALE_GENERATED after an edit', async () => {
    const out = path.join(tmp, 'out');
    assert.equal((await cli('--in', yaml, '--out', out)).code, 0);
    assert.deepEqual(await listFiles(out), ['fbs/mini_generated.ts', 'mini.fbs', 'protocol.ts']);
    assert.equal((await cli('--in', yaml, '--out', out, '--check')).code, 0);
    await writeFile(path.join(out, 'protocol.ts'), '// edited\n');
    await mkdir(path.join(out, 'fbs'), { recursive: true });
    await writeFile(path.join(out, 'fbs', 'old_generated.ts'), '');
    const r = await cli('--in', yaml, '--out', out, '--check');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SCH_ERR_STALE_GENERATED/);
    assert.match(r.stderr, /protocol\.ts/);
    assert.match(r.stderr, /old_generated\.ts/);
    assert.match(r.stderr, /npm run gen/);
    assert.equal((await readFile(path.join(out, 'protocol.ts'), 'utf8')), '// edited\n', '--check must not write');
  });

  it('bad YAML exits 1 with SCH_ERR_BAD_YAML naming file and line', async () => {
    const bad = path.join(tmp, 'bad.yaml');
    await writeFile(bad, 'namespace: bad\nversion: 1\nmessages:\n  A: { fields: { x: nope } }\n');
    const r = await cli('--in', bad, '--out', path.join(tmp, 'bad-out'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SCH_ERR_BAD_YAML/);
    assert.match(r.stderr, /bad\.yaml:4:\d+: messages\.A\.fields\.x: unknown type "nope"/);
  });

  it('a missing flatc exits 1 with SCH_ERR_FLATC', async () => {
    const r = await cli('--in', yaml, '--out', path.join(tmp, 'x'), '--flatc', path.join(tmp, 'no-flatc'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SCH_ERR_FLATC: flatc not found/);
  });

  it('bad arguments exit 2 with one line pointing to --help', async () => {
    const r = await cli('--out');
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "gen: option '--out <value>' argument missing (see --help)\n");
  });
});
