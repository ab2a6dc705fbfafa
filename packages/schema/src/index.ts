export { ErrorCodes, CodedError, isCodedError, isRetryableCode, RETRYABLE_CODES, toErrorData } from './errors.js';
export type { ErrorCode, ErrorData } from './errors.js';
export {
  FRAME_HEADER_BYTES,
  FrameFlag,
  allowedFrameFlags,
  FrameKind,
  CloseCode,
  NO_RECONNECT_CLOSE_CODES,
  DEFAULT_MAX_FRAME_BYTES,
  encodeFrame,
  readFrameHeader,
  framePayload,
  WS_PATH,
  WS_QUERY_TOKEN,
  WS_QUERY_VERSION,
} from './wire.js';
export type { FrameHeader } from './wire.js';
export type { Codec, RouteDef, PushDef, Protocol, RpcDef } from './protocol.js';
export { INT_RANGE, cellShape, checkEntityValue, packCell, cellX, cellY, CELL_GONE, FAR_CELL, farCell, isFarCell, MAX_CELL_COORD, MAX_ENTITY_FIELDS } from './entities.js';
export { CellFrameWriter } from './cell-writer.js';
export { cellCodec, decodeCellFrame } from './cell-reader.js';
export type { CellFrame, EntityChange, EntityFieldDef, EntityFieldType, EntityTypeDef, EntityValue, SceneEntitiesDef } from './entities.js';
export { cleanText } from './text.js';
export { TICK_GRID_TOLERANCE_MS, tickGridAtOrAfter } from './tick-grid.js';
export type { CleanTextOptions } from './text.js';
export { silentLogger } from './logger.js';
export type { Logger, LogFn } from './logger.js';
export {
  tableCodec,
  verifyRoot,
  readList,
  enumMember,
  nested,
  present,
  badPayload,
  MIN_BUFFER_BYTES,
  MAX_TABLE_DEPTH,
} from './codec-runtime.js';
export type { FieldShape, TableShape, ScalarSize } from './codec-runtime.js';
export {
  protocol as coreProtocol,
  PUSH as CORE_PUSH,
  ROUTE as CORE_ROUTE,
  ErrorReplyCodec,
  SceneRestartedCodec,
  SceneResumedCodec,
  SceneChangedCodec,
  NoticeCodec,
  EntityViewCodec,
  ReconnectCodec,
  MailArrivedCodec,
  ChatMessageCodec,
  ChatSayReqCodec,
  ChatSayResCodec,
  ChatHistoryReqCodec,
  ChatHistoryResCodec,
  ChatBlockReqCodec,
  ChatBlockResCodec,
} from './generated/protocol.js';
export type {
  CoreProtocol,
  PushMap as CorePushMap,
  ErrorReply,
  SceneRestarted,
  SceneResumed,
  SceneChanged,
  Notice,
  EntityView,
  MailArrived,
  ChatMessage,
  ChatSayReq,
  ChatSayRes,
  ChatHistoryReq,
  ChatHistoryRes,
  ChatBlockReq,
  ChatBlockRes,
  Reconnect,
} from './generated/protocol.js';
export { encodeErrorFrame, encodeReconnectFrame, encodeSceneChangedFrame, encodeSceneRestartedFrame, encodeSceneMovedFrame, encodeSceneResumedFrame, encodeMailArrivedFrame } from './core-frames.js';
