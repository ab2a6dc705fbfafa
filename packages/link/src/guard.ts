import type { Logger } from '@gos/schema';

/** Run a user listener; one that throws is logged and does not break the link's parsing. */
export function guard(log: Logger, event: string, emit: () => void): void {
  try {
    emit();
  } catch (err) {
    log.error({ err, event }, 'link listener threw');
  }
}
