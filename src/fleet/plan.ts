/**
 * What `apply` would do to make the namespace match a fleet file: a pure function of the file and
 * of what runs, so `--plan` and `apply` cannot disagree. Each loop gets one step: start, change
 * (key by key, old → new), unchanged, stop (a loop of this fleet the file no longer lists), or
 * conflict (a loop this file cannot take: another fleet's, or one whose config could not be read).
 */
import { CONFIG_KEYS, type ConfigPatch, type LoopConfig } from '../shared/config';
import type { FleetFile } from './fleet-file';

/** What runs under one ID, as the namespace showed it. */
export type Observed =
  | { state: 'absent' }
  /** `config`: what its next cycle runs with (a pending update included). */
  | { state: 'running'; config: LoopConfig; stopRequested: boolean }
  | { state: 'unreadable'; why: string };

export interface KeyChange {
  key: keyof LoopConfig;
  from: unknown;
  to: unknown;
}

export type Step =
  | { kind: 'start'; id: string; config: LoopConfig; live: boolean }
  | { kind: 'change'; id: string; changes: KeyChange[]; patch: ConfigPatch; live: boolean; turnsLive: boolean }
  | { kind: 'unchanged'; id: string; live: boolean }
  /** `stopping`: a stop is already asked for (an earlier prune); nothing is left to do. */
  | { kind: 'stop'; id: string; stopping: boolean }
  | { kind: 'conflict'; id: string; why: string };

export interface Plan {
  fleet: string;
  source: string;
  steps: Step[];
}

/**
 * @param observed what runs under each of the file's IDs
 * @param others the running loops labelled with this fleet that the file does not list
 */
export function planFleet(file: FleetFile, observed: ReadonlyMap<string, Observed>, others: ReadonlyMap<string, Observed>): Plan {
  const steps: Step[] = file.loops.map(({ id, config }) => stepFor(file.fleet, id, config, observed.get(id) ?? { state: 'absent' }));
  for (const [id, seen] of others) {
    if (file.loops.some((loop) => loop.id === id) || seen.state === 'absent') continue;
    steps.push(
      seen.state === 'unreadable'
        ? { kind: 'conflict', id, why: `not in the file, but its state could not be read: ${seen.why}` }
        : { kind: 'stop', id, stopping: seen.stopRequested },
    );
  }
  return { fleet: file.fleet, source: file.source, steps };
}

function stepFor(fleet: string, id: string, desired: LoopConfig, seen: Observed): Step {
  const live = !desired.dry_run;
  if (seen.state === 'absent') return { kind: 'start', id, config: desired, live };
  if (seen.state === 'unreadable') return { kind: 'conflict', id, why: `its config could not be read: ${seen.why}` };
  const current = seen.config;
  // A loop of another fleet is that file's: two files steering one loop would undo each other.
  if (current.fleet !== null && current.fleet !== fleet)
    return { kind: 'conflict', id, why: `it belongs to fleet ${current.fleet}; remove it from that file first` };
  if (seen.stopRequested) return { kind: 'conflict', id, why: 'it is stopping (a stop was asked for); apply again once it has ended' };
  const changes = changedKeys(current, desired).map((key) => ({
    key,
    from: current[key],
    to: desired[key],
  }));
  if (changes.length === 0) return { kind: 'unchanged', id, live };
  const patch: Record<string, unknown> = Object.fromEntries(changes.map(({ key, to }) => [key, to]));
  // The loop's own update rule asks for the confirmations in the update itself, not only in the
  // config it ends with: the file's are sent with every change of a live loop.
  if (live) Object.assign(patch, { confirm_live: desired.confirm_live, confirm_all_symbols: desired.confirm_all_symbols });
  return { kind: 'change', id, changes, patch: patch as ConfigPatch, live, turnsLive: live && current.dry_run };
}

function changedKeys(current: LoopConfig, desired: LoopConfig): (keyof LoopConfig)[] {
  return CONFIG_KEYS.filter((key) => !sameValue(current[key], desired[key]));
}

/** Whether two configs are the same, key by key (an object's keys in any order). */
export function sameConfig(a: LoopConfig, b: LoopConfig): boolean {
  return changedKeys(a, b).length === 0;
}

/** Whether a step makes a loop run live that did not: it needs `--confirm-live` on the command line. */
export function needsConfirmLive(step: Step): boolean {
  return (step.kind === 'start' && step.live) || (step.kind === 'change' && step.turnsLive);
}

/** The steps that change something: a plan with none is in sync. */
export function pendingSteps(plan: Plan, prune: boolean): Step[] {
  return plan.steps.filter((step) => step.kind === 'start' || step.kind === 'change' || (step.kind === 'stop' && prune && !step.stopping));
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Object keys sorted, so `request_extra` written in another order is the same value. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  return value;
}
