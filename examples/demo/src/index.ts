export { EmbeddedCluster, GAME_MODULE, SHIPPED_CONFIG, WEB_DIR } from './cluster.js';
export type { EmbeddedClusterOptions } from './cluster.js';
export { runBots } from './bots.js';
export type { BotRunOptions, BotRunResult } from './bots.js';
export { fetchTrusting, webSocketTrusting } from './tls-client.js';
