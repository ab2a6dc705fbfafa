export { checkFresh, findWorkspaceRoot, generate, readTargets, render, FLATC_SUBDIR, PROTOCOL_FILE, TARGETS_FILE, type GenerateOptions, type GenerateResult, type Target } from './generate.js';
export { parseProtocol, type ProtocolSource } from './parse.js';
