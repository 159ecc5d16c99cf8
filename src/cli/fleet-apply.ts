/**
 * `apply`'s work: read what runs, plan (src/fleet/plan.ts), and carry the plan out loop by loop with
 * bounded concurrency. Each loop's step stands alone (a start, one `update_config`, a stop signal),
 * so a failure in the middle leaves every other loop done or untouched, and running `apply` again
 * plans only what is left.
 */
import { readFileSync } from 'node:fs';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { TemporalTarget } from '../client/connection';
import { LoopAlreadyRunningError, requestStop, startLoop, updateLoop } from '../client/loops';
import { missingSearchAttributes } from '../client/search-attributes';
import { mapLimit } from '../lib/concurrency';
import { FLEET, GROUP, SEARCH_ATTRIBUTES, registerCommand } from '../shared/search-attributes';
import { messageOf } from '../lib/errors';
import { parseFleetFile, type FleetFile } from '../fleet/fleet-file';
import { needsConfirmLive, planFleet, sameConfig, type Observed, type Plan, type Step } from '../fleet/plan';
import { labelledLoops } from './labelled-loops';
import { CliError, ExitCode } from './output';
import { UPDATE_TIMEOUT_MS, answeredWithin, statusWithin } from './temporal';

/** Reads a fleet file from a path, or stdin for `-`; a file that cannot be read is a usage error. */
export function readFleetFile(path: string): FleetFile {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read fleet file ${path}: ${messageOf(err)}`, ExitCode.Usage);
  }
  return parseFleetFile(text, path === '-' ? 'stdin' : path);
}

/** What runs under `id`: absent (never started, or ended), running with its next cycle's config, or unreadable. */
async function observe(client: Client, target: TemporalTarget, id: string): Promise<Observed> {
  try {
    const described = await client.workflow.getHandle(id).describe();
    if (described.status.name !== 'RUNNING') return { state: 'absent' };
    const status = await statusWithin(client, id, target);
    return { state: 'running', config: status.pending_config ?? status.config, stopRequested: status.stop_requested };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { state: 'absent' };
    return { state: 'unreadable', why: messageOf(err) };
  }
}

/**
 * The plan for `file` against the namespace as it is now, and the search attributes the namespace
 * lacks (read once: the listing and the labels guard of {@link applyPlan} both need them).
 */
export async function planAgainst(
  client: Client,
  target: TemporalTarget,
  file: FleetFile,
  concurrency: number,
): Promise<{ plan: Plan; missingAttributes: readonly string[] }> {
  const missingAttributes = await missingSearchAttributes(client.connection.operatorService, target.namespace);
  const listed = new Set(file.loops.map((loop) => loop.id));
  const others = (await labelledLoops(client, target, { fleet: file.fleet }, missingAttributes)).filter((id) => !listed.has(id));
  const ids = [...listed, ...others];
  const seen = await mapLimit(ids, concurrency, (id) => observe(client, target, id));
  const byId = new Map(ids.map((id, i) => [id, seen[i] as Observed]));
  return { plan: planFleet(file, byId, new Map(others.map((id) => [id, byId.get(id) as Observed]))), missingAttributes };
}

export type Outcome = 'started' | 'updated' | 'unchanged' | 'stop requested' | 'stopping' | 'left running' | 'refused' | 'failed';

export interface StepResult {
  step: Step;
  outcome: Outcome;
  /** Why it was refused or failed; the run ID of a start. */
  detail: string | null;
}

export interface ApplyOptions {
  taskQueue: string;
  /** The search attributes the namespace lacks, as planAgainst read them. */
  missingAttributes: readonly string[];
  prune: boolean;
  confirmLive: boolean;
  concurrency: number;
}

/**
 * Why a running loop's labels may not change now, or null, from the attributes the namespace lacks.
 * A loop started with the namespace's search attributes upserts its labels when they change; on a
 * namespace that has the loop's other attributes but not MtfFleet / MtfGroup (registered before
 * this release), that upsert would stall the loop's tasks until they are registered. Where none is
 * registered, loops carry none: no risk.
 */
export function labelsBlocked(missing: readonly string[], namespace: string): string | null {
  const labels = [FLEET.name, GROUP.name].filter((name) => missing.includes(name));
  if (labels.length === 0 || missing.length === SEARCH_ATTRIBUTES.length) return null;
  return `the namespace lacks ${labels.join(' and ')}, and a loop changing its labels there would stall; register them first: ${registerCommand(namespace)}`;
}

/** Carries out every step of `plan`; never throws for one loop: its result says how it went. */
export function applyPlan(client: Client, target: TemporalTarget, plan: Plan, options: ApplyOptions): Promise<StepResult[]> {
  const changesLabels = (step: Step) => step.kind === 'change' && step.changes.some((c) => c.key === 'fleet' || c.key === 'group');
  const blocked = labelsBlocked(options.missingAttributes, target.namespace);
  return mapLimit(plan.steps, options.concurrency, async (step): Promise<StepResult> => {
    const result = (outcome: Outcome, detail: string | null = null): StepResult => ({ step, outcome, detail });
    if (needsConfirmLive(step) && !options.confirmLive) {
      const what = step.kind === 'start' ? 'it would start LIVE' : 'it would turn LIVE';
      return result('refused', `${what} (real orders): add --confirm-live to apply it`);
    }
    if (blocked && changesLabels(step)) return result('refused', blocked);
    try {
      switch (step.kind) {
        case 'start':
          try {
            const started = await startLoop(client, { taskQueue: options.taskQueue, config: step.config, workflowId: step.id });
            return result('started', started.runId);
          } catch (err) {
            // Another apply (a second replica starting at the same time) may have started it: done, if as this file says.
            if (!(err instanceof LoopAlreadyRunningError)) throw err;
            const seen = await observe(client, target, step.id);
            if (seen.state === 'running' && sameConfig(seen.config, step.config))
              return result('unchanged', 'started meanwhile, as the file says');
            throw new Error('started meanwhile with another config: apply again to reconcile it');
          }
        case 'change':
          await answeredWithin(client, target, { workflowId: step.id, what: 'update_config', timeoutMs: UPDATE_TIMEOUT_MS }, () =>
            updateLoop(client, step.id, step.patch),
          );
          return result('updated');
        case 'stop':
          if (step.stopping) return result('stopping');
          if (!options.prune) return result('left running');
          await requestStop(client, step.id, `pruned by apply: not in fleet ${plan.fleet} (${plan.source})`);
          return result('stop requested');
        case 'unchanged':
          return result('unchanged');
        case 'conflict':
          return result('refused', step.why);
      }
    } catch (err) {
      return result('failed', messageOf(err));
    }
  });
}

/** 0 when everything was applied (or needed nothing), 1 when a loop was refused or failed: the rest was applied. */
export function applyExitCode(results: readonly StepResult[]): ExitCode {
  return results.some((r) => r.outcome === 'refused' || r.outcome === 'failed') ? ExitCode.Failure : ExitCode.Ok;
}
