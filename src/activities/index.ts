/**
 * The activities, built by a factory that receives everything from outside (fetch, token,
 * timings), so no activity reads `process.env` and tests hand them a real loopback server.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MtfError } from '../shared/errors';
import { METRICS } from '../shared/metrics';
import type {
  AwaitMtfRunInput,
  CallMtfRunInput,
  CallMtfRunResult,
  HealthCheckResult,
  MtfActivities,
  MtfRunSummary,
} from '../shared/mtf';
import {
  MAX_BODY_BYTES,
  appMessage,
  failure,
  failureForStatus,
  parseAcceptedRun,
  parseFinishedRun,
  parseJsonObject,
  sameOrigin,
  send,
  type HttpAnswer,
  type HttpDeps,
} from './mtf-client';

export interface ActivityDeps {
  fetch?: typeof fetch;
  /** The MTF API token, from the worker's environment; null when the app needs none. */
  token?: string | null;
  maxBodyBytes?: number;
  /**
   * Heartbeats are billed Actions: a quick call sends none. A call that lasts past `afterMs`
   * heartbeats every `everyMs`, well inside the heartbeat timeout the workflow sets, so a
   * killed worker's call is taken over in seconds.
   */
  heartbeat?: { afterMs: number; everyMs: number };
}

const DEFAULT_HEARTBEAT = { afterMs: 5_000, everyMs: 10_000 };

export function createActivities(deps: ActivityDeps = {}): MtfActivities {
  const http: HttpDeps = {
    fetch: deps.fetch ?? fetch,
    token: deps.token ?? null,
    maxBodyBytes: deps.maxBodyBytes ?? MAX_BODY_BYTES,
  };
  const heartbeat = deps.heartbeat ?? DEFAULT_HEARTBEAT;

  async function callMtfRun(input: CallMtfRunInput): Promise<CallMtfRunResult> {
    const ctx = Context.current();
    const fields = { iteration: input.iteration, attempt: ctx.info.attempt, idempotency_key: input.idempotency_key };
    if (ctx.info.attempt > 1) {
      countRetry(ctx);
      ctx.log.warn('MTF call retried by Temporal; the previous attempt failed', fields);
    }
    return withHeartbeats(ctx, heartbeat, async () => {
      let answer: HttpAnswer | undefined;
      try {
        answer = input.send_once ? await postOnce(ctx, input) : await post(ctx, input);
        countResponse(ctx, answer.status);
        const result = classifyRunAnswer(answer, input);
        const mtf_run_id = result.kind === 'completed' ? result.summary.run_id : result.run_id;
        ctx.log.info('MTF run answered', { ...fields, http_status: answer.status, latency_ms: answer.latencyMs, mtf_run_id, accepted: result.kind === 'accepted' });
        return result;
      } catch (err) {
        if (!answer) countResponse(ctx, null);
        const final = input.send_once ? mayHaveExecuted(err) : err;
        logFailure(ctx, 'MTF call failed', final, { ...fields, http_status: answer?.status, latency_ms: answer?.latencyMs });
        throw final;
      }
    });
  }

  function post(ctx: Context, input: CallMtfRunInput): Promise<HttpAnswer> {
    return send(http, input.url, { method: 'POST', body: input.body, headers: { 'idempotency-key': input.idempotency_key } }, attemptSignal(ctx));
  }

  /**
   * A live run the app does not deduplicate. Temporal does not retry it (one attempt): only a
   * refused connection, which provably never reached the app, is tried again, here; any other
   * failure after the request left may have placed orders and ends the cycle.
   */
  async function postOnce(ctx: Context, input: CallMtfRunInput): Promise<HttpAnswer> {
    const { initial, coefficient, maximum } = input.connect_backoff;
    for (let attempt = 1; ; attempt++) {
      try {
        return await post(ctx, input);
      } catch (err) {
        const refused = err instanceof ApplicationFailure && err.type === MtfError.Unreachable;
        if (!refused) throw mayHaveExecuted(err);
        if (attempt >= input.connect_attempts) throw err;
        const delay = Math.min(initial * coefficient ** (attempt - 1), maximum);
        countRetry(ctx);
        ctx.log.warn('MTF API refused the connection; retrying the live run, which never reached the app', {
          iteration: input.iteration,
          attempt,
          retry_in_s: delay,
          idempotency_key: input.idempotency_key,
        });
        await ctx.sleep(delay * 1000);
      }
    }
  }

  async function awaitMtfRun(input: AwaitMtfRunInput): Promise<MtfRunSummary> {
    const ctx = Context.current();
    const fields = { iteration: input.iteration, attempt: ctx.info.attempt, mtf_run_id: input.run_id };
    if (ctx.info.attempt > 1) countRetry(ctx);
    return withHeartbeats(ctx, heartbeat, async () => {
      try {
        for (;;) {
          const summary = await readRunStatus(ctx, input);
          if (summary) {
            ctx.log.info('accepted MTF run finished', { ...fields, status: summary.status });
            return summary;
          }
          await ctx.sleep(input.poll_interval * 1000);
        }
      } catch (err) {
        logFailure(ctx, 'waiting for the accepted MTF run failed', err, fields);
        throw err;
      }
    });
  }

  /** One read of an accepted run's status: its summary when it has ended, null while it runs. */
  async function readRunStatus(ctx: Context, input: AwaitMtfRunInput): Promise<MtfRunSummary | null> {
    let answer: HttpAnswer;
    try {
      const withToken = sameOrigin(input.status_url, input.mtf_url);
      answer = await send(http, input.status_url, { method: 'GET', withToken }, attemptSignal(ctx));
      countResponse(ctx, answer.status);
    } catch (err) {
      if (attemptSignal(ctx).aborted) throw err;
      countResponse(ctx, null);
      // Reading a status is safe to repeat, and the run goes on meanwhile: keep polling, within
      // the cycle's budget, rather than spending one of the call's attempts.
      ctx.log.warn('MTF run status could not be read; polling on', { iteration: input.iteration, mtf_run_id: input.run_id, error: String(err) });
      return null;
    }
    if (answer.status === 404) {
      throw failure(MtfError.RunUnknown, `MTF app does not know run ${input.run_id} (HTTP 404 from ${input.status_url})`);
    }
    if (answer.status >= 400 && answer.status < 500) {
      // Asking again will not change a refusal: a clear failure now beats waiting out the budget.
      throw failureForStatus(answer, input.status_url);
    }
    if (answer.status !== 200) {
      ctx.log.warn('MTF run status answered an error; polling on', { iteration: input.iteration, mtf_run_id: input.run_id, http_status: answer.status, message: appMessage(answer) });
      return null;
    }
    const body = parseJsonObject(answer, input.status_url);
    if (body.status === 'running' || body.status === 'accepted' || body.status === 'pending') return null;
    return parseFinishedRun(body, input.status_url);
  }

  async function health_check_activity(input: { mtf_url: string }): Promise<HealthCheckResult> {
    const url = new URL('/api/mtf/health', input.mtf_url).toString();
    try {
      const answer = await send(http, url, { method: 'GET' }, AbortSignal.timeout(10_000));
      return { healthy: answer.status === 200, http_status: answer.status, message: appMessage(answer) };
    } catch (err) {
      return { healthy: false, http_status: null, message: err instanceof Error ? err.message : String(err) };
    }
  }

  return { callMtfRun, awaitMtfRun, health_check_activity };
}

const attemptSignals = new WeakMap<Context, AbortSignal>();
const ABORT_MARGIN_MS = 5_000;

/**
 * Aborts on cancellation or when the attempt's start-to-close timeout has passed. The server times
 * the attempt out either way, but the worker hears of it only at its next heartbeat (or never, if
 * the call is quick to start and slow to answer): without this, a body that drips for ever would
 * hold a worker slot, and a graceful shutdown, for as long as it drips.
 */
function attemptSignal(ctx: Context): AbortSignal {
  let signal = attemptSignals.get(ctx);
  if (!signal) {
    // Counted from the first use in this attempt, on this worker's clock, plus a margin: the
    // server's timeout must be the one on record (retried as a timeout), never a worker failure
    // racing it, and the dev server fires its timers up to a second or so late.
    signal = AbortSignal.any([ctx.cancellationSignal, AbortSignal.timeout(ctx.info.startToCloseTimeoutMs + ABORT_MARGIN_MS)]);
    attemptSignals.set(ctx, signal);
  }
  return signal;
}

/** HTTP answers by class (`2xx` … `5xx`), or `network` when none came. */
function countResponse(ctx: Context, status: number | null): void {
  const status_class = status === null ? 'network' : `${Math.floor(status / 100)}xx`;
  ctx.metricMeter.createCounter(METRICS.httpResponses, 'responses', 'HTTP answers of the MTF API, by status class').add(1, { status_class });
}

function countRetry(ctx: Context): void {
  ctx.metricMeter.createCounter(METRICS.retries, 'attempts', 'MTF call attempts after the first').add(1);
}

/** One line per failed attempt, with why; a cancellation (the loop moved on) is not a failure. */
function logFailure(ctx: Context, message: string, err: unknown, fields: Record<string, unknown>): void {
  if (ctx.cancellationSignal.aborted) return;
  const type = err instanceof ApplicationFailure ? err.type : undefined;
  const retryable = err instanceof ApplicationFailure ? !err.nonRetryable : true;
  ctx.log.warn(message, { ...fields, error_type: type, error: err instanceof Error ? err.message : String(err), retryable });
}

/** A run answer → a finished run, an accepted run, or its typed failure. */
function classifyRunAnswer(answer: HttpAnswer, input: CallMtfRunInput): CallMtfRunResult {
  if (answer.status === 200) {
    return { kind: 'completed', summary: parseFinishedRun(parseJsonObject(answer, input.url), input.url) };
  }
  if (answer.status === 202) {
    const accepted = parseAcceptedRun(parseJsonObject(answer, input.url), input.url, input.status_url_template);
    return { kind: 'accepted', ...accepted };
  }
  if (answer.status >= 200 && answer.status < 300) {
    throw failure(MtfError.BadResponse, `MTF API answered HTTP ${answer.status} from ${input.url}; expected 200 or 202`);
  }
  throw failureForStatus(answer, input.url);
}

/**
 * In a live, non-idempotent run, a failure that Temporal would retry becomes final: the request
 * may have reached the app and placed orders. A clear answer (kill switch, 4xx, run failed) stays.
 */
function mayHaveExecuted(err: unknown): unknown {
  if (!(err instanceof ApplicationFailure)) return err;
  const ambiguous: string[] = [MtfError.Network, MtfError.ServerError, MtfError.BadResponse];
  if (!ambiguous.includes(err.type ?? '')) return err;
  return failure(
    MtfError.LiveMayHaveExecuted,
    `live MTF run may have executed, not sent again: ${err.message} (set mtf_idempotent: true only if the app deduplicates on Idempotency-Key)`,
  );
}

async function withHeartbeats<T>(ctx: Context, timing: { afterMs: number; everyMs: number }, work: () => Promise<T>): Promise<T> {
  let every: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    ctx.heartbeat();
    every = setInterval(() => ctx.heartbeat(), timing.everyMs);
  }, timing.afterMs);
  try {
    return await work();
  } finally {
    clearTimeout(first);
    clearInterval(every);
  }
}
