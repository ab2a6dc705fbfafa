/** One player's login. Frozen copies are handed out; mutate through the store. */
export interface Session {
  /** The bearer token: 256 random bits, base64url (43 characters). */
  readonly token: string;
  readonly accountId: string;
  readonly username: string;
  /** The scene the player is in (or enters on connect). */
  readonly sceneId: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** Milliseconds since the epoch; slides forward on every `get` and `touch`. */
  readonly expiresAt: number;
}

export interface CreateSessionInput {
  readonly accountId: string;
  readonly username: string;
  readonly sceneId: string;
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
   * Look up a token; a successful lookup extends `expiresAt` to now + `ttlMs`.
   * @returns null when the token is unknown, malformed, revoked or expired
   */
  get(token: string): Promise<Session | null>;
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
}
