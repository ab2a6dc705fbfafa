import { readFrameHeader, type CodedError, type FrameHeader } from '@gos/schema';
import { badFrame } from './errors.js';

export interface InboundFrame {
  readonly header: FrameHeader;
  readonly bytes: Uint8Array;
}

/**
 * A WebSocket message as a frame, or the `SCH_ERR_BAD_FRAME` error to report: returned, not
 * thrown, because it comes from a socket callback.
 */
export function readInboundFrame(data: unknown): InboundFrame | CodedError {
  let bytes: Uint8Array;
  if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
  else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  else return badFrame(typeof data === 'string' ? 'the server sent a text frame' : 'the server sent a non-binary message');
  const header = readFrameHeader(bytes);
  if (header === null) {
    const first = bytes.byteLength > 0 ? `, kind ${bytes[0]}` : '';
    return badFrame(`bad frame from the server (${bytes.byteLength} bytes${first})`);
  }
  return { header, bytes };
}
