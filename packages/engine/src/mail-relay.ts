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
/** What scene code sends (`MailInput` of api-mail.ts), its attachments already JSON text. */
const mailInput = z
  .object({
    from: z.string().optional(),
    subject: z.string(),
    body: z.string().optional(),
    attachments: z.string().nullable().optional(),
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
  claim: z.tuple([playerId, mailId, z.string()]),
} as const;

function parse<T extends z.ZodType>(op: string, schema: T, args: readonly unknown[]): z.output<T> {
  const result = schema.safeParse(args);
  if (!result.success) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `mail.${op}: ${result.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ')}`);
  return result.data;
}

export interface MailRelayOptions {
  readonly store: MailStore;
  readonly persister: Pick<Persister, 'claim'>;
  readonly pushes: Pick<PlayerPushes, 'notify'>;
  /** The players seated on this engine now (a mail to everyone is pushed to them). */
  readonly seated: () => Iterable<string>;
  readonly engineId: string;
  /** How often mail to everyone is looked for (pushed to the players seated here). */
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
  /** Broadcasts this engine sent (and pushed to its players already): the poll skips them. */
  readonly #pushed = new Set<number>();
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

  /** Push MailArrived for each mail to everyone sent since the last poll (by any engine) to the players seated here. */
  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      if (this.#after === null) {
        // Mail sent before this engine started is not news.
        this.#after = await this.#o.store.lastMailId();
        return;
      }
      const found = await this.#o.store.broadcasts(this.#after, POLL_BATCH, this.#now());
      for (const mail of found) {
        this.#after = Math.max(this.#after, mail.mailId);
        if (this.#pushed.delete(mail.mailId)) continue;
        const frame = encodeMailArrivedFrame(mail.mailId, mail.from, mail.subject, mail.attachments !== null);
        for (const player of this.#o.seated()) this.#o.pushes.notify(NOTIFY_FROM, player, frame);
      }
      // Sent here but never seen by the poll (it expired first): forgotten once the poll is past it.
      for (const id of this.#pushed) if (id <= this.#after) this.#pushed.delete(id);
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
    if (this.#inFlight >= MAX_IN_FLIGHT) {
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
      case 'claim': {
        const [player, id, json] = parse('claim', ARGS.claim, args);
        let data: unknown;
        try {
          data = JSON.parse(json);
        } catch {
          throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `mail.claim: the player's data is not JSON`);
        }
        const result = await this.#o.persister.claim(player, data, sceneId, id);
        if (!result.ok) throw new CodedError(result.error.code, result.error.message);
        return { mailId: id, claimedAt: this.#now() };
      }
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
      attachments: input.attachments ?? null,
      expiresAt: input.expiresInMs !== undefined ? now + input.expiresInMs : (input.expiresAt ?? null),
    };
    const id = await this.#o.store.send(to, mail, now);
    const frame = encodeMailArrivedFrame(id, mail.from, mail.subject, mail.attachments !== null);
    // A mail to everyone: this engine's players now, other engines' at their next poll.
    if ('everyone' in to) this.#pushed.add(id);
    const players = 'players' in to ? to.players : this.#o.seated();
    for (const player of players) this.#o.pushes.notify(NOTIFY_FROM, player, frame);
    return id;
  }
}
