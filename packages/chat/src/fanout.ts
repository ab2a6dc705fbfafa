/**
 * The message on the Redis fan-out channel: one pub/sub channel carries every chat channel's
 * frames, each message tagged with the chat channel it is for.
 *
 * Layout: `[version: 1 byte = 1][channel length: uint16 big-endian][channel: UTF-8][frame]`; the
 * frame runs to the end of the message (it may be empty). Decoding never throws: anything else on
 * the channel (another version, a cut message, a channel that is not well-formed UTF-8 or not a
 * valid name) decodes to a reason, which the subscriber logs before dropping the message.
 */
import { checkChannel } from './args.js';
import type { ChannelName } from './types.js';

/** The first byte of every message this version writes. */
export const FANOUT_VERSION = 1;
/** Version byte and channel length. */
const HEADER_BYTES = 3;
const MAX_CHANNEL_BYTES = 0xffff;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The message carrying `frame` for `channel` (both checked by the caller). */
export function encodeFanout(channel: ChannelName, frame: Uint8Array): Buffer {
  const name = Buffer.from(channel, 'utf8');
  // A checked name (300 code points) is at most 1,200 bytes; this guards the format itself.
  if (name.length > MAX_CHANNEL_BYTES) throw new RangeError(`channel name of ${name.length} bytes`);
  const out = Buffer.allocUnsafe(HEADER_BYTES + name.length + frame.byteLength);
  out[0] = FANOUT_VERSION;
  out.writeUInt16BE(name.length, 1);
  name.copy(out, HEADER_BYTES);
  out.set(frame, HEADER_BYTES + name.length);
  return out;
}

/** A message's channel and frame (a view into `message`), or why it is not one. */
export type DecodedFanout = { readonly channel: ChannelName; readonly frame: Uint8Array } | { readonly malformed: string };

export function decodeFanout(message: Uint8Array): DecodedFanout {
  if (message.byteLength < HEADER_BYTES) return { malformed: `${message.byteLength} bytes, shorter than a header` };
  if (message[0] !== FANOUT_VERSION) return { malformed: `version ${message[0]}, not ${FANOUT_VERSION}` };
  const nameBytes = ((message[1] ?? 0) << 8) | (message[2] ?? 0);
  const frameAt = HEADER_BYTES + nameBytes;
  if (frameAt > message.byteLength) return { malformed: `a channel name of ${nameBytes} bytes in a message of ${message.byteLength}` };
  let channel: string;
  try {
    channel = utf8.decode(message.subarray(HEADER_BYTES, frameAt));
    checkChannel(channel);
  } catch (err) {
    return { malformed: `bad channel name: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { channel, frame: new Uint8Array(message.buffer, message.byteOffset + frameAt, message.byteLength - frameAt) };
}
