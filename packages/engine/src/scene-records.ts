import { EngineToGateway, encodeCellsBody, encodeInterestBody, encodeJoinFailedBody, encodeJoinedBody, encodeKickBody } from '@gos/link';
import { decodeLeaderboardRequest } from './leaderboard-records.js';
import { decodeMailRequest } from './mail-records.js';
import { decodePlayerLogs } from './log-records.js';
import { publishToScene, sendTo, toSceneGateways, type EngineContext } from './engine-context.js';
import { FromScene, decodeTickFigures, SaveSceneFlag, decodeEntityFrames, decodeCallAnswer, decodeSharedChanges, decodeTableNames, decodeTimerChanges, decodeErrorPayload, decodeOutgoingCall, decodePlayerPush, decodeReadyPayload, decodeSavePayload, decodeSceneState, decodeTravelPayload } from './records.js';
import type { SceneHost } from './scene-host.js';
import { mergeTimerChanges } from './timer-changes.js';

const decoder = new TextDecoder();

/**
 * What a scene writes to the main thread (records.ts, `FromScene`): frames for its players and
 * for all of them, join answers, kicks, saves, and its tick statistics. `sid` and `value` are the
 * record's two numbers (see each type in records.ts).
 */
export function onSceneRecord(ctx: EngineContext, host: SceneHost, type: number, sid: number, value: number, payload: Uint8Array): void {
  try {
    dispatch(ctx, host, type, sid, value, payload);
  } catch (err) {
    // A record that cannot be decoded is dropped, not allowed to end the scene's read loop.
    ctx.log.error({ err, type, sceneId: host.sceneId }, 'bad record from scene');
    // A player's last save that cannot be read still ends its hand-over: a rejoin must not wait for ever.
    if (type === FromScene.SAVE_PLAYER && value === 1) ctx.seats.answered(sid);
  }
}

function dispatch(ctx: EngineContext, host: SceneHost, type: number, sid: number, value: number, payload: Uint8Array): void {
  switch (type) {
    case FromScene.SEND: {
      // Only from the player's scene: a scene it travelled out of (a timer, an async handler) is not heard.
      const conn = ctx.conns.get(sid);
      if (conn !== undefined && conn.sceneId === host.sceneId) sendTo(ctx, conn.peer, EngineToGateway.TO_CLIENT, conn.connId, payload);
      break;
    }
    case FromScene.BROADCAST:
      // One message per gateway that has players here; the gateway fans out with a uWS topic.
      publishToScene(ctx, host, payload);
      break;
    case FromScene.CELLS: {
      // One tick's cell frames, once per gateway with players here; each publishes them by cell topic.
      const { add: cells, frames } = decodeEntityFrames(payload);
      const body = encodeCellsBody({ sceneId: host.sceneId, cells, frames });
      toSceneGateways(ctx, host, EngineToGateway.CELLS, body);
      break;
    }
    case FromScene.INTEREST: {
      const conn = ctx.conns.get(sid);
      if (conn !== undefined && conn.sceneId === host.sceneId) {
        const { reset, add, remove, frames } = decodeEntityFrames(payload);
        sendTo(ctx, conn.peer, EngineToGateway.INTEREST, conn.connId, encodeInterestBody({ sceneId: host.sceneId, reset: reset === true, add, remove, frames }));
      }
      break;
    }
    case FromScene.JOINED: {
      const conn = ctx.conns.get(sid);
      if (conn !== undefined) sendTo(ctx, conn.peer, EngineToGateway.JOINED, conn.connId, encodeJoinedBody({ sceneId: host.sceneId, inputTickMs: host.inputTickMs }));
      break;
    }
    case FromScene.JOIN_FAILED: {
      const conn = ctx.conns.get(sid);
      host.sids.delete(sid);
      if (conn !== undefined && conn.sceneId === host.sceneId) {
        ctx.seats.vacate(conn.playerId, sid);
        ctx.conns.drop(conn);
        sendTo(ctx, conn.peer, EngineToGateway.JOIN_FAILED, conn.connId, encodeJoinFailedBody(decodeErrorPayload(payload)));
      }
      break;
    }
    case FromScene.KICK: {
      const conn = ctx.conns.get(sid);
      if (conn !== undefined && conn.sceneId === host.sceneId) {
        sendTo(ctx, conn.peer, EngineToGateway.KICK, conn.connId, encodeKickBody({ closeCode: value, reason: decoder.decode(payload) }));
      }
      break;
    }
    case FromScene.SAVE_PLAYER: {
      const save = decodeSavePayload(payload);
      // Saves of a connection replaced by a newer one (which owns the row now), or taken out of
      // its scene because its data must not be saved (a refused mail claim): dropped, the last included.
      if (value === 1 ? ctx.seats.takeDiscarded(sid) : ctx.seats.isDiscarded(sid)) break;
      // A player leaving for a travel is saved as in its target scene: a later login goes there.
      // Its timer changes go with it, in the same write.
      if (save.data !== null) ctx.persister.enqueue('player', save.playerId, save.data, ctx.conns.get(sid)?.travellingTo ?? host.sceneId, save.timers);
      // The player's last data is queued: a rejoin (or the travel's target) may now load it.
      if (value === 1) {
        if (save.playerId !== '' && !ctx.seats.isSeated(save.playerId)) ctx.persister.release('player', save.playerId);
        ctx.seats.answered(sid, save.data ?? undefined, save.pending);
      }
      break;
    }
    case FromScene.SAVE_TIMERS:
      host.stagedTimers.push(decodeTimerChanges(payload));
      break;
    case FromScene.SAVE_SHARED:
      host.stagedShared.push(decodeSharedChanges(payload));
      break;
    case FromScene.SHARED_SUBSCRIBE:
      void ctx.shared.subscribe(host, decodeTableNames(payload));
      break;
    case FromScene.SAVE_SCENE: {
      // The state with the timer changes and shared writes staged for it: one entry, so one transaction.
      const staged = (value & SaveSceneFlag.WITH_TIMERS) !== 0;
      const timers = staged && host.stagedTimers.length > 0 ? mergeTimerChanges(host.stagedTimers.splice(0)) : undefined;
      const shared = staged && host.stagedShared.length > 0 ? host.stagedShared.splice(0) : undefined;
      ctx.persister.enqueue('scene', host.sceneId, decodeSceneState(payload), undefined, timers, shared);
      break;
    }
    case FromScene.READY:
      host.maxPlayers = value;
      try {
        host.inputTickMs = decodeReadyPayload(payload).inputTickMs;
      } finally {
        // Ready even with a payload it cannot read (logged): its inputs are then sent on as they come.
        host.markReady();
      }
      break;
    case FromScene.STOPPED:
      break;
    case FromScene.TRAVEL:
      ctx.travelRequested(host, sid, decodeTravelPayload(payload));
      break;
    case FromScene.CALL:
      ctx.calls.outgoing(host, value, decodeOutgoingCall(payload));
      break;
    case FromScene.ANSWER:
      ctx.calls.answered(value, decodeCallAnswer(payload));
      break;
    case FromScene.SEND_TO:
      ctx.pushes.outgoing(host, value, decodePlayerPush(payload));
      break;
    case FromScene.LOGS:
      ctx.playerLogs.add(host.sceneId, decodePlayerLogs(payload));
      break;
    case FromScene.LEADERBOARD:
      ctx.leaderboards.outgoing(host, value, decodeLeaderboardRequest(payload));
      break;
    case FromScene.MAIL:
      ctx.mail.outgoing(host, value, decodeMailRequest(payload));
      break;
    case FromScene.STATS: {
      const figures = decodeTickFigures(payload);
      ctx.metrics.ticks(host.sceneType, figures, value);
      host.noteTicks(figures.ticks.reduce((a, b) => a + b, 0));
      break;
    }
    default:
      ctx.log.warn({ type, sceneId: host.sceneId }, 'unknown record type from scene');
  }
}
