import type { PlacementRecord } from '@gos/coordinator';

/** What the idle check needs to know of one scene placed on this engine. */
export interface SceneActivity {
  /** Players in it, or a start or a join under way: not idle. */
  busy(sceneId: string): boolean;
  /** Running here (and then stopped by `retire` once idle long enough). */
  running(sceneId: string): boolean;
  /** Being stopped already. */
  retiring(sceneId: string): boolean;
}

/**
 * Scenes placed on this engine that have had no player for `idleSceneMs`: a running one is
 * stopped (saved), then reported idle (`MemberInfo.idleScenes`) for the leader to release. A
 * player entering one before the release takes the report back first.
 */
export class IdleScenes {
  readonly #idleSceneMs: number;
  readonly #publish: (idleScenes: Record<string, number>) => Promise<void>;
  /** Placement (`sceneId@epoch`) → since when it has had no player. */
  readonly #emptySince = new Map<string, number>();
  /** The idle scenes last published. */
  #reported: Record<string, number> = {};

  constructor(idleSceneMs: number, publish: (idleScenes: Record<string, number>) => Promise<void>) {
    this.#idleSceneMs = idleSceneMs;
    this.#publish = publish;
  }

  /** Stop (`retire`) running scenes idle long enough, and publish the stopped ones still placed here. */
  check(placed: Iterable<PlacementRecord>, activity: SceneActivity, retire: (sceneId: string, why: string) => void, now = Date.now()): void {
    const idle: Record<string, number> = {};
    const seen = new Set<string>();
    for (const record of placed) {
      const key = `${record.sceneId}@${record.epoch}`;
      seen.add(key);
      if (activity.busy(record.sceneId)) {
        this.#emptySince.delete(key);
        continue;
      }
      const since = this.#emptySince.get(key) ?? now;
      this.#emptySince.set(key, since);
      if (now - since < this.#idleSceneMs) continue;
      if (activity.running(record.sceneId)) retire(record.sceneId, `it had no player for ${this.#idleSceneMs} ms`);
      else if (!activity.retiring(record.sceneId)) idle[record.sceneId] = record.epoch;
    }
    for (const key of [...this.#emptySince.keys()]) if (!seen.has(key)) this.#emptySince.delete(key);
    if (JSON.stringify(idle) === JSON.stringify(this.#reported)) return;
    this.#reported = idle;
    void this.#publish(idle);
  }

  /**
   * A player enters `sceneId`: take back its idle report (and wait until that is written)
   * before the scene starts again, so the leader does not release it under the player. A
   * release already on its way is caught by the engine's placement check after the start.
   */
  async withdraw(sceneId: string): Promise<void> {
    if (!(sceneId in this.#reported)) return;
    const { [sceneId]: _withdrawn, ...rest } = this.#reported;
    this.#reported = rest;
    await this.#publish(rest);
  }
}
