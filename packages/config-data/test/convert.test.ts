/**
 * The spreadsheet converter (docs/config-data.md) on real .xlsx files written with exceljs:
 * the bundles of each side, the generated TypeScript compiled and run, and every kind of bad
 * sheet reported as file:sheet:row:column with nothing written.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { SqliteStore } from '@gos/store';
import { columnLetter, convertFolder } from '../src/index.js';
import { GAME, tempDir, writeWorkbook } from './workbooks.js';

const run = promisify(execFile);
const TSC = fileURLToPath(new URL('../../../../node_modules/typescript/bin/tsc', import.meta.url));
const ESBUILD = fileURLToPath(new URL('../../../../node_modules/esbuild/bin/esbuild', import.meta.url));
const CLI = fileURLToPath(new URL('../bin/config.js', import.meta.url));

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.remove();
});

async function game(name: string, change: (sheets: typeof GAME) => void = () => {}): Promise<string> {
  const sheets = structuredClone(GAME);
  change(sheets);
  const d = join(dir.path, name);
  await import('node:fs/promises').then((fs) => fs.mkdir(d));
  for (const [file, book] of Object.entries(sheets)) await writeWorkbook(d, file, book);
  return d;
}

test('column letters', () => {
  assert.deepEqual([0, 1, 25, 26, 27, 51, 52, 701, 702].map(columnLetter), ['A', 'B', 'Z', 'AA', 'AB', 'AZ', 'BA', 'ZZ', 'AAA']);
});

test('a folder of workbooks becomes a server and a client bundle with only their columns; the same sheets give the same version', async () => {
  const d = await game('ok');
  const r = await convertFolder({ dir: d });
  assert.deepEqual(r.problems, []);
  const server = JSON.parse(await readFile(join(d, 'out', 'server.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(server, {
    format: 1,
    version: r.server?.version,
    side: 'server',
    tables: {
      Item: [
        { id: 1, name: 'Potion', price: 10, levels: [1, 2, 3], weapon: null, extra: { heal: 50 } },
        { id: 2, name: 'Iron Key', price: 20, levels: [], weapon: 'sword', extra: [] },
        { id: 3, name: 'Sword scroll', price: 100, levels: [7], weapon: 'sword', extra: null },
      ],
      Weapon: [
        { id: 'sword', damage: 12.5 },
        { id: 'bow', damage: 8 },
      ],
    },
    globals: { maxLevel: 60, serverTick: 100 },
  });
  const client = JSON.parse(await readFile(join(d, 'out', 'client.json'), 'utf8')) as { tables: Record<string, unknown>; globals: unknown };
  assert.deepEqual(client.tables['Item'], [
    { id: 1, name: 'Potion', stack: true, weapon: null },
    { id: 2, name: 'Iron Key', stack: false, weapon: 'sword' },
    { id: 3, name: 'Sword scroll', stack: true, weapon: 'sword' },
  ]);
  assert.deepEqual(client.tables['Weapon'], [
    { id: 'sword', damage: 12.5, tags: ['sharp', 'metal'] },
    { id: 'bow', damage: 8, tags: [] },
  ]);
  assert.deepEqual(client.globals, { maxLevel: 60, motd: 'Welcome!' });
  assert.notEqual(r.server?.version, r.client?.version);
  const again = await convertFolder({ dir: d, out: join(d, 'again') });
  assert.equal(again.server?.version, r.server?.version, 'same sheets, same version');
});

test('the generated TypeScript type-checks (strict) and gives rows by id, lists and globals', async () => {
  const d = await game('ts');
  await convertFolder({ dir: d });
  const out = join(d, 'out');
  // A program using the server types the way game code would: compiled with the project's strict settings.
  await writeFile(join(out, 'package.json'), '{ "type": "module" }\n');
  await writeFile(
    join(out, 'use.ts'),
    `import { readFileSync } from 'node:fs';
import { loadConfig, type Item } from './config.js';
const config = loadConfig(JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')));
const potion: Item = config.Item.require(1);
const price: number = potion.price;
const weapon: string | null = potion.weapon;
const levels: readonly number[] = potion.levels;
const cap: number = config.globals.maxLevel;
// @ts-expect-error the client's columns are not on the server's rows
potion.stack;
console.log(JSON.stringify({ version: config.version, price, weapon, levels, cap, sword: config.Weapon.get('sword')?.damage, none: config.Item.get(99) ?? null, size: config.Item.size, ids: config.Item.list().map((i) => i.id) }));
try { config.Item.require(99); } catch (err) { console.log((err as Error).message); }
`,
  );
  await run(process.execPath, [TSC, '--noEmit', '--strict', '--noUncheckedIndexedAccess', '--exactOptionalPropertyTypes', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--typeRoots', fileURLToPath(new URL('../../../../node_modules/@types', import.meta.url)), join(out, 'use.ts'), join(out, 'config.client.ts')]).catch((err: { stdout: string }) => assert.fail(`tsc: ${err.stdout}`));
  await run(ESBUILD, [join(out, 'use.ts'), join(out, 'config.ts'), '--format=esm', `--outdir=${join(out, 'js')}`]);
  const { stdout } = await run(process.execPath, [join(out, 'js', 'use.js'), join(out, 'server.json')]);
  const [line, missing] = stdout.trim().split('\n');
  assert.deepEqual(JSON.parse(line!), { version: (JSON.parse(await readFile(join(out, 'server.json'), 'utf8')) as { version: string }).version, price: 10, weapon: null, levels: [1, 2, 3], cap: 60, sword: 12.5, none: null, size: 3, ids: [1, 2, 3] });
  assert.equal(missing, 'config: no Item with id 99');
});

test('every kind of bad sheet is reported as file:sheet:row:column, all at once, and nothing is written', async () => {
  const d = await game('bad', (s) => {
    const item = s['items.xlsx']!['Item']!;
    item.push([4, 'Dup', 1, true, '1', null, '', '{}']); // fine
    item.push([4, 'Dup again', 1, true, '1', null, '', '{}']); // duplicate id
    item.push([5, 'Bad price', '12x', true, '1', null, '', '{}']); // bad int
    item.push([6, 'Bad bool', 1, 'maybe', '1', null, '', '{}']); // bad bool
    item.push([7, 'Bad list', 1, true, '1|two', null, '', '{}']); // bad list item
    item.push([8, 'Dangling', 1, true, '', 'axe', '', '{}']); // dangling reference
    item.push([9, 'Bad json', 1, true, '', null, '', '{nope']); // bad JSON
    item.push([10, 'Empty price', null, true, '', null, '', '{}']); // empty non-optional
    s['weapons.xlsx']!['Weapon']![1]![1] = 'float'; // unknown type
    s['weapons.xlsx']!['Globals']!.push(['maxLevel', 'int', 'both', 70, 'again']); // duplicate global
    s['weapons.xlsx']!['Bad Name'] = [['x']];
    s['weapons.xlsx']!['Config'] = [['x'], ['int'], ['id'], ['both'], [1]];
    item.push([11, 'Div', { formula: '1/0', result: { error: '#DIV/0!' } } as never, true, '', null, '', '{}']); // a formula's error
  });
  const r = await convertFolder({ dir: d });
  assert.equal(existsSync(join(d, 'out')), false, 'nothing written');
  // The JSON parser's own words vary with the Node version: cut after "not JSON".
  assert.deepEqual([...r.problems].map((p) => p.replace(/(not JSON): .*/, '$1')).sort(), [
    'items.xlsx:Item:11:A: duplicate id 4 (first on row 10)',
    'items.xlsx:Item:12:C: price (int): not an int: "12x"',
    'items.xlsx:Item:13:D: stack (bool): not a bool (true/false, yes/no, 1/0): "maybe"',
    'items.xlsx:Item:14:E: levels (int[]): item 2 of the list: not an int: "two"',
    'items.xlsx:Item:15:F: weapon: no Weapon has id "axe" (a dangling reference)',
    'items.xlsx:Item:16:H: extra (json): not JSON',
    'items.xlsx:Item:17:C: price (int): empty, and the type int is not optional (add ?)',
    'weapons.xlsx:Bad Name: a sheet name is a letter and then letters, digits or _ (it names a table); start it with # to leave the sheet out',
    'weapons.xlsx:Config: Config cannot name a table (the generated TypeScript uses it); rename the sheet',
    'weapons.xlsx:Globals:6:A: global maxLevel is also defined in Globals',
    'items.xlsx:Item:18:C: price (int): the cell is an error (#DIV/0!)',
    'weapons.xlsx:Weapon:2:B: unknown type "float" (int, double, string, bool, json, ref:<Sheet>, each with [] for a list or ? for optional)',
  ].sort());
});

test('header mistakes: no id first, a bad field name, a duplicate field, a ref to no sheet, an unknown side, a short sheet', async () => {
  const d = await game('headers', (s) => {
    s['items.xlsx'] = {
      NoId: [['d'], ['int'], ['key'], ['both'], [1]],
      Fields: [
        ['', '', '', '', ''],
        ['int', 'string', 'string', 'ref:Nowhere', 'int'],
        ['id', '2bad', 'name', 'target', 'name'],
        ['both', 'both', 'both', 'server', 'sideways'],
      ],
      Short: [['only'], ['two rows']],
      ListId: [['d'], ['int[]'], ['id'], ['both']],
    };
  });
  const r = await convertFolder({ dir: d });
  assert.deepEqual([...r.problems].sort(), [
    'items.xlsx:Fields:3:B: field name "2bad" is not an identifier (letters, digits, _; not starting with a digit)',
    'items.xlsx:Fields:3:E: field name appears twice',
    'items.xlsx:Fields:2:D: ref:Nowhere: there is no table sheet Nowhere',
    'items.xlsx:ListId:2:A: the id is an int or a string, not int[]',
    'items.xlsx:NoId:3:A: the first column of a table sheet is its id (field name id)',
    'items.xlsx:Short:1: a table sheet starts with four rows: description, type, field name, side (server, client or both)',
  ].sort());
});

test('npm run config --publish: the server bundle is stored as the latest in force; a folder with problems publishes nothing', async () => {
  const ok = await game('publish');
  const file = join(dir.path, 'publish.db');
  const { stdout } = await run(process.execPath, [CLI, ok, '--publish', '--sqlite', file]);
  assert.match(stdout, /config: published version [0-9a-f]{16} as #1;/);
  const bad = await game('publish-bad', (s) => s['items.xlsx']!['Item']!.push([1, 'dup', 1, true, '', null, '', '{}']));
  assert.equal(await run(process.execPath, [CLI, bad, '--publish', '--sqlite', file]).then(() => 0, (err: { code: number }) => err.code), 1);
  const store = new SqliteStore({ file });
  await store.start();
  try {
    const latest = await store.configBundles.latest();
    const server = await readFile(join(ok, 'out', 'server.json'), 'utf8');
    assert.equal(latest?.seq, 1, 'the bad folder published nothing');
    assert.deepEqual(JSON.parse(latest?.content ?? 'null'), JSON.parse(server));
    assert.equal(latest?.version, (JSON.parse(server) as { version: string }).version);
  } finally {
    await store.close();
  }
  assert.equal(await run(process.execPath, [CLI, ok, '--sqlite', file]).then(() => 0, (err: { code: number }) => err.code), 2, '--sqlite without --publish');
});

test('npm run config: exit 0 with a summary, 1 with the problems on stderr, 2 for a bad command line', async () => {
  const ok = await game('cli-ok');
  const { stdout } = await run(process.execPath, [CLI, ok]);
  assert.match(stdout, /config: 2 tables, version [0-9a-f]{16} \(server\)/);
  const bad = await game('cli-bad', (s) => s['items.xlsx']!['Item']!.push([1, 'dup', 1, true, '', null, '', '{}']));
  const failed = await run(process.execPath, [CLI, bad]).then(() => null, (err: { code: number; stderr: string }) => err);
  assert.equal(failed?.code, 1);
  assert.match(failed?.stderr ?? '', /items\.xlsx:Item:10:A: duplicate id 1 \(first on row 5\)\nconfig: 1 problem; nothing written/);
  const usage = await run(process.execPath, [CLI]).then(() => null, (err: { code: number; stderr: string }) => err);
  assert.equal(usage?.code, 2);
  assert.equal(usage?.stderr, 'config: which folder of workbooks? (see --help)\n');
  assert.equal((await run(process.execPath, [CLI, '--bogus', ok]).then(() => 0, (err: { code: number }) => err.code)), 2);
});
