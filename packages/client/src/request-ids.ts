/** Largest request id: the frame's requestId is a u32. */
export const MAX_REQUEST_ID = 0xffff_ffff;

/** The id after `previous`: wraps around the u32 range and skips 0, which pushes use. */
export function nextRequestId(previous: number): number {
  return previous >= MAX_REQUEST_ID || previous < 0 ? 1 : previous + 1;
}
