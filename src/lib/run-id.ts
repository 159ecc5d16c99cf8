/**
 * The `X-Run-Id` every POST carries: `mtfpp.<h>.<iteration>`, where `<h>` is the first 16 hex
 * digits of the SHA-256 of `<workflow id>/<first run id>`. The first run ID is stable across
 * retries, a lost worker and continue-as-new, and new when a stopped ID is started again, so an
 * order's run id in the app leads back to its loop and iteration. At most 64 characters of
 * `[A-Za-z0-9._:-]`, whatever the workflow ID: the app keeps such a run id as it is.
 *
 * Node only (node:crypto): the activity, the CLI and the dashboard use it; workflow code, which
 * cannot hash, must never import it.
 */
import { createHash } from 'node:crypto';

/** A loop's `mtfpp.<h>`: what every X-Run-Id of the loop starts with. */
export function lineagePrefix(workflowId: string, firstRunId: string): string {
  return `mtfpp.${createHash('sha256').update(`${workflowId}/${firstRunId}`).digest('hex').slice(0, 16)}`;
}

/** The X-Run-Id of one iteration of the loop whose prefix is `prefix`. */
export function runIdOf(prefix: string, iteration: number): string {
  return `${prefix}.${iteration}`;
}

/**
 * The X-Run-Id of a cycle, from its Idempotency-Key `<workflow id>/<first run id>/<iteration>`
 * (the workflow ID may itself hold slashes; the run ID and the iteration never do).
 */
export function runIdOfKey(idempotencyKey: string): string {
  const cut = idempotencyKey.lastIndexOf('/');
  const loopKey = idempotencyKey.slice(0, cut);
  const iteration = idempotencyKey.slice(cut + 1);
  const first = loopKey.lastIndexOf('/');
  if (cut <= 0 || first < 0 || !/^\d+$/.test(iteration))
    throw new Error(`not an Idempotency-Key of the form <workflow id>/<first run id>/<iteration>: ${idempotencyKey}`);
  return runIdOf(lineagePrefix(loopKey.slice(0, first), loopKey.slice(first + 1)), Number(iteration));
}
