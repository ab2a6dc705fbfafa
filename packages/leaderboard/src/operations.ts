/**
 * The leaderboard API as data: an operation's name and its arguments (JSON), checked, run on a
 * {@link LeaderboardApi}. How a scene thread's `scene.leaderboards` reaches the engine's main
 * thread, and how tools (the REPL) name operations.
 */
import { z } from 'zod';
import { CodedError, ErrorCodes } from '@gos/schema';
import { definitionInput } from './definition.js';
import type { LeaderboardApi } from './types.js';

/** Optional arguments arrive as null from JSON (`[a, undefined]` is written `[a,null]`). */
const opt = <T extends z.ZodType>(t: T) => t.nullish().transform((v) => v ?? undefined);
const name = z.string();
const member = z.string();
const range = opt(z.strictObject({ offset: z.number().optional(), limit: z.number().optional() }));

interface Operation {
  /** Checks the arguments' shape (their values are the method's to check), then runs the method. */
  run(api: LeaderboardApi, args: readonly unknown[]): Promise<unknown>;
}

function operation<T extends z.ZodTuple>(op: string, shape: T, run: (api: LeaderboardApi, args: z.output<T>) => Promise<unknown>): Operation {
  const arity = shape.def.items.length;
  return {
    run(api, args) {
      // Trailing optional arguments may be left out.
      const full = [...args];
      while (full.length < arity) full.push(undefined);
      const parsed = shape.safeParse(full);
      if (!parsed.success) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `bad arguments for leaderboard ${op}: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`);
      return run(api, parsed.data);
    },
  };
}

const OPERATIONS = {
  create: operation('create', z.tuple([name, definitionInput]), (lb, [b, def]) => lb.create(b, def)),
  list: operation('list', z.tuple([]), (lb) => lb.list()),
  delete: operation('delete', z.tuple([name]), (lb, [b]) => lb.delete(b)),
  submit: operation('submit', z.tuple([name, member, z.number(), opt(z.strictObject({ data: z.unknown() }))]), (lb, [b, m, score, o]) => lb.submit(b, m, score, o)),
  get: operation('get', z.tuple([name, member]), (lb, [b, m]) => lb.get(b, m)),
  around: operation('around', z.tuple([name, member, opt(z.strictObject({ before: z.number().optional(), after: z.number().optional() }))]), (lb, [b, m, o]) => lb.around(b, m, o)),
  page: operation('page', z.tuple([name, range]), (lb, [b, o]) => lb.page(b, o)),
  count: operation('count', z.tuple([name]), (lb, [b]) => lb.count(b)),
  remove: operation('remove', z.tuple([name, member]), (lb, [b, m]) => lb.remove(b, m)),
  periods: operation('periods', z.tuple([name, opt(z.strictObject({ limit: z.number().optional() }))]), (lb, [b, o]) => lb.periods(b, o)),
  archived: operation('archived', z.tuple([name, z.number(), range]), (lb, [b, p, o]) => lb.archived(b, p, o)),
  archivedMember: operation('archivedMember', z.tuple([name, z.number(), member]), (lb, [b, p, m]) => lb.archivedMember(b, p, m)),
} as const satisfies Record<string, Operation>;

/** The name of a {@link LeaderboardApi} method. */
export type LeaderboardOp = keyof typeof OPERATIONS;

export function isLeaderboardOp(op: unknown): op is LeaderboardOp {
  return typeof op === 'string' && Object.hasOwn(OPERATIONS, op);
}

/**
 * Run method `op` with `args` (as decoded from JSON: trailing optional arguments may be null or
 * missing). Arguments of the wrong shape are refused with `OPT_ERR_INVALID`; the method checks
 * their values itself.
 */
export async function runOperation(api: LeaderboardApi, op: string, args: readonly unknown[]): Promise<unknown> {
  if (!isLeaderboardOp(op)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `unknown leaderboard operation ${JSON.stringify(op).slice(0, 80)}`);
  return OPERATIONS[op].run(api, args);
}
