/**
 * What a linked peer (a gateway, the operator's REPL, another engine's calls) sends an engine,
 * dispatched to the part that handles it: players' frames, joins and leaves (Players), travels
 * (Travels), live moves (SceneMigrations), REPL commands (AdminConsole), calls between scenes
 * of two engines (CallRouter).
 */
import type { Logger } from '@gos/schema';
import type { Membership } from '@gos/coordinator';
import {
  AdminToEngine,
  EngineToEngine,
  GatewayToEngine,
  decodeAdminBody,
  decodeCallBody,
  decodeJoinBody,
  decodeJoinFailedBody,
  decodeMigratingBody,
  decodeTravelOutBody,
  type GatewayPeer,
} from '@gos/link';
import type { AdminConsole } from './admin.js';
import type { CallRouter } from './calls.js';
import type { SceneMigrations } from './migrations.js';
import type { Players } from './players.js';
import type { Travels } from './travels.js';

export interface PeerHandlers {
  readonly engineId: string;
  readonly membership: Pick<Membership, 'get'>;
  readonly players: Pick<Players, 'frame' | 'lanes' | 'join' | 'leave' | 'travelIn' | 'peerClosed'>;
  readonly travels: Pick<Travels, 'out' | 'cancel'>;
  readonly migrations: Pick<SceneMigrations, 'held' | 'synced' | 'peerClosed'>;
  readonly admin: Pick<AdminConsole, 'command'>;
  readonly calls: Pick<CallRouter, 'incoming'>;
  readonly logger: Logger;
}

/** Handle what `peer` sends, and its close, for as long as it is linked. */
export function servePeer(peer: GatewayPeer, d: PeerHandlers): void {
  const log = d.logger.child({ gatewayId: peer.nodeId });
  log.info('gateway linked');
  // An in-process gateway hands a joined player's frames straight to its scene (FrameLanes).
  peer.serveLanes?.(d.players.lanes(peer));
  peer.on('message', (type: number, channel: number, body: Uint8Array) => {
    try {
      switch (type) {
        case GatewayToEngine.CLIENT_FRAME:
          d.players.frame(peer, channel, body);
          break;
        case GatewayToEngine.JOIN:
          void d.players.join(peer, channel, decodeJoinBody(body));
          break;
        case GatewayToEngine.LEAVE:
          d.players.leave(peer, channel);
          break;
        case GatewayToEngine.TRAVEL_OUT:
          void d.travels.out(peer, channel, decodeTravelOutBody(body));
          break;
        case GatewayToEngine.TRAVEL_IN:
          d.players.travelIn(peer, channel);
          break;
        case GatewayToEngine.TRAVEL_CANCEL:
          d.travels.cancel(peer, channel, decodeJoinFailedBody(body));
          break;
        case GatewayToEngine.MIGRATE_HOLD:
          d.migrations.held(peer, channel, decodeMigratingBody(body).move);
          break;
        case GatewayToEngine.SYNC_ACK:
          d.migrations.synced(channel);
          break;
        case AdminToEngine.COMMAND:
          void d.admin.command(peer, channel, decodeAdminBody(body));
          break;
        case EngineToEngine.CALL:
          // Another engine's scene calls one of ours: only from an engine of the cluster.
          if (d.membership.get(peer.nodeId)?.role === 'engine' && peer.nodeId !== d.engineId) d.calls.incoming(peer, channel, decodeCallBody(body));
          else log.warn({ peer: peer.nodeId }, 'CALL from a peer that is no engine; ignored');
          break;
        default:
          log.warn({ type }, 'unknown link message type');
      }
    } catch (err) {
      log.error({ err, type }, 'bad link message');
    }
  });
  peer.on('close', () => {
    log.info('gateway link closed; its players leave');
    d.players.peerClosed(peer);
    d.migrations.peerClosed(peer);
  });
}
