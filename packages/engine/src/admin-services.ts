/**
 * The REPL's commands on the game services (docs/repl.md): `logs` (player logs), `lb`
 * (leaderboards), `mail` (mailboxes) and `chat` (mutes and channel history). Those that change
 * something need a writing session (a credential with write: true and a REPL started with --write).
 */
import { CodedError, ErrorCodes } from '@gos/schema';
import { runOperation } from '@gos/leaderboard';
import type { EngineContext } from './engine-context.js';
import type { MailOp } from './mail-records.js';

/** Leaderboard operations that change boards: `lb` runs them only for a writing session. */
const LEADERBOARD_WRITES: ReadonlySet<string> = new Set(['create', 'delete', 'submit', 'remove']);
/** Mail operations the REPL offers (`claim` is the player's, in its scene), and those that change mailboxes. */
const MAIL_COMMANDS: ReadonlySet<string> = new Set(['send', 'list', 'get', 'counts', 'read', 'delete']);
const MAIL_WRITES: ReadonlySet<string> = new Set(['send', 'read', 'delete']);
/** Chat operations, and those that change something. */
const CHAT_COMMANDS: ReadonlySet<string> = new Set(['mute', 'unmute', 'muted', 'history', 'blocked']);
const CHAT_WRITES: ReadonlySet<string> = new Set(['mute', 'unmute']);
/** The longest mute the REPL sets: a year. */
const MAX_MUTE_MINUTES = 365 * 24 * 60;

function readOnly(what: string): CodedError {
  return new CodedError(ErrorCodes.ENG_ERR_ADMIN_READ_ONLY, `${what}: it needs a credential with write: true and a REPL started with --write`);
}

/** Run `logs`, `lb`, `mail` or `chat` with `args` (as the REPL sent them). */
export async function runServiceCommand(ctx: EngineContext, command: 'logs' | 'lb' | 'mail' | 'chat', args: unknown[], write: boolean): Promise<unknown> {
  const { o } = ctx;
  const str = (i: number, what: string): string => {
    const v = args[i];
    if (typeof v !== 'string' || v === '') throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `${command} needs ${what}`);
    return v;
  };
  switch (command) {
    case 'logs':
      return logs(ctx, str(0, 'a player id'), args.slice(1));
    case 'lb': {
      const op = str(0, 'a leaderboard operation (list, page, get, around, count, periods, archived, archivedMember; with --write also create, submit, remove, delete)');
      if (LEADERBOARD_WRITES.has(op) && !write) throw readOnly(`lb ${op} changes a board`);
      if (o.leaderboards === null) throw new CodedError(ErrorCodes.LB_ERR_NOT_CONFIGURED, `engine ${o.engineId} runs without leaderboards`);
      return runOperation(o.leaderboards, op, args.slice(1));
    }
    case 'mail': {
      const op = str(0, 'a mail operation (list, get, counts; with --write also send, read, delete)');
      if (!isMailCommand(op)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `mail ${op}: the operations are ${[...MAIL_COMMANDS].join(', ')}`);
      if (MAIL_WRITES.has(op) && !write) throw readOnly(`mail ${op} changes mailboxes`);
      return ctx.mail.run({ op, args: args.slice(1) }, '');
    }
    case 'chat': {
      const op = str(0, 'a chat operation (muted, history, blocked; with --write also mute, unmute)');
      if (!CHAT_COMMANDS.has(op)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `chat ${op}: the operations are ${[...CHAT_COMMANDS].join(', ')}`);
      if (CHAT_WRITES.has(op) && !write) throw readOnly(`chat ${op} changes who may talk`);
      const chat = o.chat;
      if (chat === null) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `engine ${o.engineId} has no chat backend (EngineOptions.chat)`);
      switch (op) {
        case 'mute': {
          const playerId = str(1, 'a player id');
          const minutes = Number(args[2]);
          if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MUTE_MINUTES) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `chat mute needs minutes, 1–${MAX_MUTE_MINUTES}`);
          const until = Date.now() + minutes * 60_000;
          await chat.mute(playerId, until);
          return { playerId, mutedUntil: new Date(until).toISOString() };
        }
        case 'unmute': {
          const playerId = str(1, 'a player id');
          await chat.mute(playerId, 0);
          return { playerId, mutedUntil: null };
        }
        case 'muted': {
          const playerId = str(1, 'a player id');
          const until = await chat.mutedUntil(playerId);
          return { playerId, mutedUntil: until === 0 ? null : new Date(until).toISOString() };
        }
        case 'blocked':
          return chat.blocked(str(1, 'a player id'));
        default: {
          const limit = args[2] === undefined ? 20 : Number(args[2]);
          const lines = await chat.history(str(1, 'a channel (world, scene:<id>, group:<id>, p:<playerId>)'), limit);
          return lines.map((l) => ({ id: l.id, at: new Date(l.at).toISOString(), from: l.from, name: l.name, text: l.text }));
        }
      }
    }
  }
}

/** `logs <playerId> [from] [to] [limit]`: a player's log events, oldest first; times as ISO text or ms since the epoch. */
async function logs(ctx: EngineContext, playerId: string, rest: unknown[]): Promise<unknown> {
  const time = (v: unknown, what: string): number | undefined => {
    if (v === undefined || v === null || v === '') return undefined;
    const ms = typeof v === 'number' ? v : typeof v === 'string' ? (/^\d+$/.test(v) ? Number(v) : Date.parse(v)) : NaN;
    if (!Number.isSafeInteger(ms) || ms < 0) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `logs: ${what} is a time (ISO 8601 or ms since the epoch), got ${String(v)}`);
    return ms;
  };
  const from = time(rest[0], 'from');
  const to = time(rest[1], 'to');
  const limit = rest[2] === undefined ? 100 : Number(rest[2]);
  const rows = await ctx.o.store.playerLogs.query({ playerId, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }), limit });
  return rows.map((r) => ({ at: new Date(r.at).toISOString(), event: r.event, sceneId: r.sceneId, fields: JSON.parse(r.fields) as unknown }));
}

function isMailCommand(op: string): op is Exclude<MailOp, 'reserve' | 'claim' | 'release'> {
  return MAIL_COMMANDS.has(op);
}
