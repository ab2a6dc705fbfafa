/**
 * Protocol YAML → {@link ProtocolModel}. Every problem found is reported with its file, 1-based
 * line and column, and the path of the offending key (`messages.MoveReq.fields.x`), all at once.
 */
import { CodedError, ErrorCodes } from '@gos/schema';
import type { ProtocolModel } from './model.js';
import { Issues } from './issues.js';
import { Collected, readFile, type ProtocolSource } from './read-sections.js';
import { resolve } from './resolve.js';

export { protocolTypeName } from './resolve.js';
export type { ProtocolSource } from './read-sections.js';

/**
 * Parse and validate protocol YAML files into one protocol.
 * @throws CodedError `SCH_ERR_BAD_YAML` listing every problem as `file:line:col: path: message`.
 */
export function parseProtocol(sources: readonly ProtocolSource[]): ProtocolModel {
  const issues = new Issues();
  if (sources.length === 0) throw new CodedError(ErrorCodes.SCH_ERR_BAD_YAML, 'no protocol YAML files given');
  const collected = new Collected();
  for (const src of sources) readFile(src, issues, collected);
  const model = resolve(collected, sources, issues);
  issues.throwIfAny();
  if (model === null) throw new CodedError(ErrorCodes.SCH_ERR_BAD_YAML, 'protocol YAML has no namespace or version');
  return model;
}
