/**
 * What the engine's parts share: its options, its connections and player seats, the write-back
 * of hot data, and the way to a gateway. `Engine` makes one; `Players` (what gateways send) and
 * `Scenes` (scene lifecycle) work on it.
 */
import { encodeErrorFrame, readFrameHeader, type Logger } from '@gos/schema';
import { EngineToGateway, encodeBroadcastBody, encodeKickBody, type GatewayPeer } from '@gos/link';
import type { Conn, Connections } from './connections.js';
import type { EngineMetrics } from './metrics.js';
import type { ResolvedEngineOptions } from './options.js';
import type { Persister } from './persister.js';
import type { CallRouter } from './calls.js';
import type { PlayerPushes } from './player-pushes.js';
import type { LeaderboardRelay } from './leaderboard-relay.js';
import type { MailRelay } from './mail-relay.js';
import type { PlayerLogWriter } from './player-logs.js';
import type { ConfigUpdates } from './config-updates.js';
import type { SharedCache } from './shared-cache.js';
import type { TravelPayload } from './records.js';
import type { SceneHost } from './scene-host.js';
import type { PlayerSeats } from './seats.js';

export interface EngineContext {
  readonly o: ResolvedEngineOptions;
  readonly log: Logger;
  readonly conns: Connections;
  readonly seats: PlayerSeats;
  readonly persister: Persister;
  readonly metrics: EngineMetrics;
  /** False once the engine closes: no join and no scene start is taken from then. */
  running(): boolean;
  /** Publish the players seated here as this engine's load. */
  setLoad(): void;
  /** A scene asks to move one of its players to another scene (Travels.requested). */
  travelRequested(host: SceneHost, sid: number, travel: TravelPayload): void;
  /** Calls and casts between scenes (CallRouter). */
  readonly calls: Pick<CallRouter, 'outgoing' | 'answered' | 'sceneEnded' | 'inUse'>;
  /** Pushes to players wherever they play (PlayerPushes). */
  readonly pushes: Pick<PlayerPushes, 'outgoing'>;
  /** `scene.leaderboards` operations (LeaderboardRelay). */
  readonly leaderboards: Pick<LeaderboardRelay, 'outgoing'>;
  /** `scene.mail` operations (MailRelay). */
  readonly mail: Pick<MailRelay, 'outgoing' | 'run'>;
  /** The config bundle in force and its channel to the scene threads (ConfigUpdates). */
  readonly config: Pick<ConfigUpdates, 'channelName' | 'current'>;
  /** Player-log events from scenes (PlayerLogWriter). */
  readonly playerLogs: Pick<PlayerLogWriter, 'add'>;
  /** The engine's copies of the shared tables (SharedCache). */
  readonly shared: Pick<SharedCache, 'subscribe'>;
}

/** Send to a gateway. One that is gone or too slow loses the message: its players reconnect and resync. */
export function sendTo(ctx: EngineContext, peer: GatewayPeer, type: number, channel: number, body: Uint8Array): void {
  try {
    peer.send(type, channel, body);
  } catch (err) {
    ctx.log.warn({ err, gatewayId: peer.nodeId, type }, 'link send failed');
  }
}

/** Push `frame` to every player of scene `host`: one BROADCAST per gateway with players there, fanned out by the scene's uWS topic. */
export function publishToScene(ctx: EngineContext, host: SceneHost, frame: Uint8Array): void {
  toSceneGateways(ctx, host, EngineToGateway.BROADCAST, encodeBroadcastBody(`s/${host.sceneId}`, frame));
}

/** Send `body` once to each gateway with players in scene `host` (a link that is closing is skipped: its players are leaving). */
export function toSceneGateways(ctx: EngineContext, host: SceneHost, type: number, body: Uint8Array): void {
  for (const peer of host.sids.gateways()) if (peer.isOpen) sendTo(ctx, peer, type, 0, body);
}

/** Answer a client frame the engine cannot take with an ERROR frame for its request. */
export function refuseFrame(ctx: EngineContext, peer: GatewayPeer, connId: number, frame: Uint8Array, code: string, message: string): void {
  const header = readFrameHeader(frame);
  if (header !== null) sendTo(ctx, peer, EngineToGateway.TO_CLIENT, connId, encodeErrorFrame(header.opcode, header.requestId, code, message));
}

/** Have the gateway close the player's socket. */
export function kick(ctx: EngineContext, conn: Conn, closeCode: number, reason: string): void {
  sendTo(ctx, conn.peer, EngineToGateway.KICK, conn.connId, encodeKickBody({ closeCode, reason }));
}

/**
 * Take over a player's row once every write still queued for it has landed: the claim fences
 * off any engine that hosted the player before (its late writes are refused).
 */
export async function loadPlayer(ctx: EngineContext, playerId: string): Promise<unknown> {
  await ctx.persister.settle('player', playerId);
  const { record, fence } = await ctx.o.store.claimPlayer(playerId);
  ctx.persister.seed('player', playerId, record?.version ?? 0, fence);
  return record?.data ?? null;
}
