/**
 * Every start, stop, signal and query of a loop goes through here, so the CLI, the dev stack and
 * the tests share one set of IDs, checks and messages. "Already running" and "not found" are
 * expected outcomes with their own errors, not stack traces.
 */
import {
  CancelledFailure,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ConfigError, LABEL_PATTERN, LABEL_RULE, parseLoopConfig, wireConfig, type ConfigPatch, type LoopConfig } from '../shared/config';
import type { Outcome } from '../shared/outcomes';
import {
  DEFAULT_WORKFLOW_ID,
  WORKFLOW_TYPE,
  continueSignal,
  getStatusQuery,
  pauseUpdate,
  resumeUpdate,
  stopSignal,
  updateConfigUpdate,
} from '../shared/messages';
import { DRY_RUN, FLEET, GROUP, LAST_OUTCOME, LOOP_STATE, LOOP_STATIC_SUMMARY, type LoopStateName } from '../shared/search-attributes';
import type { LoopStatus, LoopSummary } from '../shared/status';
import { missingSearchAttributes } from './search-attributes';

export class LoopAlreadyRunningError extends Error {
  override readonly name = 'LoopAlreadyRunningError';
  constructor(readonly workflowId: string) {
    super(
      `loop "${workflowId}" is already running; two loops must not drive the same app. ` +
        `Stop it first (mtf-ping-pong stop ${workflowId}) or start another ID.`,
    );
  }
}

export class LoopNotFoundError extends Error {
  override readonly name = 'LoopNotFoundError';
  constructor(readonly workflowId: string) {
    super(`no loop with ID ${workflowId}`);
  }
}

/** The loop's validator refused an Update (type UpdateRefused): nothing changed, and the reason is the loop's own. */
export class LoopUpdateRefusedError extends Error {
  override readonly name = 'LoopUpdateRefusedError';
  constructor(
    readonly workflowId: string,
    readonly update: string,
    readonly reason: string,
  ) {
    super(`loop ${workflowId} refused ${update}: ${reason}`);
  }
}

/** The worker running the loop has no handler for an Update: a release from before it. */
export class LoopUpdateUnknownError extends Error {
  override readonly name = 'LoopUpdateUnknownError';
  constructor(
    readonly workflowId: string,
    readonly update: string,
    consequence: string,
  ) {
    super(
      `the worker running loop ${workflowId} does not know the ${update} update (an older release); upgrade the workers — ${consequence}`,
    );
  }
}

export interface StartedLoop {
  workflowId: string;
  runId: string;
  config: LoopConfig;
  /** False when the namespace lacks the loop's search attributes: the loop runs without them. */
  searchAttributes: boolean;
}

/**
 * Starts a loop. The config is checked here first (the workflow checks it again), and sent whole,
 * defaults included, so the history shows exactly what the loop runs with (a key newer than the
 * tolerant release only when it is not at its default: see `wireConfig`). No execution timeout:
 * the loop runs until it is stopped. The UI shows what it is (its config is in its current details); when the namespace
 * has the loop's search attributes, the loop starts with them (and keeps them up to date).
 */
export async function startLoop(
  client: Client,
  options: { taskQueue: string; config?: unknown; workflowId?: string },
): Promise<StartedLoop> {
  const config = parseLoopConfig(options.config);
  const workflowId = options.workflowId ?? DEFAULT_WORKFLOW_ID;
  const searchable = (await missingSearchAttributes(client.connection.operatorService, client.options.namespace)).length === 0;
  try {
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      workflowId,
      taskQueue: options.taskQueue,
      args: [wireConfig(config)],
      workflowIdConflictPolicy: 'FAIL',
      staticSummary: LOOP_STATIC_SUMMARY,
      ...(searchable && {
        typedSearchAttributes: [
          { key: LOOP_STATE, value: 'running' },
          { key: DRY_RUN, value: config.dry_run },
          // A label is set only when the loop has one: no empty keyword stands for "none".
          ...(config.fleet === null ? [] : [{ key: FLEET, value: config.fleet }]),
          ...(config.group === null ? [] : [{ key: GROUP, value: config.group }]),
        ],
      }),
    });
    return { workflowId, runId: handle.firstExecutionRunId, config, searchAttributes: searchable };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new LoopAlreadyRunningError(workflowId);
    throw err;
  }
}

function handleOf(client: Client, workflowId: string): WorkflowHandle {
  return client.workflow.getHandle(workflowId);
}

async function notFoundAsError<T>(workflowId: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new LoopNotFoundError(workflowId);
    throw err;
  }
}

export function loopStatus(client: Client, workflowId = DEFAULT_WORKFLOW_ID): Promise<LoopStatus> {
  return notFoundAsError(workflowId, () => handleOf(client, workflowId).query(getStatusQuery));
}

/**
 * `get_status` under a gRPC deadline: a loop whose task queue no worker polls would otherwise
 * wait for ever, and the deadline cancels the call itself (a Promise.race would leave it running).
 * The dashboard and the CLI (which says why it was not answered) both ask this way.
 */
export function boundedStatus(client: Client, workflowId: string, timeoutMs: number): Promise<LoopStatus> {
  return client.connection.withDeadline(Date.now() + timeoutMs, () => loopStatus(client, workflowId));
}

export function continueLoop(client: Client, workflowId = DEFAULT_WORKFLOW_ID): Promise<void> {
  return notFoundAsError(workflowId, () => handleOf(client, workflowId).signal(continueSignal));
}

/** Graceful stop: the running cycle finishes and is recorded; resolves to the final summary. */
export async function stopLoop(client: Client, workflowId = DEFAULT_WORKFLOW_ID, reason?: string): Promise<LoopSummary> {
  return notFoundAsError(workflowId, async () => {
    const handle = handleOf(client, workflowId);
    await handle.signal(stopSignal, reason ? { reason } : undefined);
    return (await handle.result()) as LoopSummary;
  });
}

/** Immediate end: the running MTF call is cancelled. */
export function cancelLoop(client: Client, workflowId = DEFAULT_WORKFLOW_ID): Promise<void> {
  return notFoundAsError(workflowId, async () => {
    await handleOf(client, workflowId).cancel();
  });
}

/**
 * Changes a running loop's config through the `update_config` Update; resolves to the config that
 * applies from the next cycle. A patch the loop's validator refuses throws a {@link ConfigError}
 * with the schema's message, and the loop is left exactly as it was.
 */
export function updateLoop(client: Client, workflowId: string, patch: ConfigPatch): Promise<LoopConfig> {
  return notFoundAsError(workflowId, async () => {
    try {
      return await handleOf(client, workflowId).executeUpdate(updateConfigUpdate, { args: [patch] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new ConfigError(err.cause?.message ?? err.message);
      throw err;
    }
  });
}

/**
 * How each SDK's worker refuses an Update it has no handler for: TypeScript "No registered handler
 * for update: pause", Python "Update handler for 'pause' expected but not found", Go "unknown update pause".
 */
const NO_HANDLER = /no registered handler|not found|unknown update/i;

/**
 * Runs one of the loop's Updates. A refusal by its validator and a worker that has no handler for
 * it (an older release) are expected answers with their own errors; `notDone` says what did not
 * happen then ("the loop was not paused").
 */
async function loopUpdate<Ret>(
  client: Client,
  workflowId: string,
  update: string,
  notDone: string,
  execute: (handle: WorkflowHandle) => Promise<Ret>,
): Promise<Ret> {
  return notFoundAsError(workflowId, async () => {
    try {
      return await execute(handleOf(client, workflowId));
    } catch (err) {
      if (!(err instanceof WorkflowUpdateFailedError) || !(err.cause instanceof ApplicationFailure)) throw err;
      const { type, message } = err.cause;
      if (type === 'UpdateRefused') throw new LoopUpdateRefusedError(workflowId, update, message);
      if (NO_HANDLER.test(message) && message.includes(update)) throw new LoopUpdateUnknownError(workflowId, update, notDone);
      throw err;
    }
  });
}

/**
 * The `pause` Update: answers "paused", or "pauses after iteration N" while a cycle runs (the pause
 * takes effect once it is recorded), or "already paused since …". Refused while the loop stops.
 */
export function pauseLoop(client: Client, workflowId: string, reason?: string): Promise<string> {
  return loopUpdate(client, workflowId, pauseUpdate.name, 'the loop was not paused', (handle) =>
    handle.executeUpdate(pauseUpdate, { args: [reason ? { reason } : undefined] }),
  );
}

/** The `resume` Update: answers when the next cycle starts; refused when the loop is not paused. */
export function resumeLoop(client: Client, workflowId: string): Promise<string> {
  return loopUpdate(client, workflowId, resumeUpdate.name, 'the loop was not resumed', (handle) => handle.executeUpdate(resumeUpdate));
}

export interface LoopListing {
  workflowId: string;
  runId: string;
  /** The run that started the loop (stable across continue-as-new); null when visibility does not give it (the dev server's does not). */
  firstRunId: string | null;
  /** Temporal's word: RUNNING, COMPLETED, CANCELLED, TERMINATED, FAILED, CONTINUED_AS_NEW, TIMED_OUT. */
  status: string;
  startTime: Date;
  closeTime: Date | null;
  /** The loop's search attributes; undefined when it runs without them. */
  loopState?: string;
  lastOutcome?: string;
  dryRun?: boolean;
  /** The loop's labels (MtfFleet, MtfGroup); undefined when it has none or runs without search attributes. */
  fleet?: string;
  group?: string;
}

/** Narrows a listing by the loop's search attributes (the namespace must have them registered). */
export interface LoopFilter {
  state?: LoopStateName;
  outcome?: Outcome;
  /** true: live loops only; false: dry-run loops only. */
  live?: boolean;
  /** Open loops only (running, failing or paused). */
  running?: boolean;
  /** Loops of this fleet (MtfFleet) or group (MtfGroup): values that match LABEL_PATTERN, so nothing needs escaping. */
  fleet?: string;
  group?: string;
}

/** A label as a query value: one that could break out of its quotes never reaches the server. */
function checkedLabel(value: string): string {
  if (!LABEL_PATTERN.test(value)) throw new ConfigError(`"${value}" is not a fleet or group name: ${LABEL_RULE}`);
  return value;
}

/** The visibility query for a filter; values come from fixed lists or match LABEL_PATTERN, so nothing needs escaping. */
export function loopQuery(filter: LoopFilter = {}): string {
  const terms = [`WorkflowType = '${WORKFLOW_TYPE}'`];
  if (filter.state) terms.push(`${LOOP_STATE.name} = '${filter.state}'`);
  // A cancelled or terminated loop could not record its end: only an open loop is running, failing or paused.
  if (filter.running || (filter.state && filter.state !== 'stopped')) terms.push(`ExecutionStatus = 'Running'`);
  if (filter.outcome) terms.push(`${LAST_OUTCOME.name} = '${filter.outcome}'`);
  if (filter.live !== undefined) terms.push(`${DRY_RUN.name} = ${filter.live ? 'false' : 'true'}`);
  if (filter.fleet !== undefined) terms.push(`${FLEET.name} = '${checkedLabel(filter.fleet)}'`);
  if (filter.group !== undefined) terms.push(`${GROUP.name} = '${checkedLabel(filter.group)}'`);
  return terms.join(' AND ');
}

/**
 * The loops on the namespace, newest first. Temporal's visibility is eventually consistent: a loop
 * started a moment ago may take a second to appear.
 */
export async function listLoops(client: Client, limit = 100, filter: LoopFilter = {}): Promise<LoopListing[]> {
  const loops: LoopListing[] = [];
  for await (const execution of client.workflow.list({ query: loopQuery(filter), pageSize: limit })) {
    if (execution.status.name === 'CONTINUED_AS_NEW') continue;
    const attributes = execution.typedSearchAttributes;
    loops.push({
      workflowId: execution.workflowId,
      runId: execution.runId,
      firstRunId: execution.raw.firstRunId || null,
      status: execution.status.name,
      startTime: execution.startTime,
      closeTime: execution.closeTime ?? null,
      loopState: attributes.get(LOOP_STATE),
      lastOutcome: attributes.get(LAST_OUTCOME),
      dryRun: attributes.get(DRY_RUN),
      fleet: attributes.get(FLEET),
      group: attributes.get(GROUP),
    });
    if (loops.length >= limit) break;
  }
  return loops;
}

/**
 * Sends `stop_signal` and returns at once: the running cycle finishes and is recorded, then the
 * loop completes. For callers that must not block on the end (`stop --no-wait`), or that bound the
 * wait themselves with {@link awaitLoopEnd}.
 */
export function requestStop(client: Client, workflowId = DEFAULT_WORKFLOW_ID, reason?: string): Promise<void> {
  return notFoundAsError(workflowId, () => handleOf(client, workflowId).signal(stopSignal, reason ? { reason } : undefined));
}

/** How a loop ended: a graceful stop has a summary; the other ends have only their kind or message. */
export type LoopEnd =
  { how: 'stopped'; summary: LoopSummary } | { how: 'cancelled' | 'terminated' | 'timed_out' } | { how: 'failed'; message: string };

/**
 * Waits until the loop ends, across continue-as-new, and tells how: unlike {@link stopLoop}, a
 * cancelled or terminated loop is an answer here, not an error.
 */
export function awaitLoopEnd(client: Client, workflowId = DEFAULT_WORKFLOW_ID): Promise<LoopEnd> {
  return notFoundAsError(workflowId, async () => {
    try {
      return { how: 'stopped', summary: (await handleOf(client, workflowId).result()) as LoopSummary };
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      if (err.cause instanceof CancelledFailure) return { how: 'cancelled' };
      if (err.cause instanceof TerminatedFailure) return { how: 'terminated' };
      if (err.cause instanceof TimeoutFailure) return { how: 'timed_out' };
      return { how: 'failed', message: err.cause?.message ?? err.message };
    }
  });
}
