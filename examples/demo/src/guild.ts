/**
 * The demo's guild service: one `guild:<name>` actor per guild, anywhere in the cluster, holding
 * its members. Maps call it (`createRpc(scene).guild`): a player joins, leaves, and says a line
 * that reaches every online member wherever they play (`sendTo`).
 */
import { defineService, type Service } from '@gos/engine';
import { CodedError } from '@gos/schema';
import { createRpc, type PushMap, type RpcHandlers } from './generated/protocol.js';

export interface GuildState {
  /** Member id → name. */
  members: Record<string, string>;
  /** Lines said since the guild was founded. */
  lines: number;
  /** Rallies held (durable timers fired); absent in guilds saved before rallies. */
  rallies?: number;
}

/** Longest a rally may be called ahead. */
export const MAX_RALLY_DELAY_MS = 3_600_000;

type Guild = Service<GuildState, PushMap>;

const GUILD_NAME = /^[A-Za-z0-9_-]{1,24}$/;
/** How long a line waits for each member's push. */
const PUSH_TIMEOUT_MS = 1000;
/** Members one guild holds at most. */
export const MAX_MEMBERS = 200;

/** The service id of guild `name`; `DEMO_ERR_BAD_GUILD` for a name that is not one. */
export function guildId(name: string): `guild:${string}` {
  if (!GUILD_NAME.test(name)) throw new CodedError('DEMO_ERR_BAD_GUILD', 'a guild name has 1 to 24 letters, digits, _ or -');
  return `guild:${name}`;
}

const calls: RpcHandlers<Guild>['guild']['calls'] = {
  join(guild, { playerId, name }) {
    const members = guild.state.members;
    if (!Object.hasOwn(members, playerId) && Object.keys(members).length >= MAX_MEMBERS) {
      throw new CodedError('DEMO_ERR_GUILD_FULL', `${guild.id} has ${MAX_MEMBERS} members already`);
    }
    const fresh = !Object.hasOwn(members, playerId);
    members[playerId] = name;
    guild.markDirty();
    if (fresh) publishSize(guild);
    return { members: Object.keys(members).length };
  },
  async say(guild, { playerId, name, text }) {
    if (!Object.hasOwn(guild.state.members, playerId)) throw new CodedError('DEMO_ERR_NOT_IN_GUILD', `not a member of ${guild.id}`);
    guild.state.lines++;
    guild.markDirty();
    const line = { guild: guild.id.slice('guild:'.length), from: name, text };
    // A member whose engine does not answer soon counts as not reached: the guild (one message
    // at a time) is not held up for long by one slow member.
    const delivered = await Promise.all(Object.keys(guild.state.members).map((id) => guild.sendTo(id, 'GuildLine', line, { timeoutMs: PUSH_TIMEOUT_MS }).catch(() => false)));
    return { reached: delivered.filter(Boolean).length };
  },
  rally(guild, { playerId, name, delayMs }) {
    if (!Object.hasOwn(guild.state.members, playerId)) throw new CodedError('DEMO_ERR_NOT_IN_GUILD', `not a member of ${guild.id}`);
    if (delayMs > MAX_RALLY_DELAY_MS) throw new CodedError('DEMO_ERR_BAD_RALLY', `a rally is at most ${MAX_RALLY_DELAY_MS / 60_000} minutes ahead`);
    // A durable timer: saved with the guild, it fires even if this engine dies before it is due.
    return { dueAt: guild.schedule('rally', { delayMs }, { by: name }).dueAt };
  },
};

const casts: RpcHandlers<Guild>['guild']['casts'] = {
  leave(guild, { playerId }) {
    if (!Object.hasOwn(guild.state.members, playerId)) return;
    delete guild.state.members[playerId];
    guild.markDirty();
    publishSize(guild);
  },
};

/** The guild's size, for the index (the shared table every map reads). */
function publishSize(guild: Guild): void {
  createRpc(guild).guildindex.update(GUILD_INDEX, { guild: guild.id.slice('guild:'.length), members: Object.keys(guild.state.members).length });
}

/** The one instance of the guild index: the owner (only writer) of the shared table `guilds`. */
export const GUILD_INDEX = 'guildindex:main';
/** The shared table of guild sizes: guild name → { members }. */
export const GUILDS_TABLE = 'guilds';

/** The guild index: writes each guild's size to the shared table `guilds`. */
export const guildIndex = defineService<Record<string, never>, PushMap>({
  init: () => ({}),
  handleCast: {
    update: ((index, { guild, members }) => {
      if (members === 0) index.shared(GUILDS_TABLE).delete(guild);
      else index.shared<{ members: number }>(GUILDS_TABLE).set(guild, { members });
    }) satisfies RpcHandlers<Service<Record<string, never>, PushMap>>['guildindex']['casts']['update'],
  },
});

export const guild = defineService<GuildState, PushMap>({
  init: () => ({ members: {}, lines: 0, rallies: 0 }),
  handleCall: calls,
  handleCast: casts,
  // The rally is due: recorded with the guild's state, and told to every online member.
  async handleTimer(guild, timer) {
    if (timer.name !== 'rally') return;
    guild.state.rallies = (guild.state.rallies ?? 0) + 1;
    guild.markDirty();
    const by = (timer.payload as { by?: unknown } | null)?.by;
    const line = { guild: guild.id.slice('guild:'.length), from: 'rally', text: `Rally! (called by ${typeof by === 'string' ? by : 'a member'})` };
    await Promise.all(Object.keys(guild.state.members).map((id) => guild.sendTo(id, 'GuildLine', line, { timeoutMs: PUSH_TIMEOUT_MS }).catch(() => false)));
  },
});
