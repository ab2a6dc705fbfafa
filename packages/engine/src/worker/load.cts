/**
 * The module piscina loads in every scene thread: a CommonJS file that imports the real entry
 * (`entry.ts`, an ES module) asynchronously.
 *
 * piscina loads a worker's module with `require()` first. Since Node 20.19, `require()` of an ES
 * module instantiates its graph synchronously, and a thread terminated inside that step (an
 * engine closed while its threads are still loading: Ctrl-C right after start) aborts the whole
 * process in V8 (`v8::Module::IsGraphAsync must be used on an instantiated module`). Through
 * `import()` the same termination only stops the thread.
 *
 * The import starts as soon as the thread does, so the first scene does not wait for it.
 */
import type { SceneTaskInput, SceneTaskResult } from '../records.js';

type RunScene = (input: SceneTaskInput) => Promise<SceneTaskResult>;

const entry: Promise<{ default: RunScene }> = import('./entry.js');
// A failed import is reported by the first scene that needs it, not as an unhandled rejection.
entry.catch(() => undefined);

function runScene(input: SceneTaskInput): Promise<SceneTaskResult> {
  return entry.then((m) => m.default(input));
}

export = runScene;
