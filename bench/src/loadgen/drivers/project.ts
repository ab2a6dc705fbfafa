/**
 * Load generator driver for this framework: guest login over HTTP, then the binary WebSocket
 * with the session token; joined once the scene's `Welcome` push names the player's number.
 * Ticks are read in place with the flatc accessors (no object per tick): the generator must
 * stay cheap next to the server it measures.
 */
import { ByteBuffer } from 'flatbuffers';
import WebSocket from 'ws';
import { CELL_GONE, CORE_PUSH, CORE_ROUTE, ChatMessageCodec, ChatSayReqCodec, EntityViewCodec, encodeFrame, ErrorReplyCodec, FRAME_HEADER_BYTES, FrameFlag, FrameKind, WS_QUERY_TOKEN, WS_QUERY_VERSION } from '@gos/schema';
import type { ClientConn, ClientHooks, Driver } from '../driver.js';
import { JoinedRawWs } from './raw-ws.js';
import { AoiAvatar, AoiCell, ChatLine, Tick, Welcome } from '../../generated/fbs/bench_mmo_generated.js';
import { protocol, PUSH, ROUTE } from '../../generated/protocol.js';

const PING_INTERVAL_MS = 10_000;
const PING_FRAME = encodeFrame(FrameKind.PING, 0, 0, null);

/** Request frames carry an id the engine echoes in its (empty) acknowledgement. */
let requestIds = 0;

/** A move (or walk, `route`) request with the next request id. */
function moveFrame(route: number, seq: number, x: number, y: number, flags: number): Uint8Array {
  requestIds = (requestIds + 1) >>> 0 || 1;
  return encodeFrame(FrameKind.REQUEST, route, requestIds, protocol.routes.move.request.encode({ seq, x, y }), flags);
}

/**
 * `noReply: true` sends moves with the NO_REPLY flag (what `GameClient.send` does): ticks
 * acknowledge them. `false` sends plain requests, each answered by an empty RESPONSE frame.
 * `chat` (chat-fanout): `channel` says lines on the scene's chat channel, answered by the
 * gateway (core chatSay, docs/chat.md: the default); `scene-route` through the game's own `say`
 * route, which the scene broadcasts (the path before the gateway had chat).
 */
export function projectDriver(options: { noReply: boolean; chat?: 'channel' | 'scene-route' }): Driver {
  const flags = options.noReply ? FrameFlag.NO_REPLY : 0;
  const chat = options.chat ?? 'channel';
  return {
    target: chat === 'scene-route' ? 'project-say' : options.noReply ? 'project' : 'project-acked',
    async connect(_index, baseUrl, hooks, { decodeTicks, room }) {
      const res = await fetch(`${baseUrl}/v1/auth/guest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      if (res.status !== 200) throw new Error(`guest login: HTTP ${res.status} ${await res.text()}`);
      const login = (await res.json()) as { token: string; gateway: string };
      const url = `${login.gateway}?${WS_QUERY_TOKEN}=${encodeURIComponent(login.token)}&${WS_QUERY_VERSION}=${protocol.version}`;
      const route = room === 'aoi' ? ROUTE.walk : ROUTE.move;
      // Clients that only count what they get (mmo-move, mmo-aoi): a plain TCP WebSocket, no event per message.
      if ((room === 'aoi' || room === 'mmo') && !decodeTicks) return countingClient(url, hooks, route, flags, room === 'mmo');
      const view = room === 'aoi' && decodeTicks ? new AoiView() : null;
      let ws = await openSocket(url, hooks, decodeTicks, view);
      return {
        ...(view === null ? {} : { entities: () => view.size }),
        sendMove(seq, x, y) {
          const frame = moveFrame(route, seq, x, y, flags);
          ws.send(frame);
          return frame.byteLength;
        },
        sendChat(sentAt, text) {
          requestIds = (requestIds + 1) >>> 0 || 1;
          const frame =
            chat === 'channel'
              ? // The send time rides in the text: a ChatMessage carries the server's time only.
                encodeFrame(FrameKind.REQUEST, CORE_ROUTE.chatSay, requestIds, ChatSayReqCodec.encode({ channel: 'scene', to: '', text: `${sentAt} ${text}` }), FrameFlag.NO_REPLY)
              : encodeFrame(FrameKind.REQUEST, ROUTE.say, requestIds, protocol.routes.say.request.encode({ sentAt, text }), FrameFlag.NO_REPLY);
          ws.send(frame);
          return frame.byteLength;
        },
        async reconnect() {
          dropSocket(ws);
          // The session token is the resume: no new login, the gateway rejoins the player.
          view?.clear();
          ws = await openSocket(url, hooks, decodeTicks, view);
        },
        close() {
          dropped.add(ws);
          ws.close();
        },
      };
    },
  };
}

/**
 * A client that does not decode: joined at its Welcome, then each message counted by its length
 * (an ERROR frame as an error; with `ticks`, a Tick push as a tick, told by its frame header),
 * over {@link JoinedRawWs}. It moves like the others.
 */
async function countingClient(url: string, hooks: ClientHooks, route: number, flags: number, ticks: boolean): Promise<ClientConn> {
  const ws = await JoinedRawWs.open(url, {
    // Before the Welcome every message comes whole.
    isWelcome: (_length, head) => head.length >= FRAME_HEADER_BYTES && head[0] === FrameKind.PUSH && (head[2]! | (head[3]! << 8)) === PUSH.Welcome,
    // Then the frame header's kind and opcode (ticks), or nothing.
    headBytes: ticks ? 4 : 0,
    message(length, head, first) {
      if (first === FrameKind.PONG) return;
      if (first === FrameKind.ERROR) hooks.onError('ERROR frame (not decoded)', length);
      else if (ticks && first === FrameKind.PUSH && head.length >= 4 && (head[2]! | (head[3]! << 8)) === PUSH.Tick) hooks.onTick(null, length);
      else hooks.onOther(length);
    },
    close: (code, reason) => hooks.onClose(code, reason),
  });
  // Like the SDK: a PING every 10 s keeps an idle client within the gateway's idle timeout.
  const ping = setInterval(() => ws.send(PING_FRAME), PING_INTERVAL_MS);
  ping.unref();
  return {
    sendMove(seq, x, y) {
      const frame = moveFrame(route, seq, x, y, flags);
      ws.send(frame);
      return frame.byteLength;
    },
    sendChat() {
      throw new Error('a counting client does not chat');
    },
    async reconnect() {
      try {
        await ws.reopen();
      } catch (err) {
        // A client that could not come back is done with: no more PINGs.
        clearInterval(ping);
        throw err;
      }
    },
    close() {
      clearInterval(ping);
      ws.destroy();
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

/**
 * mmo-aoi, a client that decodes: the entities it knows (by id, with the cell each was last
 * reported in) and the cells it hears, kept by the rules of docs/aoi.md, read in place.
 */
class AoiView {
  readonly #known = new Map<number, number>();
  readonly #cells = new Set<number>();
  readonly #cell = new AoiCell();
  readonly #avatar = new AoiAvatar();

  get size(): number {
    return this.#known.size;
  }

  clear(): void {
    this.#known.clear();
    this.#cells.clear();
  }

  view(payload: Uint8Array): void {
    const v = EntityViewCodec.decode(payload);
    for (const c of v.add) this.#cells.add(c);
    if (v.remove.length === 0) return;
    const gone = new Set(v.remove);
    for (const c of v.remove) this.#cells.delete(c);
    for (const [id, cell] of this.#known) if (gone.has(cell)) this.#known.delete(id);
  }

  /** Apply a cell frame; the ack of entity `own` when the frame carries it, else -1. */
  cell(payload: Uint8Array, own: number): number {
    const f = AoiCell.getRootAsAoiCell(new ByteBuffer(payload), this.#cell);
    const here = ((f.cellY() << 16) | f.cellX()) >>> 0;
    let ack = -1;
    for (let i = 0, n = f.avatarLength(); i < n; i++) {
      const a = f.avatar(i, this.#avatar)!;
      const id = a.id();
      if (a.enter()) this.#known.set(id, here);
      if (id === own) ack = a.ack() ?? ack;
    }
    for (let i = 0, n = f.npcLength(); i < n; i++) {
      const e = f.npc(i)!;
      if (e.enter()) this.#known.set(e.id(), here);
    }
    for (let i = 0, n = f.leavesLength(); i < n; i++) {
      const id = f.leaves(i)!;
      if (this.#known.get(id) !== here) continue;
      const to = f.leaveTo(i)!;
      if (to !== CELL_GONE && this.#cells.has(to)) this.#known.set(id, to);
      else this.#known.delete(id);
    }
    return ack;
  }
}

/** Open the WebSocket with the session in `url`; resolve once the scene's Welcome arrived. */
function openSocket(url: string, hooks: ClientHooks, decodeTicks: boolean, aoi: AoiView | null = null): Promise<WebSocket> {
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
      if (opcode === CORE_PUSH.ChatMessage) {
        try {
          const sentAt = Number.parseFloat(ChatMessageCodec.decode(data.subarray(FRAME_HEADER_BYTES)).text);
          hooks.onChat(sentAt, data.byteLength);
        } catch {
          hooks.onOther(data.byteLength);
        }
        return;
      }
      if (opcode === PUSH.AoiCell || opcode === CORE_PUSH.EntityView) {
        if (aoi !== null && id !== -1) {
          try {
            const payload = data.subarray(FRAME_HEADER_BYTES);
            if (opcode === CORE_PUSH.EntityView) aoi.view(payload);
            else {
              const ack = aoi.cell(payload, id);
              // The frame that carries this client's own move: its latency sample.
              if (ack >= 0) return hooks.onTick({ ack, serverTimeMs: Number.NaN }, data.byteLength);
            }
          } catch {
            // counted below, as other traffic
          }
        }
        hooks.onOther(data.byteLength);
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
