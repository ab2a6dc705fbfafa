export { Gateway } from './gateway.js';
export type { GatewayDrainOutcome } from './drain.js';
export type { GatewayChatOptions, GatewayLimits, GatewayOptions, LoginAccount, SceneChooser } from './options.js';
export { loadUws } from './uws.js';
export type { LoadUwsOptions, LoadedUws, UwsBuildName, UwsBuildPreference } from './uws.js';
export type { GatewayTlsOptions } from './tls.js';
export { hashPassword, verifyPassword } from './passwords.js';
export { MemorySessionStore, RedisSessionStore, SESSION_TOKEN_BYTES, isWellFormedSessionToken, sessionTokenId } from './session/index.js';
export type {
  CreateSessionInput,
  CreateSessionResult,
  MemorySessionStoreOptions,
  Presence,
  RedisSessionStoreOptions,
  Session,
  SessionStore,
} from './session/index.js';
