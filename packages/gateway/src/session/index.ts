export type { CreateSessionInput, CreateSessionResult, Presence, Session, SessionStore } from './types.js';
export { MemorySessionStore, type MemorySessionStoreOptions } from './memory.js';
export { RedisSessionStore, type RedisSessionStoreOptions } from './redis.js';
export { SESSION_TOKEN_BYTES, isWellFormedSessionToken, sessionTokenId } from './token.js';
