/**
 * The chat's contracts (docs/chat.md): what a line is, and the backend that keeps channels'
 * histories, lines held for offline players, mute and block lists, and carries lines between
 * gateways. `RedisChatBackend` (a cluster) and `MemoryChatBackend` (one process) pass one contract
 * suite.
 */

/**
 * A channel's name: `world`, `scene:<sceneId>`, `group:<groupId>`, or `p:<playerId>` (a player's
 * private lines). 1–300 characters; the gateway's uWS topic for it is `ch/<name>`.
 */
export type ChannelName = string;

/** A line said on a channel, as kept in its history and fanned out. */
export interface ChatLine {
  /** Given by the backend as the line is appended: increasing within a channel (`<ms>-<seq>`, a Redis stream id). */
  readonly id: string;
  readonly channel: ChannelName;
  /** The sender's player id (1–255 characters). */
  readonly from: string;
  /** The sender's name as shown (0–64 characters). */
  readonly name: string;
  /** The line, cleaned (1–1,000 characters). */
  readonly text: string;
  /** When it was appended, ms since the epoch (the backend's clock: the id's time part). */
  readonly at: number;
}

/** A line to append: the backend gives it its id and time. */
export type NewChatLine = Omit<ChatLine, 'id' | 'at'>;

/** How much of a channel's history is kept. */
export interface ChatRetention {
  /** Lines kept at most (1–100,000); older ones are trimmed as new ones come. */
  readonly maxLines: number;
  /** Lines older than this (ms, ≥ 1000) are trimmed as new ones come. */
  readonly maxAgeMs: number;
}

/**
 * Where chat state lives. Every method rejects with `OPT_ERR_INVALID` for malformed arguments
 * and `CHAT_ERR_BACKEND` when the backend cannot be reached (nothing is known to be applied).
 */
export interface ChatBackend {
  /** Connect. Idempotent. */
  start(): Promise<void>;
  /** Disconnect (subscriptions end). Idempotent. */
  close(): Promise<void>;
  /** Append a line to its channel's history, trimmed to `retention`: the line with its id and time. */
  append(line: NewChatLine, retention: ChatRetention): Promise<ChatLine>;
  /** The channel's last `limit` lines (1–100), oldest first; with `before` (an id), the last ones before it. */
  history(channel: ChannelName, limit: number, before?: string): Promise<ChatLine[]>;
  /**
   * Hold a private line for an offline player, delivered at its next login ({@link takeHeld}): at
   * most `max` (1–1,000) are kept per player (the oldest dropped), each for `ttlMs` (≥ 1000) at most.
   */
  hold(playerId: string, line: ChatLine, max: number, ttlMs: number): Promise<void>;
  /** Take the lines held for the player, oldest first: they are removed (another take gets none). */
  takeHeld(playerId: string): Promise<ChatLine[]>;
  /** Line `lineId` held for the player reached it while it was online: no longer held. false when it was not held. */
  release(playerId: string, lineId: string): Promise<boolean>;
  /** Mute a player until `until` (ms since the epoch); a time in the past unmutes. */
  mute(playerId: string, until: number): Promise<void>;
  /** Until when the player is muted (ms since the epoch), or 0 when it is not. */
  mutedUntil(playerId: string): Promise<number>;
  /** `playerId` blocks `other` (at most 1,000 blocked): false when it already did. */
  block(playerId: string, other: string): Promise<boolean>;
  /** false when it did not block `other`. */
  unblock(playerId: string, other: string): Promise<boolean>;
  /** Whom the player blocks, sorted. */
  blocked(playerId: string): Promise<string[]>;
  /** Whether `playerId` blocks `other`. */
  blocks(playerId: string, other: string): Promise<boolean>;
  /**
   * Send `frame` (an encoded push) for `channel` to every gateway subscribed (this one included),
   * once each; a gateway then publishes it to the sockets of the channel's topic.
   */
  publish(channel: ChannelName, frame: Uint8Array): Promise<void>;
  /** Hear every published frame (until the returned function is called, or close). */
  subscribe(onFrame: (channel: ChannelName, frame: Uint8Array) => void): Promise<() => Promise<void>>;
}
