export { ENV_OVERRIDES, ROLES, configError, fatMemberIds, idEnvironment, loadConfig, memberIdOf, type ClusterConfig, type LoadConfigOptions, type Role } from './config.js';
export { BIN_ENTRY, formatLogLine, MemberProcess, NODE_FLAGS, type LogLine, type MemberProcessOptions } from './launcher.js';
export { startRole, type RunningRole } from './roles.js';
export { runRole } from './main.js';
export { formatStatus, readStatus, type ClusterStatus } from './status.js';
export { connect, maskUrl, type Connectable, type ConnectOptions } from './connect.js';
export { Supervisor, type SupervisedMember, type SupervisorOptions } from './supervisor.js';
export { parseCommandLine, readCommandLine, usageErrorLine, type CommandLine, type CommandLineConfig, type CommandLineOutcome, type CommandLineTool } from './command-line.js';
export { chooseLogFormat, createProcessLogger, LOG_FORMATS, type LogFormat, type ProcessLoggerOptions } from './process-logger.js';
