/** One line typed at the REPL, as the command and arguments the engine takes (docs/repl.md). */
export interface ReplLine {
  readonly command: string;
  readonly args: readonly unknown[];
}

export const REPL_HELP = `commands:
  scenes                          scenes and services running on this engine
  players                         players connected to this engine
  state <sceneId>                 a scene's (or service's) state, on any engine
  player <playerId>               a player's hot data, wherever it plays
  call <target> <message> [json]  call a scene or service (started if it runs nowhere); JSON payload
  cast <target> <message> [json]  the same without an answer
  eval <sceneId> <function>       (--write only) run e.g. (scene) => scene.state.visits at the scene's next tick
  migrate <sceneId> [engineId]    (--write only) move a scene of this engine live to another engine (default: the least loaded)
  drain                           (--write only) move every scene of this engine live to the others, then stop it
  logs <playerId> [from] [to] [n] a player's log events, oldest first (times as ISO 8601 or ms)
  lb <operation> [arguments]      leaderboards: lb list, lb page <board> {"limit":10}, lb get <board> <member>,
                                  lb around <board> <member>, lb periods <board>, lb archived <board> <periodStart>;
                                  (--write only) lb create <board> {"policy":"best"}, lb submit, lb remove, lb delete;
                                  a member id that looks like a number needs quotes: lb get <board> "42"
  help                            this text
  quit                            leave (Ctrl-D too)`;

function jsonOrText(word: string): unknown {
  if (!/^[[{"\d-]|^(true|false|null)$/.test(word)) return word;
  try {
    return JSON.parse(word) as unknown;
  } catch {
    return word;
  }
}

/** Parse one line; null for an empty one. @throws Error with a message for the operator */
export function parseReplLine(line: string): ReplLine | null {
  const text = line.trim();
  if (text === '') return null;
  const [command = '', ...rest] = text.split(/\s+/);
  const after = (n: number): string => {
    // The text after the first n words, as typed (JSON and code keep their spaces).
    let s = text;
    for (let i = 0; i < n; i++) s = s.replace(/^\S+\s*/, '');
    return s;
  };
  switch (command) {
    case 'scenes':
    case 'players':
    case 'drain':
    case 'help':
    case 'quit':
    case 'exit':
      return { command, args: [] };
    case 'state':
    case 'player':
      if (rest.length !== 1) throw new Error(`usage: ${command} <${command === 'state' ? 'sceneId' : 'playerId'}>`);
      return { command, args: [rest[0]] };
    case 'call':
    case 'cast': {
      if (rest.length < 2) throw new Error(`usage: ${command} <target> <message> [json]`);
      const json = after(3);
      let payload: unknown = null;
      if (json !== '') {
        try {
          payload = JSON.parse(json) as unknown;
        } catch (err) {
          throw new Error(`the payload is not JSON: ${(err as Error).message}`, { cause: err });
        }
      }
      return { command, args: [rest[0], rest[1], payload] };
    }
    case 'migrate':
      if (rest.length < 1 || rest.length > 2) throw new Error('usage: migrate <sceneId> [engineId]');
      return { command, args: rest.length === 1 ? [rest[0]] : [rest[0], rest[1]] };
    case 'eval': {
      const code = after(2);
      if (rest.length < 2 || code === '') throw new Error('usage: eval <sceneId> <function of the scene>, e.g. eval world:1 (scene) => scene.state');
      return { command, args: [rest[0], code] };
    }
    case 'logs':
      if (rest.length < 1 || rest.length > 4) throw new Error('usage: logs <playerId> [from] [to] [limit] (times as ISO 8601 or ms since the epoch)');
      return { command, args: [rest[0], ...rest.slice(1).map((v) => (/^\d+$/.test(v) ? Number(v) : v))] };
    case 'lb': {
      if (rest.length < 1) throw new Error('usage: lb <operation> [arguments], e.g. lb page distance-daily {"limit":10}');
      // The arguments: a JSON array, or words, each read as JSON when it is JSON (numbers, objects without spaces) and as text otherwise.
      const text = after(2);
      let args: unknown[];
      if (text.startsWith('[')) {
        try {
          const parsed = JSON.parse(text) as unknown;
          if (!Array.isArray(parsed)) throw new Error('not an array');
          args = parsed;
        } catch (err) {
          throw new Error(`the arguments are not a JSON array: ${(err as Error).message}`, { cause: err });
        }
      } else args = rest.slice(1).map(jsonOrText);
      return { command, args: [rest[0], ...args] };
    }
    default:
      throw new Error(`unknown command "${command}" (help lists them)`);
  }
}
