export { Gateway } from './gateway.js';
export type { GatewayLimits, GatewayOptions } from './options.js';
export { assertNativeUws } from './uws.js';
export { hashPassword, verifyPassword } from './passwords.js';
export * from './session/index.js';
