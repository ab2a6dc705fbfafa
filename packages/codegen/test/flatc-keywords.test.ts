/**
 * What `gos-gen` lets through and refuses in the name of flatc's other languages rests on how
 * flatc renames keywords (needs flatc, like generated-fresh): keywords it renames are accepted
 * (docs/protocol.md lists how), the ones it emits unchanged are refused by the YAML parser.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { generate } from '../src/generate.js';

const run = promisify(execFile);
const flatc = 'flatc';

/** Every file flatc writes for `lang` from `fbs`, concatenated. */
async function flatcOutput(dir: string, lang: string, fbs: string): Promise<string> {
  const out = path.join(dir, `out-${lang}-${Math.random().toString(36).slice(2)}`);
  await run(flatc, [`--${lang}`, '--gen-object-api', '-o', out, fbs]);
  const texts: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(path.join(d, e.name));
      else texts.push(await readFile(path.join(d, e.name), 'utf8'));
    }
  };
  await walk(out);
  return texts.join('\n');
}

describe('flatc and the keywords of its languages', () => {
  let tmp = '';
  before(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'gos-kw-test-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('renames the keywords gos-gen accepts, in fields and routes', async () => {
    const yaml = path.join(tmp, 'kw.yaml');
    const words = ['from', 'lambda', 'move', 'mod', 'event', 'func', 'when', 'guard', 'rethrow', 'native', 'auto'];
    await writeFile(
      yaml,
      `namespace: kw\nversion: 1\nmessages:\n  Line: { fields: { ${words.map((w) => `${w}: int32`).join(', ')} } }\n` +
        `routes:\n${words.map((w, i) => `  ${w}: { id: ${i + 1}, scene: world, request: Line }`).join('\n')}\n`,
    );
    await generate({ inputs: [yaml], outDir: path.join(tmp, 'gen'), flatc });
    const fbs = path.join(tmp, 'gen', 'kw.fbs');
    // language → [keyword, how flatc writes it]
    const expected: [string, string, RegExp][] = [
      ['python', 'from', /\bfrom_\b/],
      ['python', 'lambda', /\blambda_\b/],
      ['rust', 'move', /\bmove_\b/],
      ['rust', 'mod', /\bmod_\b/],
      ['csharp', 'event', /@event\b/],
      ['go', 'func', /\bfunc_\b/],
      ['kotlin', 'when', /\bwhen_\b/],
      ['swift', 'guard', /\bguard_\b/],
      ['dart', 'rethrow', /\$rethrow\b/],
      ['java', 'native', /\bnative_\b/],
      ['cpp', 'auto', /\bauto_\b/],
    ];
    const outputs = new Map<string, string>();
    for (const [lang, word, renamed] of expected) {
      if (!outputs.has(lang)) outputs.set(lang, await flatcOutput(tmp, lang, fbs));
      assert.match(outputs.get(lang)!, renamed, `${lang} renames "${word}"`);
    }
  });

  it('emits unchanged the names gos-gen refuses', async () => {
    const fbs = path.join(tmp, 'gaps.fbs');
    await writeFile(
      fbs,
      'namespace gaps;\ntable From { x:int; }\ntable List { x:int; }\n' +
        'table T { await:int; dyn:int; consteval:int; precedencegroup:int; f:From; l:List; }\n',
    );
    const cases: [string, RegExp][] = [
      ['python', /def \w+\(builder, await\)/], // a parameter named after a keyword
      ['python', /\bfrom = From\(\)/], // the object API's variable
      ['rust', /fn dyn\(/],
      ['cpp', /\bconsteval\(\)/],
      ['swift', /var precedencegroup\b/],
      ['php', /class List\b/],
    ];
    for (const [lang, unchanged] of cases) assert.match(await flatcOutput(tmp, lang, fbs), unchanged, lang);
  });
});
