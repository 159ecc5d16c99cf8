/**
 * How `apply` and `apply --plan` say what they would do and what they did: one line per loop,
 * a change key by key (old → new), LIVE marked wherever real orders are at stake.
 */
import { cadenceText } from '../shared/cadence';
import { LABEL_KEYS, liveOnAll, symbolsText } from '../shared/config';
import { needsConfirmLive, pendingSteps, type KeyChange, type Plan, type Step } from '../fleet/plan';
import type { StepResult } from './fleet-apply';

const MARK: Record<Step['kind'], string> = { start: '+', change: '~', stop: '-', unchanged: '=', conflict: '!' };

function liveNote(step: Step, confirmLive: boolean): string {
  if (!needsConfirmLive(step)) return '';
  const what = step.kind === 'start' ? 'starts LIVE (real orders)' : 'turns LIVE (real orders)';
  return confirmLive ? `  ⚠ ${what}, confirmed by --confirm-live` : `  ⚠ ${what}: needs --confirm-live`;
}

function value(v: unknown): string {
  return JSON.stringify(v) ?? 'undefined';
}

/** The plan, one block per loop, and a count line. */
export function planLines(plan: Plan, options: { prune: boolean; confirmLive: boolean }): string[] {
  const width = Math.max(0, ...plan.steps.map((step) => step.id.length));
  const lines = [`fleet ${plan.fleet} (${plan.source}):`];
  for (const step of plan.steps) {
    const head = `  ${MARK[step.kind]} ${step.kind.padEnd(9)} ${step.id.padEnd(width)}`;
    switch (step.kind) {
      case 'start': {
        const c = step.config;
        const mode = c.dry_run ? 'dry run' : liveOnAll(c) ? 'LIVE on every active contract' : 'LIVE';
        const group = c.group ? `, group ${c.group}` : '';
        lines.push(`${head}  ${mode}, ${cadenceText(c, step.id)}, ${symbolsText(c)}${group}${liveNote(step, options.confirmLive)}`);
        break;
      }
      case 'change':
        lines.push(`${head}${liveNote(step, options.confirmLive)}`);
        for (const { key, from, to } of step.changes) lines.push(`${' '.repeat(width + 16)}${key}: ${value(from)} → ${value(to)}`);
        break;
      case 'stop': {
        const what = options.prune ? 'not in the file: stopped gracefully' : 'not in the file: stopped only with --prune';
        lines.push(`${head}  ${step.stopping ? 'stopping already (asked earlier)' : what}`);
        break;
      }
      case 'unchanged':
        lines.push(head.trimEnd());
        break;
      case 'conflict':
        lines.push(`${head}  ${step.why}`);
        break;
    }
  }
  lines.push(countLine(plan, options.prune));
  return lines;
}

function countLine(plan: Plan, prune: boolean): string {
  const n = (kind: Step['kind']) => plan.steps.filter((step) => step.kind === kind).length;
  const stops = plan.steps.filter((step) => step.kind === 'stop' && !step.stopping).length;
  const parts = [`${n('start')} to start`, `${n('change')} to change`, `${prune ? stops : 0} to stop`, `${n('unchanged')} unchanged`];
  if (!prune && stops > 0) parts.push(`${stops} not in the file (left running without --prune)`);
  if (n('conflict') > 0) parts.push(`${n('conflict')} in conflict`);
  const pending = pendingSteps(plan, prune).length;
  return `${pending === 0 && n('conflict') === 0 ? 'in sync' : 'plan'}: ${parts.join(', ')}`;
}

/** When an update's keys take effect: the labels at once, the rest from the loop's next cycle. */
function whenApplied(changes: readonly KeyChange[]): string {
  const labels = changes.filter((c) => (LABEL_KEYS as readonly string[]).includes(c.key)).length;
  if (labels === changes.length) return 'in force now';
  return labels > 0 ? 'from its next cycle; fleet and group now' : 'from its next cycle';
}

/** What was done to each loop, and a count line that says what is left when something was not applied. */
export function resultLines(plan: Plan, results: readonly StepResult[]): string[] {
  const width = Math.max(0, ...results.map((r) => r.step.id.length));
  const lines = [`fleet ${plan.fleet} (${plan.source}):`];
  for (const { step, outcome, detail } of results) {
    const keys = step.kind === 'change' ? `: ${step.changes.map((c) => c.key).join(', ')} (${whenApplied(step.changes)})` : '';
    const extra = outcome === 'started' && detail ? ` (run ${detail})` : detail ? `: ${detail}` : '';
    lines.push(`  ${step.id.padEnd(width)}  ${outcome}${outcome === 'updated' ? keys : extra}`);
  }
  const count = (outcome: StepResult['outcome']) => results.filter((r) => r.outcome === outcome).length;
  const notApplied = count('refused') + count('failed');
  lines.push(
    `${notApplied === 0 ? 'applied' : 'applied in part'}: ${count('started')} started, ${count('updated')} updated, ` +
      `${count('stop requested')} stopping, ${count('unchanged')} unchanged` +
      (count('left running') > 0 ? `, ${count('left running')} not in the file left running (--prune stops them)` : '') +
      (notApplied > 0
        ? `; ${count('refused')} refused, ${count('failed')} failed: the others were applied, run apply again to finish`
        : ''),
  );
  return lines;
}
