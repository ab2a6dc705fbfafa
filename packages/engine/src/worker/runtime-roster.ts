/**
 * The players of one scene on its worker thread, by id and by connection (sid), and how they come
 * and go: a join (a new player, or the same player on a new connection, which keeps its hot
 * data), a join refused by `onJoin`, and a leave that hands the player's data and timers to the
 * main thread (SAVE_PLAYER), to save or to carry on a travel.
 */
import { CloseCode, ErrorCodes, isCodedError, type Logger } from '@gos/schema';
import type { SceneDefinition } from '../api.js';
import type { Outbox } from '../outbox.js';
import { FromScene, encodeErrorPayload, encodeSavePayload, type JoinPayload } from '../records.js';
import type { SceneReplication } from './replication.js';
import { RuntimePlayer } from './runtime-player.js';
import type { SceneRuntime } from './runtime.js';
import type { PendingTravels } from './runtime-travels.js';

export interface RosterDeps {
  readonly scene: SceneRuntime;
  readonly def: SceneDefinition;
  readonly out: Outbox;
  /** A service: nobody joins it. */
  readonly service: boolean;
  readonly travels: PendingTravels;
  readonly replication: () => SceneReplication | null;
  readonly logger: Logger;
  /** Run game code whose errors must not end the scene. */
  readonly guard: (what: string, fn: () => unknown) => void;
  /** A new player is in (the tick schedule counts it). */
  readonly joined: () => void;
}

export class SceneRoster {
  readonly players = new Map<string, RuntimePlayer>();
  /** The players by the connection each plays on now (RuntimePlayer.sid). */
  readonly bySid = new Map<number, RuntimePlayer>();
  readonly #d: RosterDeps;

  constructor(deps: RosterDeps) {
    this.#d = deps;
  }

  join(sid: number, payload: JoinPayload): void {
    if (this.#d.service) {
      this.#d.out.send(FromScene.JOIN_FAILED, sid, 0, encodeErrorPayload({ code: ErrorCodes.ENG_ERR_SCENE_TYPE_UNKNOWN, message: `${this.#d.scene.id} is a service: players cannot enter it` }));
      return;
    }
    const existing = this.players.get(payload.playerId);
    if (existing !== undefined) {
      // Same player on a new connection: the old one is closed, the hot data stays.
      const oldSid = existing.sid;
      this.bySid.delete(oldSid);
      this.#d.scene.kick(oldSid, CloseCode.SESSION_REPLACED, 'logged in elsewhere');
      existing.sid = sid;
      this.bySid.set(sid, existing);
      // A travel the old connection asked for does not carry over to the new one.
      this.#d.travels.fail(existing.id, ErrorCodes.ENG_ERR_TRAVEL, `player ${existing.id} connected again before its travel`);
      this.#d.out.send(FromScene.JOINED, sid, 0, null);
      // The new socket hears nothing yet: its cells again, from snapshots, at the end of the tick.
      this.#d.replication()?.playerRejoined(existing.id);
      this.#d.guard('onRejoin', () => this.#d.def.onRejoin?.(this.#d.scene, existing));
      return;
    }
    let data = payload.data;
    let savedJson: string | null = null;
    if (data === null || data === undefined) {
      data = this.#d.def.createPlayer({ id: payload.playerId, name: payload.name });
    } else {
      savedJson = JSON.stringify(data);
    }
    const player = new RuntimePlayer(this.#d.scene, sid, payload.playerId, payload.name, data, savedJson, payload.timers);
    // New, or arrived from another scene: saved from here (the row then names this scene).
    if (savedJson === null || payload.travelled === true) player.dirty = true;
    if (payload.travelled === true) player.savedJson = null;
    try {
      this.players.set(player.id, player);
      this.bySid.set(sid, player);
      this.#d.def.onJoin?.(this.#d.scene, player, payload.arrival);
      // Its timers fire here from now on (overdue ones at once); a scene type without
      // onPlayerTimer leaves them pending, for a scene that has one.
      if (this.#d.def.onPlayerTimer !== undefined) player.timers.start();
    } catch (err) {
      this.players.delete(player.id);
      this.bySid.delete(sid);
      // A viewpoint onJoin spawned before it threw goes with the player.
      this.#d.replication()?.playerLeft(player.id);
      this.#d.logger.error({ err, playerId: player.id }, 'onJoin failed');
      const data = isCodedError(err) ? err.toData() : { code: ErrorCodes.ENG_ERR_HANDLER_FAILED, message: 'onJoin failed' };
      this.#d.out.send(FromScene.JOIN_FAILED, sid, 0, encodeErrorPayload(data));
      return;
    }
    this.#d.out.send(FromScene.JOINED, sid, 0, null);
    this.#d.joined();
  }

  /** The player of `sid` leaves (its socket closed, or `travelling`: it goes to another scene). */
  leave(sid: number, travelling = false): void {
    const player = this.bySid.get(sid);
    this.bySid.delete(sid);
    if (player === undefined) {
      // A connection replaced by a newer one, or never joined: nothing to save.
      this.#d.out.send(FromScene.SAVE_PLAYER, sid, 1, encodeSavePayload('', undefined));
      return;
    }
    this.players.delete(player.id);
    try {
      this.#d.def.onLeave?.(this.#d.scene, player);
    } catch (err) {
      this.#d.logger.error({ err, playerId: player.id }, 'onLeave failed');
    }
    this.#d.replication()?.playerLeft(player.id);
    player.timers.stop();
    player.timers.settleInFlight();
    const changes = player.timers.takeChanges();
    const json = JSON.stringify(player.data);
    // A travel hands the data (and every timer) over even when unchanged: a target scene on this engine takes them from here.
    const unchanged = json === player.savedJson && !travelling && changes === null;
    this.#d.out.send(FromScene.SAVE_PLAYER, sid, 1, encodeSavePayload(player.id, unchanged ? undefined : json, { changes, ...(travelling ? { pending: player.timers.list() } : {}) }));
    this.#d.travels.left(player.id, travelling);
  }
}
