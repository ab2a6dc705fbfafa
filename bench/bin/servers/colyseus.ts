/**
 * Colyseus 0.18 target for the mmo-move scenario (process entry).
 *
 * Room "mmo", 100 clients per room (`maxClients`, so `joinOrCreate` fills rooms in join order).
 * State: `players` (MapSchema<Player{x: float32, y: float32, ack: uint32}> keyed by sessionId)
 * and `serverTime` (float64, ms since the epoch). A `move` message {seq, x, y} sets x, y and
 * ack = seq. The room ticks at 10 Hz on its own timer: stamp `serverTime`, then
 * `broadcastPatch()`, so the stamp is taken right before the patch is encoded. Colyseus's own
 * patch timer is switched off (`patchRate = null`); with it on, `patchRate = 100` would run
 * exactly `setInterval(() => this.broadcastPatch(), 100)`, which is what the tick does.
 *
 * Transport: TRANSPORT=ws (the default: `@colyseus/ws-transport`, the `ws` library) or
 * TRANSPORT=uws (`@colyseus/uwebsockets-transport`, on the same uWebSockets.js build the gateway
 * uses: an npm `overrides` entry aliases its dependency to it), Colyseus's strongest
 * configuration.
 *
 * Env: PORT (required). Binds 127.0.0.1. Prints one JSON line `{"ready":true,...}` when listening;
 * SIGTERM/SIGINT shut down gracefully and exit 0. Colyseus's logger is routed to stderr so stdout
 * carries only JSON.
 */
import { Room, Server, type Client } from '@colyseus/core';
import { WebSocketTransport } from '@colyseus/ws-transport';
import { uWebSocketsTransport } from '@colyseus/uwebsockets-transport';
import { StateView, schema, t, type SchemaType } from '@colyseus/schema';
import { WebSocket as NodeWebSocket } from 'ws';
import { parseCommandLine } from '@gos/cluster';
import { AOI_MAP } from '../../src/targets/project/aoi-map.js';
import { NearbyGrid } from '../../src/targets/nearby.js';

parseCommandLine(
  { name: 'colyseus', usage: `usage: PORT=3902 [TRANSPORT=ws|uws] node bench/dist/bin/servers/colyseus.js
The bench's Colyseus target (npm run bench starts it): listens on 127.0.0.1:PORT, prints {"ready":true,…}
when listening, stops on SIGTERM/SIGINT. No options.` },
  {},
);

// Colyseus 0.18 reads the global `WebSocket.OPEN` when a client takes its seat back
// (`Room#_onJoin`, reconnection branch); Node 20 has no global WebSocket (Node 22 has). Without
// this every reconnect fails with "WebSocket is not defined".
(globalThis as { WebSocket?: unknown }).WebSocket ??= NodeWebSocket;

const TARGET = 'colyseus';
const TICK_MS = 100;
const ROOM_SIZE = 100;
const U32_MAX = 0xffff_ffff;
/** How long a dropped client's seat is held for its reconnect. */
const RECONNECT_SECONDS = 60;

/** A `move` message {seq, x, y} as the rooms accept it, or null for anything else. */
function parseMove(message: unknown): { seq: number; x: number; y: number } | null {
  if (typeof message !== 'object' || message === null) return null;
  const { seq, x, y } = message as { seq?: unknown; x?: unknown; y?: unknown };
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0 || seq > U32_MAX) return null;
  if (typeof x !== 'number' || !Number.isFinite(x) || typeof y !== 'number' || !Number.isFinite(y)) return null;
  return { seq, x, y };
}

const Player = schema({ x: t.float32(), y: t.float32(), ack: t.uint32() }, 'Player');
type Player = SchemaType<typeof Player>;

const MmoState = schema({ players: t.map(Player), serverTime: t.float64() }, 'MmoState');
type MmoState = SchemaType<typeof MmoState>;

class MmoRoom extends Room<{ state: MmoState }> {
  override maxClients = ROOM_SIZE;
  override state = new MmoState();

  override onCreate(): void {
    this.state.serverTime = nowMs();
    // Our own 10 Hz loop. `setTimestep` (the new name of `setSimulationInterval`) is a plain
    // setInterval that ticks `this.clock` and calls us; registering it BEFORE turning the patch
    // timer off keeps Colyseus from starting its 16.6 ms clock-only interval.
    this.setTimestep(() => this.tick(), TICK_MS);
    this.patchRate = null;

    this.onMessage('move', (client: Client, message: unknown) => {
      const move = parseMove(message);
      const player = this.state.players.get(client.sessionId);
      if (move === null || player === undefined) return;
      player.x = move.x;
      player.y = move.y;
      player.ack = move.seq;
    });
  }

  override onJoin(client: Client): void {
    this.state.players.set(client.sessionId, new Player({ x: 0, y: 0, ack: 0 }));
  }

  override onLeave(client: Client): void {
    this.state.players.delete(client.sessionId);
  }

  private tick(): void {
    this.state.serverTime = nowMs();
    this.broadcastPatch();
  }
}

/**
 * mmo-aoi: everyone in one room on the whole map; `players` is tagged `.view()`, so a client is
 * sent only the players its StateView holds (Colyseus's per-client filtering, 0.16+). Each
 * tick, every client's view is brought to the players within AOI_VIEW of its own (NearbyGrid),
 * then one patch is encoded per view.
 */
const AoiPlayer = schema({ x: t.float32(), y: t.float32(), ack: t.uint32() }, 'AoiPlayer');
type AoiPlayer = SchemaType<typeof AoiPlayer>;
const AoiState = schema({ players: t.map(AoiPlayer).view(), serverTime: t.float64() }, 'AoiState');
type AoiState = SchemaType<typeof AoiState>;

class AoiRoom extends Room<{ state: AoiState }> {
  override maxClients = 100_000;
  override state = new AoiState();
  /** Per client: its own player and the players its view holds. */
  readonly #seen = new Map<Client, { readonly me: AoiPlayer; readonly view: StateView; readonly players: Set<AoiPlayer> }>();

  override onCreate(): void {
    this.state.serverTime = nowMs();
    this.setTimestep(() => this.tick(), TICK_MS);
    this.patchRate = null;
    this.onMessage('move', (client: Client, message: unknown) => {
      const move = parseMove(message);
      const me = this.#seen.get(client)?.me;
      if (move === null || me === undefined) return;
      me.x = Math.min(AOI_MAP, Math.max(0, move.x));
      me.y = Math.min(AOI_MAP, Math.max(0, move.y));
      me.ack = move.seq;
    });
  }

  override onJoin(client: Client): void {
    const me = new AoiPlayer({ x: Math.random() * AOI_MAP, y: Math.random() * AOI_MAP, ack: 0 });
    this.state.players.set(client.sessionId, me);
    const view = new StateView();
    view.add(me);
    client.view = view;
    this.#seen.set(client, { me, view, players: new Set([me]) });
  }

  override onLeave(client: Client): void {
    const left = this.#seen.get(client);
    this.#seen.delete(client);
    if (left === undefined) return;
    for (const other of this.#seen.values()) {
      if (other.players.delete(left.me)) other.view.remove(left.me);
    }
    this.state.players.delete(client.sessionId);
  }

  private tick(): void {
    const grid = new NearbyGrid([...this.#seen.values()].map((s) => s.me));
    for (const seen of this.#seen.values()) {
      const { me, view, players } = seen;
      const near = new Set<AoiPlayer>([me]);
      grid.near(me.x, me.y, (p) => near.add(p));
      for (const p of near) if (!players.has(p)) view.add(p);
      for (const p of players) if (!near.has(p)) view.remove(p);
      seen.players.clear();
      for (const p of near) seen.players.add(p);
    }
    this.state.serverTime = nowMs();
    this.broadcastPatch();
  }
}

/**
 * idle-ccu: players join (and appear in the state) and then nothing changes, so after the joins
 * Colyseus sends no patches: what is measured is the cost of holding the connections.
 * reconnect-storm: the same room; a dropped client's seat is held (`allowReconnection`) and
 * taken back with `client.reconnect(token)`.
 */
class IdleRoom extends Room<{ state: MmoState }> {
  override maxClients = ROOM_SIZE;
  override state = new MmoState();

  override onJoin(client: Client): void {
    this.state.players.set(client.sessionId, new Player({ x: 0, y: 0, ack: 0 }));
  }

  override onDrop(client: Client): void {
    // Colyseus itself runs onLeave if the seat expires unclaimed.
    void this.allowReconnection(client, RECONNECT_SECONDS);
  }

  override onLeave(client: Client): void {
    this.state.players.delete(client.sessionId);
  }
}

/** chat-fanout: everyone in one room; a `say` is broadcast to all as `chat` (msgpack). */
class ChatRoom extends Room<{ state: MmoState }> {
  override maxClients = 1_000_000;
  override state = new MmoState();
  #ids = new Map<string, number>();
  #next = 0;

  override onCreate(): void {
    this.onMessage('say', (client: Client, message: unknown) => {
      if (typeof message !== 'object' || message === null) return;
      const { sentAt, text } = message as { sentAt?: unknown; text?: unknown };
      if (typeof sentAt !== 'number' || !Number.isFinite(sentAt) || typeof text !== 'string') return;
      this.broadcast('chat', { sentAt, from: this.#ids.get(client.sessionId) ?? 0, text: text.slice(0, 200) });
    });
  }

  override onJoin(client: Client): void {
    this.#ids.set(client.sessionId, ++this.#next);
  }

  override onLeave(client: Client): void {
    this.#ids.delete(client.sessionId);
  }
}

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Everything Colyseus logs goes to stderr; stdout is reserved for the orchestrator's JSON lines. */
const stderrLogger = {
  debug: (...args: unknown[]) => console.error(...args),
  error: (...args: unknown[]) => console.error(...args),
  info: (...args: unknown[]) => console.error(...args),
  trace: (...args: unknown[]) => console.error(...args),
  warn: (...args: unknown[]) => console.error(...args),
};

function parsePort(raw: string | undefined): number {
  const port = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`PORT must be an integer in 1..65535, got ${String(raw)}`);
  }
  return port;
}

async function main(): Promise<void> {
  const port = parsePort(process.env['PORT']);
  const transportName = process.env['TRANSPORT'] ?? 'ws';
  if (transportName !== 'ws' && transportName !== 'uws') {
    console.error(`[colyseus] TRANSPORT must be ws or uws, got "${transportName}"`);
    process.exit(2);
  }

  const server = new Server({
    transport: transportName === 'uws' ? new uWebSocketsTransport() : new WebSocketTransport(),
    greet: false,
    logger: stderrLogger,
    // Our own signal handling below (Colyseus's would also exit 1 on any uncaught exception).
    gracefullyShutdown: false,
  });
  server.define('mmo', MmoRoom);
  server.define('idle', IdleRoom);
  server.define('chat', ChatRoom);
  server.define('aoi', AoiRoom);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.error(`[colyseus] ${signal}: shutting down`);
    // Hard deadline in case a room never finishes disposing.
    setTimeout(() => process.exit(0), 5000).unref();
    server.gracefullyShutdown(false).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('[colyseus] shutdown error', err);
        process.exit(0);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  await server.listen(port, '127.0.0.1');
  process.stdout.write(`${JSON.stringify({ ready: true, target: TARGET, transport: transportName, port })}\n`);
}

main().catch((err: unknown) => {
  console.error('[colyseus] failed to start', err);
  process.exit(1);
});
