/**
 * What a signal or an update carries, read loosely: a payload from any client (the original's
 * Python one, `temporal workflow signal`) is either understood or refused, never a reason to fail.
 */

/** A callback's word on an accepted run. */
export interface CompletionNotice {
  run_id: string;
  failed: boolean;
  message: string | null;
}

/** The reason of a `stop_signal` (null when none was given); undefined when the payload is malformed. */
export function parseStopReason(request: unknown): string | null | undefined {
  if (request === undefined || request === null) return null;
  if (typeof request === 'string') return request.trim() || null;
  if (typeof request === 'object' && !Array.isArray(request)) {
    const reason = (request as { reason?: unknown }).reason;
    if (reason === undefined || reason === null) return null;
    if (typeof reason === 'string') return reason.trim() || null;
  }
  return undefined;
}

export function parseNotice(notice: unknown): CompletionNotice | null {
  if (typeof notice === 'string' && notice !== '') return { run_id: notice, failed: false, message: null };
  if (typeof notice !== 'object' || notice === null) return null;
  const { run_id, status, message } = notice as { run_id?: unknown; status?: unknown; message?: unknown };
  if (typeof run_id !== 'string' || run_id === '') return null;
  return {
    run_id,
    failed: status === 'error' || status === 'failed',
    message: typeof message === 'string' ? message : null,
  };
}
