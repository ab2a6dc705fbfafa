export { GameClient } from './game-client.js';
export type {
  GameClientState,
  ClientEventMap,
  ClientEventName,
  ClientOpenEvent,
  ClientCloseEvent,
  ClientReconnectingEvent,
  PushName,
  PushPayload,
  RequestOptions,
} from './game-client.js';
export { socketUrl } from './options.js';
export type { GameClientOptions, ReconnectOptions } from './options.js';
export { ConnectionClosedError, ServerError } from './errors.js';
export { AuthClient, HttpError, register, login, guest } from './auth.js';
export type { AuthClientOptions, AuthRequestOptions, FetchLike, RegisterOptions, RegisterResult, LoginResult, GuestResult } from './auth.js';
export type { WebSocketLike, WebSocketConstructor, SocketMessageEvent, SocketCloseEvent, SocketErrorEvent } from './websocket.js';
