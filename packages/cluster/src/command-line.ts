/**
 * The command line of every process entry (demo, cluster roles, bench): node's `parseArgs` in
 * strict mode plus the two conventions every tool keeps. `--help`/`-h` prints the usage on
 * stdout and exits 0; an unknown flag or a bad value prints one line on stderr and exits 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A tool's name (`gos-status`, as it prefixes its errors) and its usage text. */
export interface CommandLineTool {
  readonly name: string;
  readonly usage: string;
}

/** What `parseArgs` may be told, less `args` and `strict` (always strict) and `--help` (always there). */
export type CommandLineConfig = Omit<ParseArgsConfig, 'args' | 'strict' | 'tokens'>;

type Parsed<T extends CommandLineConfig> = ReturnType<typeof parseArgs<T & { strict: true }>>;

/** The outcome of reading a command line, without acting on it. */
export type CommandLineOutcome<T extends CommandLineConfig> =
  | { readonly kind: 'run'; readonly values: Parsed<T>['values']; readonly positionals: Parsed<T>['positionals'] }
  | { readonly kind: 'help'; readonly stdout: string }
  | { readonly kind: 'error'; readonly stderr: string };

/** The one-line error of `tool`: `gos-status: unknown option '--bogus' (see --help)`. */
export function usageErrorLine(tool: CommandLineTool, message: string): string {
  return `${tool.name}: ${message.replace(/\s+/g, ' ').trim()} (see --help)`;
}

/** Node's first sentence (the rest explains the `--` separator at length), lower-cased: `unknown option '--bogus'`. */
function describe(err: unknown): string {
  const first = (err instanceof Error ? err.message : String(err)).split(/\.\s/)[0]!;
  return first.charAt(0).toLowerCase() + first.slice(1);
}

/** Read `argv` against `config` (plus `--help`/`-h`), acting on nothing: the testable half of {@link parseCommandLine}. */
export function readCommandLine<T extends CommandLineConfig>(tool: CommandLineTool, config: T, argv: readonly string[]): CommandLineOutcome<T> {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ ...config, args: [...argv], strict: true, options: { ...config.options, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    return { kind: 'error', stderr: usageErrorLine(tool, describe(err)) };
  }
  if (parsed.values['help'] === true) return { kind: 'help', stdout: tool.usage };
  const { values, positionals } = parsed as unknown as Parsed<T>;
  return { kind: 'run', values, positionals };
}

/** The parsed command line, and the way to refuse a bad value in the same one-line style. */
export interface CommandLine<T extends CommandLineConfig> {
  readonly values: Parsed<T>['values'];
  readonly positionals: Parsed<T>['positionals'];
  /** Print `<name>: <message> (see --help)` on stderr and exit 2. */
  readonly fail: (message: string) => never;
}

/**
 * Parse this process's arguments (or `argv`). On `--help` print `tool.usage` and exit 0; on an
 * unknown option, a missing value or an unexpected argument print one line and exit 2.
 */
export function parseCommandLine<T extends CommandLineConfig>(tool: CommandLineTool, config: T, argv: readonly string[] = process.argv.slice(2)): CommandLine<T> {
  const fail = (message: string): never => {
    process.stderr.write(`${usageErrorLine(tool, message)}\n`);
    process.exit(2);
  };
  const outcome = readCommandLine(tool, config, argv);
  if (outcome.kind === 'help') {
    process.stdout.write(`${outcome.stdout.trimEnd()}\n`);
    process.exit(0);
  }
  if (outcome.kind === 'error') {
    process.stderr.write(`${outcome.stderr}\n`);
    process.exit(2);
  }
  return { values: outcome.values, positionals: outcome.positionals, fail };
}
