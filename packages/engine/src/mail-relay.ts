/**
 * `scene.mail`, the engine main thread's part (docs/mail.md): a scene's MAIL record runs one
 * operation on the store's mailboxes and its outcome goes back to the scene as ToScene.ANSWER.
 * A claim is written by the persister with the player's row, in one transaction, and answered
 * once it is. New mail is pushed (core MailArrived) to recipients who are online.
 */
import { z } from 'zod';
import { CodedError, ErrorCodes, encodeMailArrivedFrame, toErrorData, type Logger } from '@gos/schema';
import type { MailRecipients, MailStore, NewMail } from '@gos/store';
import type { MailRequest } from './mail-records.js';
import type { Persister } from './persister.js';
import type { PlayerPushes } from './player-pushes.js';
import type { CallAnswer } from './records.js';
import type { SceneHost } from './scene-host.js';

/** Operations under way on one engine before new ones are refused with `ENG_ERR_QUEUE_FULL`. */
const MAX_IN_FLIGHT = 10_000;
/** The sender named in the push of a mail to everyone pushed to this engine's players. */
const NOTIFY_FROM = '$mail';
/** Broadcasts one poll reads at most (more wait for the next). */
const POLL_BATCH = 100;

const playerId = z.string().min(1).max(255);
const mailId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const mailIds = z.array(mailId).min(1).max(100);
const recipients = z.union([z.object({ players: z.array(playerId).min(1).max(10_000) }).strict(), z.object({ everyone: z.literal(true) }).strict()]);
/** What scene code (or the REPL) sends: `MailInput` of api-mail.ts. */
const mailInput = z
  .object({
    from: z.string().optional(),
    subject: z.string(),
    body: z.string().optional(),
    attachments: z.unknown().optional(),
    expiresAt: z.number().int().nullable().optional(),
    expiresInMs: z.number().int().positive().optional(),
  })
  .strict();
const listOptions = z.object({ before: mailId.optional(), unreadOnly: z.boolean().optional(), limit: z.number().int().optional() }).strict();

const ARGS = {
  send: z.tuple([recipients, mailInput]),
  list: z.tuple([playerId, listOptions.optional()]),
  get: z.tuple([playerId, mailId]),
  counts: z.tuple([playerId]),
  read: z.tuple([playerId, mailIds]),
  delete: z.tuple([playerId, mailIds]),
  reserve: z.tuple([playerId, mailId]),
  claim: z.tuple([playerId, mailId, z.string()]),
  release: z.tuple([playerId, mailId]),
} as const;

/** How long a claim's reservation holds without its claim (a scene that crashed between the two). */
const RESERVATION_MS = 60_000;
/** Mail ids below the broadcast poll's cursor that are read again (ids are given at insert, so a broadcast can commit after a later one). */
const POLL_LOOKBACK = 100;

function parse<T extends z.ZodType>(op: string, schema: T, args: readonly unknown[]): z.output<T> {
  const result = schema.safeParse(args);
  if (!result.success) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `mail.${op}: ${result.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ')}`);
  return result.data;
}

export interface MailRelayOptions {
  readonly store: MailStore;
  readonly persister: Pick<Persister, 'claim' | 'refuseClaim'>;
  readonly pushes: Pick<PlayerPushes, 'notify'>;
  /** Push a frame to every player of every scene of this engine (a mail to everyone), once per scene and gateway. */
  readonly pushToAll: (frame: Uint8Array) => void;
  readonly engineId: string;
  /** How often mail to everyone is looked for (pushed to the players of this engine's scenes). */
  readonly pollMs: number;
  readonly logger: Logger;
  /** @default Date.now */
  readonly now?: () => number;
}

export class MailRelay {
  readonly #o: MailRelayOptions;
  readonly #now: () => number;
  #inFlight = 0;
  /** The last mail looked at by the broadcast poll; null until the first poll found where to start. */
  #after: number | null = null;
  /** Broadcasts pushed to this engine's players (sent here, or found by the poll): the poll skips them. */
  readonly #pushed = new Set<number>();
  /** Claims under way: `playerId \0 mailId` → when it was reserved (ms since the epoch). */
  readonly #claiming = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #polling = false;

  constructor(o: MailRelayOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** Look for mail to everyone every `pollMs`. */
  start(): void {
    this.#timer = setInterval(() => void this.#poll(), this.#o.pollMs);
    this.#timer.unref();
    void this.#poll();
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Push MailArrived for each mail to everyone sent since the last poll (by any engine) to the players of this engine's scenes. */
  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      if (this.#after === null) {
        // Mail sent before this engine started is not news.
        this.#after = await this.#o.store.lastMailId();
        return;
      }
      const found = await this.#o.store.broadcasts(Math.max(0, this.#after - POLL_LOOKBACK), POLL_BATCH, this.#now());
      for (const mail of found) {
        if (mail.mailId > this.#after) this.#after = mail.mailId;
        if (this.#pushed.has(mail.mailId)) continue;
        this.#pushed.add(mail.mailId);
        this.#o.pushToAll(encodeMailArrivedFrame(mail.mailId, mail.from, mail.subject, mail.attachments !== null));
      }
      // Ids the look-back no longer reaches are forgotten.
      for (const id of this.#pushed) if (id <= this.#after - POLL_LOOKBACK) this.#pushed.delete(id);
    } catch (err) {
      this.#o.logger.warn({ err }, 'cannot look for mail to everyone; trying again later');
    } finally {
      this.#polling = false;
    }
  }

  /** Operations under way (tests: back to 0). */
  get pending(): number {
    return this.#inFlight;
  }

  /** Scene `host` asks for `request` under its call id `callId`. */
  outgoing(host: SceneHost, callId: number, request: MailRequest): void {
    const reply = (answer: CallAnswer): void => host.answer(callId, answer, this.#o.logger, { op: `mail.${request.op}` });
    // A claim is never refused for load: its scene holds a grant that only its answer settles.
    if (this.#inFlight >= MAX_IN_FLIGHT && request.op !== 'claim') {
      reply({ ok: false, code: ErrorCodes.ENG_ERR_QUEUE_FULL, message: `more than ${MAX_IN_FLIGHT} mail operations are under way on engine ${this.#o.engineId}` });
      return;
    }
    this.#inFlight++;
    void this.#answer(request, host.sceneId).then((answer) => {
      this.#inFlight--;
      reply(answer);
    });
  }

  /** Never rejects. */
  async #answer(request: MailRequest, sceneId: string): Promise<CallAnswer> {
    try {
      const result = await this.run(request, sceneId);
      return { ok: true, result: JSON.stringify(result ?? null) };
    } catch (err) {
      const data = toErrorData(err, ErrorCodes.ENG_ERR_HANDLER_FAILED);
      if (data.code === ErrorCodes.ENG_ERR_HANDLER_FAILED) this.#o.logger.error({ err, op: request.op }, 'mail operation failed');
      return { ok: false, code: data.code, message: data.message };
    }
  }

  /** Run one operation (a scene's, or the REPL's `mail` command); `sceneId` is where a claim's player plays. */
  async run(request: MailRequest, sceneId: string): Promise<unknown> {
    const { store } = this.#o;
    const args = request.args;
    switch (request.op) {
      case 'send': {
        const [to, input] = parse('send', ARGS.send, args);
        return this.send(to, input);
      }
      case 'list': {
        const [player, options] = parse('list', ARGS.list, args);
        return store.list({ playerId: player, limit: options?.limit ?? 20, ...(options?.before === undefined ? {} : { before: options.before }), unreadOnly: options?.unreadOnly ?? false, now: this.#now() });
      }
      case 'get': {
        const [player, id] = parse('get', ARGS.get, args);
        return store.get(player, id);
      }
      case 'counts':
        return store.counts(parse('counts', ARGS.counts, args)[0], this.#now());
      case 'read': {
        const [player, ids] = parse('read', ARGS.read, args);
        return store.markRead(player, ids, this.#now());
      }
      case 'delete': {
        const [player, ids] = parse('delete', ARGS.delete, args);
        return store.delete(player, ids, this.#now());
      }
      case 'reserve': {
        const [player, id] = parse('reserve', ARGS.reserve, args);
        return this.#reserve(player, id);
      }
      case 'release': {
        const [player, id] = parse('release', ARGS.release, args);
        return this.#claiming.delete(`${player}\u0000${id}`);
      }
      case 'claim':
        return this.#claim(args, sceneId);
    }
  }

  /** Check that `mailId` can be claimed by `player` now, and hold it for this claim. @throws MAIL_ERR_CLAIMING, MAIL_ERR_NOT_FOUND, MAIL_ERR_NOT_CLAIMABLE */
  async #reserve(player: string, mailId: number): Promise<unknown> {
    const key = `${player}\u0000${mailId}`;
    const now = this.#now();
    const held = this.#claiming.get(key);
    if (held !== undefined && now - held < RESERVATION_MS) throw new CodedError(ErrorCodes.MAIL_ERR_CLAIMING, `a claim of mail ${mailId} by player ${player} is under way`);
    this.#claiming.set(key, now);
    try {
      const mail = await this.#o.store.get(player, mailId);
      if (mail === null || mail.deletedAt !== null) throw new CodedError(ErrorCodes.MAIL_ERR_NOT_FOUND, `player ${player} has no mail ${mailId}`);
      if (mail.attachments === null) throw new CodedError(ErrorCodes.MAIL_ERR_NOT_CLAIMABLE, `mail ${mailId} has no attachments`);
      if (mail.claimedAt !== null) throw new CodedError(ErrorCodes.MAIL_ERR_NOT_CLAIMABLE, `mail ${mailId} was claimed already`);
      if (mail.expiresAt !== null && mail.expiresAt < this.#now()) throw new CodedError(ErrorCodes.MAIL_ERR_NOT_CLAIMABLE, `mail ${mailId} has expired`);
      return mail;
    } catch (err) {
      this.#claiming.delete(key);
      throw err;
    }
  }

  /**
   * The scene applied the mail's attachments to the player's data (`args[2]`): written with the
   * claim by the persister. Whatever stops it before the persister has it refuses the claim
   * there too: the scene's copy of the player holds the grant and must never be saved.
   */
  async #claim(args: readonly unknown[], sceneId: string): Promise<unknown> {
    const [player, id, json] = parse('claim', ARGS.claim, args);
    const key = `${player}\u0000${id}`;
    try {
      let data: unknown;
      try {
        data = JSON.parse(json);
      } catch (err) {
        const error = { code: ErrorCodes.OPT_ERR_INVALID, message: `mail.claim: the player's data is not JSON` };
        this.#o.persister.refuseClaim(player, error);
        throw new CodedError(error.code, error.message, { cause: err });
      }
      const result = await this.#o.persister.claim(player, data, sceneId, id);
      if (!result.ok) throw new CodedError(result.error.code, result.error.message);
      const claimed = await this.#o.store.get(player, id).catch(() => null);
      return { mailId: id, claimedAt: claimed?.claimedAt ?? this.#now() };
    } finally {
      this.#claiming.delete(key);
    }
  }

  /** Store a mail and push MailArrived to its recipients who are online: its id. */
  async send(to: MailRecipients, input: z.infer<typeof mailInput>): Promise<number> {
    if (input.expiresAt !== undefined && input.expiresAt !== null && input.expiresInMs !== undefined) {
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'mail.send: give expiresAt or expiresInMs, not both');
    }
    const now = this.#now();
    const mail: NewMail = {
      from: input.from ?? 'system',
      subject: input.subject,
      body: input.body ?? '',
      attachments: input.attachments === undefined || input.attachments === null ? null : JSON.stringify(input.attachments),
      expiresAt: input.expiresInMs !== undefined ? now + input.expiresInMs : (input.expiresAt ?? null),
    };
    const id = await this.#o.store.send(to, mail, now);
    const frame = encodeMailArrivedFrame(id, mail.from, mail.subject, mail.attachments !== null);
    if ('everyone' in to) {
      // This engine's players now; other engines' at their next poll.
      this.#pushed.add(id);
      this.#o.pushToAll(frame);
    } else {
      for (const player of new Set(to.players)) this.#o.pushes.notify(NOTIFY_FROM, player, frame);
    }
    return id;
  }
}
