/** Load generator driver for the bare uWebSockets.js target (bin/servers/uws.ts). */
import WebSocket from 'ws';
import type { Driver } from '../driver.js';
import { CHAT, chatSentAt, encodeMove, encodeSay, readTick, TICK, WELCOME } from '../../targets/uws-wire.js';

export const uwsDriver: Driver = {
  target: 'uws',
  connect(_index, baseUrl, hooks, { decodeTicks }) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, { perMessageDeflate: false });
      ws.binaryType = 'nodebuffer';
      let id = -1;
      let done = false;
      ws.on('message', (data: Buffer) => {
        const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
        if (id === -1) {
          if (data.byteLength === 5 && data[0] === WELCOME) {
            id = view.getUint32(1, true);
            done = true;
            resolve({
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
              close() {
                ws.removeAllListeners('close');
                ws.close();
              },
            });
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
        // A tick without this client (it did not move) still carries the server time.
        if (tick !== null) hooks.onTick({ ack: Math.max(0, tick.ack), serverTimeMs: tick.serverTime }, data.byteLength);
        else hooks.onOther(data.byteLength);
      });
      ws.on('error', (err) => {
        if (!done) reject(err);
      });
      ws.on('close', (code, reason) => {
        if (!done) reject(new Error(`closed before welcome: ${code}`));
        else hooks.onClose(code, reason.toString());
      });
    });
  },
};
