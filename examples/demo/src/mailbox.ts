/**
 * The demo's mail (docs/mail.md): every new player finds a welcome mail with coins in its
 * mailbox; operators send more from the REPL (`mail send …`). Players list, claim and delete
 * their mail through the routes below; a claim adds the mail's coins to the player's purse,
 * saved with the claim in one transaction, once.
 */
import type { HandlerContext, Mail, Player, Scene } from '@gos/engine';
import { CodedError } from '@gos/schema';
import type { MailListRes, PushMap } from './generated/protocol.js';

/** What the demo's mail attachments are: coins. */
export interface CoinAttachments {
  readonly coins: number;
}

/** The most coins a purse holds: a claim beyond it is refused (nothing is claimed). */
export const MAX_COINS = 1_000_000_000;
/** Coins in the welcome mail. */
export const WELCOME_COINS = 100;
/** Mails a list shows at once. */
const PAGE = 10;

/** The part of the player's data mail touches. */
export interface MailPlayerData {
  /** Coins claimed from mail. */
  coins?: number;
  /** The welcome mail was sent (once per player). */
  welcomeMailed?: boolean;
}

type MailScene = Scene<unknown, MailPlayerData, PushMap>;
type MailPlayer = Player<MailPlayerData, PushMap>;

function coinsOf(attachments: unknown): number {
  if (typeof attachments !== 'object' || attachments === null) return 0;
  const coins = (attachments as { coins?: unknown }).coins;
  return typeof coins === 'number' && Number.isSafeInteger(coins) && coins > 0 ? coins : 0;
}

/**
 * onJoin: a player that never got the welcome mail gets it. The flag is set first and saved with
 * the player's data; the mail is sent at once. A crash before that save sends it again at the
 * next join (and a store that refuses the send loses it): good enough for a welcome.
 */
export function welcomeMail(scene: MailScene, player: MailPlayer): void {
  if (player.data.welcomeMailed === true) return;
  player.data.welcomeMailed = true;
  player.markDirty();
  const attachments: CoinAttachments = { coins: WELCOME_COINS };
  scene.mail
    .send({ players: [player.id] }, { from: 'the demo', subject: 'Welcome!', body: `Here are ${WELCOME_COINS} coins to start with: /claim them.`, attachments })
    .catch((err: unknown) => scene.logger.warn({ err, playerId: player.id }, 'cannot send the welcome mail'));
}

/** onMailClaim: the mail's coins go to the purse; one that would overflow it is refused. */
export function claimCoins(_scene: MailScene, player: MailPlayer, mail: Mail): void {
  const coins = coinsOf(mail.attachments);
  if (coins === 0) throw new CodedError('DEMO_ERR_NO_COINS', `mail ${mail.mailId} carries no coins`);
  const purse = player.data.coins ?? 0;
  if (purse + coins > MAX_COINS) throw new CodedError('DEMO_ERR_PURSE_FULL', `a purse holds at most ${MAX_COINS} coins`);
  player.data.coins = purse + coins;
}

type Ctx = HandlerContext<unknown, MailPlayerData, PushMap>;

/** mailList: a page of the mailbox; what it shows is marked read. */
export async function listMail({ scene, player }: Pick<Ctx, 'scene' | 'player'>, before: number): Promise<MailListRes> {
  const mails = await scene.mail.list(player.id, { limit: PAGE, ...(before > 0 ? { before } : {}) });
  const unread = mails.filter((m) => m.readAt === null).map((m) => m.mailId);
  if (unread.length > 0) await scene.mail.read(player.id, unread);
  const counts = await scene.mail.counts(player.id);
  return {
    mails: mails.map((m) => ({ mailId: m.mailId, from: m.from, subject: m.subject, body: m.body, coins: coinsOf(m.attachments), claimed: m.claimedAt !== null, sentAt: m.sentAt })),
    unread: counts.unread,
    coins: player.data.coins ?? 0,
  };
}
