#!/usr/bin/env node
/**
 * gos-gen: protocol YAML → .fbs + flatc TypeScript + protocol.ts.
 *
 *   node packages/codegen/dist/bin/gen.js                                  regenerate what codegen.yaml lists
 *   node packages/codegen/dist/bin/gen.js --check                          check them, write nothing
 *   node packages/codegen/dist/bin/gen.js --in a.yaml [b.yaml] --out dir [--check] [--flatc path]
 *
 * Exit codes: 0 ok, 1 stale files (--check) or generation failed, 2 bad arguments.
 * Environment: FLATC overrides the flatc executable when --flatc is not given.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ErrorCodes, isCodedError } from '@gos/schema';
import { checkFresh, findWorkspaceRoot, generate, readTargets, TARGETS_FILE } from '../src/generate.js';

const USAGE = `usage: gen [--in <file.yaml>... --out <dir>] [--check] [--flatc <path>]
  with no --in/--out: regenerate the protocols the workspace's codegen.yaml lists
  --in FILE...   protocol YAML files (one or more, after one --in or each after its own)
  --out DIR      where the generated files go
  --check        write nothing; exit 1 if a generated file is stale
  --flatc PATH   the flatc executable (default: $FLATC, else flatc on the PATH)
  -h, --help     this text`;

interface Args {
  inputs: string[];
  outDir: string | null;
  check: boolean;
  flatc: string | null;
}

/** node's parseArgs, strict, with the conventions of every entry (parseCommandLine of @gos/cluster, above this package). */
function readArgs(argv: readonly string[]): Args | { exit: number; line: string } {
  const error = (message: string): { exit: number; line: string } => ({ exit: 2, line: `gen: ${message.charAt(0).toLowerCase()}${message.slice(1)} (see --help)` });
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: { in: { type: 'string', multiple: true }, out: { type: 'string' }, check: { type: 'boolean', default: false }, flatc: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    return error((err as Error).message.split(/\.\s/)[0]!);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { exit: 0, line: USAGE };
  // `--in a.yaml b.yaml`: the files after the first are positionals.
  if (values.in === undefined && positionals.length > 0) return error(`unexpected argument '${positionals[0]}'`);
  const inputs = [...(values.in ?? []), ...positionals];
  if ((inputs.length === 0) !== (values.out === undefined)) return error('--in and --out go together');
  return { inputs, outDir: values.out ?? null, check: values.check, flatc: values.flatc ?? null };
}

async function main(): Promise<number> {
  const args = readArgs(process.argv.slice(2));
  if ('exit' in args) {
    if (args.exit === 0) console.log(args.line);
    else console.error(args.line);
    return args.exit;
  }
  let targets: { inputs: string[]; outDir: string }[];
  let root: string | null;
  if (args.outDir !== null) {
    targets = [{ inputs: args.inputs, outDir: args.outDir }];
    root = findWorkspaceRoot(path.dirname(path.resolve(args.inputs[0]!)));
  } else {
    root = findWorkspaceRoot(process.cwd()) ?? findWorkspaceRoot(path.dirname(fileURLToPath(import.meta.url)));
    if (root === null) {
      console.error(`gen: no workspace root (package.json with "workspaces") above the current directory, to read ${TARGETS_FILE} from`);
      return 2;
    }
    targets = readTargets(root);
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
