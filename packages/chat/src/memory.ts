/**
 * Chat state held in this process: for the embedded `npm start`, one gateway and tests. It
 * behaves as the Redis backend does (ids `<ms>-<seq>` increasing within a channel, trimming as
 * lines come, a channel gone once its newest line is older than its `maxAgeMs`, held lines
 * honouring their ttl, frames delivered asynchronously), with `Date.now()` as its clock.
 */
import { CodedError, ErrorCodes, silentLogger, type Logger } from '@gos/schema';
import {
  checkChannel,
  checkFrame,
  checkHandler,
  checkHistoryLimit,
  checkHoldLimits,
  checkLine,
  checkLineId,
  checkNewLine,
  checkPair,
  checkPlayerId,
  checkRetention,
  checkTime,
  idBefore,
  MAX_BLOCKED,
  parseLineId,
  tooManyBlocked,
} from './args.js';
import { Subscribers, type FrameHandler } from './subscribers.js';
import type { ChannelName, ChatBackend, ChatLine, ChatRetention, NewChatLine } from './types.js';

interface Channel {
  /** Oldest first. */
  lines: ChatLine[];
  /** The last id given (kept when its line is trimmed, as a stream keeps it). */
  lastMs: number;
  lastSeq: number;
  /** The channel is gone from then on (its newest line older than `maxAgeMs`). */
  expiresAt: number;
}

interface Held {
  readonly line: ChatLine;
  readonly expiresAt: number;
}

/** Writes (appends, holds) between two sweeps of what expired. */
const SWEEP_EVERY = 1000;

/**
 * What memory backends given the same hub share, as backends on one Redis do (several gateways
 * in one process, as tests run them). Its methods take checked arguments: use a backend.
 */
export class MemoryChatHub {
  readonly #channels = new Map<ChannelName, Channel>();
  readonly #held = new Map<string, Held[]>();
  readonly #mutes = new Map<string, number>();
  readonly #blocks = new Map<string, Set<string>>();
  /** The subscriptions of every open backend on this hub. */
  readonly #subscribers = new Set<Subscribers>();
  /** Writes since the last sweep of expired channels, held lines and mutes. */
  #writes = 0;

  /** Every {@link SWEEP_EVERY} writes: forget what expired (channels nobody reads again would stay forever). */
  #maybeSweep(now: number): void {
    if (++this.#writes < SWEEP_EVERY) return;
    this.#writes = 0;
    for (const [name, ch] of this.#channels) if (ch.expiresAt <= now) this.#channels.delete(name);
    for (const [id, held] of this.#held) if (held.every((h) => h.expiresAt <= now)) this.#held.delete(id);
    for (const [id, until] of this.#mutes) if (until <= now) this.#mutes.delete(id);
  }

  #channel(name: ChannelName, now: number): Channel | undefined {
    const ch = this.#channels.get(name);
    if (ch !== undefined && ch.expiresAt <= now) {
      this.#channels.delete(name);
      return undefined;
    }
    return ch;
  }

  append(line: NewChatLine, retention: ChatRetention): ChatLine {
    const now = Date.now();
    this.#maybeSweep(now);
    let ch = this.#channel(line.channel, now);
    if (ch === undefined) {
      ch = { lines: [], lastMs: 0, lastSeq: -1, expiresAt: 0 };
      this.#channels.set(line.channel, ch);
    }
    const ms = Math.max(now, ch.lastMs);
    const seq = ms === ch.lastMs ? ch.lastSeq + 1 : 0;
    const added: ChatLine = { id: `${ms}-${seq}`, channel: line.channel, from: line.from, name: line.name, text: line.text, at: ms };
    ch.lastMs = ms;
    ch.lastSeq = seq;
    ch.lines.push(added);
    const minAt = ms - retention.maxAgeMs;
    const young = ch.lines.findIndex((l) => l.at >= minAt);
    const drop = Math.max(ch.lines.length - retention.maxLines, young);
    if (drop > 0) ch.lines.splice(0, drop);
    ch.expiresAt = now + retention.maxAgeMs;
    return added;
  }

  history(channel: ChannelName, limit: number, before: string | undefined): ChatLine[] {
    const ch = this.#channel(channel, Date.now());
    if (ch === undefined) return [];
    let lines = ch.lines;
    const bound = before === undefined ? null : parseLineId(before);
    if (bound !== null) {
      const end = lines.findIndex((l) => {
        const id = parseLineId(l.id);
        return id === null || !idBefore(id, bound);
      });
      if (end >= 0) lines = lines.slice(0, end);
    }
    return lines.slice(Math.max(0, lines.length - limit));
  }

  hold(playerId: string, line: ChatLine, max: number, ttlMs: number): void {
    const now = Date.now();
    this.#maybeSweep(now);
    const held = this.#held.get(playerId) ?? [];
    const live = held.findIndex((h) => h.expiresAt > now);
    held.splice(0, live < 0 ? held.length : live);
    held.push({ line, expiresAt: now + ttlMs });
    if (held.length > max) held.splice(0, held.length - max);
    this.#held.set(playerId, held);
  }

  release(playerId: string, lineId: string): boolean {
    const held = this.#held.get(playerId);
    const i = held?.findIndex((h) => h.line.id === lineId) ?? -1;
    if (held === undefined || i < 0) return false;
    held.splice(i, 1);
    if (held.length === 0) this.#held.delete(playerId);
    return true;
  }

  takeHeld(playerId: string): ChatLine[] {
    const now = Date.now();
    const held = this.#held.get(playerId) ?? [];
    this.#held.delete(playerId);
    return held.filter((h) => h.expiresAt > now).map((h) => h.line);
  }

  mute(playerId: string, until: number): void {
    if (until <= Date.now()) this.#mutes.delete(playerId);
    else this.#mutes.set(playerId, until);
  }

  mutedUntil(playerId: string): number {
    const until = this.#mutes.get(playerId);
    if (until === undefined) return 0;
    if (until > Date.now()) return until;
    this.#mutes.delete(playerId);
    return 0;
  }

  block(playerId: string, other: string): boolean {
    const set = this.#blocks.get(playerId) ?? new Set<string>();
    if (set.has(other)) return false;
    if (set.size >= MAX_BLOCKED) throw tooManyBlocked(playerId);
    set.add(other);
    this.#blocks.set(playerId, set);
    return true;
  }

  unblock(playerId: string, other: string): boolean {
    const set = this.#blocks.get(playerId);
    if (set === undefined || !set.delete(other)) return false;
    if (set.size === 0) this.#blocks.delete(playerId);
    return true;
  }

  blocked(playerId: string): string[] {
    return [...(this.#blocks.get(playerId) ?? [])].sort();
  }

  blocks(playerId: string, other: string): boolean {
    return this.#blocks.get(playerId)?.has(other) ?? false;
  }

  /** Deliver a copy of `frame` later (a microtask) to every subscription there is now. */
  publish(channel: ChannelName, frame: Uint8Array): void {
    const to = [...this.#subscribers].map((subs) => ({ subs, snapshot: subs.snapshot() }));
    const copy = new Uint8Array(frame);
    queueMicrotask(() => {
      for (const { subs, snapshot } of to) subs.deliver(channel, to.length === 1 ? copy : new Uint8Array(copy), snapshot);
    });
  }

  attach(subs: Subscribers): void {
    this.#subscribers.add(subs);
  }

  detach(subs: Subscribers): void {
    this.#subscribers.delete(subs);
  }
}

export interface MemoryChatOptions {
  /** The state to share with other memory backends. @default a hub of its own */
  readonly hub?: MemoryChatHub;
  /** @default silentLogger */
  readonly logger?: Logger;
}

export class MemoryChatBackend implements ChatBackend {
  readonly #hub: MemoryChatHub;
  readonly #subs: Subscribers;
  #closed = false;

  constructor(o: MemoryChatOptions = {}) {
    this.#hub = o.hub ?? new MemoryChatHub();
    this.#subs = new Subscribers(o.logger ?? silentLogger);
    this.#hub.attach(this.#subs);
  }

  /** The hub, checked open. @throws CHAT_ERR_BACKEND once closed */
  #open(): MemoryChatHub {
    if (this.#closed) throw new CodedError(ErrorCodes.CHAT_ERR_BACKEND, 'the chat backend is closed');
    return this.#hub;
  }

  async start(): Promise<void> {
    this.#open();
  }

  /** Idempotent: its subscriptions end. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#subs.clear();
    this.#hub.detach(this.#subs);
  }

  async append(line: NewChatLine, retention: ChatRetention): Promise<ChatLine> {
    const checked = checkNewLine(line);
    const r = checkRetention(retention);
    return this.#open().append(checked, r);
  }

  async history(channel: ChannelName, limit: number, before?: string): Promise<ChatLine[]> {
    const ch = checkChannel(channel);
    const n = checkHistoryLimit(limit);
    const bound = before === undefined ? undefined : checkLineId(before, 'before');
    return this.#open().history(ch, n, bound);
  }

  async hold(playerId: string, line: ChatLine, max: number, ttlMs: number): Promise<void> {
    const id = checkPlayerId(playerId);
    const checked = checkLine(line);
    const limits = checkHoldLimits(max, ttlMs);
    this.#open().hold(id, checked, limits.max, limits.ttlMs);
  }

  async release(playerId: string, lineId: string): Promise<boolean> {
    const id = checkPlayerId(playerId);
    const line = checkLineId(lineId);
    return this.#open().release(id, line);
  }

  async takeHeld(playerId: string): Promise<ChatLine[]> {
    const id = checkPlayerId(playerId);
    return this.#open().takeHeld(id);
  }

  async mute(playerId: string, until: number): Promise<void> {
    const id = checkPlayerId(playerId);
    const t = checkTime(until, 'until');
    this.#open().mute(id, t);
  }

  async mutedUntil(playerId: string): Promise<number> {
    const id = checkPlayerId(playerId);
    return this.#open().mutedUntil(id);
  }

  async block(playerId: string, other: string): Promise<boolean> {
    const [a, b] = checkPair(playerId, other);
    return this.#open().block(a, b);
  }

  async unblock(playerId: string, other: string): Promise<boolean> {
    const [a, b] = checkPair(playerId, other);
    return this.#open().unblock(a, b);
  }

  async blocked(playerId: string): Promise<string[]> {
    const id = checkPlayerId(playerId);
    return this.#open().blocked(id);
  }

  async blocks(playerId: string, other: string): Promise<boolean> {
    const [a, b] = checkPair(playerId, other);
    return this.#open().blocks(a, b);
  }

  async publish(channel: ChannelName, frame: Uint8Array): Promise<void> {
    const ch = checkChannel(channel);
    const bytes = checkFrame(frame);
    this.#open().publish(ch, bytes);
  }

  async subscribe(onFrame: FrameHandler): Promise<() => Promise<void>> {
    const fn = checkHandler(onFrame);
    this.#open();
    const sub = this.#subs.add(fn);
    return async () => {
      this.#subs.remove(sub);
    };
  }
}
