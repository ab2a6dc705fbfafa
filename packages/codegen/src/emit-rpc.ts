/**
 * The generated module's part for the protocol's `rpc:` section: `RpcHandlers` (types of the
 * target's `calls` and `casts`), `RpcCaller`, `RpcCallOptions`, `Rpc` and `createRpc`.
 */
import type { ProtocolModel, RpcModel } from './model.js';
import { jsdoc, str } from './ts-text.js';

/** The `rpc:` messages grouped by target scene type, targets sorted. */
export function rpcTargets(m: ProtocolModel): Array<[string, RpcModel[]]> {
  const targets = new Map<string, RpcModel[]>();
  for (const r of m.rpc) targets.set(r.target, [...(targets.get(r.target) ?? []), r]);
  return [...targets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Typed handlers (`RpcHandlers`) and callers (`createRpc`) of the messages between scenes. */
export function emitRpc(m: ProtocolModel): string[] {
  const out: string[] = [];
  const line = (...ls: string[]): void => void out.push(...ls);
  const targets = rpcTargets(m);
  line(
    '/**',
    " * Handlers of the messages between scenes, by target scene type: type a scene definition's `calls`",
    " * and `casts` with them (`const calls: RpcHandlers<TownScene>['town']['calls'] = { … }`). `from`",
    " * is the calling scene's id.",
    ' */',
    'export interface RpcHandlers<Scene> {',
  );
  for (const [target, msgs] of targets) {
    line(`  ${target}: {`);
    for (const kind of ['calls', 'casts'] as const) {
      const these = msgs.filter((r) => (kind === 'calls') === (r.response !== null));
      if (these.length === 0) {
        line(`    ${kind}: Record<never, never>;`);
        continue;
      }
      line(`    ${kind}: {`);
      for (const r of these) {
        const res = r.response ?? 'void';
        line(...jsdoc(r.doc, '      '), `      ${r.name}(scene: Scene, req: ${r.request}, from: string): ${res} | Promise<${res}>;`);
      }
      line('    };');
    }
    line('  };');
  }
  line(
    '}',
    '',
    'export interface RpcCallOptions {',
    '  /** Reject with ENG_ERR_CALL_TIMEOUT after this long. @default 5000 */',
    '  readonly timeoutMs?: number;',
    '  /** Place the target on demand when it is placed nowhere (else ENG_ERR_NOT_PLACED). @default true */',
    '  readonly place?: boolean;',
    '}',
    '',
    "/** What {@link createRpc} needs: the engine's `Scene` fits. */",
    'export interface RpcCaller {',
    '  call(target: string, message: string, payload?: unknown, options?: RpcCallOptions): Promise<unknown>;',
    "  cast(target: string, message: string, payload?: unknown, options?: Pick<RpcCallOptions, 'place'>): void;",
    '}',
    '',
    '/** One typed method per message between scenes, by target scene type; the target is a scene id of that type. */',
    'export interface Rpc {',
  );
  const sig = (target: string, r: RpcModel): string =>
    r.response === null ? `(target: \`${target}:\${string}\`, req: ${r.request}, opts?: Pick<RpcCallOptions, 'place'>)` : `(target: \`${target}:\${string}\`, req: ${r.request}, opts?: RpcCallOptions)`;
  for (const [target, msgs] of targets) {
    line(`  readonly ${target}: {`);
    for (const r of msgs) line(...jsdoc(r.doc, '    '), `    ${r.name}${sig(target, r)}: ${r.response === null ? 'void' : `Promise<${r.response}>`};`);
    line('  };');
  }
  line('}', '', "/** Typed calls and casts from a scene: `createRpc(scene).town.banner('town:1', { guild })`. */", 'export function createRpc(caller: RpcCaller): Rpc {', '  return Object.freeze({');
  for (const [target, msgs] of targets) {
    line(`    ${target}: Object.freeze({`);
    for (const r of msgs) {
      if (r.response === null) line(`      ${r.name}: ${sig(target, r)}: void => caller.cast(target, ${str(r.name)}, req, opts),`);
      else line(`      ${r.name}: ${sig(target, r)} => caller.call(target, ${str(r.name)}, req, opts) as Promise<${r.response}>,`);
    }
    line('    }),');
  }
  line('  });', '}', '');
  return out;
}
