/**
 * Hostile clients for the soak (issue 10 point 19c: "1.7 M hostile frames left it 54 MB
 * higher"): guests that send frames with valid headers for real routes and mutated payloads
 * (bits flipped, cut short, offsets overwritten), frames for routes that do not exist, and now
 * and then a frame that breaks the protocol, which closes the socket; a closed socket opens again
 * with the same token, so sockets are opened and closed all along. Each socket stays under the
 * gateway's frame budget (60 a second): the point is what the server keeps, not its flood limit.
 */
import WebSocket from 'ws';
import { CloseCode, encodeFrame, ErrorReplyCodec, FRAME_HEADER_BYTES, FrameFlag, FrameKind, readFrameHeader, WS_QUERY_TOKEN, WS_QUERY_VERSION } from '@gos/schema';
import { protocol, ROUTE } from '../generated/protocol.js';

export interface HostileOptions {
  readonly baseUrl: string;
  /** Hostile sockets open at once. */
  readonly sockets: number;
  /** Frames each socket sends a second (kept under the gateway's 60). */
  readonly framesPerSecond: number;
  readonly seconds: number;
}

export interface HostileResult {
  readonly sockets: number;
  /** Frames sent, every kind. */
  readonly frames: number;
  /** ERROR frames received, by code. */
  readonly errorsByCode: Readonly<Record<string, number>>;
  /** Sockets the server closed, by close code (4008 for the protocol breaks is expected). */
  readonly closesByCode: Readonly<Record<string, number>>;
  /** Sockets opened again after a close. */
  readonly reopened: number;
  /** Logins or socket opens that failed. */
  readonly connectFailures: number;
}

/** One in this many frames breaks the protocol (a frame shorter than its header): the socket is closed. */
const BREAK_EVERY = 500;

/** A valid move, to mutate. */
const MOVE = protocol.routes.move.request.encode({ seq: 1, x: 10, y: 20 });

/** A payload that is a valid move with its bits flipped, cut short, or its offsets overwritten. */
function mutated(): Uint8Array {
  const p = new Uint8Array(MOVE);
  switch (Math.floor(Math.random() * 3)) {
    case 0: {
      for (let i = 0; i < 1 + Math.floor(Math.random() * 4); i++) p[Math.floor(Math.random() * p.length)]! ^= 1 << Math.floor(Math.random() * 8);
      return p;
    }
    case 1:
      return p.subarray(0, Math.floor(Math.random() * p.length));
    default: {
      const at = Math.floor(Math.random() * Math.max(1, p.length - 4)) & ~3;
      new DataView(p.buffer, p.byteOffset).setUint32(at, Math.floor(Math.random() * 0xffffffff), true);
      return p;
    }
  }
}

let requestIds = 0;

/** The next hostile frame: mostly mutated payloads on real routes, some unknown routes, rarely a broken frame. */
function hostileFrame(n: number): Uint8Array {
  requestIds = (requestIds + 1) >>> 0 || 1;
  if (n % BREAK_EVERY === BREAK_EVERY - 1) return new Uint8Array(FRAME_HEADER_BYTES - 1);
  const r = Math.random();
  if (r < 0.1) return encodeFrame(FrameKind.REQUEST, 9000 + Math.floor(Math.random() * 1000), requestIds, mutated());
  const route = r < 0.7 ? ROUTE.move : r < 0.85 ? ROUTE.walk : ROUTE.migInput;
  // Without NO_REPLY: every refusal comes back as an ERROR frame, which is counted.
  return encodeFrame(FrameKind.REQUEST, route, requestIds, mutated(), r < 0.4 ? FrameFlag.NO_REPLY : 0);
}

export async function runHostile(o: HostileOptions): Promise<HostileResult> {
  const errorsByCode: Record<string, number> = {};
  const closesByCode: Record<string, number> = {};
  let frames = 0;
  let reopened = 0;
  let connectFailures = 0;
  const endAt = performance.now() + o.seconds * 1000;

  const login = async (): Promise<string> => {
    const res = await fetch(`${o.baseUrl}/v1/auth/guest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    if (res.status !== 200) throw new Error(`guest login: HTTP ${res.status}`);
    const body = (await res.json()) as { token: string; gateway: string };
    return `${body.gateway}?${WS_QUERY_TOKEN}=${encodeURIComponent(body.token)}&${WS_QUERY_VERSION}=${protocol.version}`;
  };

  /** One hostile socket, opened again whenever the server closes it, until the end. */
  const play = async (): Promise<void> => {
    let url: string | null = null;
    let first = true;
    while (performance.now() < endAt) {
      try {
        url ??= await login();
        const ws = new WebSocket(url);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        if (!first) reopened++;
        first = false;
        ws.on('message', (data: Buffer) => {
          const bytes = new Uint8Array(data);
          const h = readFrameHeader(bytes);
          if (h?.kind !== FrameKind.ERROR) return;
          let code = 'undecodable';
          try {
            code = ErrorReplyCodec.decode(bytes.subarray(FRAME_HEADER_BYTES)).code;
          } catch {
            // counted as undecodable
          }
          errorsByCode[code] = (errorsByCode[code] ?? 0) + 1;
        });
        const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
        const timer = setInterval(() => {
          if (ws.readyState !== WebSocket.OPEN) return;
          ws.send(hostileFrame(frames++));
        }, 1000 / o.framesPerSecond);
        const ended = new Promise<number>((resolve) => setTimeout(() => resolve(-1), Math.max(0, endAt - performance.now())));
        const code = await Promise.race([closed, ended]);
        clearInterval(timer);
        if (code === -1) {
          ws.terminate();
          return;
        }
        closesByCode[String(code)] = (closesByCode[String(code)] ?? 0) + 1;
        // A session the server ended (not only the socket) needs a new login.
        if (code !== CloseCode.BAD_FRAME) url = null;
      } catch {
        connectFailures++;
        url = null;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };
  await Promise.all(Array.from({ length: o.sockets }, () => play()));
  return { sockets: o.sockets, frames, errorsByCode, closesByCode, reopened, connectFailures };
}
