import { CodedError, ErrorCodes, isCodedError } from '@gos/schema';
import type { Player, Scene, SceneDefinition } from '../api.js';
import type { Mail, MailInput, MailListOptions, MailTo, SceneMail as SceneMailApi } from '../api-mail.js';
import type { SceneCalls } from './runtime-calls.js';
import type { RuntimePlayer } from './runtime-player.js';

/** How long a claim waits for the store to write it with the player's data. */
const CLAIM_TIMEOUT_MS = 30_000;

// The answers, checked as they are read (the main thread's JSON), never cast.
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isTime = (v: unknown): v is number | null => v === null || isNumber(v);

/** A mail as the store gives it (attachments as JSON text), with its deletion mark when asked for one. */
interface StoredMail {
  readonly mailId: number;
  readonly from: string;
  readonly subject: string;
  readonly body: string;
  readonly attachments: string | null;
  readonly sentAt: number;
  readonly expiresAt: number | null;
  readonly broadcast: boolean;
  readonly readAt: number | null;
  readonly claimedAt: number | null;
  readonly deletedAt?: number | null;
}

function isStoredMail(v: unknown): v is StoredMail {
  return (
    isRecord(v) &&
    isNumber(v['mailId']) &&
    typeof v['from'] === 'string' &&
    typeof v['subject'] === 'string' &&
    typeof v['body'] === 'string' &&
    (v['attachments'] === null || typeof v['attachments'] === 'string') &&
    isNumber(v['sentAt']) &&
    isTime(v['expiresAt']) &&
    typeof v['broadcast'] === 'boolean' &&
    isTime(v['readAt']) &&
    isTime(v['claimedAt']) &&
    (v['deletedAt'] === undefined || isTime(v['deletedAt']))
  );
}

function badAnswer(op: string): CodedError {
  return new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `the answer to mail.${op} does not have the expected fields`);
}

function toMail(m: StoredMail): Mail {
  return {
    mailId: m.mailId,
    from: m.from,
    subject: m.subject,
    body: m.body,
    attachments: m.attachments === null ? null : (JSON.parse(m.attachments) as unknown),
    sentAt: m.sentAt,
    expiresAt: m.expiresAt,
    broadcast: m.broadcast,
    readAt: m.readAt,
    claimedAt: m.claimedAt,
  };
}

/** What a claim needs from its scene. */
export interface MailScene {
  readonly scene: Scene;
  readonly def: SceneDefinition;
  /** The player of that id in the scene now, if any. */
  player(playerId: string): RuntimePlayer | undefined;
  /** A service has no players: no claims. */
  readonly service: boolean;
}

/**
 * `scene.mail` (and `svc.mail`): every method is relayed to the engine's main thread
 * (FromScene.MAIL). A claim is checked there first (the player's mail, not deleted, not expired,
 * attachments not claimed), then `onMailClaim` applies the attachments to the player here, and
 * the player's data, as it is right after, goes to the store with the claim: one transaction.
 */
export class SceneMail implements SceneMailApi {
  readonly #calls: SceneCalls;
  readonly #scene: MailScene;

  constructor(calls: SceneCalls, scene: MailScene) {
    this.#calls = calls;
    this.#scene = scene;
  }

  async send(to: MailTo, mail: MailInput): Promise<number> {
    // The attachments cross as JSON with the rest (checked for size by the store); a value JSON
    // cannot carry (a bigint, a cycle) fails to encode here: OPT_ERR_INVALID.
    const id = await this.#calls.mail('send', [to, mail]);
    if (!isNumber(id)) throw badAnswer('send');
    return id;
  }

  async list(playerId: string, options?: MailListOptions): Promise<Mail[]> {
    const items = await this.#calls.mail('list', [playerId, options ?? {}]);
    if (!Array.isArray(items) || !items.every(isStoredMail)) throw badAnswer('list');
    return items.map(toMail);
  }

  async get(playerId: string, mailId: number): Promise<Mail | null> {
    const item = await this.#getStored(playerId, mailId);
    return item === null || (item.deletedAt ?? null) !== null ? null : toMail(item);
  }

  async #getStored(playerId: string, mailId: number): Promise<StoredMail | null> {
    const item = await this.#calls.mail('get', [playerId, mailId]);
    if (item !== null && !isStoredMail(item)) throw badAnswer('get');
    return item;
  }

  async counts(playerId: string): Promise<{ readonly total: number; readonly unread: number }> {
    const counts = await this.#calls.mail('counts', [playerId]);
    if (!isRecord(counts) || !isNumber(counts['total']) || !isNumber(counts['unread'])) throw badAnswer('counts');
    return { total: counts['total'], unread: counts['unread'] };
  }

  async read(playerId: string, mailIds: readonly number[]): Promise<number> {
    const changed = await this.#calls.mail('read', [playerId, mailIds]);
    if (!isNumber(changed)) throw badAnswer('read');
    return changed;
  }

  async delete(playerId: string, mailIds: readonly number[]): Promise<number> {
    const changed = await this.#calls.mail('delete', [playerId, mailIds]);
    if (!isNumber(changed)) throw badAnswer('delete');
    return changed;
  }

  async claim(player: Player<unknown, Record<string, unknown>>, mailId: number): Promise<Mail> {
    const s = this.#scene;
    if (s.service) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'mail.claim: a service has no players; claim from the scene the player is in');
    const { def } = s;
    if (def.onMailClaim === undefined) throw new CodedError(ErrorCodes.MAIL_ERR_NO_HOOK, `scene type ${s.scene.type} has no onMailClaim to apply attachments with`);
    const present = s.player(player.id);
    if (present !== player) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `mail.claim: player ${player.id} is not in scene ${s.scene.id}`);
    // The main thread checks the mail (the player's, not deleted, not expired, attachments not
    // claimed) and holds it for this claim: another claim of it, from any scene here, is refused.
    const stored = await this.#calls.mail('reserve', [player.id, mailId]);
    if (!isStoredMail(stored)) throw badAnswer('reserve');
    const release = (): void => void this.#calls.mail('release', [player.id, mailId]).catch(() => undefined);
    // It may have left (or connected again elsewhere) while the mail was read.
    if (s.player(player.id) !== present) {
      release();
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `mail.claim: player ${player.id} left scene ${s.scene.id}`);
    }
    const mail = toMail(stored);
    const before = structuredClone(present.data);
    const savedBefore = present.savedJson;
    try {
      const result: unknown = def.onMailClaim?.(s.scene, present, mail);
      if (result instanceof Promise) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'onMailClaim must be synchronous: what it grants is saved as it returns');
    } catch (err) {
      present.data = before;
      release();
      throw isCodedError(err) ? err : new CodedError(ErrorCodes.ENG_ERR_HANDLER_FAILED, `onMailClaim failed: ${(err as Error).message}`, { cause: err });
    }
    // The data as the hook left it goes with the claim; the periodic save need not send it again.
    // From here the grant is in the player's data: saved with the claim, or never (the engine
    // then takes the player out of its scene, and it reloads what was saved).
    const json = JSON.stringify(present.data);
    present.savedJson = json;
    const { sent, answer } = this.#calls.mailClaim([player.id, mailId, json], CLAIM_TIMEOUT_MS);
    if (!sent) {
      // It never left this thread: nothing was claimed, and nothing of it may stay.
      present.data = before;
      present.savedJson = savedBefore;
      release();
    }
    const claimed = await answer;
    if (!isRecord(claimed) || !isNumber(claimed['claimedAt'])) throw badAnswer('claim');
    return { ...mail, claimedAt: claimed['claimedAt'] };
  }
}
