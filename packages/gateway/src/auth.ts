import { randomBytes } from 'node:crypto';
import { CodedError, ErrorCodes, isCodedError, type Logger } from '@gos/schema';
import { isGroupId, type Store } from '@gos/store';
import { dummyHash, hashPassword, KdfLimiter, verifyPassword } from './passwords.js';
import { SCENE_ID, type SceneChooser } from './options.js';
import type { Session, SessionStore } from './session/index.js';

const USERNAME = /^[A-Za-z0-9_.-]{3,24}$/;
/** Password length limits, in Unicode code points (an emoji is one, not two UTF-16 units). */
const MIN_PASSWORD = 8;
const MAX_PASSWORD = 128;

/** Length in Unicode code points. */
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export interface LoginResult {
  readonly accountId: string;
  readonly username: string;
  readonly token: string;
  /**
   * Where to connect: the gateway the account's group uses while it is alive and under its
   * capacity, else the least-loaded gateway under its capacity.
   */
  readonly gateway: string;
  /** Every live gateway in the same order, `gateway` first: where a client goes if its gateway is lost. */
  readonly gateways: readonly string[];
  readonly expiresAt: number;
}

/** An HTTP outcome: status plus JSON body. */
export interface HttpOutcome {
  readonly status: number;
  readonly body: unknown;
}

function bad(code: string, message: string): HttpOutcome {
  return { status: 400, body: { code, message } };
}

const NO_BODY = bad(ErrorCodes.GW_ERR_BAD_REQUEST, 'a JSON body {"username","password"} is required');

/**
 * The AuthService: registration, login and guest login, issuing session tokens and telling the
 * player which gateway to connect to.
 */
export class AuthService {
  readonly #store: Store;
  readonly #sessions: SessionStore;
  readonly #scryptCost: number;
  readonly #sceneFor: SceneChooser;
  readonly #gatewayUrls: (groupId: string | null, sceneId: string) => Promise<readonly string[]>;
  readonly #onReplaced: (previousToken: string, session: Session) => void;
  readonly #log: Logger;
  #dummy: Promise<string> | undefined;
  /** Hashes in flight: as many as libuv's default pool has threads; a bounded queue behind them. */
  readonly #kdf = new KdfLimiter(4, 256);
  /** Whether `register` takes a `groupId` from the client (GatewayOptions.clientGroups). */
  readonly #clientGroups: boolean;

  constructor(opts: {
    store: Store;
    clientGroups: boolean;
    sessions: SessionStore;
    scryptCost: number;
    defaultSceneId: string;
    sceneForLogin: SceneChooser | null;
    /** Gateway URLs in the order a player of this group (or of none) should use them (non-empty). */
    /** The gateways a player of `groupId` entering `sceneId` should use, best first. */
    gatewayUrls: (groupId: string | null, sceneId: string) => Promise<readonly string[]>;
    onReplaced: (previousToken: string, session: Session) => void;
    logger: Logger;
  }) {
    this.#store = opts.store;
    this.#clientGroups = opts.clientGroups;
    this.#sessions = opts.sessions;
    this.#scryptCost = opts.scryptCost;
    const fallback = opts.defaultSceneId;
    this.#sceneFor = opts.sceneForLogin ?? ((account) => account.lastSceneId ?? fallback);
    this.#gatewayUrls = opts.gatewayUrls;
    this.#onReplaced = opts.onReplaced;
    this.#log = opts.logger;
  }

  /** `body` null: the request had none. */
  async register(body: Record<string, unknown> | null): Promise<HttpOutcome> {
    if (body === null) return NO_BODY;
    const { username, password, groupId = null } = body;
    if (typeof username !== 'string' || !USERNAME.test(username)) {
      return bad(ErrorCodes.GW_ERR_INVALID_USERNAME, 'username must be 3–24 characters of letters, digits, _ . -');
    }
    if (typeof password !== 'string' || codePoints(password) < MIN_PASSWORD || codePoints(password) > MAX_PASSWORD) {
      return bad(ErrorCodes.GW_ERR_INVALID_PASSWORD, `password must be ${MIN_PASSWORD}–${MAX_PASSWORD} characters (Unicode code points)`);
    }
    if (groupId !== null && !isGroupId(groupId)) {
      return bad(ErrorCodes.GW_ERR_INVALID_GROUP, 'groupId must be null or 1–64 characters of letters, digits, _ . : -');
    }
    if (groupId !== null && !this.#clientGroups) {
      return bad(ErrorCodes.GW_ERR_INVALID_GROUP, 'this gateway does not let clients choose their group (the game sets it: GatewayOptions.clientGroups)');
    }
    const passwordHash = await this.#kdf.run(() => hashPassword(password, this.#scryptCost));
    try {
      const account = await this.#store.createAccount({ username, passwordHash, groupId });
      return { status: 201, body: { accountId: account.accountId } };
    } catch (err) {
      if (isCodedError(err) && err.code === ErrorCodes.STO_ERR_DUPLICATE) {
        return { status: 409, body: { code: ErrorCodes.GW_ERR_USERNAME_TAKEN, message: 'username is taken' } };
      }
      throw err;
    }
  }

  /** `body` null: the request had none. */
  async login(body: Record<string, unknown> | null): Promise<HttpOutcome> {
    if (body === null) return NO_BODY;
    const { username, password } = body;
    // A malformed request, whoever it names: 400, as for a missing body.
    if (typeof username !== 'string' || typeof password !== 'string') return bad(ErrorCodes.GW_ERR_BAD_REQUEST, 'username and password must be strings');
    const refused: HttpOutcome = { status: 401, body: { code: ErrorCodes.GW_ERR_BAD_CREDENTIALS, message: 'wrong username or password' } };
    // No registered account is past these limits: refuse without hashing.
    if (username.length > 64 || codePoints(password) > MAX_PASSWORD) return refused;
    const account = await this.#store.findAccountByUsername(username);
    if (account === null || account.guest) {
      // Spend the same time as a real check, so response time does not reveal which names exist.
      this.#dummy ??= dummyHash(this.#scryptCost);
      const dummy = await this.#dummy;
      await this.#kdf.run(() => verifyPassword(password, dummy));
      return refused;
    }
    if (!(await this.#kdf.run(() => verifyPassword(password, account.passwordHash)))) return refused;
    return { status: 200, body: await this.#issue(account.accountId, account.username, false, account.groupId) };
  }

  async guest(): Promise<HttpOutcome> {
    const username = `guest-${randomBytes(5).toString('hex')}`;
    const account = await this.#store.createAccount({ username, passwordHash: '', guest: true });
    return { status: 200, body: { ...(await this.#issue(account.accountId, account.username, true, null)), username } };
  }

  async #issue(accountId: string, username: string, guest: boolean, groupId: string | null): Promise<LoginResult> {
    // Where the player was last saved (a new guest has never been anywhere).
    const saved = guest ? null : await this.#store.playerScene(accountId);
    const lastSceneId = saved !== null && SCENE_ID.test(saved) ? saved : null;
    const sceneId = await this.#sceneFor({ accountId, username, guest, groupId, lastSceneId });
    if (typeof sceneId !== 'string' || !SCENE_ID.test(sceneId)) {
      throw new CodedError(ErrorCodes.GW_ERR_INTERNAL, `sceneForLogin returned an invalid scene id: ${JSON.stringify(sceneId)}`);
    }
    // Before the session: a session store that fails here fails the login (503) without having
    // revoked the account's current session.
    const gateways = await this.#gatewayUrls(groupId, sceneId);
    const { session, replaced } = await this.#sessions.create({ accountId, username, sceneId, groupId });
    if (replaced !== null) {
      this.#log.info({ accountId }, 'new login replaces the previous session');
      this.#onReplaced(replaced, session);
    }
    return { accountId, username, token: session.token, gateway: gateways[0]!, gateways, expiresAt: session.expiresAt };
  }
}

/** Wrap unexpected failures so the HTTP layer answers 500 with a code and logs the cause. */
export function internalError(err: unknown): CodedError {
  return isCodedError(err) ? err : new CodedError(ErrorCodes.GW_ERR_INTERNAL, 'internal error', { cause: err });
}
