/** Load generator driver for the bare uWebSockets.js target (bin/servers/uws.ts). */
import WebSocket from 'ws';
import type { ClientConn, ClientHooks, Driver } from '../driver.js';
import { JoinedRawWs } from './raw-ws.js';
import { CHAT, chatSentAt, encodeMove, encodeSay, readTick, TICK, WELCOME } from '../../targets/uws-wire.js';

export const uwsDriver: Driver = {
  target: 'uws',
  async connect(_index, baseUrl, hooks, { decodeTicks, room }) {
    const url = `${baseUrl.replace(/^http/, 'ws')}/ws`;
    // mmo-move clients that only count their ticks: a plain TCP WebSocket, no event per message.
    if (room === 'mmo' && !decodeTicks) return countingClient(url, hooks);
    const seen = { players: 0 };
    let ws = await openSocket(url, hooks, decodeTicks, seen);
    return {
      // mmo-aoi: the whole map is broadcast, so a client knows every player of its last tick.
      ...(room === 'aoi' && decodeTicks ? { entities: () => seen.players } : {}),
      sendMove(seq, x, y) {
        const frame = encodeMove(seq, x, y);
        ws.send(frame);
        return frame.byteLength;
      },
      sendChat(sentAt, text) {
        const frame = encodeSay(sentAt, text);
        ws.send(frame);
        return frame.byteLength;
      },
      async reconnect() {
        dropped.add(ws);
        ws.removeAllListeners('message');
        ws.terminate();
        // No sessions on the bare server: a new connection is a new player.
        ws = await openSocket(url, hooks, decodeTicks, seen);
      },
      close() {
        dropped.add(ws);
        ws.close();
      },
    };
  },
};

/** Sockets closed or dropped on purpose: their close is not a failure. */
const dropped = new WeakSet<WebSocket>();

/** Open a connection; resolve once the server's WELCOME named this client's id. */
function openSocket(url: string, hooks: ClientHooks, decodeTicks: boolean, seen: { players: number }): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    let id = -1;
    let done = false;
    ws.on('message', (data: Buffer) => {
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      if (id === -1) {
        if (data.byteLength === 5 && data[0] === WELCOME) {
          id = view.getUint32(1, true);
          done = true;
          resolve(ws);
        }
        return;
      }
      if (data[0] === CHAT) {
        const sentAt = chatSentAt(view);
        if (sentAt !== null) hooks.onChat(sentAt, data.byteLength);
        else hooks.onOther(data.byteLength);
        return;
      }
      if (!decodeTicks && data[0] === TICK) {
        hooks.onTick(null, data.byteLength);
        return;
      }
      const tick = readTick(view, id);
      if (tick !== null) seen.players = tick.players;
      // A tick without this client (it did not move) still carries the server time.
      if (tick !== null) hooks.onTick({ ack: Math.max(0, tick.ack), serverTimeMs: tick.serverTime }, data.byteLength);
      else hooks.onOther(data.byteLength);
    });
    ws.on('error', (err) => {
      if (!done && !dropped.has(ws)) reject(err);
    });
    ws.on('close', (code, reason) => {
      if (!done) reject(new Error(`closed before welcome: ${code}`));
      else if (!dropped.has(ws)) hooks.onClose(code, reason.toString());
    });
  });
}

/**
 * An mmo-move client that does not decode: joined at its WELCOME, then each TICK counted by its
 * length (anything else as other), over {@link JoinedRawWs}. It moves like the others.
 */
async function countingClient(url: string, hooks: ClientHooks): Promise<ClientConn> {
  const ws = await JoinedRawWs.open(url, {
    isWelcome: (length, _head, first) => length === 5 && first === WELCOME,
    headBytes: 0,
    message(length, _head, first) {
      if (first === TICK) hooks.onTick(null, length);
      else hooks.onOther(length);
    },
    close: (code, reason) => hooks.onClose(code, reason),
  });
  return {
    sendMove(seq, x, y) {
      const frame = encodeMove(seq, x, y);
      ws.send(frame);
      return frame.byteLength;
    },
    sendChat() {
      throw new Error('a counting client does not chat');
    },
    // No sessions on the bare server: a new connection is a new player.
    reconnect: () => ws.reopen(),
    close() {
      ws.destroy();
    },
  };
}
