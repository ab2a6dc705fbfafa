/**
 * Colyseus 0.18 driver: one `@colyseus/sdk` Client + Room per load-generator client.
 *
 * - connect: `joinOrCreate('mmo')` (the server's `maxClients = 100` fills rooms in join order;
 *   mmo-aoi: `'aoi'`, one room with a StateView per client),
 *   then wait for the first full state (ROOM_STATE) before resolving. That first state is reported
 *   through `onOther`; every later state change is one patch = one tick → `onTick`.
 * - Bytes in: the SDK's connection dispatches every WebSocket message through
 *   `room.connection.events.onmessage` (looked up per message by the transport), so we wrap it to
 *   read the payload size of the message being decoded; the JOIN_ROOM handshake arrives before
 *   the wrap is installed and is not counted.
 * - Bytes out: `room.send()` ends in `room.connection.send(frame)`; an instance-level wrapper
 *   records `frame.byteLength` (the WebSocket payload: protocol byte + "move" + msgpack body).
 * - The SDK auto-reconnects by default (after 5 s of uptime, on close codes 1001/1005/1006/4010,
 *   up to 15 retries, silently for the caller). We switch it off right after joining so any drop
 *   surfaces as `onLeave` → `hooks.onClose`.
 * - reconnect (reconnect-storm): the socket is torn down without a closing handshake; the
 *   server's `onDrop` holds the seat (`allowReconnection`), and `client.reconnect(token)` takes
 *   it back (an HTTP matchmaking request, then the WebSocket and the full state again).
 */
import { Client, type Room } from '@colyseus/sdk';
import WebSocket from 'ws';
import type { ClientConn, ClientHooks, ConnectOptions, Driver } from '../driver.js';

/** The slice of the reflected (schema-less) client state this driver reads. */
interface PlayerView {
  readonly ack: number;
}
interface MmoStateView {
  readonly serverTime: number;
  readonly players: { get(sessionId: string): PlayerView | undefined; readonly size: number };
}

type MessageListener = (event: { data: ArrayBuffer | string }) => void;

/** Colyseus protocol: the low 5 bits of a message's first byte are its code (@colyseus/shared-types). */
const PROTOCOL_CODE_MASK = 0x1f;
const ROOM_STATE_PATCH = 15;
const FIRST_STATE_TIMEOUT_MS = 30_000;

function payloadBytes(data: ArrayBuffer | string): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

/**
 * One load-generator client. `attach` wires a joined room (the first one, or the one
 * `client.reconnect` returns) and resolves on its first full state; callbacks of a room that
 * was dropped are ignored (`generation`).
 */
class ColyseusConn implements ClientConn {
  /** Set by the state-change handler while the wrapped onmessage runs; tells ticks from other messages. */
  private sawState = false;
  private lastInBytes = 0;
  private lastOutBytes = 0;
  /** close() was called or the connection already ended; no more callbacks. */
  private done = false;
  /** Bumped when a room is dropped: the old room's late callbacks are ignored. */
  private generation = 0;
  private room: Room<unknown, MmoStateView> | null = null;
  private readonly moveMsg = { seq: 0, x: 0, y: 0 };
  /** mmo-aoi, a client that decodes: the players its view holds (the room's StateView). */
  entities?: () => number;

  constructor(
    private readonly client: Client,
    private readonly hooks: ClientHooks,
    private readonly decodeTicks: boolean,
  ) {}

  /** Wire `room`; resolve on its first full state, reject when it ends or errs before. */
  attach(room: Room<unknown, MmoStateView>): Promise<void> {
    const gen = ++this.generation;
    this.room = room;
    const live = (): boolean => gen === this.generation && !this.done;
    let ready = false;
    room.reconnection.enabled = false;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err === null) resolve();
        else reject(err);
      };
      const timer = setTimeout(() => {
        if (!live() || settled) return;
        this.done = true;
        room.connection.close();
        settle(new Error(`colyseus: no state within ${FIRST_STATE_TIMEOUT_MS} ms of joining`));
      }, FIRST_STATE_TIMEOUT_MS);

      const connection = room.connection;
      const events = connection.events;
      const dispatch = events.onmessage as MessageListener | null | undefined;
      if (typeof dispatch !== 'function') {
        connection.close();
        settle(new Error('colyseus sdk: connection has no onmessage handler'));
        return;
      }
      events.onmessage = (event: { data: ArrayBuffer | string }): void => {
        if (!live()) return;
        const bytes = payloadBytes(event.data);
        // A client that does not decode ticks counts a patch and skips the SDK's state decoder.
        if (!this.decodeTicks && ready && typeof event.data !== 'string' && (new Uint8Array(event.data, 0, 1)[0]! & PROTOCOL_CODE_MASK) === ROOM_STATE_PATCH) {
          this.hooks.onTick(null, bytes);
          return;
        }
        this.lastInBytes = bytes;
        this.sawState = false;
        dispatch(event);
        // Ticks (state patches) and chat lines report themselves; anything else is "other".
        if (!this.sawState && live()) this.hooks.onOther(bytes);
      };

      const send = connection.send.bind(connection);
      connection.send = (data: Buffer | Uint8Array): void => {
        this.lastOutBytes = data.byteLength;
        send(data);
      };

      room.onStateChange((state) => {
        if (!ready) {
          // The full state sent after the join handshake: the client may now send moves.
          ready = true;
          settle(null);
          return; // not a tick: the onmessage wrapper reports it through onOther
        }
        if (!live()) return;
        this.sawState = true;
        const me = state.players.get(room.sessionId);
        this.hooks.onTick({ ack: me === undefined ? 0 : me.ack, serverTimeMs: state.serverTime }, this.lastInBytes);
      });

      room.onMessage('chat', (message: { sentAt?: unknown }) => {
        if (!live() || typeof message.sentAt !== 'number') return;
        this.sawState = true;
        this.hooks.onChat(message.sentAt, this.lastInBytes);
      });

      room.onLeave((code, reason) => {
        if (!live()) return;
        this.done = true;
        if (!ready) settle(new Error(`colyseus: left before the first state (${code}: ${reason ?? ''})`));
        else this.hooks.onClose(code, reason ?? '');
      });

      room.onError((code, message) => {
        if (!live()) return;
        this.done = true;
        // A socket 'error' event carries no code (undefined at runtime); report it as an abnormal close.
        const closeCode = typeof code === 'number' ? code : 1006;
        if (ready) this.hooks.onClose(closeCode, `error: ${message ?? ''}`);
        else settle(new Error(`colyseus: error before the first state (${closeCode}: ${message ?? ''})`));
        // Treat any error as the end of this client; the leave that follows is not reported again.
        connection.close();
      });
    });
  }

  sendMove(seq: number, x: number, y: number): number {
    if (this.done || this.room === null) return 0;
    const msg = this.moveMsg;
    msg.seq = seq;
    msg.x = x;
    msg.y = y;
    this.lastOutBytes = 0;
    // room.send encodes synchronously (msgpack); when the socket is not open it only buffers
    // the frame and our wrapper is not reached, so 0 bytes are reported.
    this.room.send('move', msg);
    return this.lastOutBytes;
  }

  sendChat(sentAt: number, text: string): number {
    if (this.done || this.room === null) return 0;
    this.lastOutBytes = 0;
    this.room.send('say', { sentAt, text });
    return this.lastOutBytes;
  }

  async reconnect(): Promise<void> {
    const room = this.room;
    if (this.done || room === null) throw new Error('colyseus: not connected');
    const token = room.reconnectionToken;
    this.generation++; // the old room's callbacks go quiet
    this.room = null;
    // The SDK's Node transport is the `ws` package: terminate() drops the TCP connection with
    // no closing handshake, which the server sees as a drop (onDrop), not a consented leave.
    sdkSocket(room).terminate();
    await this.attach(await this.client.reconnect<MmoStateView>(token));
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    const room = this.room;
    if (room === null) return;
    if (room.connection.isOpen) {
      // Consented leave: the server closes the socket. The promise settles on that close.
      void room.leave(true);
    } else {
      room.connection.close();
    }
  }
}

/** The `ws` WebSocket under the SDK's Node transport, checked: the transport's socket is not part of the SDK's typed API. */
function sdkSocket(room: Room<unknown, MmoStateView>): WebSocket {
  const transport: unknown = room.connection.transport;
  const ws: unknown = typeof transport === 'object' && transport !== null ? Reflect.get(transport, 'ws') : undefined;
  if (!(ws instanceof WebSocket)) throw new Error("colyseus sdk: the room's transport has no `ws` WebSocket");
  return ws;
}

export const colyseusDriver: Driver = {
  target: 'colyseus',

  async connect(_index: number, baseUrl: string, hooks: ClientHooks, options: ConnectOptions): Promise<ClientConn> {
    const client = new Client(baseUrl);
    const conn = new ColyseusConn(client, hooks, options.decodeTicks);
    const room = await client.joinOrCreate<MmoStateView>(options.room);
    if (options.room === 'aoi' && options.decodeTicks) conn.entities = () => room.state.players.size;
    await conn.attach(room);
    return conn;
  },
};
