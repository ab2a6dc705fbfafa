/** One player's login. Frozen copies are handed out; mutate through the store. */
export interface Session {
  /** The bearer token: 256 random bits, base64url (43 characters). */
  readonly token: string;
  readonly accountId: string;
  readonly username: string;
  /** The scene the player is in (or enters on connect). */
  readonly sceneId: string;
  /** The account's group when the session was created, or null (see {@link SessionStore.groupGateway}). */
  readonly groupId: string | null;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** Milliseconds since the epoch; slides forward on every `get` and `touch`. */
  readonly expiresAt: number;
  /**
   * Milliseconds left of the account's cool-down after a flood closed one of its sockets, on
   * any gateway sharing the store ({@link SessionStore.coolDown}); 0 when there is none. Read by
   * `get`; the other methods return 0.
   */
  readonly floodCooldownMs: number;
}

/** Where a player with a live session plays: its presence, for pushes from anywhere (`sendTo`). */
export interface Presence {
  /** The scene its session names: where it entered, or the last scene it travelled to. */
  readonly sceneId: string;
  /** The gateway its socket last connected to, or null when it has not connected yet. */
  readonly gatewayId: string | null;
}

export interface CreateSessionInput {
  readonly accountId: string;
  readonly username: string;
  readonly sceneId: string;
  /**
   * The account's group, or null. While the session lives, every `get`/`touch` of it also
   * extends the group's gateway assignment, so a group stays on its gateway as long as any of
   * its players is connected, however long ago the last of them logged in.
   * @default null
   */
  readonly groupId?: string | null;
}

export interface CreateSessionResult {
  readonly session: Session;
  /**
   * The account's previous live session, now revoked, or null when it had none. This is the
   * previous token whenever the store can know it (always for {@link MemorySessionStore}; for
   * {@link RedisSessionStore} when this instance issued or resolved that token, since Redis
   * holds only token hashes); otherwise it is the previous token's id ({@link sessionTokenId},
   * 64 hex characters), which is never a valid token.
   */
  readonly replaced: string | null;
}

/**
 * Where gateways keep sessions. One live session per account; sliding expiry.
 * Every method rejects with `GW_ERR_SESSION_STORE` (with `cause`) when the backend fails or the
 * store is closed.
 */
export interface SessionStore {
  start(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
  /**
   * Create a session for the account; revokes the account's previous session (one live session
   * per account) and returns the new one.
   */
  create(input: CreateSessionInput): Promise<CreateSessionResult>;
  /**
   * Look up a token; a successful lookup extends `expiresAt` to now + `ttlMs`. With
   * `gatewayId` (a socket connecting there), the session's presence names that gateway.
   * @returns null when the token is unknown, malformed, revoked or expired
   */
  get(token: string, options?: { readonly gatewayId?: string }): Promise<Session | null>;
  /**
   * Extend without reading (a socket that stays connected).
   * @returns false when the session no longer exists
   */
  touch(token: string): Promise<boolean>;
  /** Revoke the session; unknown tokens are ignored. */
  revoke(token: string): Promise<void>;
  /**
   * Move the player to another scene. Does not extend the session.
   * @throws CodedError `GW_ERR_SESSION_EXPIRED` when the session no longer exists
   */
  setScene(token: string, sceneId: string): Promise<void>;
  /**
   * Where the account's player plays (its live session's scene and gateway), or null when it
   * has no live session. Extends nothing. Engines call it for `sendTo`.
   */
  locate(accountId: string): Promise<Presence | null>;
  /**
   * The id of the gateway the group's players are sent to, or null when the group has none
   * (never assigned, or unused for `ttlMs`). A hit extends the assignment to now + `ttlMs`.
   * Shared by every gateway using the store.
   * @throws CodedError `OPT_ERR_INVALID` when `groupId` is not a group id (`isGroupId` of `@gos/store`)
   */
  groupGateway(groupId: string): Promise<string | null>;
  /**
   * Make `gatewayId` the group's gateway unless another login got there first: it is set when
   * the group has no gateway, or when the group's gateway is still `replaces` (the one the
   * caller found unusable: gone or full). Atomic, so concurrent logins of one group agree on
   * one gateway. Extends the assignment to now + `ttlMs` either way.
   * @returns the group's gateway after the call: `gatewayId`, or the one another login set
   * @throws CodedError `OPT_ERR_INVALID` for a malformed `groupId`, `gatewayId` or `replaces`
   */
  assignGroupGateway(groupId: string, gatewayId: string, replaces: string | null): Promise<string>;
  /**
   * A flood closed a socket of the account (4006): for `ms`, `get` of any of its sessions, on
   * every gateway sharing the store, reports the time left as `floodCooldownMs`, so reconnecting
   * to another gateway buys no fresh burst. A second call sets the end again.
   * @throws CodedError `OPT_ERR_INVALID` for an empty account id or a `ms` that is not a positive integer
   */
  coolDown(accountId: string, ms: number): Promise<void>;
}
