/** `start --wait` and `npm start`: one line per finished cycle until the loop ends, however it ends. */
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { TemporalTarget } from '../client/connection';
import { awaitLoopEnd, LoopNotFoundError, type LoopEnd } from '../client/loops';
import { cycleLine, lateTradesLine } from './format';
import type { LoopStatus } from '../shared/status';
import { say } from './output';
import { statusWithin } from './temporal';

export const POLL_MS = 2_000;
/** Queries fail for a moment after a restart (the old worker's sticky queue); only a lasting failure is worth a line. */
const FAILURES_BEFORE_NOTICE = 10;

export interface FollowOptions {
  /** The cycles already told: 0 (the default) for a loop just started; null when unknown, so the first look only counts them. */
  seen?: number | null;
  /** Between looks; default {@link POLL_MS}. */
  pollMs?: number;
  /** Stops the looks, and the lines: the loop's end is still awaited (and returned). */
  signal?: AbortSignal;
  /** Told once when {@link FAILURES_BEFORE_NOTICE} looks in a row failed (otherwise a failed look is tried again, silently). */
  onLastingFailure?: (err: unknown) => void;
  /**
   * Waits out a server outage longer than the client's own retries (`npm start`, whose lines go on
   * as before the outage) instead of failing with it (`start --wait`); a loop that does not exist still fails.
   */
  outlastOutages?: boolean;
}

/**
 * Polls `get_status` every 2 s (or pollMs) and prints each cycle that finished since the last look; the end
 * comes from the loop's result, not from the status, so a terminated loop ends the wait too.
 */
export async function followLoop(
  client: Client,
  target: TemporalTarget,
  workflowId: string,
  options: FollowOptions = {},
): Promise<LoopEnd> {
  const end = endOf(client, workflowId, options);
  let ended = false;
  // Never rejects: the wait can fail while a look is under way; its error is thrown where `end` is awaited below.
  const settled = end.then(
    () => (ended = true),
    () => (ended = true),
  );
  let seen = options.seen === undefined ? 0 : options.seen;
  let failures = 0;
  const pending = new Set<number>();
  while (!ended && !options.signal?.aborted) {
    // A query can fail for a moment (a worker restarting): the next tick tries again.
    const status = await statusWithin(client, workflowId, target).then(
      (answer) => {
        failures = 0;
        return answer;
      },
      (err: unknown) => {
        failures += 1;
        if (failures === FAILURES_BEFORE_NOTICE) options.onLastingFailure?.(err);
        return null;
      },
    );
    if (status) for (const line of lateTrades(status, pending)) say(line);
    if (status && seen === null) seen = status.counters.cycles;
    if (status?.last_cycle && seen !== null && status.counters.cycles > seen) {
      // Cycles shorter than the poll are counted, not lost: the line says how many went by.
      const skipped = status.counters.cycles - seen - 1;
      say(`${cycleLine(status.last_cycle, status.success_rate)}${skipped > 0 ? `  (+${skipped} since the last line)` : ''}`);
      seen = status.counters.cycles;
    }
    await Promise.race([settled, delay(options.pollMs ?? POLL_MS)]);
  }
  const result = await end;
  // The cycle that ran while the stop was pending is only in the summary.
  if (!options.signal?.aborted && result.how === 'stopped' && result.summary.last_cycle && result.summary.counters.cycles > (seen ?? 0)) {
    say(cycleLine(result.summary.last_cycle, result.summary.success_rate));
  }
  return result;
}

/** The loop's result; with `outlastOutages`, a wait the server's absence failed is made again after a poll interval, until the signal stops it. */
async function endOf(client: Client, workflowId: string, options: FollowOptions): Promise<LoopEnd> {
  for (;;) {
    try {
      return await awaitLoopEnd(client, workflowId);
    } catch (err) {
      if (!options.outlastOutages || err instanceof LoopNotFoundError || options.signal?.aborted) throw err;
      await delay(options.pollMs ?? POLL_MS);
    }
  }
}

/**
 * Lines for cycles whose trades were pending at an earlier look and have been read since (after a
 * later answer); `pending` holds the iterations still waited for, across looks.
 */
export function lateTrades(status: LoopStatus, pending: Set<number>): string[] {
  const lines: string[] = [];
  for (const point of status.recent_cycles) {
    if (point.trades?.state === 'pending') pending.add(point.iteration);
    else if (pending.delete(point.iteration) && point.trades) lines.push(lateTradesLine(point.iteration, point.trades));
  }
  return lines;
}
