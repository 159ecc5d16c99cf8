/**
 * A signal that aborts when `parent` does (the activity's cancellation) or `ms` after now, on a
 * timer of its own that holds it. Not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: Node
 * holds a timeout signal only weakly (from its timer, and from the signal `any` makes), so a garbage
 * collection can take it before it fires, and the call then hangs until its activity's own
 * timeout (seen once in a full test run, under load: a notify attempt ran to its 10 s start-to-close
 * instead of being cut at 0.3 s).
 */
export interface Deadline {
  signal: AbortSignal;
  /** Stops the timer and lets go of `parent`: call it once the guarded work is over. */
  clear(): void;
}

export function deadlineSignal(parent: AbortSignal, ms: number): Deadline {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  // The same reason AbortSignal.timeout gives, so callers tell a timeout from a cancellation alike.
  const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError')), ms);
  // A deadline never keeps the process alive on its own.
  timer.unref();
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}
