import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readCommandLine } from '../src/index.js';

const tool = { name: 'gos-tool', usage: 'usage: gos-tool [--count N] [--json]' };
const config = { options: { count: { type: 'string', default: '3' }, json: { type: 'boolean' } } } as const;

test('readCommandLine: values, --help and -h', () => {
  const ok = readCommandLine(tool, config, ['--count', '5', '--json']);
  assert.equal(ok.kind, 'run');
  assert.deepEqual(ok.kind === 'run' && { ...ok.values }, { count: '5', json: true });
  assert.deepEqual(readCommandLine(tool, config, ['--help']), { kind: 'help', stdout: tool.usage });
  assert.deepEqual(readCommandLine(tool, config, ['-h']), { kind: 'help', stdout: tool.usage });
});

test('readCommandLine: every refusal is one line naming the tool, without node\'s explanations', () => {
  const cases: Array<[string[], string]> = [
    [['--bogus'], "gos-tool: unknown option '--bogus' (see --help)"],
    [['extra'], "gos-tool: unexpected argument 'extra' (see --help)"],
    [['--count'], "gos-tool: option '--count <value>' argument missing (see --help)"],
    // Node's text for this one spans three lines.
    [['--count', '--json'], "gos-tool: option '--count' argument is ambiguous (see --help)"],
    [['--json=yes'], "gos-tool: option '--json' does not take an argument (see --help)"],
  ];
  for (const [argv, line] of cases) assert.deepEqual(readCommandLine(tool, config, argv), { kind: 'error', stderr: line }, argv.join(' '));
});

test('readCommandLine: positionals when the tool takes them', () => {
  const r = readCommandLine(tool, { ...config, allowPositionals: true }, ['mmo-move', '--count', '2']);
  assert.ok(r.kind === 'run');
  assert.deepEqual(r.positionals, ['mmo-move']);
  assert.equal(r.values.count, '2');
});
