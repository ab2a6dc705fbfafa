/**
 * The game services an engine runs for its scenes, on its main thread: leaderboards
 * (LeaderboardRelay), player logs (PlayerLogWriter), config data with hot reload
 * (ConfigUpdates) and mail (MailRelay). Built from the engine's options; `Engine` starts and
 * closes them with itself.
 */
import type { Logger } from '@gos/schema';
import { ConfigUpdates } from './config-updates.js';
import { LeaderboardRelay } from './leaderboard-relay.js';
import { MailRelay } from './mail-relay.js';
import type { ResolvedEngineOptions } from './options.js';
import type { Persister } from './persister.js';
import type { PlayerPushes } from './player-pushes.js';
import { PlayerLogWriter } from './player-logs.js';

export class GameServices {
  readonly leaderboards: LeaderboardRelay;
  readonly playerLogs: PlayerLogWriter;
  readonly config: ConfigUpdates;
  readonly mail: MailRelay;

  constructor(o: ResolvedEngineOptions, log: Logger, parts: { persister: Persister; pushes: () => PlayerPushes; pushToAll: (frame: Uint8Array) => void }) {
    this.config = new ConfigUpdates(o.store.configBundles, o.engineId, o.configPollMs, log.child({ part: 'config' }));
    this.playerLogs = new PlayerLogWriter({ store: o.store.playerLogs, ...o.playerLogs, logger: log.child({ part: 'player-logs' }) });
    this.leaderboards = new LeaderboardRelay({ engineId: o.engineId, logger: log }, o.leaderboards);
    this.mail = new MailRelay({
      store: o.store.mail,
      persister: parts.persister,
      pushes: { notify: (from, playerId, frame) => parts.pushes().notify(from, playerId, frame) },
      pushToAll: parts.pushToAll,
      engineId: o.engineId,
      pollMs: o.mailPollMs,
      logger: log.child({ part: 'mail' }),
    });
  }

  /** The config in force before any scene starts (they start with it). */
  async startConfig(): Promise<void> {
    await this.config.start();
  }

  /** Once the engine runs: the writers' timers. */
  start(): void {
    this.playerLogs.start();
    this.mail.start();
  }

  /** After the scenes stopped: what is queued is written. */
  async close(): Promise<void> {
    this.mail.close();
    await this.playerLogs.close();
    this.config.close();
  }
}
