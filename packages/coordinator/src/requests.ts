import { hostname } from 'node:os';
import { CodedError, ErrorCodes } from '@gos/schema';
import type { PlacementEvent, PlacementRecord } from './types.js';

/** Who this process is when it asks for a placement (diagnostics only). */
export const REQUESTER = `${hostname()}:${process.pid}`;

/** Validated `placementTimeoutMs` option. */
export function placementTimeoutOf(value: number | undefined): number {
  const v = value ?? 10_000;
  if (!Number.isInteger(v) || v < 1) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `coordinator option "placementTimeoutMs" must be a positive integer, got ${v}`);
  return v;
}

/** What {@link awaitPlacement} needs from a coordinator implementation. */
export interface PlacementWait {
  lookup(sceneId: string): PlacementRecord | undefined;
  watch(listener: (event: PlacementEvent) => void): () => void;
  /** Refusals of requests, with the revision at which each was written. */
  watchRefusals(listener: (sceneId: string, revision: number, error: { code: string; message: string }) => void): () => void;
  /** Write the request; resolves with its revision (a refusal written before it is stale). */
  put(): Promise<number>;
  /** Aborted when the coordinator closes: the wait fails with `CRD_ERR_CLOSED`. */
  readonly closed: AbortSignal;
}

/**
 * Ask the leader to place `sceneId` and wait: resolves with the placement once any member's
 * view has it, rejects with the leader's refusal of this request, or with `CRD_ERR_NO_LEADER`
 * after `timeoutMs`. Listens before writing, so an answer cannot slip past.
 */
export function awaitPlacement(sceneId: string, timeoutMs: number, port: PlacementWait): Promise<PlacementRecord> {
  return new Promise<PlacementRecord>((resolve, reject) => {
    let putRevision: number | undefined;
    let refusal: { revision: number; error: { code: string; message: string } } | undefined;
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      offPlaced();
      offRefused();
      port.closed.removeEventListener('abort', onClosed);
      fn();
    };
    const onClosed = (): void => finish(() => reject(new CodedError(ErrorCodes.CRD_ERR_CLOSED, `coordinator closed while ${sceneId} waited for a placement`)));
    const checkRefusal = (): void => {
      if (putRevision !== undefined && refusal !== undefined && refusal.revision > putRevision) {
        const { code, message } = refusal.error;
        finish(() => reject(new CodedError(code, message)));
      }
    };
    const timer = setTimeout(() => {
      finish(() =>
        reject(
          new CodedError(
            ErrorCodes.CRD_ERR_NO_LEADER,
            `scene ${sceneId} got no placement within ${timeoutMs} ms: no coordinator leader is serving placement requests`,
          ),
        ),
      );
    }, timeoutMs);
    const offPlaced = port.watch((event) => {
      if (event.type === 'placed' && event.record.sceneId === sceneId) finish(() => resolve(event.record));
    });
    const offRefused = port.watchRefusals((id, revision, error) => {
      if (id !== sceneId) return;
      if (refusal === undefined || revision > refusal.revision) refusal = { revision, error };
      checkRefusal();
    });
    if (port.closed.aborted) return onClosed();
    port.closed.addEventListener('abort', onClosed);
    port.put().then(
      (revision) => {
        putRevision = revision;
        // Placed between the caller's lookup and the request.
        const placed = port.lookup(sceneId);
        if (placed !== undefined) finish(() => resolve(placed));
        else checkRefusal();
      },
      (err: unknown) => finish(() => reject(err instanceof Error ? err : new Error(String(err)))),
    );
  });
}

/** What {@link PlacementAsker} needs: {@link PlacementWait} with a request written per scene. */
export type AskerPort = Omit<PlacementWait, 'put'> & { put(sceneId: string): Promise<number> };

/**
 * `Placement.ensure` for every coordinator: the placement in the view, else a request to the
 * leader, one per scene at a time from this process (the players of a lost engine all ask for
 * their scene at once).
 */
export class PlacementAsker {
  readonly #pending = new Map<string, Promise<PlacementRecord>>();
  readonly #timeoutMs: number;
  readonly #port: AskerPort;

  constructor(timeoutMs: number, port: AskerPort) {
    this.#timeoutMs = timeoutMs;
    this.#port = port;
  }

  ensure(sceneId: string): Promise<PlacementRecord> {
    const existing = this.#port.lookup(sceneId);
    if (existing !== undefined) return Promise.resolve(existing);
    let pending = this.#pending.get(sceneId);
    if (pending === undefined) {
      pending = awaitPlacement(sceneId, this.#timeoutMs, { ...this.#port, put: () => this.#port.put(sceneId) }).finally(() => this.#pending.delete(sceneId));
      this.#pending.set(sceneId, pending);
    }
    return pending;
  }
}
