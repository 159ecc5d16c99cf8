/**
 * The activities, built by a factory that receives everything from outside (fetch, token,
 * timings), so no activity reads `process.env` and tests hand them a real loopback server.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MtfError, mtfErrorClass } from '../shared/errors';
import { METRICS } from '../shared/metrics';
import { runIdOfKey } from '../lib/run-id';
import { AnswerMemory } from './answer-memory';
import { deadlineSignal } from './deadline';
import type {
  AwaitMtfRunInput,
  CallMtfRunInput,
  CallMtfRunResult,
  HealthCheckInput,
  HealthCheckResult,
  LineageRequest,
  MtfActivities,
  RunReport,
  SentCallResult,
  UiDetails,
} from '../shared/mtf';
import {
  MAX_BODY_BYTES,
  appMessage,
  failureForStatus,
  finalAfterAnswer,
  isAppJson2xx,
  parseJsonObject,
  sameOrigin,
  send,
  type HttpAnswer,
  type HttpDeps,
} from './mtf-client';
import { failure } from './failure';
import { checkAppHealth } from './app-health';
import { createNotify, type NotifyDeps } from './notify';
import { readAcceptedRun, readFinishedRun, readRunProgress } from './run-answer';
import { readAfterAnswer, type LineageResult } from './lineage';
import { readyCount } from '../shared/findings';
import { messageOf } from '../lib/errors';

export interface ActivityDeps {
  fetch?: typeof fetch;
  /** The MTF API token, from the worker's environment; null when the app needs none. */
  token?: string | null;
  maxBodyBytes?: number;
  /** The worker's identity (WORKER_IDENTITY), named in each request's User-Agent. */
  identity?: string;
  /**
   * Heartbeats are billed Actions: a quick call sends none. A call that lasts past `afterMs`
   * heartbeats every `everyMs`, well inside the heartbeat timeout the workflow sets, so a
   * killed worker's call is taken over in seconds.
   */
  heartbeat?: { afterMs: number; everyMs: number };
  /**
   * The worker seals payloads (MTF_ENCRYPTION_KEY): symbols are then kept out of what the Temporal
   * UI shows (current details carry counts only).
   */
  sealed?: boolean;
  /** MTF_NOTIFY_URL and its format; none: the `notify` activity answers at once that nothing was sent. */
  notify?: NotifyDeps;
}

const DEFAULT_HEARTBEAT = { afterMs: 5_000, everyMs: 10_000 };
/** Answers kept for retries (see AnswerMemory): far more cycles than a worker finishes in a budget. */
const ANSWERS_KEPT = 4_096;

export function createActivities(deps: ActivityDeps = {}): MtfActivities {
  const http: HttpDeps = {
    fetch: deps.fetch ?? fetch,
    token: deps.token ?? null,
    maxBodyBytes: deps.maxBodyBytes ?? MAX_BODY_BYTES,
    userAgent: deps.identity ? `mtf-ping-pong (${deps.identity})` : 'mtf-ping-pong',
  };
  const heartbeat = deps.heartbeat ?? DEFAULT_HEARTBEAT;
  const uiDetails: UiDetails = deps.sealed ? 'counts' : 'signals';
  const answers = new AnswerMemory<CallMtfRunResult>(ANSWERS_KEPT);
  // The attempts of each cycle's call running in this worker now, by Idempotency-Key: at most one sends.
  const inFlight = new Map<string, Promise<unknown>>();

  async function callMtfRun(input: CallMtfRunInput): Promise<CallMtfRunResult> {
    const ctx = Context.current();
    const started = Date.now();
    // The same on every attempt: both come from the key the workflow set for this cycle.
    const x_run_id = runIdOfKey(input.idempotency_key);
    const fields = { iteration: input.iteration, attempt: ctx.info.attempt, idempotency_key: input.idempotency_key, x_run_id };
    if (ctx.info.attempt > 1) countRetry(ctx);
    const running = inFlight.get(input.idempotency_key);
    if (running) {
      // What is already known settles it at once: this worker has the answer, or the earlier
      // attempt's heartbeats told Temporal the app answered (then nothing is sent again).
      const answered = answers.recall(input.idempotency_key);
      if (answered) return answered;
      refuseIfAnswered(ctx);
      // Two attempts of one call in one worker: a process stalled (a long GC, a frozen VM) past the
      // attempt's timeout resumes the old attempt while Temporal hands it the retry. Only one sends;
      // the other waits for it and returns its answer (found by the chaos campaign, issue 36).
      ctx.log.warn(
        'MTF call attempt started while another attempt of the same call runs in this worker; waiting for it instead of sending again',
        fields,
      );
      await settled(running, attemptSignal(ctx));
      const known = answers.recall(input.idempotency_key);
      if (known) return known;
      if (input.send_once)
        throw failure(
          MtfError.LiveMayHaveExecuted,
          'live MTF run may have executed, not sent again: another attempt of this call ran in this worker and got no answer',
        );
    }
    const attempt = callOnce(ctx, input, started, x_run_id, fields);
    inFlight.set(input.idempotency_key, attempt);
    try {
      return await attempt;
    } finally {
      if (inFlight.get(input.idempotency_key) === attempt) inFlight.delete(input.idempotency_key);
    }
  }

  async function callOnce(
    ctx: Context,
    input: CallMtfRunInput,
    started: number,
    x_run_id: string,
    fields: Record<string, unknown>,
  ): Promise<CallMtfRunResult> {
    if (ctx.info.attempt > 1) {
      const known = answers.recall(input.idempotency_key);
      if (known) {
        ctx.log.warn(
          "MTF call retried by Temporal after this worker had the app's answer and could not report it; the answer is returned, the run is not sent again",
          fields,
        );
        return known;
      }
      ctx.log.warn('MTF call retried by Temporal; the previous attempt failed', fields);
    }
    return withHeartbeats(ctx, heartbeat, async (beats) => {
      let answer: HttpAnswer | undefined;
      try {
        refuseIfAnswered(ctx);
        // Once the app has answered a JSON 2xx, every heartbeat says so: an attempt cut short by its
        // timeout or a lost worker is retried by Temporal, and the retry must not POST again.
        const onAppAnswer = (httpStatus: number) => beats.report({ answered_http_status: httpStatus });
        answer = input.send_once ? await postOnce(ctx, input, onAppAnswer) : await post(ctx, input, onAppAnswer);
        countResponse(ctx, answer.status);
        const result = { ...classifyRunAnswer(answer, input, uiDetails), x_run_id };
        const mtf_run_id = result.kind === 'completed' ? result.report.run_id : result.run_id;
        const outcome = result.kind === 'completed' ? result.report.outcome : 'accepted';
        ctx.log.info('MTF run answered', { ...fields, http_status: answer.status, latency_ms: answer.latencyMs, mtf_run_id, outcome });
        answers.remember(input.idempotency_key, result, ctx.info.scheduleToCloseTimeoutMs || ctx.info.startToCloseTimeoutMs);
        // Only now, the run answered: its trades, and those of earlier cycles still pending.
        if (!input.lineage) return result;
        const own = result.kind === 'completed' ? { x_run_id, readyCount: readyCount(result.report.findings) } : null;
        const { trades, ...rest } = await readLineage(ctx, input.lineage, own, started, (iteration) =>
          runIdOfKey(keyOf(input.idempotency_key, iteration)),
        );
        return result.kind === 'completed'
          ? { ...result, report: { ...result.report, ...(trades && { trades }) }, ...rest }
          : { ...result, ...rest };
      } catch (err) {
        if (!answer) countResponse(ctx, null);
        const final = input.send_once ? mayHaveExecuted(err) : err;
        logFailure(ctx, 'MTF call failed', final, { ...fields, http_status: answer?.status, latency_ms: answer?.latencyMs });
        throw final;
      }
    });
  }

  function post(ctx: Context, input: CallMtfRunInput, onAppAnswer: (httpStatus: number) => void): Promise<HttpAnswer> {
    const headers = { 'idempotency-key': input.idempotency_key, 'x-run-id': runIdOfKey(input.idempotency_key) };
    return send(http, input.url, { method: 'POST', body: input.body, headers, onAppAnswer }, attemptSignal(ctx));
  }

  /**
   * A live run the app does not deduplicate. Temporal does not retry it (one attempt): only a
   * refused connection, which provably never reached the app, is tried again, here; any other
   * failure after the request left may have placed orders and ends the cycle.
   */
  async function postOnce(ctx: Context, input: CallMtfRunInput, onAppAnswer: (httpStatus: number) => void): Promise<HttpAnswer> {
    const { initial, coefficient, maximum } = input.connect_backoff;
    for (let attempt = 1; ; attempt++) {
      try {
        return await post(ctx, input, onAppAnswer);
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

  async function awaitMtfRun(input: AwaitMtfRunInput): Promise<RunReport> {
    const ctx = Context.current();
    const started = Date.now();
    const fields = { iteration: input.iteration, attempt: ctx.info.attempt, mtf_run_id: input.run_id };
    if (ctx.info.attempt > 1) countRetry(ctx);
    return withHeartbeats(ctx, heartbeat, async () => {
      try {
        for (;;) {
          const report = await readRunStatus(ctx, input);
          if (report) {
            ctx.log.info('accepted MTF run finished', { ...fields, outcome: report.outcome, app_status: report.app_status });
            const { lineage } = input;
            if (!lineage?.x_run_id) return report;
            const own = { x_run_id: lineage.x_run_id, readyCount: readyCount(report.findings) };
            const read = await readLineage(ctx, { ...lineage, earlier: [] }, own, started, () => own.x_run_id);
            return { ...report, ...read };
          }
          await ctx.sleep(input.poll_interval * 1000);
        }
      } catch (err) {
        logFailure(ctx, 'waiting for the accepted MTF run failed', err, fields);
        throw err;
      }
    });
  }

  /** One read of an accepted run's status: its report when it has ended, null while it runs. */
  async function readRunStatus(ctx: Context, input: AwaitMtfRunInput): Promise<RunReport | null> {
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
      ctx.log.warn('MTF run status could not be read; polling on', {
        iteration: input.iteration,
        mtf_run_id: input.run_id,
        error: String(err),
      });
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
      ctx.log.warn('MTF run status answered an error; polling on', {
        iteration: input.iteration,
        mtf_run_id: input.run_id,
        http_status: answer.status,
        message: appMessage(answer),
      });
      return null;
    }
    return readRunProgress(parseJsonObject(answer, input.status_url), input.status_url, answer.status, uiDetails);
  }

  /**
   * The trades after an answer, within the attempt: never more than `wait_seconds` plus one bounded
   * read past the answer. An app without the API is said by the workflow, once per loop.
   */
  function readLineage(
    ctx: Context,
    request: LineageRequest,
    own: { x_run_id: string; readyCount: number | null } | null,
    started: number,
    runIdOf: (iteration: number) => string,
  ): Promise<LineageResult> {
    const deadline = Math.min(
      started + ctx.info.startToCloseTimeoutMs - ABORT_MARGIN_MS,
      Date.now() + request.wait_seconds * 1000 + LINEAGE_READ_MS,
    );
    return readAfterAnswer({ http, signal: ctx.cancellationSignal, sleep: (ms) => ctx.sleep(ms), runIdOf }, request, own, deadline);
  }

  function health_check_activity(input: HealthCheckInput): Promise<HealthCheckResult> {
    return checkAppHealth(http, input);
  }

  return { callMtfRun, awaitMtfRun, health_check_activity, notify: createNotify(deps.notify ?? { url: null }) };
}

const attemptSignals = new WeakMap<Context, AbortSignal>();
const ABORT_MARGIN_MS = 5_000;
/** One lineage read past the wait: what a slow lineage API may add to a cycle at most. */
const LINEAGE_READ_MS = 5_000;

/** The Idempotency-Key of another iteration of the same loop. */
function keyOf(idempotencyKey: string, iteration: number): string {
  return `${idempotencyKey.slice(0, idempotencyKey.lastIndexOf('/'))}/${iteration}`;
}

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
    // Its timer is not cleared: it lasts at most the attempt's timeout plus the margin, unref'd.
    signal = deadlineSignal(ctx.cancellationSignal, ctx.info.startToCloseTimeoutMs + ABORT_MARGIN_MS).signal;
    attemptSignals.set(ctx, signal);
  }
  return signal;
}

/** Resolves once `work` has settled, either way; rejects with the signal's reason if it aborts first. */
function settled(work: Promise<unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    void work
      .then(
        () => resolve(),
        () => resolve(),
      )
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** HTTP answers by class (`2xx` … `5xx`), or `network` when none came. */
function countResponse(ctx: Context, status: number | null): void {
  const status_class = status === null ? 'network' : `${Math.floor(status / 100)}xx`;
  ctx.metricMeter
    .createCounter(METRICS.httpResponses, 'responses', 'HTTP answers of the MTF API, by status class')
    .add(1, { status_class });
}

function countRetry(ctx: Context): void {
  ctx.metricMeter.createCounter(METRICS.retries, 'attempts', 'MTF call attempts after the first').add(1);
}

/** One line per failed attempt, with why; a cancellation (the loop moved on) is not a failure. */
function logFailure(ctx: Context, message: string, err: unknown, fields: Record<string, unknown>): void {
  if (ctx.cancellationSignal.aborted) return;
  const type = err instanceof ApplicationFailure ? err.type : undefined;
  const retryable = err instanceof ApplicationFailure ? !err.nonRetryable : true;
  ctx.log.warn(message, { ...fields, error_type: type, error: messageOf(err), retryable });
}

/**
 * A run answer → a finished run, an accepted run, or its typed failure. Once the app has answered
 * a JSON 2xx it ran the cycle: whatever cannot be read in that answer is final, never re-sent. A
 * 2xx that is not JSON (a proxy's page) stays a retryable bad answer.
 */
function classifyRunAnswer(answer: HttpAnswer, input: CallMtfRunInput, uiDetails: UiDetails): SentCallResult {
  if (answer.status < 200 || answer.status >= 300) throw failureForStatus(answer, input.url);
  try {
    if (answer.status === 200) {
      return { kind: 'completed', report: readFinishedRun(parseJsonObject(answer, input.url), input.url, answer.status, uiDetails) };
    }
    if (answer.status === 202) {
      return { kind: 'accepted', ...readAcceptedRun(parseJsonObject(answer, input.url), input.url, input.status_url_template) };
    }
    throw failure(MtfError.BadResponse, `MTF API answered HTTP ${answer.status} from ${input.url}; expected 200 or 202`);
  } catch (err) {
    throw isAppJson2xx(answer.status, answer.contentType) ? finalAfterAnswer(err, answer.status) : err;
  }
}

/**
 * In a live, non-idempotent run, a failure that Temporal would retry becomes final: the request
 * may have reached the app and placed orders. A clear answer (kill switch, 4xx, run failed) stays.
 */
function mayHaveExecuted(err: unknown): unknown {
  if (!(err instanceof ApplicationFailure)) return err;
  if (!mtfErrorClass(err.type)?.mayHaveExecuted) return err;
  return failure(
    MtfError.LiveMayHaveExecuted,
    `live MTF run may have executed, not sent again: ${err.message} (set mtf_idempotent: true only if the app deduplicates on Idempotency-Key)`,
  );
}

/** The heartbeat details of an attempt whose POST the app answered with a JSON 2xx. */
interface AnsweredDetails {
  answered_http_status: number;
}

/**
 * A retried attempt of a cycle whose earlier attempt already had the app's JSON 2xx (its
 * heartbeat said so) fails at once, final: the app ran that cycle.
 */
function refuseIfAnswered(ctx: Context): void {
  const details = ctx.info.heartbeatDetails as Partial<AnsweredDetails> | undefined;
  const status = details?.answered_http_status;
  if (typeof status !== 'number') return;
  throw failure(
    MtfError.AnsweredUnreadable,
    `attempt ${ctx.info.attempt - 1} had the app's answer (HTTP ${status}) but could not finish reading it; the run is not sent again`,
  );
}

interface Beats {
  /**
   * From now on every heartbeat carries `details`. A body that is still arriving a moment later
   * (a second, or a quarter of the attempt's timeout if shorter) gets one at once, so the attempt's
   * timeout cannot beat the news; a quick answer, the usual case, costs no heartbeat.
   */
  report(details: AnsweredDetails): void;
}

async function withHeartbeats<T>(
  ctx: Context,
  timing: { afterMs: number; everyMs: number },
  work: (beats: Beats) => Promise<T>,
): Promise<T> {
  let every: NodeJS.Timeout | undefined;
  let soon: NodeJS.Timeout | undefined;
  let details: AnsweredDetails | undefined;
  const beat = () => ctx.heartbeat(details);
  const first = setTimeout(() => {
    beat();
    every = setInterval(beat, timing.everyMs);
  }, timing.afterMs);
  const beats: Beats = {
    report(next) {
      details = next;
      if (every) beat();
      else soon = setTimeout(beat, Math.min(1_000, ctx.info.startToCloseTimeoutMs / 4));
    },
  };
  try {
    return await work(beats);
  } finally {
    clearTimeout(first);
    clearTimeout(soon);
    clearInterval(every);
  }
}
