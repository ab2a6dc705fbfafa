/**
 * The piscina worker entry. Each task runs one scene until the main thread sends STOP; a
 * worker runs several such tasks at once (they only await, never block).
 */
import { workerData } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import { CodedError, ErrorCodes, isCodedError } from '@gos/schema';
import { isService, type GameDefinition, type SceneDefinition } from '../api.js';
import { Outbox } from '../outbox.js';
import { RingReader } from '../ring/index.js';
import { FromScene, STOP_AT_TICK, STOP_AT_TICK_MAX_WAIT_MS, ToScene, decodeCallAnswer, decodeSharedData, decodeErrorPayload, decodeIncomingCall, decodeJoinPayload, type JoinPayload, type SceneTaskInput, type SceneTaskResult } from '../records.js';
import { SceneRuntime } from './runtime.js';
import { SceneConfig } from './scene-config.js';
import { answerCollections } from '../collect.js';
import { tellWarm, WARM_CHANNEL_KEY } from '../warm-records.js';

answerCollections();

const games = new Map<string, Promise<GameDefinition>>();

function loadGame(url: string): Promise<GameDefinition> {
  let game = games.get(url);
  if (game === undefined) {
    game = import(url).then((m: { default?: GameDefinition }) => {
      if (m.default === undefined || typeof m.default !== 'object' || m.default.scenes === undefined) {
        throw new CodedError(ErrorCodes.ENG_ERR_SCENE_TYPE_UNKNOWN, `${url} has no default export made with defineGame()`);
      }
      return m.default;
    });
    games.set(url, game);
  }
  return game;
}

// The engine names its game module in the pool's workerData (piscina hands it to each thread as
// node's workerData): it is imported as the thread starts, and the thread says when it settled
// (warm-records.ts): the engine registers once every thread has, so the first scene on it (a
// scene moving in live, say) does not wait for the import. A failure is also seen by the first
// scene that loads it.
const preload: unknown = workerData;
if (typeof preload === 'object' && preload !== null && 'gameModule' in preload && typeof preload.gameModule === 'string') {
  const channel = WARM_CHANNEL_KEY in preload && typeof preload[WARM_CHANNEL_KEY] === 'string' ? preload[WARM_CHANNEL_KEY] : null;
  loadGame(preload.gameModule).then(
    () => channel !== null && tellWarm(channel),
    (err: unknown) => channel !== null && tellWarm(channel, err),
  );
}

/** The longest tick interval a scene type may ask for: the longest delay a Node timer takes. */
const MAX_TICK_MS = 0x7fffffff;

/** The scene type's definition, or the service type's. */
function definitionOf(game: GameDefinition, type: string): SceneDefinition {
  const scene = Object.hasOwn(game.scenes, type) ? (game.scenes[type] as SceneDefinition | undefined) : undefined;
  const service = game.services !== undefined && Object.hasOwn(game.services, type) ? (game.services[type] as SceneDefinition | undefined) : undefined;
  if (scene !== undefined && service !== undefined) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `"${type}" is both a scene type and a service type of the game`);
  const def = scene ?? service;
  if (def === undefined) throw new CodedError(ErrorCodes.ENG_ERR_SCENE_TYPE_UNKNOWN, `game has no scene or service type "${type}"`);
  if (service !== undefined && !isService(service)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `service type "${type}" was not made with defineService()`);
  if (scene !== undefined && isService(scene)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `"${type}" is a service: list it under the game's services, not its scenes`);
  return def;
}

/** How long a starting scene waits for its copies of the shared tables before it starts without them (logged). */
const SHARED_LOAD_TIMEOUT_MS = 15_000;

/** A record that came while the scene loaded its shared tables: handled, in order, once it has started. */
interface Held {
  readonly type: number;
  readonly sid: number;
  readonly value: number;
  readonly payload: Uint8Array;
}

/**
 * Subscribe to the game's shared tables and take their rows until SHARED_READY. Other records
 * (joins and frames queued for the starting scene) are kept in `held`, in order. False when STOP
 * came first (the engine is closing).
 */
async function loadShared(scene: SceneRuntime, reader: RingReader, out: Outbox, logger: Logger, held: Held[]): Promise<boolean> {
  const tables = scene.sharedTables;
  if (tables.length === 0) return true;
  out.send(FromScene.SHARED_SUBSCRIBE, 0, 0, new TextEncoder().encode(JSON.stringify(tables)));
  out.flush();
  const deadline = performance.now() + SHARED_LOAD_TIMEOUT_MS;
  let ready = false;
  let stop = false;
  const onRecord = (type: number, sid: number, value: number, payload: Uint8Array): void => {
    if (type === ToScene.SHARED_DATA) {
      try {
        scene.sharedData(decodeSharedData(payload));
      } catch (err) {
        logger.error({ err }, 'bad SHARED_DATA record');
      }
    } else if (type === ToScene.SHARED_READY) ready = true;
    else if (type === ToScene.STOP) stop = true;
    // The payload is a view into the ring, valid only during this call.
    else held.push({ type, sid, value, payload: payload.slice() });
  };
  while (!ready && !stop) {
    const left = deadline - performance.now();
    if (left <= 0) {
      logger.warn({ tables }, 'the shared tables did not arrive in time; the scene starts with what it has');
      return true;
    }
    if (reader.drain(onRecord) === 0) await reader.waitAsync(Math.ceil(left), 'any');
  }
  return !stop;
}

/** Record bytes waiting in the worker's outgoing overflow before a send fails. */
const OUTBOX_MAX_PENDING_BYTES = 32 * 1024 * 1024;

export default async function runScene(input: SceneTaskInput): Promise<SceneTaskResult> {
  try {
    return await run(input);
  } catch (err) {
    // A coded error crosses to the main thread as data: thrown, it would arrive without its code.
    if (isCodedError(err)) return { sceneId: input.sceneId, ticks: 0, failed: err.toData() };
    throw err;
  }
}

async function run(input: SceneTaskInput): Promise<SceneTaskResult> {
  const logger = pino({ level: input.logLevel, base: { engineId: input.engineId, sceneId: input.sceneId } });
  const game = await loadGame(input.gameModule);
  const def = definitionOf(game, input.sceneType);
  const inputs = def.inputs ?? 'on-arrival';
  if (inputs !== 'on-arrival' && inputs !== 'at-tick') {
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `scene type "${input.sceneType}": inputs must be 'on-arrival' or 'at-tick', got ${String(inputs)}`);
  }
  const maxPlayers = def.maxPlayers;
  if (maxPlayers !== undefined && (!Number.isInteger(maxPlayers) || maxPlayers < 1 || maxPlayers > 0x7fffffff)) {
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `scene type "${input.sceneType}": maxPlayers must be a positive integer, got ${String(maxPlayers)}`);
  }
  const tickMs = def.tickMs;
  if (tickMs !== undefined && !(typeof tickMs === 'number' && tickMs >= 1 && tickMs <= MAX_TICK_MS)) {
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `scene type "${input.sceneType}": tickMs must be a number of milliseconds from 1 to ${MAX_TICK_MS}, got ${String(tickMs)}`);
  }
  const out = new Outbox(input.fromScene, OUTBOX_MAX_PENDING_BYTES);
  // No keep-alive timer and no timeout per sleep: the scene's own timers (tick, periodic save)
  // keep this thread's event loop alive, and STOP arrives as a record, which wakes the sleep.
  // A timed sleep costs a timer set and cleared on every wake-up, thousands a second per scene.
  const reader = new RingReader(input.toScene, { keepAlive: false });
  const scene: SceneRuntime = new SceneRuntime({
    id: input.sceneId,
    type: input.sceneType,
    def,
    protocol: game.protocol,
    out,
    state: input.state,
    timers: input.timers,
    shared: game.shared ?? {},
    tickMs: input.tickMs,
    logger,
    // Inputs that did not wake the thread are handled here, in order, before onTick; a new config switches first.
    beforeTick:
      inputs === 'at-tick'
        ? (): void => {
            config.atTick();
            reader.drain(onRecord);
          }
        : (): void => config.atTick(),
  });
  const config: SceneConfig = new SceneConfig({ holder: scene, def, channel: input.configChannel, initial: input.config, loader: game.config, service: isService(def), logger });

  let stopped = false;
  /** A STOP came (it may wait for the next tick). */
  let stopping = false;
  const stopNow = (): void => {
    stopped = true;
    reader.wake();
  };
  const onRecord = (type: number, sid: number, value: number, payload: Uint8Array): void => {
    switch (type) {
      case ToScene.FRAME:
        // The payload is a view into the ring, valid only during this call; decoding copies.
        scene.frame(sid, payload);
        break;
      case ToScene.JOIN: {
        let join: JoinPayload;
        try {
          join = decodeJoinPayload(payload);
        } catch (err) {
          // Never from this engine's main thread; a record it cannot read must not end the scene.
          logger.error({ err, sid }, 'bad JOIN record; the player is not joined');
          break;
        }
        scene.join(sid, join);
        break;
      }
      case ToScene.LEAVE:
        scene.leave(sid, value === 1);
        break;
      case ToScene.TRAVEL_FAILED:
        try {
          const error = decodeErrorPayload(payload);
          scene.travelFailed(sid, error.code, error.message);
        } catch (err) {
          logger.error({ err, sid }, 'bad TRAVEL_FAILED record');
        }
        break;
      case ToScene.CALL:
        try {
          scene.incomingCall(value, decodeIncomingCall(payload));
        } catch (err) {
          logger.error({ err }, 'bad CALL record');
        }
        break;
      case ToScene.ANSWER:
        try {
          scene.callAnswered(value, decodeCallAnswer(payload));
        } catch (err) {
          logger.error({ err }, 'bad ANSWER record');
        }
        break;
      case ToScene.SHARED_DATA:
        try {
          scene.sharedData(decodeSharedData(payload));
        } catch (err) {
          logger.error({ err }, 'bad SHARED_DATA record');
        }
        break;
      case ToScene.SHARED_READY:
        break;
      case ToScene.STOP:
        // A live move: right after the next tick (the loop below sleeps until then); otherwise,
        // or when no tick is coming soon, now.
        if (value !== STOP_AT_TICK || stopping || !scene.afterNextTick(stopNow, STOP_AT_TICK_MAX_WAIT_MS)) stopped = true;
        stopping = true;
        break;
      default:
        logger.warn({ type }, 'unknown record type from main thread');
    }
  };
  // The game's shared tables, copied in before onCreate can read them.
  const held: Held[] = [];
  if (!(await loadShared(scene, reader, out, logger, held))) stopped = true;
  if (!stopped) {
    await scene.create(input.persistIntervalMs, input.firstTick);
    for (const r of held) onRecord(r.type, r.sid, r.value, r.payload);
  }
  // An 'at-tick' scene sleeps through fire-and-forget inputs (its tick drains them); anything
  // urgent (a request, a join, a leave, STOP, a full ring) wakes it as before.
  const wakeFor = inputs === 'at-tick' ? 'urgent' : 'any';
  while (!stopped) {
    // Yield after every batch so the tick timer and async handlers get their turn.
    if (reader.drain(onRecord) === 0) await reader.waitAsync(Infinity, wakeFor);
    else await new Promise<void>((r) => setImmediate(r));
  }
  await scene.stop();
  config.close();
  // Let the outbox's overflow (if any) reach the main thread before the task resolves.
  while (out.pendingBytes > 0) await new Promise((r) => setTimeout(r, 5));
  out.close();
  const nextTickAt = scene.nextTickAt;
  return { sceneId: input.sceneId, ticks: scene.tick, ...(nextTickAt === undefined ? {} : { nextTickAt }) };
}
