/**
 * The chat's rules, on top of a {@link ChatBackend} (docs/chat.md): who may say what where. A line
 * is checked (the sender's rate, mute, length after cleaning, the group it names, the
 * recipient's block list), offered to the game's moderation hook (which may rewrite or drop it),
 * appended to its channel's history and published once for the gateways (each hands it to the
 * sockets of the channel's uWS topic `ch/<name>`). A private line is also held for its recipient
 * until the gateway that has the recipient's socket says it got it ({@link ChatBackend.release}):
 * one offline (or connecting at that moment) gets it at its next connection. At least once: a
 * line held and heard at the same moment may come twice, with the same id.
 */
import { CodedError, ErrorCodes, cleanText, silentLogger, type Logger } from '@gos/schema';
import type { ChannelName, ChatBackend, ChatLine, ChatRetention, NewChatLine } from './types.js';

/** Who says a line: what the gateway knows of the socket's player. */
export interface ChatSender {
  readonly playerId: string;
  readonly name: string;
  /** The account's group (guild), or null. */
  readonly groupId: string | null;
  /** The scene the player is in, or null while it has none. */
  readonly sceneId: string | null;
}

/** Where a line goes. */
export type ChatTarget = { readonly kind: 'world' } | { readonly kind: 'scene' } | { readonly kind: 'group' } | { readonly kind: 'private'; readonly to: string };

/** What the moderation hook sees: the line as it would go out, cleaned. */
export interface ModerationInput {
  readonly channel: ChannelName;
  readonly from: string;
  readonly name: string;
  readonly text: string;
}

export interface ChatServiceOptions {
  readonly backend: ChatBackend;
  /** Encode a line as the push the sockets get (done once per line). */
  readonly encode: (line: ChatLine) => Uint8Array;
  /** Whether a player exists (a private line to an id that is none is refused, and nothing is kept for it). @default every id does */
  readonly isPlayer?: (playerId: string) => Promise<boolean>;
  /** Lines a player may say: `perSecond` on average, `burst` at once. @default { perSecond: 1, burst: 5 } */
  readonly rate?: { readonly perSecond: number; readonly burst: number };
  /** Longest line in code points, after cleaning; longer ones are refused. @default 200 */
  readonly maxLength?: number;
  /** History kept per channel. @default { maxLines: 200, maxAgeMs: 24 h } */
  readonly retention?: ChatRetention;
  /** Private lines held for an offline player: how many, and how long. @default { max: 100, ttlMs: 7 days } */
  readonly held?: { readonly max: number; readonly ttlMs: number };
  /**
   * The game's moderation: the text to send (the same, or rewritten), or null to drop the line
   * (the sender gets `CHAT_ERR_REFUSED`). A hook that throws, or takes longer than
   * `moderateTimeoutMs`, drops the line too (logged).
   */
  readonly moderate?: (line: ModerationInput) => string | null | Promise<string | null>;
  /** @default 2000 */
  readonly moderateTimeoutMs?: number;
  /** The wall clock (mutes end on it). @default Date.now */
  readonly now?: () => number;
  /** A clock that never goes back, in ms (the rate's buckets). @default performance.now */
  readonly monotonicNow?: () => number;
  readonly logger?: Logger;
}

const DEFAULT_RATE = { perSecond: 1, burst: 5 } as const;
const DEFAULT_RETENTION: ChatRetention = { maxLines: 200, maxAgeMs: 24 * 3600_000 };
const DEFAULT_HELD = { max: 100, ttlMs: 7 * 24 * 3600_000 } as const;
/** Idle senders' buckets are forgotten past this many (each is full again after `burst / perSecond`). */
const MAX_BUCKETS = 100_000;

/** The channel a sender's line to `target` goes on. @throws CHAT_ERR_NO_GROUP, CHAT_ERR_REFUSED, OPT_ERR_INVALID */
export function channelOf(sender: ChatSender, target: ChatTarget): ChannelName {
  switch (target.kind) {
    case 'world':
      return 'world';
    case 'scene':
      if (sender.sceneId === null) throw new CodedError(ErrorCodes.CHAT_ERR_REFUSED, 'not in a scene yet');
      return `scene:${sender.sceneId}`;
    case 'group':
      if (sender.groupId === null) throw new CodedError(ErrorCodes.CHAT_ERR_NO_GROUP, 'the player is in no group');
      return `group:${sender.groupId}`;
    case 'private':
      if (target.to === sender.playerId) throw new CodedError(ErrorCodes.CHAT_ERR_REFUSED, 'a private line to oneself');
      if (typeof target.to !== 'string' || target.to === '' || target.to.length > 255) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'a private line needs a player id');
      return `p:${target.to}`;
  }
}

/** The channels a player hears: the world, its scene's, its group's, and its own private one. */
export function channelsOf(player: ChatSender): ChannelName[] {
  const channels = ['world', `p:${player.playerId}`];
  if (player.sceneId !== null) channels.push(`scene:${player.sceneId}`);
  if (player.groupId !== null) channels.push(`group:${player.groupId}`);
  return channels;
}

export class ChatService {
  readonly #o: ChatServiceOptions;
  readonly #rate: { readonly perSecond: number; readonly burst: number };
  readonly #maxLength: number;
  readonly #retention: ChatRetention;
  readonly #held: { readonly max: number; readonly ttlMs: number };
  readonly #now: () => number;
  readonly #monotonic: () => number;
  readonly #moderateTimeoutMs: number;
  readonly #log: Logger;
  /** Per sender: tokens left and when they were counted (a token bucket). */
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(o: ChatServiceOptions) {
    this.#o = o;
    this.#rate = o.rate ?? DEFAULT_RATE;
    if (!(this.#rate.perSecond > 0) || !(this.#rate.burst >= 1)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'chat rate: perSecond must be > 0 and burst ≥ 1');
    this.#maxLength = o.maxLength ?? 200;
    if (!Number.isInteger(this.#maxLength) || this.#maxLength < 1 || this.#maxLength > 1000) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'chat maxLength must be 1–1000');
    this.#retention = o.retention ?? DEFAULT_RETENTION;
    this.#held = o.held ?? DEFAULT_HELD;
    this.#now = o.now ?? Date.now;
    this.#monotonic = o.monotonicNow ?? (() => performance.now());
    this.#moderateTimeoutMs = o.moderateTimeoutMs ?? 2000;
    this.#log = o.logger ?? silentLogger;
  }

  /**
   * `sender` says `text` to `target`: the line as it went out (its id, time and text after
   * cleaning and moderation).
   * @throws CodedError CHAT_ERR_RATE_LIMITED, CHAT_ERR_MUTED, CHAT_ERR_EMPTY, CHAT_ERR_TOO_LONG,
   *   CHAT_ERR_NO_GROUP, CHAT_ERR_BLOCKED, CHAT_ERR_REFUSED, OPT_ERR_INVALID, CHAT_ERR_BACKEND
   */
  async say(sender: ChatSender, target: ChatTarget, text: string): Promise<ChatLine> {
    const channel = channelOf(sender, target);
    const cleaned = cleanText(text);
    if (cleaned === '') throw new CodedError(ErrorCodes.CHAT_ERR_EMPTY, 'nothing to say once control characters are removed');
    if (codePoints(cleaned) > this.#maxLength) throw new CodedError(ErrorCodes.CHAT_ERR_TOO_LONG, `a line is at most ${this.#maxLength} characters`);
    this.#take(sender.playerId);
    const backend = this.#o.backend;
    const to = target.kind === 'private' ? target.to : null;
    // The checks at once: one round trip (or two for a private line), not one after another.
    const [muted, blocked, exists] = await Promise.all([
      backend.mutedUntil(sender.playerId),
      to === null ? false : backend.blocks(to, sender.playerId),
      to === null || this.#o.isPlayer === undefined ? true : this.#o.isPlayer(to),
    ]);
    if (muted > this.#now()) throw new CodedError(ErrorCodes.CHAT_ERR_MUTED, `muted until ${new Date(muted).toISOString()}`);
    if (!exists) throw new CodedError(ErrorCodes.CHAT_ERR_REFUSED, 'there is no such player');
    if (blocked) throw new CodedError(ErrorCodes.CHAT_ERR_BLOCKED, 'that player does not take your private lines');
    const said = await this.#moderate(Object.freeze({ channel, from: sender.playerId, name: sender.name, text: cleaned }));
    const line = await backend.append(said, this.#retention);
    // Held until the recipient's gateway says it got it (at least once, whatever its connection does meanwhile).
    if (to !== null) await backend.hold(to, line, this.#held.max, this.#held.ttlMs);
    await backend.publish(channel, this.#o.encode(line));
    return line;
  }

  /** Hold `lines` for `playerId` again, in order (taken for a socket that closed before it got them). */
  async holdAgain(playerId: string, lines: readonly ChatLine[]): Promise<void> {
    for (const line of lines) await this.#o.backend.hold(playerId, line, this.#held.max, this.#held.ttlMs);
  }

  /** A private line reached its recipient's socket: it is no longer held for its next connection. */
  delivered(playerId: string, lineId: string): Promise<boolean> {
    return this.#o.backend.release(playerId, lineId);
  }

  /** What a player gets as it logs in: the private lines held for it while it was offline. */
  takeHeld(playerId: string): Promise<ChatLine[]> {
    return this.#o.backend.takeHeld(playerId);
  }

  /** The last `limit` lines of a channel the player hears (oldest first), before `before` when given. @throws CHAT_ERR_REFUSED for a channel it does not hear */
  history(player: ChatSender, channel: ChannelName, limit: number, before?: string): Promise<ChatLine[]> {
    if (!channelsOf(player).includes(channel)) return Promise.reject(new CodedError(ErrorCodes.CHAT_ERR_REFUSED, `player ${player.playerId} does not hear channel ${channel}`));
    return this.#o.backend.history(channel, limit, before);
  }

  /** Take one token of the sender's bucket. @throws CHAT_ERR_RATE_LIMITED when it has none */
  #take(playerId: string): void {
    const now = this.#monotonic();
    const { perSecond, burst } = this.#rate;
    let b = this.#buckets.get(playerId);
    if (b === undefined) {
      if (this.#buckets.size >= MAX_BUCKETS) this.#forgetFull(now);
      b = { tokens: burst, at: now };
      this.#buckets.set(playerId, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) * perSecond) / 1000);
      b.at = now;
    }
    if (b.tokens < 1) throw new CodedError(ErrorCodes.CHAT_ERR_RATE_LIMITED, `at most ${perSecond} lines a second (${burst} at once)`);
    b.tokens -= 1;
  }

  /** Drop the buckets that are full again (their senders have been quiet): they start full anyway. */
  #forgetFull(now: number): void {
    const { perSecond, burst } = this.#rate;
    for (const [id, b] of this.#buckets) if (b.tokens + ((now - b.at) * perSecond) / 1000 >= burst) this.#buckets.delete(id);
  }

  async #moderate(input: ModerationInput): Promise<NewChatLine> {
    const hook = this.#o.moderate;
    if (hook === undefined) return { ...input };
    let text: unknown;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const late = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${this.#moderateTimeoutMs} ms`)), this.#moderateTimeoutMs);
      });
      text = await Promise.race([Promise.resolve().then(() => hook(input)), late]);
    } catch (err) {
      this.#log.error({ err, channel: input.channel, from: input.from }, 'the moderation hook failed; the line is dropped');
      text = null;
    } finally {
      clearTimeout(timer);
    }
    if (text === null) throw new CodedError(ErrorCodes.CHAT_ERR_REFUSED, 'the line was not let through');
    if (typeof text !== 'string') throw new CodedError(ErrorCodes.CHAT_ERR_REFUSED, 'the moderation hook returned no text');
    // What the hook wrote is cleaned too (and must still fit).
    const rewritten = cleanText(text);
    if (rewritten === '') throw new CodedError(ErrorCodes.CHAT_ERR_REFUSED, 'the line was not let through');
    if (codePoints(rewritten) > this.#maxLength) throw new CodedError(ErrorCodes.CHAT_ERR_TOO_LONG, `a line is at most ${this.#maxLength} characters`);
    return { ...input, text: rewritten };
  }
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
