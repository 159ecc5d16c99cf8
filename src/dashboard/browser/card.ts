/** One loop's card: its head, banners, stats, plots, legend and details. */
import { appStatusText } from '../../shared/findings';
import { OUTCOMES, outcomeText } from '../../shared/outcomes';
import type { Counters, CyclePoint } from '../../shared/cycle-record';
import type { LoopStatus } from '../../shared/status';
import type { DashboardLoop } from '../view';
import { detail, el, stat } from './dom';
import { findingsRows, runIdRow } from './findings';
import { clock, dateTime, seconds } from './format';
import { plots } from './plots';
import { alertOf, idleText, missedBeatsText, pauseBadge, pauseText } from './texts';

/** How each card's `.plots` box draws itself, once it is in the page and has a width (see drawPlots). */
const drawers = new WeakMap<Element, () => void>();

/** Draws (again) the plots of a card, at its box's width now. */
export function drawPlots(node: Element): void {
  const box = node.querySelector('.plots');
  if (box) drawers.get(box)?.();
}

export function alertBanner(text: string): HTMLElement {
  return el('div', 'alert-banner', text);
}

function legend(counters: Counters): HTMLElement {
  const box = el('div', 'legend');
  for (const o of OUTCOMES) {
    const item = el('span');
    item.appendChild(el('span', `dot ${o}`));
    item.appendChild(document.createTextNode(outcomeText(o)));
    item.appendChild(el('b', null, counters[o]));
    box.appendChild(item);
  }
  box.appendChild(el('span', null, `(all ${counters.cycles} cycles)`));
  return box;
}

function head(loop: DashboardLoop, s: LoopStatus | null): HTMLElement {
  const box = el('div', 'card-head');
  box.appendChild(el('span', 'id mono', loop.workflow_id));
  if (loop.fleet) {
    box.appendChild(el('span', 'fleet', `fleet ${loop.fleet}`)).title = 'the fleet file that manages this loop (config key fleet)';
  }
  box.appendChild(el('span', `badge state state-${loop.state}`, loop.state.replace('_', ' ')));
  if (s) {
    if (loop.failing) {
      box.appendChild(el('span', 'badge failing', 'failing')).title = `${s.counters.consecutive_failures} failed cycles in a row`;
    }
    box.appendChild(s.config.dry_run ? el('span', 'badge dry', 'dry run') : el('span', 'badge live', 'LIVE'));
    if (s.stop_requested) box.appendChild(el('span', 'badge note', 'stopping'));
    if (s.pending_config) box.appendChild(el('span', 'badge note', 'config update pending'));
    const paused = pauseBadge(s);
    if (paused) box.appendChild(el('span', 'badge paused', paused));
  }
  const since = el('span', 'since');
  since.setAttribute('data-ago', s ? s.started_at : loop.start_time);
  box.appendChild(since);
  return box;
}

function stats(loop: DashboardLoop, s: LoopStatus): HTMLElement {
  const box = el('div', 'stats');
  box.appendChild(stat('phase', s.phase.replace(/_/g, ' ')).box);
  box.appendChild(stat('iteration', s.current_iteration).box);
  const next = stat('next cycle', '-');
  if (s.next_cycle_at) next.value.setAttribute('data-next-at', s.next_cycle_at);
  else next.value.setAttribute('data-next-idle', idleText(s));
  next.value.classList.add('next-cycle');
  box.appendChild(next.box);
  const rate = s.success_rate;
  const tone = rate === null ? '' : rate >= 95 ? 'good' : rate >= 75 ? 'warn' : 'bad';
  const success = stat('success rate', rate === null ? '-' : `${rate}%`, tone);
  success.box.title = "this loop's cycles that succeeded (fully or in part), of all its finished cycles";
  box.appendChild(success.box);
  const cadence = stat('cadence', `${loop.cadence_text} · ${s.config.continue_mode}`);
  // "every 1m at :02 · signal" outgrows one line of a fifth of a card: it wraps, smaller, rather than be cut.
  cadence.value.classList.add('wrap', 'cadence');
  cadence.box.title = 'when cycles start (interval: a pause after each cycle; aligned: on candle closes, UTC) · continue mode';
  box.appendChild(cadence.box);
  return box;
}

function plotTitle(s: LoopStatus, cycles: readonly CyclePoint[]): HTMLElement {
  const title = el('div', 'plot-title');
  title.appendChild(el('span', null, `cycle time · last ${cycles.length} finished cycles`));
  const last = s.last_cycle;
  const what = last ? `#${last.iteration} ${outcomeText(last.outcome)}${appStatusText(last)}` : '';
  title.appendChild(el('span', null, last ? `last: ${what}, ${seconds(last.cycle_seconds)} at ${clock(last.finished_at)}` : ''));
  return title;
}

/** A closed loop is listed by its Temporal status; a running one that did not answer, with why. */
function unansweredDetails(loop: DashboardLoop): HTMLElement {
  const grid = el('div', 'detail');
  if (loop.error) detail(grid, 'status', `unavailable: ${loop.error}`, 'error');
  else detail(grid, 'closed', loop.close_time ? dateTime(loop.close_time) : '-');
  detail(grid, 'run', loop.run_id);
  runIdRow(grid, loop, null);
  return grid;
}

function details(loop: DashboardLoop, s: LoopStatus): HTMLElement {
  const grid = el('div', 'detail');
  findingsRows(grid, loop.findings);
  runIdRow(grid, loop, s.last_cycle);
  detail(grid, 'last error', s.last_error || 'none', s.last_error ? 'error' : 'none');
  const missed = missedBeatsText(s);
  const missedTitle = 'beats of the aligned cadence that passed without a cycle starting at them (a long cycle, a worker down)';
  if (missed) detail(grid, 'missed beats', missed, 'warn').title = missedTitle;
  for (const w of loop.cadence_warnings) detail(grid, 'cadence', w, 'warn');
  detail(grid, 'calls', s.config.mtf_url);
  detail(grid, 'symbols', loop.symbols_text);
  return grid;
}

export function card(loop: DashboardLoop): HTMLElement {
  const s = loop.status;
  const node = el('section', 'card');
  node.setAttribute('data-workflow-id', loop.workflow_id);
  node.setAttribute('data-state', loop.state);
  node.appendChild(head(loop, s));
  const alert = alertOf(loop);
  if (alert) {
    node.classList.add('alerting');
    node.setAttribute('data-alert', 'true');
    node.appendChild(alertBanner(alert));
  }
  const paused = s ? pauseText(s) : null;
  if (s && paused) {
    node.classList.add('paused');
    node.setAttribute('data-paused', s.pause?.since ? 'held' : 'pending');
    node.appendChild(el('div', 'pause-banner', paused));
  }
  if (!s) {
    node.appendChild(unansweredDetails(loop));
    return node;
  }
  node.appendChild(stats(loop, s));
  // Absent in answers of workers older than the window.
  const cycles = s.recent_cycles ?? [];
  node.appendChild(plotTitle(s, cycles));
  const box = el('div', 'plots');
  drawers.set(box, () => box.replaceChildren(...plots(cycles, Math.max(320, Math.floor(box.clientWidth)))));
  node.appendChild(box);
  node.appendChild(legend(s.counters));
  node.appendChild(details(loop, s));
  return node;
}
