/**
 * What the dashboard shows, read from the loops themselves: Temporal's list of MtfPingPongWorkflow
 * executions, and `get_status` of each running one (its counters and its window of recent cycles
 * live in workflow state, so there is no second store that could drift from it).
 */
import { ServiceError, type Client } from '@temporalio/client';
import { boundedStatus, listLoops, type LoopListing } from '../client/loops';
import { whyUnanswered } from '../client/unanswered';
import { messageOf } from '../lib/errors';
import { GrpcStatus, grpcCode } from '../lib/grpc';
import { lineagePrefix } from '../lib/run-id';
import { FAILING_AFTER } from '../shared/search-attributes';
import type { LoopStatus } from '../shared/status';
import { findingsView } from './findings-view';
import type { DashboardLoop, DashboardSnapshot } from './view';
import { symbolsText } from '../shared/config';
import { cadenceText, cadenceWarnings } from '../shared/cadence';

/** A worker answers a query in milliseconds; a loop nobody polls for must not hold the page up. */
export const DEFAULT_QUERY_TIMEOUT_MS = 3_000;
const LIST_TIMEOUT_MS = 5_000;
/** Closed loops pile up on a namespace; the newest ones are enough for a live view. */
export const DEFAULT_LIST_LIMIT = 50;

export type { DashboardLoop, DashboardSnapshot } from './view';

export interface SnapshotOptions {
  queryTimeoutMs?: number;
  listLimit?: number;
}

/** Temporal's COMPLETED means the loop ended on stop_signal: "stopped" is what people call it. */
function stateOf(temporalStatus: string): string {
  return temporalStatus === 'COMPLETED' ? 'stopped' : temporalStatus.toLowerCase();
}

/**
 * The SDK's "Failed to query Workflow" says little alone: its gRPC cause says why, and a deadline
 * is diagnosed (the server's history or matching, or the worker: see whyUnanswered).
 */
async function queryFailure(client: Client, workflowId: string, err: unknown, timeoutMs: number): Promise<string> {
  if (grpcCode(err) === GrpcStatus.DEADLINE_EXCEEDED) {
    // Its two reads get the page's own deadline, so a failing server holds the page up for at most three.
    const why = await whyUnanswered(client, { namespace: client.options.namespace, workflowId }, timeoutMs);
    return `did not answer get_status within ${timeoutMs / 1000} s: ${why.reason}`;
  }
  const cause = err instanceof ServiceError && err.cause ? `: ${err.cause.message}` : '';
  return `get_status failed: ${messageOf(err)}${cause}`;
}

/**
 * What the page shows of a status beyond the status itself: its texts in the words every other
 * view uses, and whether it is failing by MtfLoopState's threshold, written here with the shared
 * code: the page only places them, so it cannot drift from the CLI, the logs and the search attributes.
 */
export function statusView(
  status: LoopStatus,
): Pick<DashboardLoop, 'findings' | 'symbols_text' | 'cadence_text' | 'cadence_warnings' | 'failing'> {
  return {
    findings: findingsView(status.last_cycle),
    symbols_text: symbolsText(status.config, ' '),
    cadence_text: cadenceText(status.config, status.workflow_id),
    cadence_warnings: cadenceWarnings(status.config),
    failing: status.counters.consecutive_failures >= FAILING_AFTER,
  };
}

/**
 * A label (`fleet`, `group`) as the running loop's config says it: an update applies a label at
 * once, and the search attribute follows only when visibility catches up. A worker older than the
 * key says nothing (undefined), and the listing's search attribute stands.
 */
export function labelOf(status: LoopStatus | null, key: 'fleet' | 'group', listed: string | undefined): string | null {
  const own: string | null | undefined = status?.config[key];
  return own === undefined ? (listed ?? null) : own;
}

async function describe(client: Client, listing: LoopListing, timeoutMs: number): Promise<DashboardLoop> {
  const loop: DashboardLoop = {
    workflow_id: listing.workflowId,
    run_id: listing.runId,
    run_id_prefix: listing.firstRunId ? lineagePrefix(listing.workflowId, listing.firstRunId) : null,
    state: stateOf(listing.status),
    start_time: listing.startTime.toISOString(),
    close_time: listing.closeTime?.toISOString() ?? null,
    status: null,
    error: null,
    findings: null,
    symbols_text: null,
    cadence_text: null,
    cadence_warnings: [],
    fleet: labelOf(null, 'fleet', listing.fleet),
    group: labelOf(null, 'group', listing.group),
    failing: false,
  };
  // A closed loop is shown by its Temporal status alone: querying it would make a worker replay
  // its whole last run, for every closed loop, on every refresh.
  if (listing.status !== 'RUNNING') return loop;
  try {
    loop.status = await boundedStatus(client, listing.workflowId, timeoutMs);
    // Visibility may not give the first run (the dev server's does not); the loop's own answer does.
    if (!loop.run_id_prefix && loop.status.first_run_id) loop.run_id_prefix = lineagePrefix(listing.workflowId, loop.status.first_run_id);
    Object.assign(loop, statusView(loop.status), {
      fleet: labelOf(loop.status, 'fleet', listing.fleet),
      group: labelOf(loop.status, 'group', listing.group),
    });
  } catch (err) {
    loop.error = await queryFailure(client, listing.workflowId, err, timeoutMs);
  }
  return loop;
}

/**
 * Every loop on the client's namespace, newest first, one entry per workflow ID (its newest run:
 * an ID stopped and started again is one loop). The queries run in parallel, each bounded, so the
 * answer takes at most about one query timeout whatever the loops do, three when a query times out
 * and is diagnosed (see whyUnanswered). Rejects only when Temporal itself cannot list.
 */
export async function loopsSnapshot(client: Client, options: SnapshotOptions = {}): Promise<DashboardSnapshot> {
  const timeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const seen = new Set<string>();
  // Bounded like the queries: a visibility call that hangs would otherwise hold every open page.
  const listed = await client.connection.withDeadline(Date.now() + LIST_TIMEOUT_MS, () =>
    listLoops(client, options.listLimit ?? DEFAULT_LIST_LIMIT),
  );
  const newest = listed.filter((listing) => {
    if (seen.has(listing.workflowId)) return false;
    seen.add(listing.workflowId);
    return true;
  });
  return {
    namespace: client.options.namespace,
    generated_at: new Date().toISOString(),
    loops: await Promise.all(newest.map((listing) => describe(client, listing, timeoutMs))),
  };
}
