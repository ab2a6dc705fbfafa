/**
 * Chat from a client (docs/chat.md): lines on the world, the player's scene, its group and
 * private lines, answered by the gateway through the core routes. Lines of players this client
 * blocks are not passed on: the gateway keeps their private lines away, and this class drops
 * their lines on the shared channels (which are encoded once for everyone).
 *
 * ```ts
 * const chat = new ChatClient(client);
 * chat.onLine((line) => show(`${line.name}: ${line.text}`));
 * await client.connect();
 * await chat.say('world', 'hello');
 * await chat.say('private', 'psst', friendId);
 * const last = await chat.history('scene', { limit: 20 });
 * ```
 */
import { coreProtocol, type ChatMessage, type ChatSayRes, type Protocol } from '@gos/schema';
import type { GameClient } from './game-client.js';
import type { PushName } from './push-dispatch.js';

/** The core push of a chat line. */
const CHAT_MESSAGE = 'ChatMessage';
/** Lines remembered to drop a second copy of one. */
const RECENT_IDS = 256;

/** Where a line goes: everyone, the player's scene, its account's group, or one player. */
export type ChatChannel = 'world' | 'scene' | 'group' | 'private';

function isChatMessage(v: unknown): v is ChatMessage {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  return typeof m['id'] === 'string' && typeof m['channel'] === 'string' && typeof m['from'] === 'string' && typeof m['name'] === 'string' && typeof m['text'] === 'string' && typeof m['at'] === 'number';
}

export class ChatClient<P extends Protocol = Protocol> {
  readonly #client: GameClient<P>;
  readonly #listeners = new Set<(line: ChatMessage) => void>();
  #blocked = new Set<string>();
  /** Ids of the last lines passed on: a private line may come twice (held, and heard online at the same moment). */
  readonly #recent = new Set<string>();
  readonly #off: Array<() => void>;

  constructor(client: GameClient<P>) {
    this.#client = client;
    this.#off = [
      client.onPush(CHAT_MESSAGE as PushName<P>, (line: unknown) => {
        // A game protocol may name a push of its own ChatMessage: only the core one is a line.
        if (!isChatMessage(line) || this.#blocked.has(line.from)) return;
        const key = `${line.channel}\u0000${line.id}`;
        if (this.#recent.has(key)) return;
        this.#recent.add(key);
        if (this.#recent.size > RECENT_IDS) this.#recent.delete(this.#recent.values().next().value ?? '');
        for (const listener of this.#listeners) listener(line);
      }),
      // The block list, as the gateway keeps it, on every (re)connection.
      client.on('open', () => {
        this.blocked().catch(() => undefined);
      }),
    ];
  }

  /** Hear every line (of a player not blocked). Returns the function that stops it. */
  onLine(listener: (line: ChatMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Say `text` on `channel` (`to`: the player, for a private line): the line as it went out.
   * Rejects with the gateway's code: `CHAT_ERR_RATE_LIMITED`, `CHAT_ERR_MUTED`,
   * `CHAT_ERR_TOO_LONG`, `CHAT_ERR_EMPTY`, `CHAT_ERR_BLOCKED`, `CHAT_ERR_REFUSED`, `CHAT_ERR_NO_GROUP`…
   */
  say(channel: ChatChannel, text: string, to = ''): Promise<ChatSayRes> {
    return this.#client.request(coreProtocol.routes.chatSay, { channel, to, text });
  }

  /** The last lines of a channel the player hears, oldest first (`before`: a line's id, for the page before it; `limit` 1–100, 20). */
  async history(channel: ChatChannel, options: { readonly before?: string; readonly limit?: number } = {}): Promise<ChatMessage[]> {
    const res = await this.#client.request(coreProtocol.routes.chatHistory, { channel, before: options.before ?? '', limit: options.limit ?? 0 });
    return res.lines.filter((line) => !this.#blocked.has(line.from));
  }

  /** Block `playerId`: its private lines are refused, its other lines hidden here. The list. */
  block(playerId: string): Promise<string[]> {
    return this.#blocks(playerId, true);
  }

  unblock(playerId: string): Promise<string[]> {
    return this.#blocks(playerId, false);
  }

  /** The players blocked (read from the gateway). */
  blocked(): Promise<string[]> {
    return this.#blocks('', false);
  }

  async #blocks(playerId: string, block: boolean): Promise<string[]> {
    const { blocked } = await this.#client.request(coreProtocol.routes.chatBlock, { playerId, block });
    this.#blocked = new Set(blocked);
    return [...blocked];
  }

  /** Stop listening to the client. */
  close(): void {
    for (const off of this.#off.splice(0)) off();
    this.#listeners.clear();
  }
}
