/**
 * The gateway's side of chat (docs/chat.md): the core routes chatSay, chatHistory and chatBlock,
 * answered here (no engine involved), and the uWS topics a socket hears: `ch/world`,
 * `ch/p:<playerId>` and `ch/group:<groupId>` from its admission, `ch/scene:<sceneId>` with its
 * scene (socket.ts). A line is encoded once where it is said and reaches every gateway once
 * through the chat backend; each gateway publishes it to its sockets of the channel's topic.
 */
import { ChatService, type ChatLine, type ChatSender, type ChatTarget } from '@gos/chat';
import {
  ChatBlockReqCodec,
  ChatBlockResCodec,
  ChatHistoryReqCodec,
  ChatHistoryResCodec,
  ChatMessageCodec,
  ChatSayReqCodec,
  ChatSayResCodec,
  CodedError,
  CORE_PUSH,
  CORE_ROUTE,
  ErrorCodes,
  FRAME_HEADER_BYTES,
  FrameKind,
  encodeFrame,
  isCodedError,
  toErrorData,
  type ChatMessage,
  type Logger,
} from '@gos/schema';
import type { Store } from '@gos/store';
import type { GatewayChatOptions } from './options.js';
import type { ConnData, Socket } from './socket.js';

/** The uWS topic of a chat channel. */
export function chatTopic(channel: string): string {
  return `ch/${channel}`;
}

/** Lines a history request returns when it names no limit. */
const DEFAULT_HISTORY = 20;

/** The core routes chat answers (their opcodes). */
export const CHAT_ROUTES: ReadonlySet<number> = new Set([CORE_ROUTE.chatSay, CORE_ROUTE.chatHistory, CORE_ROUTE.chatBlock]);

export interface GatewayChatDeps {
  readonly options: GatewayChatOptions;
  /** Whether a player (an account) exists: private lines go to players only. */
  readonly isPlayer: (playerId: string) => Promise<boolean>;
  /** Send a frame to one socket. */
  readonly sendTo: (ws: Socket, frame: Uint8Array) => void;
  /** Answer a request with an ERROR frame. */
  readonly sendError: (ws: Socket, opcode: number, requestId: number, code: string, message: string) => void;
  /** Publish a frame to a uWS topic of this gateway. */
  readonly publish: (topic: string, frame: Uint8Array) => void;
  /** Sockets of this gateway subscribed to a topic. */
  readonly subscribers: (topic: string) => number;
  readonly logger: Logger;
}

function toMessage(line: ChatLine): ChatMessage {
  return { id: line.id, channel: line.channel, from: line.from, name: line.name, text: line.text, at: line.at };
}

/** The ChatMessage push of a line. */
export function encodeChatFrame(line: ChatLine): Uint8Array {
  return encodeFrame(FrameKind.PUSH, CORE_PUSH.ChatMessage, 0, ChatMessageCodec.encode(toMessage(line)));
}

export class GatewayChat {
  readonly #d: GatewayChatDeps;
  readonly #service: ChatService;
  #unsubscribe: (() => Promise<void>) | null = null;

  constructor(d: GatewayChatDeps) {
    this.#d = d;
    this.#service = new ChatService({ ...d.options, encode: encodeChatFrame, isPlayer: d.isPlayer, logger: d.logger });
  }

  /** Hear the lines every gateway publishes, and hand each to this gateway's sockets of its channel. */
  async start(): Promise<void> {
    this.#unsubscribe = await this.#d.options.backend.subscribe((channel, frame) => this.#fanOut(channel, frame));
  }

  /** A line from the backend (said on any gateway): to this gateway's sockets of its channel. */
  #fanOut(channel: string, frame: Uint8Array): void {
    const topic = chatTopic(channel);
    if (!channel.startsWith('p:')) {
      this.#d.publish(topic, frame);
      return;
    }
    // A private line: held for its player until a gateway with its socket hands it over (this one?).
    if (this.#d.subscribers(topic) === 0) return;
    this.#d.publish(topic, frame);
    let id: string;
    try {
      id = ChatMessageCodec.decode(frame.subarray(FRAME_HEADER_BYTES)).id;
    } catch (err) {
      this.#d.logger.warn({ err, channel }, 'a private chat line that cannot be read: left held');
      return;
    }
    this.#service.delivered(channel.slice(2), id).catch((err: unknown) => this.#d.logger.warn({ err, channel }, 'cannot mark a private chat line delivered: it comes again at the next connection'));
  }

  async close(): Promise<void> {
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = null;
    await unsubscribe?.().catch((err: unknown) => this.#d.logger.warn({ err }, 'cannot stop hearing the chat'));
  }

  /** A socket was admitted: it hears the world, its private lines and its group, and gets the lines held for it. */
  admitted(ws: Socket, data: ConnData): void {
    const session = data.session;
    if (session === null) return;
    ws.subscribe(chatTopic('world'));
    ws.subscribe(chatTopic(`p:${session.accountId}`));
    if (session.groupId !== null) ws.subscribe(chatTopic(`group:${session.groupId}`));
    this.#service.takeHeld(session.accountId).then(
      (lines) => {
        if (data.state !== 'closed') {
          for (const line of lines) this.#d.sendTo(ws, encodeChatFrame(line));
          return;
        }
        // Gone before they could be given: held again, for its next connection.
        this.#service.holdAgain(session.accountId, lines).catch((err: unknown) => this.#d.logger.warn({ err, playerId: session.accountId }, 'private chat lines lost: the player left as they were given'));
      },
      (err: unknown) => this.#d.logger.warn({ err, playerId: session.accountId }, 'cannot deliver the private lines held for a player'),
    );
  }

  /** A request on one of {@link CHAT_ROUTES}: answered when done (never throws). */
  request(ws: Socket, data: ConnData, opcode: number, requestId: number, payload: Uint8Array, wantsReply: boolean): void {
    void this.#answer(ws, data, opcode, requestId, payload, wantsReply);
  }

  async #answer(ws: Socket, data: ConnData, opcode: number, requestId: number, payload: Uint8Array, wantsReply: boolean): Promise<void> {
    try {
      const sender = senderOf(data);
      let frame: Uint8Array;
      switch (opcode) {
        case CORE_ROUTE.chatSay: {
          const req = ChatSayReqCodec.decode(payload);
          const line = await this.#service.say(sender, targetOf(req.channel, req.to), req.text);
          frame = encodeFrame(FrameKind.RESPONSE, opcode, requestId, ChatSayResCodec.encode({ id: line.id, channel: line.channel, text: line.text, at: line.at }));
          break;
        }
        case CORE_ROUTE.chatHistory: {
          const req = ChatHistoryReqCodec.decode(payload);
          const channel = channelNamed(sender, req.channel);
          const lines = await this.#service.history(sender, channel, req.limit === 0 ? DEFAULT_HISTORY : req.limit, req.before === '' ? undefined : req.before);
          frame = encodeFrame(FrameKind.RESPONSE, opcode, requestId, ChatHistoryResCodec.encode({ lines: lines.map(toMessage) }));
          break;
        }
        case CORE_ROUTE.chatBlock: {
          const req = ChatBlockReqCodec.decode(payload);
          const { backend } = this.#d.options;
          if (req.playerId !== '') {
            if (req.playerId === sender.playerId) throw new CodedError(ErrorCodes.CHAT_ERR_REFUSED, 'a player cannot block itself');
            await (req.block ? backend.block(sender.playerId, req.playerId) : backend.unblock(sender.playerId, req.playerId));
          }
          frame = encodeFrame(FrameKind.RESPONSE, opcode, requestId, ChatBlockResCodec.encode({ blocked: await backend.blocked(sender.playerId) }));
          break;
        }
        default:
          throw new CodedError(ErrorCodes.GW_ERR_UNKNOWN_ROUTE, `unknown route ${opcode}`);
      }
      // A request sent with NO_REPLY gets no response (its errors still answer).
      if (wantsReply) this.#d.sendTo(ws, frame);
    } catch (err) {
      const e = toErrorData(err, ErrorCodes.GW_ERR_INTERNAL);
      if (!isCodedError(err)) this.#d.logger.error({ err, opcode }, 'chat request failed');
      this.#d.sendError(ws, opcode, requestId, e.code, e.message);
    }
  }
}

/** The socket's player as the chat sees it. */
function senderOf(data: ConnData): ChatSender {
  const session = data.session;
  if (session === null) throw new CodedError(ErrorCodes.CHAT_ERR_REFUSED, 'not logged in');
  // The scene the session names: the one it is joining, or travelling to, already.
  return { playerId: session.accountId, name: session.username, groupId: session.groupId, sceneId: session.sceneId };
}

/** A chatSay's `channel` (and `to`). @throws OPT_ERR_INVALID for any other */
function targetOf(channel: string, to: string): ChatTarget {
  switch (channel) {
    case 'world':
    case 'scene':
    case 'group':
      if (to !== '') throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `"to" is for private lines only`);
      return { kind: channel };
    case 'private':
      return { kind: 'private', to };
    default:
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `unknown channel ${JSON.stringify(channel.slice(0, 40))}: world, scene, group or private`);
  }
}

/** A chatHistory's `channel` as the backend names it, for this player. */
function channelNamed(sender: ChatSender, channel: string): string {
  switch (channel) {
    case 'world':
      return 'world';
    case 'private':
      return `p:${sender.playerId}`;
    case 'scene':
      if (sender.sceneId === null) throw new CodedError(ErrorCodes.CHAT_ERR_REFUSED, 'not in a scene yet');
      return `scene:${sender.sceneId}`;
    case 'group':
      if (sender.groupId === null) throw new CodedError(ErrorCodes.CHAT_ERR_NO_GROUP, 'the player is in no group');
      return `group:${sender.groupId}`;
    default:
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `unknown channel ${JSON.stringify(channel.slice(0, 40))}: world, scene, group or private`);
  }
}

/** Accounts known to exist (an account is never deleted while the gateway runs): private lines to them skip the store. */
const KNOWN_ACCOUNTS = 100_000;

/** Whether an account exists, through `store`, remembering the ones that do. */
export function accountExists(store: Pick<Store, 'getAccount'>): (playerId: string) => Promise<boolean> {
  const known = new Set<string>();
  return async (playerId) => {
    if (known.has(playerId)) return true;
    const found = (await store.getAccount(playerId)) !== null;
    if (found) {
      if (known.size >= KNOWN_ACCOUNTS) known.clear();
      known.add(playerId);
    }
    return found;
  };
}
