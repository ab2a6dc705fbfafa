import type { BoardDefinitionInput, BoardInfo, ClosedPeriod, Entry, LeaderboardApi, Page, SubmitResult } from '@gos/leaderboard';
import { CodedError, ErrorCodes } from '@gos/schema';
import type { SceneCalls } from './runtime-calls.js';

// The answers, checked as they are read (the main thread's JSON), never cast.
type Guard<T> = (v: unknown) => v is T;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isEntry = (v: unknown): v is Entry => isRecord(v) && typeof v['memberId'] === 'string' && isNumber(v['score']) && isNumber(v['rank']) && 'data' in v;
const isEntryOrNull = (v: unknown): v is Entry | null => v === null || isEntry(v);
const listOf =
  <T>(guard: Guard<T>): Guard<T[]> =>
  (v): v is T[] =>
    Array.isArray(v) && v.every(guard);
const isSubmitResult = (v: unknown): v is SubmitResult => isRecord(v) && isNumber(v['score']) && isNumber(v['rank']) && isBoolean(v['changed']);
const isPage = (v: unknown): v is Page => isRecord(v) && isNumber(v['total']) && listOf(isEntry)(v['entries']);
const isBoardInfo = (v: unknown): v is BoardInfo =>
  isRecord(v) && typeof v['name'] === 'string' && isRecord(v['definition']) && isNumber(v['createdAt']) && isNumber(v['members']) && isNumber(v['periodStart']) && (v['periodEnd'] === null || isNumber(v['periodEnd']));
const isClosedPeriod = (v: unknown): v is ClosedPeriod => isRecord(v) && isNumber(v['periodStart']) && isNumber(v['periodEnd']) && isNumber(v['members']) && isNumber(v['archivedAt']);

/**
 * `scene.leaderboards` (and `svc.leaderboards`): every method is relayed to the engine's main
 * thread (FromScene.LEADERBOARD), which runs it on the engine's leaderboards and answers. The
 * arguments are checked there; errors come back as the same CodedErrors, plus
 * `ENG_ERR_CALL_TIMEOUT` (no answer within 5 s) and `LB_ERR_NOT_CONFIGURED` (an engine without
 * leaderboards).
 */
export class SceneLeaderboards implements LeaderboardApi {
  readonly #calls: SceneCalls;

  constructor(calls: SceneCalls) {
    this.#calls = calls;
  }

  async #run<T>(guard: Guard<T>, op: keyof LeaderboardApi, ...args: unknown[]): Promise<T> {
    const result = await this.#calls.leaderboard(op, args);
    if (!guard(result)) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `the answer to leaderboards.${op} does not have the expected fields`);
    return result;
  }

  create(name: string, definition: BoardDefinitionInput): Promise<BoardInfo> {
    return this.#run(isBoardInfo, 'create', name, definition);
  }
  list(): Promise<BoardInfo[]> {
    return this.#run(listOf(isBoardInfo), 'list');
  }
  delete(name: string): Promise<boolean> {
    return this.#run(isBoolean, 'delete', name);
  }
  submit(board: string, memberId: string, score: number, options?: { readonly data?: unknown }): Promise<SubmitResult> {
    return this.#run(isSubmitResult, 'submit', board, memberId, score, options);
  }
  get(board: string, memberId: string): Promise<Entry | null> {
    return this.#run(isEntryOrNull, 'get', board, memberId);
  }
  around(board: string, memberId: string, options?: { readonly before?: number; readonly after?: number }): Promise<Entry[]> {
    return this.#run(listOf(isEntry), 'around', board, memberId, options);
  }
  page(board: string, options?: { readonly offset?: number; readonly limit?: number }): Promise<Page> {
    return this.#run(isPage, 'page', board, options);
  }
  count(board: string): Promise<number> {
    return this.#run(isNumber, 'count', board);
  }
  remove(board: string, memberId: string): Promise<boolean> {
    return this.#run(isBoolean, 'remove', board, memberId);
  }
  periods(board: string, options?: { readonly limit?: number }): Promise<ClosedPeriod[]> {
    return this.#run(listOf(isClosedPeriod), 'periods', board, options);
  }
  archived(board: string, periodStart: number, options?: { readonly offset?: number; readonly limit?: number }): Promise<Entry[]> {
    return this.#run(listOf(isEntry), 'archived', board, periodStart, options);
  }
  archivedMember(board: string, periodStart: number, memberId: string): Promise<Entry | null> {
    return this.#run(isEntryOrNull, 'archivedMember', board, periodStart, memberId);
  }
}
