/** People's view of a loop: short, aligned lines. `--json` prints the raw objects instead. */
import type { LoopEnd, LoopListing } from '../client/loops';
import type { Counters, CycleRecord, LoopConfig } from '../shared/config';
import type { LoopStatus, LoopSummary } from '../shared/status';
import { formatDuration } from './output';

const LABEL_WIDTH = 15;

function row(label: string, value: string): string {
  return `  ${label.padEnd(LABEL_WIDTH)}${value}`;
}

function percent(value: number | null): string {
  return value === null ? '-' : `${value}%`;
}

function seconds(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(2)}s`;
}

export function configLine(config: LoopConfig): string {
  const live = config.dry_run ? 'dry run' : `LIVE${config.mtf_idempotent ? ' (idempotent app)' : ''}`;
  return `every ${formatDuration(config.ping_interval)}, ${config.continue_mode} mode, ${live}, ${config.symbols.join(',')} -> ${config.mtf_url}`;
}

export function countersLine(c: Counters): string {
  return `${c.cycles} cycles: ${c.succeeded} succeeded, ${c.partial} partial, ${c.failed} failed, ${c.skipped} skipped, ${c.timed_out} timed out`;
}

export function cycleLine(cycle: CycleRecord, successRate: number | null): string {
  const line = `iteration ${cycle.iteration}  ${cycle.outcome}  mtf ${seconds(cycle.mtf_execution_seconds)}  cycle ${seconds(cycle.cycle_seconds)}  success rate ${percent(successRate)}`;
  const failed = cycle.outcome !== 'succeeded' && cycle.outcome !== 'partial';
  return failed && cycle.message ? `${line}  (${cycle.message})` : line;
}

function lastCycleText(cycle: CycleRecord): string {
  const runId = cycle.mtf_run_id ? `, run ${cycle.mtf_run_id}` : '';
  const message = cycle.outcome !== 'succeeded' && cycle.message ? ` (${cycle.message})` : '';
  return `#${cycle.iteration} ${cycle.outcome} at ${cycle.finished_at}, cycle ${seconds(cycle.cycle_seconds)}${runId}${message}`;
}

function nextCycleText(at: string, now: number): string {
  const inSeconds = Math.max(0, Math.round((Date.parse(at) - now) / 1000));
  return `${at} (in ${inSeconds}s)`;
}

export function statusLines(s: LoopStatus, now = Date.now()): string[] {
  const state = s.is_running ? `running, ${s.phase.replace(/_/g, ' ')}` : s.phase;
  const lines = [
    `loop ${s.workflow_id}: ${state}`,
    row('iteration', String(s.current_iteration)),
    row('counters', countersLine(s.counters)),
    row('success rate', percent(s.success_rate)),
    row('last cycle', s.last_cycle ? lastCycleText(s.last_cycle) : '-'),
    row('next cycle', s.next_cycle_at ? nextCycleText(s.next_cycle_at, now) : '-'),
    row('last error', s.last_error ?? '-'),
    row('config', configLine(s.config)),
  ];
  if (s.pending_config) lines.push(row('pending config', `${configLine(s.pending_config)} (from the next cycle)`));
  if (s.stop_requested) lines.push(row('stop', `requested${s.stop_reason ? `: ${s.stop_reason}` : ''}`));
  lines.push(row('started', s.started_at));
  return lines;
}

export function summaryLines(workflowId: string, summary: LoopSummary): string[] {
  const reason = summary.stop_reason ? ` (${summary.stop_reason})` : '';
  return [
    `loop ${workflowId} stopped${reason}`,
    row('iterations', String(summary.iterations)),
    row('counters', countersLine(summary.counters)),
    row('success rate', percent(summary.success_rate)),
    row('last cycle', summary.last_cycle ? lastCycleText(summary.last_cycle) : '-'),
    row('last error', summary.last_error ?? '-'),
    row('ran', `${summary.started_at} -> ${summary.stopped_at}`),
  ];
}

export function endLines(workflowId: string, end: LoopEnd): string[] {
  switch (end.how) {
    case 'stopped':
      return summaryLines(workflowId, end.summary);
    case 'failed':
      return [`loop ${workflowId} failed: ${end.message}`];
    case 'timed_out':
      return [`loop ${workflowId} timed out`];
    default:
      return [`loop ${workflowId} was ${end.how}`];
  }
}

export interface ListedLoop extends LoopListing {
  /** From a status query; null when the loop did not answer it. */
  iteration: number | null;
}

/** The loop's own word while it runs (running, failing); Temporal's once it has closed (a terminated loop cannot update its attribute). */
function stateOf(loop: ListedLoop): string {
  return loop.status === 'RUNNING' ? (loop.loopState ?? 'running') : loop.status.toLowerCase();
}

export function listLines(loops: ListedLoop[]): string[] {
  if (loops.length === 0) return ['no loops on this namespace'];
  const idWidth = Math.max('ID'.length, ...loops.map((l) => l.workflowId.length)) + 2;
  const header = `${'ID'.padEnd(idWidth)}${'STATE'.padEnd(12)}${'ITERATION'.padEnd(11)}${'LAST'.padEnd(11)}STARTED`;
  return [
    header,
    ...loops.map(
      (l) =>
        `${l.workflowId.padEnd(idWidth)}${stateOf(l).padEnd(12)}${String(l.iteration ?? '-').padEnd(11)}${(l.lastOutcome ?? '-').padEnd(11)}${l.startTime.toISOString()}`,
    ),
  ];
}
