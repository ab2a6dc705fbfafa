/**
 * A WebSocket client for the load generator's clients that only count what they receive (mmo-aoi
 * clients that do not decode): the handshake and the frame headers over a plain TCP socket, no
 * object or callback per message beyond a count. The `ws` package allocates a Buffer and emits an
 * event per message, which is what kept one generator core from driving mmo-aoi past about 2,000
 * clients (bench/RESULTS.md). Sent frames carry the mask bit with a zero key (RFC 6455 masking
 * with a zero key leaves the bytes as they are; servers only require the bit), so a frame is its
 * header and the payload as they are, written at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
const EMPTY = new Uint8Array(0);

export interface RawWsHandlers {
  /**
   * A whole message (FIN frames only: the servers here do not fragment) of `length` bytes; `head`
   * is as many of its first bytes as `headBytes()` asked for (all of them while the client waits
   * for its Welcome; then none, or a frame header's worth to tell a tick from other messages).
   */
  message(length: number, head: Uint8Array, first: number): void;
  close(code: number, reason: string): void;
}

/**
 * Reads WebSocket frames from a byte stream chunk by chunk; frames may span chunks. Calls
 * `onFrame(opcode, length, head, first)` once per frame, with the first `wantHead(opcode)` bytes
 * of its payload (none when it asks for 0: counting costs no allocation) and its first byte (-1
 * for an empty payload).
 */
export class FrameReader {
  readonly #header = new Uint8Array(14);
  #headerBytes = 0;
  #inPayload = false;
  /** Payload bytes of the current frame still to come. */
  #left = 0;
  #opcode = 0;
  #length = 0;
  #head: Uint8Array = EMPTY;
  #headBytes = 0;
  #first = -1;

  constructor(
    private readonly wantHead: (opcode: number) => number,
    private readonly onFrame: (opcode: number, length: number, head: Uint8Array, first: number) => void,
  ) {}

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (!this.#inPayload) {
        this.#header[this.#headerBytes++] = chunk[at++]!;
        if (this.#headerBytes < this.#headerNeed()) continue;
        this.#startFrame();
        continue;
      }
      // Inside a payload: keep its first bytes if wanted, skip the rest.
      const take = Math.min(this.#left, chunk.length - at);
      if (this.#first < 0) this.#first = chunk[at]!;
      const keep = Math.min(take, this.#head.length - this.#headBytes);
      if (keep > 0) {
        this.#head.set(chunk.subarray(at, at + keep), this.#headBytes);
        this.#headBytes += keep;
      }
      at += take;
      this.#left -= take;
      if (this.#left === 0) this.#endFrame();
    }
  }

  /** How long the header is, as far as its bytes so far tell: 2, 4 or 10 (+4 with a mask, which servers do not set). */
  #headerNeed(): number {
    if (this.#headerBytes < 2) return 2;
    const len7 = this.#header[1]! & 0x7f;
    const masked = (this.#header[1]! & 0x80) !== 0 ? 4 : 0;
    return (len7 === 126 ? 4 : len7 === 127 ? 10 : 2) + masked;
  }

  #startFrame(): void {
    const h = this.#header;
    const len7 = h[1]! & 0x7f;
    let length = len7;
    if (len7 === 126) length = (h[2]! << 8) | h[3]!;
    else if (len7 === 127) length = h[6]! * 2 ** 24 + ((h[7]! << 16) | (h[8]! << 8) | h[9]!);
    this.#headerBytes = 0;
    this.#opcode = h[0]! & 0x0f;
    this.#length = length;
    this.#left = length;
    const want = Math.min(length, this.wantHead(this.#opcode));
    this.#head = want === 0 ? EMPTY : new Uint8Array(want);
    this.#headBytes = 0;
    this.#first = -1;
    if (length === 0) this.#endFrame();
    else this.#inPayload = true;
  }

  #endFrame(): void {
    this.#inPayload = false;
    const head = this.#head;
    this.#head = EMPTY;
    this.onFrame(this.#opcode, this.#length, head, this.#first);
  }
}

/** A connected client: send binary messages, close. */
export class RawWs {
  readonly #socket: Socket;
  readonly #onClose: (code: number, reason: string) => void;
  #closed = false;

  private constructor(socket: Socket, onClose: (code: number, reason: string) => void) {
    this.#socket = socket;
    this.#onClose = onClose;
  }

  /**
   * Open `url` (ws://host:port/path?query). Resolves once the server accepted the upgrade;
   * each message comes to `handlers.message` with its first `headBytes()` bytes
   * (`Number.MAX_SAFE_INTEGER`: whole).
   */
  static open(url: string, handlers: RawWsHandlers, headBytes: () => number): Promise<RawWs> {
    const u = new URL(url);
    const key = randomBytes(16).toString('base64');
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    return new Promise((resolve, reject) => {
      const socket = connect({ host: u.hostname, port: Number(u.port), noDelay: true });
      const ws = new RawWs(socket, (code, reason) => handlers.close(code, reason));
      let handshake = Buffer.alloc(0);
      let upgraded = false;
      const reader = new FrameReader(
        (opcode) => (opcode === OP_BINARY || opcode === 0 ? headBytes() : Number.MAX_SAFE_INTEGER),
        (opcode, length, head, first) => {
          if (opcode === OP_BINARY || opcode === 0) handlers.message(length, head, first);
          else if (opcode === OP_PING) ws.#send(OP_PONG, head);
          else if (opcode === OP_CLOSE) {
            const code = head.length >= 2 ? (head[0]! << 8) | head[1]! : 1005;
            ws.#finish(code, Buffer.from(head.subarray(2)).toString());
          }
        },
      );
      socket.on('connect', () => {
        socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      });
      socket.on('data', (chunk: Buffer) => {
        if (upgraded) return reader.push(chunk);
        handshake = Buffer.concat([handshake, chunk]);
        const end = handshake.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = handshake.subarray(0, end).toString('latin1');
        if (!/^HTTP\/1\.1 101 /.test(head) || !head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) {
          socket.destroy();
          return reject(new Error(`upgrade refused: ${head.split('\r\n')[0] ?? ''}`));
        }
        upgraded = true;
        resolve(ws);
        if (handshake.length > end + 4) reader.push(handshake.subarray(end + 4));
      });
      socket.on('error', (err) => {
        if (!upgraded) reject(err);
      });
      socket.on('close', () => {
        if (!upgraded) reject(new Error('connection closed before the upgrade'));
        else ws.#finish(1006, '');
      });
    });
  }

  /** Send one binary message. */
  send(payload: Uint8Array): void {
    this.#send(OP_BINARY, payload);
  }

  #send(opcode: number, payload: Uint8Array): void {
    if (this.#closed) return;
    const n = payload.length;
    if (n > 0xffff) throw new RangeError(`a message of ${n} bytes is more than this client sends`);
    // Header, then a zero masking key (the payload as it is), then the payload: one write.
    const short = n < 126;
    const frame = Buffer.allocUnsafe((short ? 6 : 8) + n);
    frame[0] = 0x80 | opcode;
    if (short) frame[1] = 0x80 | n;
    else {
      frame[1] = 0x80 | 126;
      frame[2] = n >>> 8;
      frame[3] = n & 0xff;
    }
    frame.fill(0, short ? 2 : 4, short ? 6 : 8);
    frame.set(payload, short ? 6 : 8);
    this.#socket.write(frame);
  }

  /** Close without a closing handshake (the bench's end, or a drop). */
  destroy(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  #finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    this.#onClose(code, reason);
  }
}

/** What a {@link JoinedRawWs} asks of its client: which message is the welcome, and what to do with the rest. */
export interface JoinedRawWsHandlers extends RawWsHandlers {
  /** Whether a message that came before the client joined, given whole, is the server's welcome (it goes nowhere else). */
  isWelcome(length: number, head: Uint8Array, first: number): boolean;
  /** How many of a message's first bytes `message` wants once joined (0: none, counting costs no allocation). */
  readonly headBytes: number;
}

/**
 * A counting client's socket: a {@link RawWs} that is open once the server's welcome came (a
 * close before it rejects), and opens again on `reopen` (a reconnect). Messages before the
 * welcome come whole; those that are not the welcome go to `message` like the rest. A close after
 * the welcome goes to `close`; one caused by `reopen` or `destroy` goes nowhere.
 */
export class JoinedRawWs {
  readonly #url: string;
  readonly #handlers: JoinedRawWsHandlers;
  readonly #raw: RawWsHandlers;
  #ws: RawWs | null = null;
  #joined = false;
  // Settled by the socket being opened: its welcome, or its close before it.
  #join: { resolve: () => void; reject: (err: Error) => void } = { resolve: () => {}, reject: () => {} };

  private constructor(url: string, handlers: JoinedRawWsHandlers) {
    this.#url = url;
    this.#handlers = handlers;
    this.#raw = {
      message: (length, head, first) => {
        if (!this.#joined && handlers.isWelcome(length, head, first)) {
          this.#joined = true;
          this.#join.resolve();
        } else handlers.message(length, head, first);
      },
      close: (code, reason) => {
        if (!this.#joined) this.#join.reject(new Error(`closed before welcome: ${code} ${reason}`));
        else handlers.close(code, reason);
      },
    };
  }

  /** Open `url` and resolve once the server's welcome came. */
  static async open(url: string, handlers: JoinedRawWsHandlers): Promise<JoinedRawWs> {
    const ws = new JoinedRawWs(url, handlers);
    await ws.reopen();
    return ws;
  }

  /** Drop the connection (if any) and open a new one; resolves at its welcome. */
  async reopen(): Promise<void> {
    this.#ws?.destroy();
    this.#joined = false;
    const welcome = new Promise<void>((resolve, reject) => (this.#join = { resolve, reject }));
    this.#ws = await RawWs.open(this.#url, this.#raw, () => (this.#joined ? this.#handlers.headBytes : Number.MAX_SAFE_INTEGER));
    await welcome;
  }

  /** Send one binary message (nothing once destroyed). */
  send(payload: Uint8Array): void {
    this.#ws?.send(payload);
  }

  /** Close without a closing handshake. */
  destroy(): void {
    this.#ws?.destroy();
  }
}
