export { LinkServer } from './server.js';
export type { LinkServerEvents } from './server.js';
export { LinkClient } from './client.js';
export type { LinkClientEvents } from './client.js';
export type { LinkPeer, LinkPeerEvents } from './peer.js';
export type { LinkStats } from './stats.js';
export { LINK_DEFAULTS, resolveLinkClientOptions, resolveLinkServerOptions } from './options.js';
export { resolveLinkTls } from './tls.js';
export type { LinkTlsOptions, ResolvedLinkTls } from './tls.js';
export type {
  LinkOptions,
  LinkServerOptions,
  LinkClientOptions,
  ResolvedLinkOptions,
  ResolvedLinkServerOptions,
  ResolvedLinkClientOptions,
} from './options.js';
export {
  LINK_FRAME_HEADER_BYTES,
  RESERVED_TYPE_MAX,
  FIRST_USER_TYPE,
  LinkFrameType,
  FrameParser,
  encodeLinkFrame,
} from './frame.js';
export type { LinkFrame } from './frame.js';
export { LINK_PROTOCOL_VERSION } from './handshake.js';
export {
  GatewayToEngine,
  EngineToGateway,
  EngineToEngine,
  AdminToEngine,
  EngineToAdmin,
  GW_TO_ENGINE,
  ENGINE_TO_GW,
  MAX_TOPIC_BYTES,
  encodeJoinBody,
  decodeJoinBody,
  encodeKickBody,
  decodeKickBody,
  encodeJoinedBody,
  decodeJoinedBody,
  encodeJoinFailedBody,
  decodeJoinFailedBody,
  encodeTravelBody,
  decodeTravelBody,
  encodeMigratedBody,
  decodeMigratedBody,
  encodeMigratingBody,
  decodeMigratingBody,
  encodeTravelOutBody,
  decodeTravelOutBody,
  encodeCallBody,
  encodeAdminBody,
  decodeAdminBody,
  decodeCallBody,
  encodeAnswerBody,
  decodeAnswerBody,
  encodeBroadcastBody,
  decodeBroadcastBody,
} from './messages.js';
export type {
  GatewayToEngineType,
  EngineToGatewayType,
  JoinBody,
  KickBody,
  JoinedBody,
  JoinFailedBody,
  MigratedBody,
  MigratingBody,
  TravelBody,
  TravelOutBody,
  CallBody,
  AdminBody,
  AnswerBody,
  BroadcastBody,
} from './messages.js';
export { encodeCellsBody, decodeCellsBody, encodeInterestBody, decodeInterestBody } from './entity-messages.js';
export type { SceneCells, InterestChange } from './entity-messages.js';
export { LocalLinks, LocalLinkClient, LocalLinkPeer } from './local.js';
export { ChannelIds, MAX_CHANNEL_ID } from './channel-ids.js';
export type { LocalLinksOptions } from './local.js';
export type { EngineLink, FrameLane, FrameLanes, GatewayPeer, LinkTransport } from './endpoints.js';
