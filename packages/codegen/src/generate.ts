/**
 * The protocol generator (`gos-gen`): YAML → `<namespace>.fbs`, flatc's TypeScript in `fbs/`,
 * and `protocol.ts`. Node-only (fs, child_process): its own package, so that what runs in a
 * browser (@gos/schema's runtime, the client) never depends on it or on `yaml`.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodedError, ErrorCodes } from '@gos/schema';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { emitFbs, header } from './emit-fbs.js';
import { emitTs } from './emit-ts.js';
import { parseProtocol, type ProtocolSource } from './parse.js';

export interface GenerateOptions {
  /** Protocol YAML files. Together they make one protocol: namespace and version must agree. */
  readonly inputs: readonly string[];
  /** Directory receiving `<namespace>.fbs`, `fbs/` (flatc's TypeScript) and `protocol.ts`. */
  readonly outDir: string;
  /** The flatc executable. @default 'flatc' (looked up on PATH) */
  readonly flatc?: string;
  /**
   * Module the generated code imports its runtime from.
   * @default '@gos/schema'; a relative path to this package's `src/codec-runtime.js` when outDir is inside this package
   */
  readonly runtimeImport?: string;
  /**
   * Directory the YAML paths in generated headers are relative to.
   * @default the workspace root above the first input (the nearest package.json with `workspaces`), else the input's directory
   */
  readonly rootDir?: string;
}

export interface GenerateResult {
  /** Every generated file, as `path.join(outDir, relative path)`. */
  readonly files: string[];
}

/** Subfolder of outDir that holds flatc's output; gos-gen owns every file in it. */
export const FLATC_SUBDIR = 'fbs';
/** Name of the generated protocol module. */
export const PROTOCOL_FILE = 'protocol.ts';


/** Walk up from `from` to the nearest directory whose package.json satisfies `match`. */
function findUp(from: string, match: (pkg: Record<string, unknown>) => boolean): string | null {
  let dir = path.resolve(from);
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if (match(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)) return dir;
      } catch {
        // Not JSON: keep walking.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** The monorepo root above `from`: the nearest package.json declaring `workspaces`. */
export function findWorkspaceRoot(from: string): string | null {
  return findUp(from, (pkg) => Array.isArray(pkg['workspaces']));
}

/** The runtime package's root (packages/schema), found from where `@gos/schema` resolves. */
function schemaPackageRoot(): string | null {
  return findUp(path.dirname(fileURLToPath(import.meta.resolve('@gos/schema'))), (pkg) => pkg['name'] === '@gos/schema');
}

const posix = (p: string): string => p.split(path.sep).join('/');

function defaultRuntimeImport(outDir: string): string {
  const root = schemaPackageRoot();
  if (root === null) return '@gos/schema';
  const inside = path.relative(root, path.resolve(outDir));
  if (inside.startsWith('..') || path.isAbsolute(inside)) return '@gos/schema';
  // Inside @gos/schema: a relative import, since a package cannot import its own entry.
  const rel = posix(path.relative(path.resolve(outDir), path.join(root, 'src', 'codec-runtime.js')));
  return rel.startsWith('.') ? rel : `./${rel}`;
}

function runFlatc(flatc: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(flatc, args, { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      if (err === null) {
        resolve(stdout);
        return;
      }
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      const detail = missing
        ? `flatc not found at "${flatc}": install flatbuffers-compiler (apt install flatbuffers-compiler) or pass --flatc / FLATC`
        : `flatc ${args.join(' ')} failed: ${`${stderr}${stdout}`.trim() || err.message}`;
      reject(new CodedError(ErrorCodes.SCH_ERR_FLATC, detail, { cause: err }));
    });
  });
}

/**
 * Produce every generated file in memory, keyed by path relative to outDir.
 * @throws CodedError `SCH_ERR_BAD_YAML`, `SCH_ERR_FLATC`
 */
export async function render(options: GenerateOptions): Promise<Map<string, string>> {
  if (options.inputs.length === 0) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'inputs: at least one protocol YAML file is required');
  const first = path.resolve(options.inputs[0]!);
  const rootDir = path.resolve(options.rootDir ?? findWorkspaceRoot(path.dirname(first)) ?? path.dirname(first));
  const sources: ProtocolSource[] = [];
  for (const input of options.inputs) {
    let text: string;
    try {
      text = await readFile(input, 'utf8');
    } catch (err) {
      throw new CodedError(ErrorCodes.SCH_ERR_BAD_YAML, `${input}: cannot read: ${(err as Error).message}`, { cause: err });
    }
    sources.push({ path: input, displayPath: posix(path.relative(rootDir, path.resolve(input))), text });
  }
  const model = parseProtocol(sources);
  const base = model.namespace.replace(/\./g, '_');
  const fbs = emitFbs(model);
  const files = new Map<string, string>([[`${base}.fbs`, fbs]]);

  const flatc = options.flatc ?? 'flatc';
  const version = (await runFlatc(flatc, ['--version'])).trim();
  const tmp = await mkdtemp(path.join(tmpdir(), 'gos-gen-'));
  try {
    await writeFile(path.join(tmp, `${base}.fbs`), fbs);
    await runFlatc(flatc, ['--ts', '--ts-flat-files', '-o', path.join(tmp, 'out'), path.join(tmp, `${base}.fbs`)]);
    const outputs = (await readdir(path.join(tmp, 'out'))).filter((f) => f.endsWith('.ts')).sort();
    if (!outputs.includes(`${base}_generated.ts`)) {
      throw new CodedError(ErrorCodes.SCH_ERR_FLATC, `flatc (${version}) wrote ${outputs.join(', ') || 'nothing'}, expected ${base}_generated.ts`);
    }
    for (const f of outputs) {
      const ts = await readFile(path.join(tmp, 'out', f), 'utf8');
      files.set(`${FLATC_SUBDIR}/${f}`, `${header(model)}\n// TypeScript by ${version} from ${base}.fbs.\n/* eslint-disable */\n${ts}`);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }

  const runtimeImport = options.runtimeImport ?? defaultRuntimeImport(options.outDir);
  files.set(PROTOCOL_FILE, emitTs(model, { runtimeImport, flatcImport: `./${FLATC_SUBDIR}/${base}_generated.js` }));
  return files;
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return null;
  }
}

/** Files in outDir/fbs that the generator would not produce (left over from an old namespace). */
async function leftovers(outDir: string, files: ReadonlyMap<string, string>): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(path.join(outDir, FLATC_SUBDIR));
  } catch {
    return [];
  }
  return names
    .map((n) => `${FLATC_SUBDIR}/${n}`)
    .filter((rel) => !files.has(rel))
    .sort();
}

/**
 * Generate the protocol's files into `outDir`. Deterministic: the same YAML and flatc version
 * give byte-identical files. Files whose content is unchanged are not rewritten.
 * @throws CodedError `SCH_ERR_BAD_YAML` (message names file, line and field path), `SCH_ERR_FLATC`
 */
export async function generate(options: GenerateOptions): Promise<GenerateResult> {
  const files = await render(options);
  const written: string[] = [];
  for (const [rel, content] of files) {
    const file = path.join(options.outDir, rel);
    if ((await readIfExists(file)) !== content) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
    }
    written.push(file);
  }
  for (const rel of await leftovers(options.outDir, files)) await rm(path.join(options.outDir, rel), { force: true });
  return { files: written };
}

/**
 * Compare what the YAML generates with what is in `outDir`, writing nothing.
 * @returns the stale files (different, missing, or left over in `fbs/`) as `path.join(outDir, rel)`; empty when fresh
 * @throws CodedError `SCH_ERR_BAD_YAML`, `SCH_ERR_FLATC`
 */
export async function checkFresh(options: GenerateOptions): Promise<string[]> {
  const files = await render(options);
  const stale: string[] = [];
  for (const [rel, content] of files) {
    if ((await readIfExists(path.join(options.outDir, rel))) !== content) stale.push(path.join(options.outDir, rel));
  }
  for (const rel of await leftovers(options.outDir, files)) stale.push(path.join(options.outDir, rel));
  return stale;
}

/** The file at the workspace root that lists the protocols `gos-gen` generates with no arguments. */
export const TARGETS_FILE = 'codegen.yaml';

const TargetsSchema = z.strictObject({
  targets: z
    .array(
      z.strictObject({
        /** Protocol YAML files, relative to the workspace root; together they make one protocol. */
        inputs: z.array(z.string().min(1)).min(1),
        /** Where the generated files go, relative to the workspace root. */
        out: z.string().min(1),
      }),
    )
    .min(1),
});

export interface Target {
  readonly inputs: string[];
  readonly outDir: string;
}

/**
 * The protocols a workspace generates (`npm run gen` with no arguments, and what the freshness
 * test checks): `codegen.yaml` at its root, paths in it relative to the root.
 * @throws CodedError `OPT_ERR_INVALID` naming the file when it is missing, not YAML, or not `{ targets: [{ inputs, out }] }`.
 */
export function readTargets(root: string): Target[] {
  const file = path.join(root, TARGETS_FILE);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `${file}: cannot read the protocols to generate: ${(err as Error).message}`, { cause: err });
  }
  const parsed = TargetsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `${file}: ${problems}`);
  }
  return parsed.data.targets.map((t) => ({ inputs: t.inputs.map((i) => path.resolve(root, i)), outDir: path.resolve(root, t.out) }));
}
