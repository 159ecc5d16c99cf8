/**
 * `POST|GET /api/mtf/run`: the fault (if any) first, then the kill switch, then (today) the
 * live-run refusal, then the run itself, answered at once (sync) or accepted and read later on
 * the status route (async).
 */
import { randomUUID } from 'node:crypto';
import type { SimulatorBehaviour, SimulatorFault } from './behaviour';
import type { RunParams } from './params';
import type { Reply } from './respond';
import type { Generation, RunState } from './runs';
import { SEED_ANSWERS, killSwitchRefusal } from './answers-seed';
import { TODAY_ANSWERS, rejectedLiveBody } from './answers-today';
import { sendCutOff, sendHtml200, sendHtmlError, sendHttp422, sendInvalidJson, sendOversized, startDrip } from './faults';
import { BadRequest, canonicalRunId, parseRunParams } from './params';
import { sendJson } from './respond';

export interface RunRouteContext {
  behaviour(): SimulatorBehaviour;
  /** The fault for this run request (consumes fault_count and the error_rate draws). */
  pickFault(): SimulatorFault;
  readonly runs: Map<string, RunState>;
  /** A timer that close() cancels. */
  schedule(fn: () => void, ms: number): void;
  /** Intervals that close() stops. */
  readonly intervals: Set<NodeJS.Timeout>;
  /** The next run's rank since the seed was last set, from 1. */
  nextOrdinal(): number;
  statusUrl(runId: string): string;
  /**
   * The run was answered as the app answers it: its READY contracts become trades on the lineage
   * API. Runs answered with a fault or an HTTP 500 are never passed here, so a test that injects
   * a fault has no trades to account for.
   */
  recordTrades(run: RunState): void;
}

export function generationOf(answer: SimulatorBehaviour['answer']): Generation {
  return answer === 'seed' ? SEED_ANSWERS : TODAY_ANSWERS;
}

/** Today's app takes the caller's X-Run-Id as the run's id; the seed-era app always made its own. */
function newRunId(answer: SimulatorBehaviour['answer'], xRunId: string | null): string {
  return answer === 'today' && xRunId !== null ? canonicalRunId(xRunId) : randomUUID();
}

function startRun(ctx: RunRouteContext, reply: Reply, params: RunParams): RunState {
  const behaviour = ctx.behaviour();
  const now = Date.now();
  const run: RunState = {
    run_id: newRunId(behaviour.answer, reply.rec.x_run_id),
    params,
    answer: behaviour.answer,
    result: behaviour.run_result,
    seed: behaviour.seed,
    order_status: behaviour.order_status,
    ready_share: behaviour.ready_share,
    throw_share: behaviour.throw_share,
    throw_symbols: [...behaviour.throw_symbols],
    x_run_id: reply.rec.x_run_id,
    trades: {
      delay_ms: behaviour.lineage_delay * 1000,
      failed_share: behaviour.trade_failed_share,
      statuses: behaviour.trade_statuses === null ? null : [...behaviour.trade_statuses],
    },
    ordinal: ctx.nextOrdinal(),
    started_at: now,
    ends_at: now + behaviour.latency_ms,
    completed_at: null,
    outcome: undefined,
  };
  ctx.runs.set(run.run_id, run);
  reply.rec.run_id = run.run_id;
  reply.rec.executed = true;
  return run;
}

/** A sync run: it finishes on the server after the latency, even if the client has gone away. */
function finishLater(ctx: RunRouteContext, run: RunState, answer: (run: RunState) => void): void {
  ctx.schedule(() => {
    run.completed_at = Date.now();
    answer(run);
  }, ctx.behaviour().latency_ms);
}

/** This project's own 202 contract (docs/mtf-api.md), the same in both generations. */
function acceptedBody(ctx: RunRouteContext, run: RunState): unknown {
  const data: Record<string, unknown> = { run_id: run.run_id };
  if (ctx.behaviour().include_status_url) data['status_url'] = ctx.statusUrl(run.run_id);
  return { status: 'accepted', message: 'MTF run accepted', data };
}

/** Answers a fault; false if there is none and the run goes on. */
function answerFault(ctx: RunRouteContext, reply: Reply, params: RunParams, fault: SimulatorFault, generation: Generation): boolean {
  switch (fault) {
    case 'http500':
      sendJson(reply, 500, generation.internalErrorBody);
      return true;
    case 'http422':
      sendHttp422(reply);
      return true;
    case 'html200':
      sendHtml200(reply);
      return true;
    case 'html502':
    case 'html503':
    case 'html504':
      sendHtmlError(reply, fault === 'html502' ? 502 : fault === 'html503' ? 503 : 504);
      return true;
    case 'html504_after_run': {
      // The run happens; only the proxy gives up on it.
      const run = startRun(ctx, reply, params);
      if (ctx.behaviour().mode === 'async') sendHtmlError(reply, 504);
      else finishLater(ctx, run, () => sendHtmlError(reply, 504));
      return true;
    }
    case 'invalid_json':
      sendInvalidJson(reply, generation);
      return true;
    case 'wrong_shape':
      sendJson(reply, 200, generation.wrongShapeBody);
      return true;
    case 'unknown_status': {
      // A run that happened and answered a status no client knows: it must not be read as "nothing ran".
      // In async mode too it answers the finished run (after the latency), never a 202.
      const run = startRun(ctx, reply, params);
      finishLater(ctx, run, () => sendJson(reply, 200, generation.finishedWithStatus(run, run.completed_at ?? Date.now(), 'exploded')));
      return true;
    }
    case 'oversized':
      sendOversized(reply, generation);
      return true;
    case 'cut_off': {
      // Whatever the answer would have been (the 202 of an accepted run, else the finished run) is cut halfway.
      const run = startRun(ctx, reply, params);
      if (ctx.behaviour().mode === 'async') {
        sendCutOff(reply, 202, acceptedBody(ctx, run));
      } else {
        finishLater(ctx, run, () => {
          const answer = generation.finished(run, run.completed_at ?? Date.now());
          sendCutOff(reply, answer.status, answer.body);
        });
      }
      return true;
    }
    case 'hang':
      // Never answer: the socket stays open until the client aborts or close() destroys it.
      return true;
    case 'slow_drip':
      startDrip(reply, generation, ctx.intervals);
      return true;
    case 'kill_switch_off':
    case 'none':
      return false;
  }
}

export function handleRun(ctx: RunRouteContext, reply: Reply, input: Record<string, unknown>): void {
  const behaviour = ctx.behaviour();
  const generation = generationOf(behaviour.answer);
  let params: RunParams;
  try {
    // Today's app runs its own active contracts when asked for none; a test may give it more of them.
    const activeContracts = behaviour.answer === 'today' ? behaviour.active_contracts : null;
    params = parseRunParams(input, activeContracts ? { ...generation.symbols, fallback: activeContracts } : generation.symbols);
  } catch (err) {
    if (err instanceof BadRequest) {
      sendJson(reply, 400, { status: 'error', message: err.message });
      return;
    }
    throw err;
  }

  const fault = ctx.pickFault();
  reply.rec.fault = fault;
  if (answerFault(ctx, reply, params, fault, generation)) return;

  if ((fault === 'kill_switch_off' || !behaviour.kill_switch_on) && !params.force_run) {
    sendJson(reply, 403, killSwitchRefusal());
    return;
  }

  if (behaviour.answer === 'today' && behaviour.reject_live && !params.dry_run) {
    // Refused before it starts, in either mode: nothing is queued, nothing is traded.
    sendJson(reply, 200, rejectedLiveBody(newRunId('today', reply.rec.x_run_id), params, Date.now()));
    return;
  }

  const run = startRun(ctx, reply, params);
  if (behaviour.mode === 'async') {
    sendJson(reply, 202, acceptedBody(ctx, run));
    // Listed once the run has ended (the trade book reads its end), whether or not anyone polls its status.
    ctx.recordTrades(run);
    return;
  }
  finishLater(ctx, run, () => {
    const answer = generation.finished(run, run.completed_at ?? Date.now());
    sendJson(reply, answer.status, answer.body);
    // Even if the client has gone away: the run traded on the server all the same.
    if (answer.status === 200) ctx.recordTrades(run);
  });
}

/** GET /api/mtf/runs/{id}: a run, running or finished, in the generation it started under; 404 if unknown. */
export function readRun(runs: ReadonlyMap<string, RunState>, reply: Reply, runId: string): void {
  const run = runs.get(runId);
  if (!run) {
    sendJson(reply, 404, { status: 'error', message: 'Run not found' });
    return;
  }
  sendJson(reply, 200, generationOf(run.answer).statusRead(run, Date.now()));
}
