#!/usr/bin/env node
/**
 * gos-gen: protocol YAML → .fbs + flatc TypeScript + protocol.ts.
 *
 *   node packages/schema/dist/bin/gen.js                                  regenerate core, demo and bench
 *   node packages/schema/dist/bin/gen.js --check                          check them, write nothing
 *   node packages/schema/dist/bin/gen.js --in a.yaml [b.yaml] --out dir [--check] [--flatc path]
 *
 * Exit codes: 0 ok, 1 stale files (--check) or generation failed, 2 bad arguments.
 * Environment: FLATC overrides the flatc executable when --flatc is not given.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, isCodedError } from '../src/errors.js';
import { checkFresh, defaultTargets, findWorkspaceRoot, generate } from '../src/codegen/generate.js';

const USAGE = `usage: gen [--in <file.yaml>... --out <dir>] [--check] [--flatc <path>]
  with no --in/--out: regenerate the core and demo protocols of this repository`;

interface Args {
  inputs: string[];
  outDir: string | null;
  check: boolean;
  flatc: string | null;
}

function parseArgs(argv: readonly string[]): Args | string {
  const args: Args = { inputs: [], outDir: null, check: false, flatc: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string | null => {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) return null;
      i++;
      return v;
    };
    if (a === '--check') args.check = true;
    else if (a === '--in') {
      let v = value();
      if (v === null) return '--in needs at least one file';
      while (v !== null) {
        args.inputs.push(v);
        v = value();
      }
    } else if (a === '--out') {
      args.outDir = value();
      if (args.outDir === null) return '--out needs a directory';
    } else if (a === '--flatc') {
      args.flatc = value();
      if (args.flatc === null) return '--flatc needs a path';
    } else if (a === '--help' || a === '-h') return '';
    else return `unknown argument "${a}"`;
  }
  if ((args.inputs.length === 0) !== (args.outDir === null)) return '--in and --out go together';
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    if (args !== '') console.error(`gen: ${args}`);
    console.error(USAGE);
    return args === '' ? 0 : 2;
  }
  let targets: { inputs: string[]; outDir: string }[];
  let root: string | null;
  if (args.outDir !== null) {
    targets = [{ inputs: args.inputs, outDir: args.outDir }];
    root = findWorkspaceRoot(path.dirname(path.resolve(args.inputs[0]!)));
  } else {
    root = findWorkspaceRoot(process.cwd()) ?? findWorkspaceRoot(path.dirname(fileURLToPath(import.meta.url)));
    if (root === null) {
      console.error('gen: no workspace root (package.json with "workspaces") above the current directory');
      return 2;
    }
    targets = defaultTargets(root);
  }
  const flatc = args.flatc ?? process.env['FLATC'] ?? undefined;
  const show = (file: string): string => path.relative(process.cwd(), file) || file;

  const stale: string[] = [];
  for (const t of targets) {
    const options = { inputs: t.inputs, outDir: t.outDir, flatc, rootDir: root ?? undefined };
    if (args.check) {
      stale.push(...(await checkFresh(options)));
    } else {
      const { files } = await generate(options);
      console.log(`gen: ${t.inputs.map(show).join(', ')} → ${show(t.outDir)} (${files.length} files)`);
    }
  }
  if (stale.length > 0) {
    console.error(`${ErrorCodes.SCH_ERR_STALE_GENERATED}: generated files are stale:\n${stale.map((f) => `  ${show(f)}`).join('\n')}\nRegenerate with: npm run gen`);
    return 1;
  }
  if (args.check) console.log('gen: generated files are fresh');
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(isCodedError(err) ? `${err.code}: ${err.message}` : err);
    process.exitCode = 1;
  },
);
