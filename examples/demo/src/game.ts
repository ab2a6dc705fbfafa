/**
 * The demo game: one scene type, `world`, where players walk around and chat; two maps of it
 * (`world:1`, `world:2`) joined by portals (portals.ts); guilds (guild.ts, a service) that reach
 * their members on any map. Written only against the engine's public
 * scene API and the protocol generated from protocol/demo.yaml.
 */
import { defineGame, defineScene, type HandlerContext } from '@gos/engine';
import { CodedError, ErrorCodes, cleanText, isCodedError } from '@gos/schema';
import { MAPS, portalAt } from './portals.js';
import { createRpc, protocol, type PlayerState, type PushMap, type SceneHandlers } from './generated/protocol.js';
import { GUILDS_TABLE, GUILD_INDEX, guild, guildId, guildIndex } from './guild.js';
import { FIELD_MAPS, field } from './field.js';
import { loadConfig } from './generated-config/config.js';
import { configIn, welcomeLines } from './config-data.js';
import { flushWalks, forgetWalks, startWalkFlush, walkBoard, walked } from './walkers.js';
import { claimCoins, listMail, welcomeMail, type MailPlayerData } from './mailbox.js';

export const WORLD_SIZE = 1000;
/**
 * Fastest a player may walk, in world units per second (the web client walks at 250), when no
 * config data is in force; the config's `maxSpeed` (config/demo.xlsx, Globals) otherwise.
 */
const MAX_SPEED = 300;
/** Distance allowed at once after standing still, so the first step after a pause is not cut short. */
const MAX_BURST = 60;

export interface WorldState {
  /** Joins since the scene was first created; persisted with the scene. */
  visits: number;
}

export interface PlayerData extends MailPlayerData {
  x: number;
  y: number;
  color: number;
  moves: number;
  /** The guild the player is in (its name), if any; absent in data saved before guilds. */
  guild?: string;
  /** Where it is on the large map (field.ts), once it walked there. */
  field?: { x: number; y: number };
}

type Ctx = HandlerContext<WorldState, PlayerData, PushMap>;

const clamp = (v: number): number => Math.min(WORLD_SIZE, Math.max(0, v));

/** Players whose position changed since the last tick, per scene (a worker hosts several scenes). */
const changedByScene = new Map<string, Set<string>>();
/** When each player last moved, for the speed limit (not persisted). */
const lastMoveAt = new Map<string, number>();
/** Seq of the last move processed from each player on its current connection (not persisted). */
const lastSeq = new Map<string, number>();

function changed(sceneId: string): Set<string> {
  let set = changedByScene.get(sceneId);
  if (set === undefined) {
    set = new Set();
    changedByScene.set(sceneId, set);
  }
  return set;
}

function stateOf(id: string, name: string, data: PlayerData): PlayerState {
  return { id, name, x: data.x, y: data.y, color: data.color, ack: lastSeq.get(id) ?? 0 };
}

/** A new connection: seqs start again, and the player learns who and where it is, then sees everyone. */
function greet(scene: Ctx['scene'], player: Ctx['player']): void {
  lastSeq.delete(player.id);
  // The map's name and greeting and the message of the day: from the config data, when a bundle is in force.
  player.send('Welcome', { playerId: player.id, name: player.name, sceneId: scene.id, x: player.data.x, y: player.data.y, ...welcomeLines(scene) });
  const all = [...scene.players.values()].map((p) => stateOf(p.id, p.name, p.data));
  player.send('WorldSnapshot', { tick: scene.tick, players: all });
}

const handlers: SceneHandlers<Ctx>['world'] = {
  move({ scene, player }, req) {
    const data = player.data;
    // Processed even when refused below: the next snapshot acknowledges the seq.
    lastSeq.set(player.id, req.seq);
    changed(scene.id).add(player.id);
    if (!Number.isFinite(req.x) || !Number.isFinite(req.y)) return { ack: req.seq, x: data.x, y: data.y };
    const dx = req.x - data.x;
    const dy = req.y - data.y;
    const dist = Math.hypot(dx, dy);
    // Speed is checked against time since the last move, so sending more often does not help.
    const now = performance.now();
    const maxSpeed = configIn(scene)?.globals.maxSpeed ?? MAX_SPEED;
    const allowed = Math.min(MAX_BURST, ((now - (lastMoveAt.get(player.id) ?? 0)) * maxSpeed) / 1000);
    lastMoveAt.set(player.id, now);
    const k = dist > allowed ? allowed / dist : 1;
    const fromX = data.x;
    const fromY = data.y;
    data.x = clamp(data.x + dx * k);
    data.y = clamp(data.y + dy * k);
    walked(scene.id, player.id, player.name, Math.hypot(data.x - fromX, data.y - fromY));
    data.moves++;
    const portal = portalAt(scene.id, data.x, data.y);
    if (portal !== undefined) travelTo({ scene, player }, portal.to, portal.exit);
    return { ack: req.seq, x: data.x, y: data.y };
  },
  travel({ scene, player }, req) {
    if (FIELD_MAPS.includes(req.sceneId)) {
      // The large map is bigger than this one: the arrival point is taken as it is (the field clamps it).
      travelTo({ scene, player }, req.sceneId, { x: req.x, y: req.y });
      return { from: scene.id, to: req.sceneId };
    }
    if (!MAPS.includes(req.sceneId) || req.sceneId === scene.id) {
      throw new CodedError(ErrorCodes.ENG_ERR_TRAVEL, `no way from ${scene.id} to ${req.sceneId}; the maps are ${[...MAPS, ...FIELD_MAPS].join(', ')}`);
    }
    travelTo({ scene, player }, req.sceneId, { x: clamp(req.x), y: clamp(req.y) });
    player.log('travel', { to: req.sceneId });
    return { from: scene.id, to: req.sceneId };
  },
  say({ scene, player }, req) {
    // One line, no control or bidi-override characters, at most 200 code points.
    const text = cleanText(req.text, { maxLength: 200 });
    if (text !== '') scene.broadcast('ChatLine', { from: player.name, text });
  },
  async whisper(ctx, req) {
    const text = cleanText(req.text, { maxLength: 200 });
    if (text === '' || req.to === '') throw new CodedError('DEMO_ERR_BAD_WHISPER', 'a whisper needs a player id and some text');
    return { delivered: await ctx.sendTo(req.to, 'Whisper', { fromId: ctx.player.id, from: ctx.player.name, text }) };
  },
  async guildJoin({ scene, player }, req) {
    const id = guildId(req.guild);
    const rpc = createRpc(scene);
    const me = { playerId: player.id, name: player.name };
    // Set before the call, so that a player who leaves while it is under way is saved with it.
    const previous = player.data.guild;
    player.data.guild = req.guild;
    try {
      const { members } = await rpc.guild.join(id, me);
      if (previous !== undefined && previous !== req.guild) rpc.guild.leave(guildId(previous), me);
      player.log('guild.join', { guild: req.guild, ...(previous === undefined ? {} : { left: previous }), members });
      return { guild: req.guild, members };
    } catch (err) {
      if (player.data.guild === req.guild) player.data.guild = previous;
      throw err;
    }
  },
  async guildSay({ scene, player }, req) {
    const name = player.data.guild;
    if (name === undefined) throw new CodedError('DEMO_ERR_NOT_IN_GUILD', 'join a guild first (guildJoin)');
    const text = cleanText(req.text, { maxLength: 200 });
    if (text === '') return { reached: 0 };
    return createRpc(scene).guild.say(guildId(name), { playerId: player.id, name: player.name, text });
  },
  guildRally({ scene, player }, req) {
    const name = player.data.guild;
    if (name === undefined) throw new CodedError('DEMO_ERR_NOT_IN_GUILD', 'join a guild first (guildJoin)');
    return createRpc(scene).guild.rally(guildId(name), { playerId: player.id, name: player.name, delayMs: req.delayMs });
  },
  guildList({ scene }, req) {
    // A local read: every map has a copy of the shared table the guild index writes.
    const table = scene.shared<{ members: number }>(GUILDS_TABLE);
    if (req.guild !== '') {
      const one = table.get(req.guild);
      return { guilds: one === undefined ? [] : [{ guild: req.guild, members: one.members }] };
    }
    const guilds = [...table.entries()].map(([guild, v]) => ({ guild, members: v.members }));
    guilds.sort((a, b) => b.members - a.members || (a.guild < b.guild ? -1 : 1));
    return { guilds: guilds.slice(0, 10) };
  },
  leaderboard({ scene, player }, req) {
    return walkBoard(scene, player.id, req.around);
  },
  mailList(ctx, req) {
    return listMail(ctx, req.before);
  },
  async mailClaim({ scene, player }, req) {
    await scene.mail.claim(player, req.mailId);
    return { coins: player.data.coins ?? 0 };
  },
  async mailDelete({ scene, player }, req) {
    return { deleted: (await scene.mail.delete(player.id, [req.mailId])) > 0 };
  },
  whoami({ scene, player }) {
    return { playerId: player.id, name: player.name, sceneId: scene.id, x: player.data.x, y: player.data.y };
  },
};

/** Start a travel; a refusal (the target full, say) is told to the player, who stays. */
function travelTo({ scene, player }: Pick<Ctx, 'scene' | 'player'>, to: string, exit: { x: number; y: number }): void {
  player.travel(to, exit).catch((err: unknown) => {
    // Already on its way (another step into the portal) is no news.
    if (isCodedError(err) && err.code === ErrorCodes.ENG_ERR_TRAVEL && /under way/.test(err.message)) return;
    scene.logger.info({ err, playerId: player.id, to }, 'travel refused');
    player.send('ChatLine', { from: 'server', text: `cannot go to ${to}: ${isCodedError(err) ? err.code : 'error'}` });
  });
}

/** An arrival point from another scene's travel: a position on this map, or nothing. */
function arrivalPoint(arrival: unknown): { x: number; y: number } | null {
  if (typeof arrival !== 'object' || arrival === null) return null;
  const { x, y } = arrival as { x?: unknown; y?: unknown };
  return typeof x === 'number' && typeof y === 'number' && Number.isFinite(x) && Number.isFinite(y) ? { x: clamp(x), y: clamp(y) } : null;
}

export const world = defineScene<WorldState, PlayerData, PushMap>({
  createState: () => ({ visits: 0 }),
  createPlayer: ({ id }) => ({
    x: 100 + Math.random() * (WORLD_SIZE - 200),
    y: 100 + Math.random() * (WORLD_SIZE - 200),
    // A stable colour per player, from its id.
    color: [...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) & 0xffffff,
    moves: 0,
  }),
  onJoin(scene, player, arrival) {
    // From a portal (or the travel route): the player appears at the exit point.
    const at = arrivalPoint(arrival);
    if (at !== null) {
      player.data.x = at.x;
      player.data.y = at.y;
      player.markDirty();
    }
    scene.state.visits++;
    scene.markDirty();
    // The newcomer gets everyone; everyone else gets the newcomer with the next tick.
    greet(scene, player);
    changed(scene.id).add(player.id);
    welcomeMail(scene, player);
  },
  onMailClaim: claimCoins,
  onRejoin(scene, player) {
    // A new connection of a player already here (another tab, a new login) needs everyone again.
    greet(scene, player);
  },
  onCreate(scene) {
    startWalkFlush(scene);
  },
  onLeave(scene, player) {
    void flushWalks(scene, [player.id]);
    lastMoveAt.delete(player.id);
    lastSeq.delete(player.id);
    changed(scene.id).delete(player.id);
    scene.broadcast('PlayerLeft', { id: player.id });
  },
  onTick(scene) {
    const ids = changed(scene.id);
    if (ids.size === 0) return;
    const players: PlayerState[] = [];
    for (const id of ids) {
      const p = scene.players.get(id);
      if (p !== undefined) players.push(stateOf(p.id, p.name, p.data));
    }
    ids.clear();
    if (players.length > 0) scene.broadcast('WorldSnapshot', { tick: scene.tick, players });
  },
  onDispose(scene) {
    changedByScene.delete(scene.id);
    // Steps not submitted yet (at most FLUSH_MS of them) are lost when a map stops or moves.
    forgetWalks(scene.id);
  },
  handlers,
});

export default defineGame({ protocol, scenes: { world, field }, services: { guild, guildindex: guildIndex }, shared: { [GUILDS_TABLE]: GUILD_INDEX }, config: loadConfig });
