import { CodedError, ErrorCodes } from '@gos/schema';
import { refused } from './runtime-calls.js';

/**
 * The travels a scene's players asked for (`player.travel`), by player id: each promise settles
 * when its player leaves the scene for it (resolved), or when the travel will not happen
 * (rejected with the code). A promise never rejects unhandled: a refusal nobody awaits must not
 * end the scene's thread; the caller's own `then`/`catch`/`await` still sees it.
 */
export class PendingTravels {
  readonly #byPlayer = new Map<string, { readonly resolve: () => void; readonly reject: (err: Error) => void }>();

  has(playerId: string): boolean {
    return this.#byPlayer.has(playerId);
  }

  /**
   * `player.travel(sceneId, arrival)` from scene `from`: refused (ENG_ERR_TRAVEL) when it cannot
   * happen, else asked for by `send` (which writes the TRAVEL record with the arrival's JSON).
   */
  request(playerId: string, inScene: boolean, from: string, sceneId: unknown, arrival: unknown, send: (to: string, arrivalJson: string) => void): Promise<void> {
    const refuse = (why: string): Promise<void> => refused(new CodedError(ErrorCodes.ENG_ERR_TRAVEL, `player ${playerId} cannot travel to ${String(sceneId)}: ${why}`));
    if (!inScene) return refuse('it is not in this scene');
    if (typeof sceneId !== 'string' || sceneId === '') return refuse('the target must be a scene id');
    if (sceneId === from) return refuse('it is already there');
    if (this.has(playerId)) return refuse('a travel is already under way');
    let arrivalJson = '';
    if (arrival !== undefined) {
      try {
        arrivalJson = JSON.stringify(arrival) ?? '';
      } catch (err) {
        return refuse(`the arrival cannot be sent as JSON (${String(err)})`);
      }
      if (arrivalJson === '') return refuse('the arrival cannot be sent as JSON');
    }
    return this.start(playerId, () => send(sceneId, arrivalJson));
  }

  /** Wait for the travel of `playerId`, asked for by `ask` (which writes the TRAVEL record). */
  start(playerId: string, ask: () => void): Promise<void> {
    const travel = new Promise<void>((resolve, reject) => {
      this.#byPlayer.set(playerId, { resolve, reject });
      ask();
    });
    travel.catch(() => undefined);
    return travel;
  }

  /** The player left the scene: for its travel (`travelling`) the promise resolves, else it rejects. */
  left(playerId: string, travelling: boolean): void {
    const travel = this.#take(playerId);
    if (travelling) travel?.resolve();
    else travel?.reject(new CodedError(ErrorCodes.ENG_ERR_TRAVEL, `player ${playerId} left the scene before its travel`));
  }

  /** The travel will not happen: rejected with `code`. */
  fail(playerId: string, code: string, message: string): void {
    this.#take(playerId)?.reject(new CodedError(code, message));
  }

  /** The scene stops: every travel still asked for is refused. */
  stopAll(sceneId: string): void {
    for (const playerId of [...this.#byPlayer.keys()]) this.fail(playerId, ErrorCodes.ENG_ERR_TRAVEL, `scene ${sceneId} stopped before the travel`);
  }

  #take(playerId: string): { readonly resolve: () => void; readonly reject: (err: Error) => void } | undefined {
    const travel = this.#byPlayer.get(playerId);
    this.#byPlayer.delete(playerId);
    return travel;
  }
}
