/**
 * Load generator driver for this framework: guest login over HTTP, then the binary WebSocket
 * with the session token; joined once the scene's `Welcome` push names the player's number.
 * Ticks are read in place with the flatc accessors (no object per tick): the generator must
 * stay cheap next to the server it measures.
 */
import { ByteBuffer } from 'flatbuffers';
import WebSocket from 'ws';
import { encodeFrame, ErrorReplyCodec, FRAME_HEADER_BYTES, FrameFlag, FrameKind, WS_QUERY_TOKEN, WS_QUERY_VERSION } from '@gos/schema';
import type { ClientHooks, Driver } from '../driver.js';
import { ChatLine, Tick, Welcome } from '../../generated/fbs/bench_mmo_generated.js';
import { protocol, PUSH, ROUTE } from '../../generated/protocol.js';

const PING_INTERVAL_MS = 10_000;
const PING_FRAME = encodeFrame(FrameKind.PING, 0, 0, null);

/** Request frames carry an id the engine echoes in its (empty) acknowledgement. */
let requestIds = 0;

/**
 * `noReply: true` sends moves with the NO_REPLY flag (what `GameClient.send` does): ticks
 * acknowledge them. `false` sends plain requests, each answered by an empty RESPONSE frame.
 */
export function projectDriver(options: { noReply: boolean }): Driver {
  const flags = options.noReply ? FrameFlag.NO_REPLY : 0;
  return {
    target: options.noReply ? 'project' : 'project-acked',
    async connect(_index, baseUrl, hooks, { decodeTicks }) {
      const res = await fetch(`${baseUrl}/v1/auth/guest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      if (res.status !== 200) throw new Error(`guest login: HTTP ${res.status} ${await res.text()}`);
      const login = (await res.json()) as { token: string; gateway: string };
      const url = `${login.gateway}?${WS_QUERY_TOKEN}=${encodeURIComponent(login.token)}&${WS_QUERY_VERSION}=${protocol.version}`;
      let ws = await openSocket(url, hooks, decodeTicks);
      return {
        sendMove(seq, x, y) {
          requestIds = (requestIds + 1) >>> 0 || 1;
          const frame = encodeFrame(FrameKind.REQUEST, ROUTE.move, requestIds, protocol.routes.move.request.encode({ seq, x, y }), flags);
          ws.send(frame);
          return frame.byteLength;
        },
        sendChat(sentAt, text) {
          requestIds = (requestIds + 1) >>> 0 || 1;
          const frame = encodeFrame(FrameKind.REQUEST, ROUTE.say, requestIds, protocol.routes.say.request.encode({ sentAt, text }), FrameFlag.NO_REPLY);
          ws.send(frame);
          return frame.byteLength;
        },
        async reconnect() {
          dropSocket(ws);
          // The session token is the resume: no new login, the gateway rejoins the player.
          ws = await openSocket(url, hooks, decodeTicks);
        },
        close() {
          dropped.add(ws);
          ws.close();
        },
      };
    },
  };
}

/** Tear the TCP connection down without a WebSocket closing handshake, and forget it. */
function dropSocket(ws: WebSocket): void {
  dropped.add(ws);
  ws.removeAllListeners('message');
  ws.terminate();
}

/** Sockets closed or dropped on purpose: their close is not a failure. */
const dropped = new WeakSet<WebSocket>();

/** Open the WebSocket with the session in `url`; resolve once the scene's Welcome arrived. */
function openSocket(url: string, hooks: ClientHooks, decodeTicks: boolean): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    const tick = new Tick();
    let id = -1;
    let done = false;
    ws.on('message', (data: Buffer) => {
      const kind = data[0];
      const opcode = data.byteLength >= FRAME_HEADER_BYTES ? data.readUInt16LE(2) : -1;
      // Keep-alive answers are not game traffic (Colyseus and uWS ping at the WebSocket level, uncounted).
      if (kind === FrameKind.PONG) return;
      if (kind === FrameKind.ERROR) {
        let code = 'unreadable ErrorReply';
        try {
          code = ErrorReplyCodec.decode(data.subarray(FRAME_HEADER_BYTES)).code;
        } catch {
          // reported as unreadable
        }
        hooks.onError(code, data.byteLength);
        return;
      }
      if (kind !== FrameKind.PUSH) {
        hooks.onOther(data.byteLength);
        return;
      }
      if (opcode === PUSH.ChatLine) {
        try {
          hooks.onChat(ChatLine.getRootAsChatLine(new ByteBuffer(data.subarray(FRAME_HEADER_BYTES))).sentAt(), data.byteLength);
        } catch {
          hooks.onOther(data.byteLength);
        }
        return;
      }
      if (opcode === PUSH.Tick && !decodeTicks) {
        hooks.onTick(null, data.byteLength);
        return;
      }
      const bb = new ByteBuffer(data.subarray(FRAME_HEADER_BYTES));
      if (opcode === PUSH.Tick && id !== -1) {
        try {
          Tick.getRootAsTick(bb, tick);
          let ack = 0;
          for (let i = 0, n = tick.idsLength(); i < n; i++) {
            if (tick.ids(i) === id) {
              ack = tick.acks(i) ?? 0;
              break;
            }
          }
          hooks.onTick({ ack, serverTimeMs: tick.serverTime() }, data.byteLength);
        } catch {
          hooks.onOther(data.byteLength);
        }
      } else if (opcode === PUSH.Welcome && id === -1) {
        id = Welcome.getRootAsWelcome(bb).id();
        done = true;
        resolve(ws);
      } else {
        hooks.onOther(data.byteLength);
      }
    });
    ws.on('error', (err) => {
      if (!done && !dropped.has(ws)) reject(err);
    });
    // Like the SDK: a PING every 10 s keeps an idle client within the gateway's idle timeout.
    const ping = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(PING_FRAME);
    }, PING_INTERVAL_MS);
    ping.unref();
    ws.on('close', (code, reason) => {
      clearInterval(ping);
      if (!done) reject(new Error(`closed before welcome: ${code} ${reason.toString()}`));
      else if (!dropped.has(ws)) hooks.onClose(code, reason.toString());
    });
  });
}
