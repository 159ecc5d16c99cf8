/**
 * A card's three plots over its recent cycles, drawn at their box's real width so text never
 * scales: cycle time, the outcome strip and the READY strip, one slot per cycle in each.
 */
import { outcomeText } from '../../shared/outcomes';
import type { CyclePoint } from '../../shared/cycle-record';
import { tradeCount } from '../../shared/trades';
import { svgEl } from './dom';
import { clock, seconds } from './format';

/** Plot geometry in CSS pixels. */
const PLOT = { h: 170, left: 54, right: 10, top: 10, bottom: 22, minSlots: 30 };
/** The READY strip: its height, the bars' baseline and their tallest. */
const READY = { h: 34, base: 30, room: 26 };

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * p >= v) return step * p;
  return 10 * p;
}

/** The width of one cycle's slot: the same in every plot of a card, so their marks line up. */
function slotWidth(count: number, width: number): number {
  return (width - PLOT.left - PLOT.right) / Math.max(count, PLOT.minSlots);
}

function axisLabel(v: number): string {
  return `${v >= 10 ? String(Math.round(v)) : String(Math.round(v * 100) / 100)} s`;
}

function cycleTitle(c: CyclePoint): string {
  return `#${c.iteration}  ${outcomeText(c.outcome)}  ${seconds(c.cycle_seconds)}  at ${clock(c.finished_at)}`;
}

/** Cycle time: one circle per finished cycle, coloured by outcome, over a faint trend line. */
function cyclePlot(cycles: readonly CyclePoint[], width: number): SVGElement {
  const svg = svgEl('svg', { class: 'plot cycle-plot', viewBox: `0 0 ${width} ${PLOT.h}`, role: 'img' });
  const innerW = width - PLOT.left - PLOT.right;
  const innerH = PLOT.h - PLOT.top - PLOT.bottom;
  const max = niceMax(Math.max(...cycles.map((c) => c.cycle_seconds), 0));
  for (const f of [0, 0.5, 1]) {
    const y = PLOT.top + innerH * (1 - f);
    svg.appendChild(svgEl('line', { class: 'grid', x1: PLOT.left, x2: width - PLOT.right, y1: y, y2: y }));
    svg.appendChild(svgEl('text', { class: 'axis-label', x: PLOT.left - 6, y: y + 4, 'text-anchor': 'end' }, axisLabel(max * f)));
  }
  const first = cycles[0];
  const last = cycles[cycles.length - 1];
  if (!first || !last) {
    const middle = { class: 'nodata', x: PLOT.left + innerW / 2, y: PLOT.top + innerH / 2, 'text-anchor': 'middle' };
    svg.appendChild(svgEl('text', middle, 'no finished cycle yet'));
    return svg;
  }
  const step = slotWidth(cycles.length, width);
  const xy = cycles.map((c, i): [number, number] => [PLOT.left + step * (i + 0.5), PLOT.top + innerH * (1 - c.cycle_seconds / max)]);
  svg.appendChild(svgEl('polyline', { class: 'trend', points: xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ') }));
  cycles.forEach((c, i) => {
    const [x, y] = xy[i] ?? [0, 0];
    const dot = svgEl('circle', {
      class: `cycle-point outcome-${c.outcome}`,
      cx: x.toFixed(1),
      cy: y.toFixed(1),
      r: step < 8 ? 2.6 : 3.6,
      'data-iteration': c.iteration,
      'data-outcome': c.outcome,
    });
    dot.appendChild(svgEl('title', {}, cycleTitle(c)));
    svg.appendChild(dot);
  });
  const lastX = xy[xy.length - 1]?.[0] ?? PLOT.left;
  svg.appendChild(svgEl('text', { class: 'axis-label', x: PLOT.left, y: PLOT.h - 6 }, `#${first.iteration}`));
  const lastLabel = { class: 'axis-label', x: lastX, y: PLOT.h - 6, 'text-anchor': cycles.length < 4 ? 'start' : 'end' };
  svg.appendChild(svgEl('text', lastLabel, `#${last.iteration}`));
  return svg;
}

/** Outcomes: one mark per finished cycle, on the same x positions as the points above. */
function outcomeStrip(cycles: readonly CyclePoint[], width: number): SVGElement {
  const h = 22;
  const svg = svgEl('svg', { class: 'plot outcome-strip', viewBox: `0 0 ${width} ${h}`, role: 'img' });
  svg.appendChild(svgEl('text', { class: 'axis-label', x: PLOT.left - 6, y: 15, 'text-anchor': 'end' }, 'outcome'));
  const step = slotWidth(cycles.length, width);
  cycles.forEach((c, i) => {
    const mark = svgEl('rect', {
      class: `outcome-mark outcome-${c.outcome}`,
      x: (PLOT.left + step * i + 0.5).toFixed(1),
      y: 3,
      width: Math.max(1, step - 1).toFixed(1),
      height: 16,
      rx: Math.min(2, step / 4).toFixed(1),
      'data-iteration': c.iteration,
      'data-outcome': c.outcome,
    });
    mark.appendChild(svgEl('title', {}, cycleTitle(c)));
    svg.appendChild(mark);
  });
  return svg;
}

/** READY contracts; null where the answer did not say (and in points of workers older than this key). */
function readyOf(c: CyclePoint): number | null {
  return c.ready ?? null;
}

/** READY contracts: one bar per finished cycle, in the slots above; a faint full bar where the answer did not say. */
function readyStrip(cycles: readonly CyclePoint[], width: number): SVGElement {
  const svg = svgEl('svg', { class: 'plot ready-strip', viewBox: `0 0 ${width} ${READY.h}`, role: 'img' });
  const known = cycles.map(readyOf).filter((n): n is number => n !== null);
  const max = Math.max(...known, 0);
  svg.appendChild(svgEl('text', { class: 'axis-label', x: PLOT.left - 6, y: 14, 'text-anchor': 'end' }, 'READY'));
  const maxLabel = known.length > 0 ? `max ${max}` : '-';
  svg.appendChild(svgEl('text', { class: 'axis-label', x: PLOT.left - 6, y: 28, 'text-anchor': 'end' }, maxLabel));
  svg.appendChild(svgEl('line', { class: 'grid', x1: PLOT.left, x2: width - PLOT.right, y1: READY.base + 0.5, y2: READY.base + 0.5 }));
  const step = slotWidth(cycles.length, width);
  cycles.forEach((c, i) => {
    const x = PLOT.left + step * i + 0.5;
    const w = Math.max(1, step - 1);
    svg.appendChild(readyMark(c, x, w, max));
    // The trades the cycle caused (its READY contracts' orders, from the app's lineage API).
    const trades = c.trades ? tradeCount(c.trades) : 0;
    if (c.trades && trades > 0) svg.appendChild(tradeMark(c, c.trades, trades, x + w / 2));
  });
  return svg;
}

/** A dot above the cycle's READY bar: it caused trades (grey while more may come). */
function tradeMark(c: CyclePoint, trades: NonNullable<CyclePoint['trades']>, n: number, cx: number): SVGElement {
  const pending = trades.state === 'pending';
  const mark = svgEl('circle', {
    class: `trade-mark${pending ? ' pending' : ''}`,
    cx: cx.toFixed(1),
    cy: 4,
    r: 3,
    'data-iteration': c.iteration,
    'data-trades': n,
  });
  const by = Object.entries(trades.by_status)
    .map(([status, count]) => `${count} ${status}`)
    .join(' · ');
  mark.appendChild(svgEl('title', {}, `#${c.iteration}  ${n} trade(s): ${by}${pending ? ' (more may come)' : ''}`));
  return mark;
}

function readyMark(c: CyclePoint, x: number, w: number, max: number): SVGElement {
  const n = readyOf(c);
  const height = n === null ? READY.room : n === 0 ? 1.5 : Math.max(3, (READY.room * n) / max);
  const kind = (n === null ? ' unknown' : n === 0 ? ' zero' : '') + (c.protection_alert ? ' alert' : '');
  const mark = svgEl('rect', {
    class: `ready-mark${kind}`,
    x: x.toFixed(1),
    y: (READY.base - height).toFixed(1),
    width: w.toFixed(1),
    height: height.toFixed(1),
    'data-iteration': c.iteration,
    'data-ready': n === null ? 'unknown' : n,
  });
  const orders = c.orders ? `, ${c.orders.total} order(s)` : '';
  const alert = c.protection_alert ? '  PROTECTION ALERT' : '';
  mark.appendChild(svgEl('title', {}, `#${c.iteration}  READY ${n === null ? 'unknown' : n}${orders}${alert}`));
  return mark;
}

/** The three plots of a card, at `width` CSS pixels. */
export function plots(cycles: readonly CyclePoint[], width: number): SVGElement[] {
  return [cyclePlot(cycles, width), outcomeStrip(cycles, width), readyStrip(cycles, width)];
}
