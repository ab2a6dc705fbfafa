/** Traffic counters of a link, a snapshot. Bytes are wire bytes, headers and link frames included. */
export interface LinkStats {
  /** Frames received (handshake, PING and PONG included). */
  readonly framesIn: number;
  /** Frames handed to the socket. */
  readonly framesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** `socket.write` calls: one per flushed batch, so `framesOut / writes` is the batching factor. */
  readonly writes: number;
  /** Round trip of the last answered PING, in ms; `null` before the first. */
  readonly rttMs: number | null;
  /** Bytes waiting to be written: the current batch plus the socket's buffer (0 when closed). */
  readonly queuedBytes: number;
}

/** Mutable counters; a client shares one object across its reconnections. */
export interface LinkCounters {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  writes: number;
}

export function newCounters(): LinkCounters {
  return { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, writes: 0 };
}
