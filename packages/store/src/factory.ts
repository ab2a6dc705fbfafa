import { checkObject, invalid } from './common.js';
import { MysqlStore } from './mysql-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { StoreConfig } from './types.js';

/**
 * Build the store a config names (not started: call `start()`).
 * @throws OPT_ERR_INVALID when the config is malformed.
 */
export function createStore(config: StoreConfig): SqliteStore | MysqlStore {
  const c = checkObject('store config', config);
  switch (config.kind) {
    case 'sqlite': {
      const { kind: _kind, ...options } = config;
      return new SqliteStore(options);
    }
    case 'mysql': {
      const { kind: _kind, ...options } = config;
      return new MysqlStore(options);
    }
    default:
      throw invalid(`store config.kind must be 'sqlite' or 'mysql' (got ${JSON.stringify(c.kind)})`);
  }
}
