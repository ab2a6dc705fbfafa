export type { ChannelName, ChatBackend, ChatLine, ChatRetention, NewChatLine } from './types.js';
export { ChatService, channelOf, channelsOf } from './chat-service.js';
export type { ChatSender, ChatServiceOptions, ChatTarget, ModerationInput } from './chat-service.js';
export { MemoryChatBackend, MemoryChatHub } from './memory.js';
export type { MemoryChatOptions } from './memory.js';
export { RedisChatBackend } from './redis.js';
export type { RedisChatOptions } from './redis.js';
export type { FrameHandler } from './subscribers.js';
export {
  checkChannel,
  MAX_BLOCKED,
  MAX_CHANNEL,
  MAX_FRAME_BYTES,
  MAX_HELD,
  MAX_HISTORY,
  MAX_NAME,
  MAX_PLAYER_ID,
  MAX_RETAINED_LINES,
  MAX_TEXT,
  MIN_HELD_TTL_MS,
  MIN_RETAINED_AGE_MS,
} from './args.js';
