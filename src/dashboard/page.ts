/**
 * The dashboard's one page, as a string: inline CSS and JS, no external resource (the machines it
 * runs on may have no internet), so the server needs no static files. The script polls
 * /api/loops every 2 s and redraws only the cards whose data changed; every piece of loop data
 * enters the DOM through textContent or setAttribute, never as markup.
 *
 * Stable hooks for tests and scripts: a card is `[data-workflow-id]` (`[data-alert]` while it
 * shows a protection alert), a cycle-time point is `.cycle-point[data-iteration]`, an outcome
 * mark is `.outcome-mark[data-iteration]`, a READY-count mark is `.ready-mark[data-iteration]`
 * (`data-ready`: the count, or `unknown`), a cycle with trades has a `.trade-mark[data-iteration]`
 * (`data-trades`: their count), the last cycle's findings are `.signal`, `.orders-count`, `.order`
 * (`.order.alert` for a lost stop-loss), `.trades-count` and `.trade` (`.trade.failed`), a card's
 * alert is `.alert-banner`, the page's
 * are in `#alerts`, a paused loop's card is `[data-paused]` (`held`, or `pending` while the cycle
 * it waits for runs) with its `.pause-banner`, and `body[data-refreshes]` counts the refreshes that
 * succeeded.
 */
import { createHash } from 'node:crypto';

const STYLE = `
:root {
  --bg: #0d1117; --panel: #161b22; --panel-2: #1c232d; --line: #2a3441; --text: #e6edf3; --muted: #8b98a9;
  --accent: #58a6ff; --succeeded: #3fb950; --partial: #d29922; --failed: #f85149; --skipped: #a371f7;
  --timed_out: #f0883e;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
code, .mono { font-family: ui-monospace, SFMono-Regular, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
header.top { display: flex; align-items: center; justify-content: space-between; gap: 16px;
  padding: 14px 24px; border-bottom: 1px solid var(--line); background: var(--panel); }
.brand { display: flex; align-items: baseline; gap: 10px; }
.brand h1 { margin: 0; font-size: 18px; font-weight: 650; letter-spacing: .2px; }
.brand .sub { color: var(--muted); }
.meta { display: flex; align-items: center; gap: 14px; color: var(--muted); font-size: 13px; }
.pulse { display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: var(--muted); margin-right: 6px; }
.pulse.ok { background: var(--succeeded); box-shadow: 0 0 0 3px rgba(63,185,80,.18); }
.pulse.bad { background: var(--failed); }
.chip { border: 1px solid var(--line); border-radius: 999px; padding: 1px 9px; font-size: 12px; color: var(--muted); }
.banner { margin: 16px 24px 0; padding: 10px 14px; border: 1px solid rgba(248,81,73,.5); border-radius: 8px;
  background: rgba(248,81,73,.1); color: #ffb4ae; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(620px, 1fr)); gap: 18px; padding: 18px 24px 8px; }
.empty { color: var(--muted); padding: 32px 24px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px 14px; min-width: 0; }
.card-head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.card-head .id { font-size: 16px; font-weight: 650; margin-right: 4px; word-break: break-all; }
.card-head .since { margin-left: auto; color: var(--muted); font-size: 12px; }
.badge { font-size: 11px; font-weight: 650; letter-spacing: .4px; text-transform: uppercase; padding: 2px 8px;
  border-radius: 999px; border: 1px solid currentColor; }
.badge.state-running { color: var(--succeeded); }
.badge.state-stopped, .badge.state-completed { color: var(--muted); }
.badge.state-failed, .badge.state-terminated, .badge.state-timed_out, .badge.live { color: var(--failed); }
.badge.state-cancelled { color: var(--partial); }
.badge.dry { color: var(--accent); }
.badge.note { color: var(--partial); }
.badge.live { background: rgba(248,81,73,.15); }
.badge.paused { color: #f2cc60; background: rgba(210,153,34,.18); }
.stats { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 10px; margin: 14px 0 12px; }
.stat { background: var(--panel-2); border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; min-width: 0; }
.stat .label { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .5px; }
.stat .value { font-size: 17px; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.stat .value.wrap { white-space: normal; font-size: 14px; line-height: 1.3; }
.stat .value.good { color: var(--succeeded); } .stat .value.warn { color: var(--partial); } .stat .value.bad { color: var(--failed); }
.plot-title { display: flex; justify-content: space-between; color: var(--muted); font-size: 12px; margin: 6px 0 2px; }
svg.plot { display: block; width: 100%; height: auto; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis-label { fill: var(--muted); font-size: 11px; }
svg .trend { fill: none; stroke: var(--accent); stroke-width: 1.4; stroke-opacity: .55; stroke-linejoin: round; }
svg .cycle-point { stroke: var(--panel); stroke-width: 1; }
svg .nodata { fill: var(--muted); font-size: 13px; }
.outcome-succeeded { fill: var(--succeeded); } .outcome-partial { fill: var(--partial); }
.outcome-failed { fill: var(--failed); } .outcome-skipped { fill: var(--skipped); } .outcome-timed_out { fill: var(--timed_out); }
.legend { display: flex; flex-wrap: wrap; gap: 14px; color: var(--muted); font-size: 12px; margin: 6px 0 10px; }
.legend .dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 5px; }
.legend .dot.succeeded { background: var(--succeeded); } .legend .dot.partial { background: var(--partial); }
.legend .dot.failed { background: var(--failed); } .legend .dot.skipped { background: var(--skipped); }
.legend .dot.timed_out { background: var(--timed_out); }
.legend b { color: var(--text); font-weight: 600; margin-left: 3px; }
.detail { display: grid; grid-template-columns: 92px 1fr; gap: 4px 10px; font-size: 13px; border-top: 1px solid var(--line); padding-top: 10px; }
.detail .k { color: var(--muted); }
.detail .v { min-width: 0; overflow-wrap: anywhere; }
.detail .v.error { color: #ffb4ae; }
.detail .v.none { color: var(--muted); }
.detail .v.warn { color: var(--partial); }
.chip-list { display: flex; flex-wrap: wrap; gap: 4px 6px; align-items: baseline; }
.signal, .order, .trade { border: 1px solid var(--line); border-radius: 6px; padding: 0 7px; background: var(--panel-2); font-size: 12px; }
.order.alert { background: var(--failed); border-color: var(--failed); color: #fff; font-weight: 650; }
.trade.failed { border-color: var(--failed); color: var(--failed); }
.more { color: var(--muted); font-size: 12px; }
.orders-count, .trades-count { margin-bottom: 3px; }
.card.alerting { border-color: var(--failed); box-shadow: 0 0 0 1px var(--failed), 0 0 22px rgba(248,81,73,.3); }
.alert-banner { margin: 12px 0 0; padding: 10px 14px; border-radius: 8px; background: var(--failed); color: #fff;
  font-weight: 650; overflow-wrap: anywhere; }
.card.paused { border-color: var(--partial); }
/* Amber, not red: a pause is an operator's choice, not a position at risk. */
.pause-banner { margin: 12px 0 0; padding: 8px 14px; border: 1px solid var(--partial); border-radius: 8px;
  background: rgba(210,153,34,.12); color: #f2cc60; font-weight: 600; overflow-wrap: anywhere; }
.alerts { display: grid; gap: 8px; margin: 16px 24px 0; }
.alerts .alert-banner { margin: 0; font-size: 15px; }
svg .ready-mark { fill: var(--accent); fill-opacity: .75; }
svg .ready-mark.zero { fill: var(--muted); fill-opacity: .6; }
svg .ready-mark.unknown { fill: var(--muted); fill-opacity: .18; }
svg .ready-mark.alert { fill: var(--failed); fill-opacity: 1; }
svg .trade-mark { fill: var(--succeeded); }
svg .trade-mark.pending { fill: var(--muted); }
footer { color: var(--muted); font-size: 12px; padding: 8px 24px 20px; }
`;

/**
 * Plain ES2017 in a string: no template literals inside (this file's own template would
 * interpolate them), no dependency, no innerHTML.
 */
const SCRIPT = `
'use strict';
var REFRESH_MS = 2000;
var OUTCOMES = ['succeeded', 'partial', 'failed', 'skipped', 'timed_out'];
var SVG_NS = 'http://www.w3.org/2000/svg';
/** Plot geometry in CSS pixels: the SVGs are drawn at their box's real width, so text never scales. */
var PLOT = { h: 170, left: 54, right: 10, top: 10, bottom: 22, minSlots: 30 };
/** The READY strip: its height, the bars' baseline and their tallest. */
var READY = { h: 34, base: 30, room: 26 };
var TITLE = document.title;
var cards = new Map();
var refreshes = 0;

function el(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}
function svgEl(tag, attrs, text) {
  var node = document.createElementNS(SVG_NS, tag);
  Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
  if (text !== undefined) node.textContent = String(text);
  return node;
}
function seconds(s) {
  if (s === null || s === undefined) return '-';
  if (s < 10) return s.toFixed(2) + ' s';
  if (s < 60) return s.toFixed(1) + ' s';
  var m = Math.floor(s / 60), r = Math.round(s % 60);
  return m + ' m' + (r ? ' ' + r + ' s' : '');
}
/** A config duration as set: 0.5 s, 30 s, 2 m. */
function interval(s) {
  return s < 60 ? String(Math.round(s * 1000) / 1000) + ' s' : seconds(s);
}
function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString('en-GB') : '-';
}
function ago(iso) {
  var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 90) return s + ' s ago';
  if (s < 5400) return Math.round(s / 60) + ' min ago';
  if (s < 172800) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' days ago';
}
function niceMax(v) {
  if (!(v > 0)) return 1;
  var p = Math.pow(10, Math.floor(Math.log10(v)));
  var steps = [1, 2, 2.5, 5, 10];
  for (var i = 0; i < steps.length; i++) if (steps[i] * p >= v) return steps[i] * p;
  return 10 * p;
}
/** The width of one cycle's slot: the same in every plot of a card, so their marks line up. */
function slotWidth(count, width) {
  return (width - PLOT.left - PLOT.right) / Math.max(count, PLOT.minSlots);
}
function axisLabel(v) {
  return (v >= 10 ? String(Math.round(v)) : String(Math.round(v * 100) / 100)) + ' s';
}

/** The relative "next cycle" text, redrawn every second from the time the loop announced. */
function nextCycleText(node) {
  var at = node.getAttribute('data-next-at');
  if (!at) return node.getAttribute('data-next-idle') || '-';
  var s = (Date.parse(at) - Date.now()) / 1000;
  if (s < 0.05) return 'due now';
  return 'in ' + (s < 10 ? s.toFixed(1) + ' s' : interval(Math.round(s)));
}
function tick() {
  document.querySelectorAll('[data-next-at],[data-next-idle]').forEach(function (node) { node.textContent = nextCycleText(node); });
  document.querySelectorAll('[data-ago]').forEach(function (node) { node.textContent = 'started ' + ago(node.getAttribute('data-ago')); });
}

function stat(label, value, tone) {
  var box = el('div', 'stat');
  box.appendChild(el('div', 'label', label));
  var v = el('div', 'value' + (tone ? ' ' + tone : ''), value);
  box.appendChild(v);
  return { box: box, value: v };
}
function detail(grid, key, value, tone) {
  return detailNode(grid, key, el('div', 'v' + (tone ? ' ' + tone : ''), value));
}
function detailNode(grid, key, value) {
  grid.appendChild(el('div', 'k', key));
  grid.appendChild(value);
  return value;
}
/** Chips from [className, text] pairs, then "+N more" for what the record counted but did not list. */
function chipList(items, unlisted) {
  var list = el('div', 'chip-list');
  items.forEach(function (item) { list.appendChild(el('span', item[0], item[1])); });
  if (unlisted > 0) list.appendChild(el('span', 'more', '+' + unlisted + ' more'));
  return list;
}
function cycleTitle(c) {
  return '#' + c.iteration + '  ' + c.outcome.replace('_', ' ') + '  ' + seconds(c.cycle_seconds) + '  at ' + clock(c.finished_at);
}

/** Cycle time: one circle per finished cycle, coloured by outcome, over a faint trend line. */
function cyclePlot(cycles, width) {
  var svg = svgEl('svg', { class: 'plot cycle-plot', viewBox: '0 0 ' + width + ' ' + PLOT.h, role: 'img' });
  var innerW = width - PLOT.left - PLOT.right, innerH = PLOT.h - PLOT.top - PLOT.bottom;
  var max = niceMax(Math.max.apply(null, cycles.map(function (c) { return c.cycle_seconds; }).concat([0])));
  [0, 0.5, 1].forEach(function (f) {
    var y = PLOT.top + innerH * (1 - f);
    svg.appendChild(svgEl('line', { class: 'grid', x1: PLOT.left, x2: width - PLOT.right, y1: y, y2: y }));
    svg.appendChild(svgEl('text', { class: 'axis-label', x: PLOT.left - 6, y: y + 4, 'text-anchor': 'end' }, axisLabel(max * f)));
  });
  if (cycles.length === 0) {
    svg.appendChild(svgEl('text', { class: 'nodata', x: PLOT.left + innerW / 2, y: PLOT.top + innerH / 2, 'text-anchor': 'middle' }, 'no finished cycle yet'));
    return svg;
  }
  var step = slotWidth(cycles.length, width);
  var xy = cycles.map(function (c, i) {
    return [PLOT.left + step * (i + 0.5), PLOT.top + innerH * (1 - c.cycle_seconds / max)];
  });
  svg.appendChild(svgEl('polyline', { class: 'trend', points: xy.map(function (p) { return p[0].toFixed(1) + ',' + p[1].toFixed(1); }).join(' ') }));
  cycles.forEach(function (c, i) {
    var dot = svgEl('circle', { class: 'cycle-point outcome-' + c.outcome, cx: xy[i][0].toFixed(1), cy: xy[i][1].toFixed(1),
      r: step < 8 ? 2.6 : 3.6, 'data-iteration': c.iteration, 'data-outcome': c.outcome });
    dot.appendChild(svgEl('title', {}, cycleTitle(c)));
    svg.appendChild(dot);
  });
  var first = cycles[0], last = cycles[cycles.length - 1];
  svg.appendChild(svgEl('text', { class: 'axis-label', x: PLOT.left, y: PLOT.h - 6 }, '#' + first.iteration));
  svg.appendChild(svgEl('text', { class: 'axis-label', x: xy[xy.length - 1][0], y: PLOT.h - 6, 'text-anchor': cycles.length < 4 ? 'start' : 'end' }, '#' + last.iteration));
  return svg;
}

/** Outcomes: one mark per finished cycle, on the same x positions as the points above. */
function outcomeStrip(cycles, width) {
  var h = 22;
  var svg = svgEl('svg', { class: 'plot outcome-strip', viewBox: '0 0 ' + width + ' ' + h, role: 'img' });
  svg.appendChild(svgEl('text', { class: 'axis-label', x: PLOT.left - 6, y: 15, 'text-anchor': 'end' }, 'outcome'));
  var step = slotWidth(cycles.length, width);
  cycles.forEach(function (c, i) {
    var mark = svgEl('rect', { class: 'outcome-mark outcome-' + c.outcome, x: (PLOT.left + step * i + 0.5).toFixed(1), y: 3,
      width: Math.max(1, step - 1).toFixed(1), height: 16, rx: Math.min(2, step / 4).toFixed(1), 'data-iteration': c.iteration, 'data-outcome': c.outcome });
    mark.appendChild(svgEl('title', {}, cycleTitle(c)));
    svg.appendChild(mark);
  });
  return svg;
}

/** READY contracts: one bar per finished cycle, in the slots above; a faint full bar where the answer did not say. */
function readyStrip(cycles, width) {
  var svg = svgEl('svg', { class: 'plot ready-strip', viewBox: '0 0 ' + width + ' ' + READY.h, role: 'img' });
  var known = cycles.map(readyOf).filter(function (n) { return n !== null; });
  var max = Math.max.apply(null, known.concat([0]));
  svg.appendChild(svgEl('text', { class: 'axis-label', x: PLOT.left - 6, y: 14, 'text-anchor': 'end' }, 'READY'));
  svg.appendChild(svgEl('text', { class: 'axis-label', x: PLOT.left - 6, y: 28, 'text-anchor': 'end' }, known.length > 0 ? 'max ' + max : '-'));
  svg.appendChild(svgEl('line', { class: 'grid', x1: PLOT.left, x2: width - PLOT.right, y1: READY.base + 0.5, y2: READY.base + 0.5 }));
  var step = slotWidth(cycles.length, width);
  cycles.forEach(function (c, i) {
    var x = PLOT.left + step * i + 0.5, w = Math.max(1, step - 1);
    svg.appendChild(readyMark(c, x, w, max));
    var trades = tradeCount(c);
    if (trades > 0) svg.appendChild(tradeMark(c, trades, x + w / 2));
  });
  return svg;
}
/** The trades a cycle caused (its READY contracts' orders, from the app's lineage API), summed over their statuses. */
function tradeCount(c) {
  if (!c.trades) return 0;
  return Object.keys(c.trades.by_status).reduce(function (sum, k) { return sum + c.trades.by_status[k]; }, 0);
}
/** A dot above the cycle's READY bar: it caused trades (grey while more may come). */
function tradeMark(c, n, cx) {
  var mark = svgEl('circle', { class: 'trade-mark' + (c.trades.state === 'pending' ? ' pending' : ''), cx: cx.toFixed(1), cy: 4, r: 3,
    'data-iteration': c.iteration, 'data-trades': n });
  var by = Object.keys(c.trades.by_status).map(function (k) { return c.trades.by_status[k] + ' ' + k; }).join(' · ');
  mark.appendChild(svgEl('title', {}, '#' + c.iteration + '  ' + n + ' trade(s): ' + by + (c.trades.state === 'pending' ? ' (more may come)' : '')));
  return mark;
}
function readyOf(c) {
  return c.ready === undefined ? null : c.ready;
}
function readyMark(c, x, w, max) {
  var n = readyOf(c);
  var height = n === null ? READY.room : n === 0 ? 1.5 : Math.max(3, READY.room * n / max);
  var kind = (n === null ? ' unknown' : n === 0 ? ' zero' : '') + (c.protection_alert ? ' alert' : '');
  var mark = svgEl('rect', { class: 'ready-mark' + kind, x: x.toFixed(1), y: (READY.base - height).toFixed(1), width: w.toFixed(1),
    height: height.toFixed(1), 'data-iteration': c.iteration, 'data-ready': n === null ? 'unknown' : n });
  var orders = c.orders ? ', ' + c.orders.total + ' order(s)' : '';
  mark.appendChild(svgEl('title', {}, '#' + c.iteration + '  READY ' + (n === null ? 'unknown' : n) + orders + (c.protection_alert ? '  PROTECTION ALERT' : '')));
  return mark;
}

function legend(counters) {
  var box = el('div', 'legend');
  OUTCOMES.forEach(function (o) {
    var item = el('span');
    item.appendChild(el('span', 'dot ' + o));
    item.appendChild(document.createTextNode(o.replace('_', ' ')));
    if (counters) item.appendChild(el('b', null, counters[o]));
    box.appendChild(item);
  });
  if (counters) box.appendChild(el('span', null, '(all ' + counters.cycles + ' cycles)'));
  return box;
}

/** The X-Run-Id the last cycle's POST carried, else the loop's prefix: what an order's run id in the app leads back to. */
function runIdRow(grid, loop, last) {
  var id = last && last.x_run_id ? last.x_run_id : loop.run_id_prefix ? loop.run_id_prefix + '.<iteration>' : null;
  if (id) detail(grid, 'run id', id).title = 'X-Run-Id: the run id the app records on its orders, mtfpp.<loop>.<iteration>';
}

/** The last cycle's findings (texts written by the server, see findings-view.ts); a row only for what is known. */
function findingsRows(grid, f) {
  if (!f) return;
  var share = [f.ready_share === null ? null : f.ready_share + '%', f.contracts].filter(Boolean).join(' · ');
  if (share) detail(grid, 'ready share', share).title = "the app's success_rate: the share of contracts it found READY (a few % is a normal day)";
  if (f.signals) detailNode(grid, 'signals', signalsValue(f));
  if (f.orders) detailNode(grid, 'orders', countedValue('order', f.orders, function (o) { return o.alert ? 'order alert' : 'order'; }));
  if (f.trades) detailNode(grid, 'trades', countedValue('trade', f.trades, function (t) { return t.failed ? 'trade failed' : 'trade'; }));
}
/** Orders or trades: their counts (.orders-count, .trades-count), then each one as a chip whose class classOf gives. */
function countedValue(kind, counted, classOf) {
  var value = el('div', 'v ' + kind + 's');
  value.appendChild(el('div', kind + 's-count', counted.counts));
  var items = counted.list.map(function (item) { return [classOf(item), item.text]; });
  if (items.length > 0 || counted.unlisted > 0) value.appendChild(chipList(items, counted.unlisted));
  return value;
}
function signalsValue(f) {
  if (f.signals.length === 0 && f.signals_unlisted === 0) return el('div', 'v none', 'none');
  var value = el('div', 'v signals');
  value.appendChild(chipList(f.signals.map(function (t) { return ['signal', t]; }), f.signals_unlisted));
  return value;
}

/**
 * A card's protection alert: the last cycle's, naming its orders; else the latest one still in the
 * plotted window, since the position it reported may still be open. Null when there is none.
 */
function alertOf(loop) {
  if (loop.findings && loop.findings.alert) return loop.findings.alert;
  var cycles = (loop.status && loop.status.recent_cycles) || [];
  var past = cycles.filter(function (c) { return c.protection_alert; });
  if (past.length === 0) return null;
  var latest = past[past.length - 1];
  return 'PROTECTION ALERT in cycle #' + latest.iteration + ' at ' + clock(latest.finished_at) + ' (' + past.length + ' of the last ' +
    cycles.length + ' cycles): a position may still be open without its stop-loss';
}
function alertBanner(text) {
  return el('div', 'alert-banner', text);
}

function idleText(s) {
  if (!s.is_running) return 'none: the loop has ended';
  if (s.phase === 'calling_mtf' || s.phase === 'awaiting_completion') return 'cycle running';
  if (s.phase === 'awaiting_continue') return 'waiting for continue_signal';
  if (s.phase === 'paused') return 'none while paused';
  return '-';
}

/**
 * The pause asked for by the pause update: in force (no cycle runs, no timer) or waiting for
 * the running cycle to be recorded. Null when the loop runs (or its worker predates pause).
 */
function pauseText(s) {
  var p = s.pause;
  if (!p) return null;
  var reason = p.reason ? ': ' + p.reason : '';
  if (!p.since) return 'PAUSING after iteration ' + s.current_iteration + reason + ' (the running cycle finishes and is recorded first)';
  // A date as well as a time: a pause may last days. No "ago" here: the card is redrawn only when its data changes.
  return 'PAUSED since ' + new Date(p.since).toLocaleString('en-GB') + reason + ': no cycle runs until resume';
}
/** Beats an aligned loop let pass without a cycle, in all and before its last cycle; null when none. */
function missedBeatsText(s) {
  var all = s.counters.missed_beats || 0;
  var last = (s.last_cycle && s.last_cycle.missed_beats) || 0;
  if (all === 0 && last === 0) return null;
  return all + ' in all' + (s.last_cycle ? ' · ' + last + ' before cycle #' + s.last_cycle.iteration : '') + ' (counted, not queued)';
}

function card(loop) {
  var s = loop.status;
  var node = el('section', 'card');
  node.setAttribute('data-workflow-id', loop.workflow_id);
  node.setAttribute('data-state', loop.state);

  var head = el('div', 'card-head');
  head.appendChild(el('span', 'id mono', loop.workflow_id));
  head.appendChild(el('span', 'badge state state-' + loop.state, loop.state.replace('_', ' ')));
  if (s) {
    head.appendChild(s.config.dry_run ? el('span', 'badge dry', 'dry run') : el('span', 'badge live', 'LIVE'));
    if (s.stop_requested) head.appendChild(el('span', 'badge note', 'stopping'));
    if (s.pending_config) head.appendChild(el('span', 'badge note', 'config update pending'));
    if (s.pause) head.appendChild(el('span', 'badge paused', s.pause.since ? 'PAUSED' : 'pausing'));
  }
  var since = el('span', 'since');
  since.setAttribute('data-ago', s ? s.started_at : loop.start_time);
  head.appendChild(since);
  node.appendChild(head);
  var alert = alertOf(loop);
  if (alert) {
    node.classList.add('alerting');
    node.setAttribute('data-alert', 'true');
    node.appendChild(alertBanner(alert));
  }
  var paused = s ? pauseText(s) : null;
  if (paused) {
    node.classList.add('paused');
    node.setAttribute('data-paused', s.pause.since ? 'held' : 'pending');
    node.appendChild(el('div', 'pause-banner', paused));
  }

  var grid = el('div', 'detail');
  if (!s) {
    // A closed loop is listed by its Temporal status; a running one that did not answer, with why.
    if (loop.error) detail(grid, 'status', 'unavailable: ' + loop.error, 'error');
    else detail(grid, 'closed', loop.close_time ? new Date(loop.close_time).toLocaleString('en-GB') : '-');
    detail(grid, 'run', loop.run_id);
    runIdRow(grid, loop, null);
    node.appendChild(grid);
    return node;
  }

  var stats = el('div', 'stats');
  stats.appendChild(stat('phase', s.phase.replace(/_/g, ' ')).box);
  stats.appendChild(stat('iteration', s.current_iteration).box);
  var next = stat('next cycle', '-');
  if (s.next_cycle_at) next.value.setAttribute('data-next-at', s.next_cycle_at);
  else next.value.setAttribute('data-next-idle', idleText(s));
  next.value.classList.add('next-cycle');
  stats.appendChild(next.box);
  var rate = s.success_rate;
  var success = stat('success rate', rate === null ? '-' : rate + '%', rate === null ? '' : rate >= 95 ? 'good' : rate >= 75 ? 'warn' : 'bad');
  success.box.title = "this loop's cycles that succeeded (fully or in part), of all its finished cycles";
  stats.appendChild(success.box);
  var cadence = stat('cadence', loop.cadence_text + ' · ' + s.config.continue_mode);
  // "every 1m at :02 · signal" outgrows one line of a fifth of a card: it wraps, smaller, rather than be cut.
  cadence.value.classList.add('wrap', 'cadence');
  cadence.box.title = 'when cycles start (interval: a pause after each cycle; aligned: on candle closes, UTC) · continue mode';
  stats.appendChild(cadence.box);
  node.appendChild(stats);

  var cycles = s.recent_cycles || [];
  var title = el('div', 'plot-title');
  title.appendChild(el('span', null, 'cycle time · last ' + cycles.length + ' finished cycles'));
  var last = s.last_cycle;
  var app = last && last.outcome !== 'succeeded' && last.app_status && last.app_status !== last.outcome ? ' (app: ' + last.app_status + ')' : '';
  title.appendChild(el('span', null, last ? 'last: #' + last.iteration + ' ' + last.outcome.replace('_', ' ') + app + ', ' + seconds(last.cycle_seconds) + ' at ' + clock(last.finished_at) : ''));
  node.appendChild(title);
  var plots = el('div', 'plots');
  // Drawn once the card is in the page and has a width (see drawPlots).
  plots.draw = function () {
    var width = Math.max(320, Math.floor(plots.clientWidth));
    plots.replaceChildren(cyclePlot(cycles, width), outcomeStrip(cycles, width), readyStrip(cycles, width));
  };
  node.appendChild(plots);
  node.appendChild(legend(s.counters));

  findingsRows(grid, loop.findings);
  runIdRow(grid, loop, last);
  detail(grid, 'last error', s.last_error || 'none', s.last_error ? 'error' : 'none');
  var missed = missedBeatsText(s);
  if (missed) detail(grid, 'missed beats', missed, 'warn').title = 'beats of the aligned cadence that passed without a cycle starting at them (a long cycle, a worker down)';
  (loop.cadence_warnings || []).forEach(function (w) { detail(grid, 'cadence', w, 'warn'); });
  detail(grid, 'calls', s.config.mtf_url);
  detail(grid, 'symbols', loop.symbols_text);
  node.appendChild(grid);
  return node;
}

/** Loops with a protection alert first, then running ones, then by ID: a card keeps its place until an alert moves it up. */
function byPlace(a, b) {
  var alerting = (alertOf(b) !== null) - (alertOf(a) !== null);
  var running = (b.state === 'running') - (a.state === 'running');
  return alerting || running || (a.workflow_id < b.workflow_id ? -1 : a.workflow_id > b.workflow_id ? 1 : 0);
}

/**
 * Every loop's protection alert on top of the page (and in the tab's title), so none waits below
 * the fold. Redrawn only when the alerts change: a screen reader announces each new one once.
 */
var shownAlerts = '[]';
function showAlerts(loops) {
  var texts = loops.filter(function (l) { return alertOf(l) !== null; }).map(function (l) { return 'Loop ' + l.workflow_id + ': ' + alertOf(l); });
  if (JSON.stringify(texts) === shownAlerts) return;
  shownAlerts = JSON.stringify(texts);
  var box = document.getElementById('alerts');
  box.replaceChildren.apply(box, texts.map(alertBanner));
  box.hidden = texts.length === 0;
  document.title = (texts.length > 0 ? 'PROTECTION ALERT · ' : '') + TITLE;
}

function render(snapshot) {
  var main = document.getElementById('loops');
  var fresh = [];
  var nodes = snapshot.loops.slice().sort(byPlace).map(function (loop) {
    var key = JSON.stringify(loop);
    var known = cards.get(loop.workflow_id);
    // Unchanged cards keep their DOM (an open tooltip stays open); changed ones are rebuilt whole.
    if (known && known.key === key) return known.node;
    var built = { key: key, node: card(loop) };
    cards.set(loop.workflow_id, built);
    fresh.push(built.node);
    return built.node;
  });
  var ids = new Set(snapshot.loops.map(function (l) { return l.workflow_id; }));
  Array.from(cards.keys()).forEach(function (id) { if (!ids.has(id)) cards.delete(id); });
  main.replaceChildren.apply(main, nodes);
  fresh.forEach(drawPlots);
  showAlerts(snapshot.loops);
  document.getElementById('empty').hidden = nodes.length > 0;
  document.getElementById('namespace').textContent = 'namespace ' + snapshot.namespace;
  tick();
}

function drawPlots(node) {
  var plots = node.querySelector('.plots');
  if (plots) plots.draw();
}

/** A new width redraws every plot at its new size (on the next frame, once per burst of events). */
var resizePending = false;
window.addEventListener('resize', function () {
  if (resizePending) return;
  resizePending = true;
  requestAnimationFrame(function () {
    resizePending = false;
    document.querySelectorAll('.card').forEach(drawPlots);
  });
});

function setHealth(ok, text) {
  document.getElementById('pulse').className = 'pulse ' + (ok ? 'ok' : 'bad');
  document.getElementById('updated').textContent = text;
}

function refresh() {
  // A server that never answers must not stop the refreshes: each one gives up after 10 s.
  fetch('/api/loops', { cache: 'no-store', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10000) })
    .then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body && body.error ? body.error : 'HTTP ' + response.status);
        return body;
      });
    })
    .then(function (snapshot) {
      render(snapshot);
      refreshes += 1;
      document.body.setAttribute('data-refreshes', String(refreshes));
      document.getElementById('banner').hidden = true;
      setHealth(true, 'updated ' + clock(snapshot.generated_at));
    })
    .catch(function (err) {
      var banner = document.getElementById('banner');
      banner.textContent = 'Cannot refresh (' + (err && err.message ? err.message : String(err)) + '); showing the last data, retrying.';
      banner.hidden = false;
      setHealth(false, 'stale');
    })
    .then(function () { setTimeout(refresh, REFRESH_MS); });
}

setInterval(tick, 1000);
refresh();
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>MTF Ping-Pong · loops</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body data-refreshes="0">
<header class="top">
  <div class="brand"><h1>MTF Ping-Pong</h1><span class="sub">live loops</span></div>
  <div class="meta">
    <span id="namespace"></span>
    <span><span id="pulse" class="pulse"></span><span id="updated">connecting…</span></span>
    <span class="chip">read-only · every 2 s</span>
  </div>
</header>
<div id="banner" class="banner" role="status" hidden></div>
<section id="alerts" class="alerts" role="alert" aria-label="protection alerts" hidden></section>
<main id="loops" aria-live="polite"></main>
<p id="empty" class="empty" hidden>No MtfPingPongWorkflow loop on this namespace yet: start one with <code>mtf-ping-pong start</code>.</p>
<footer>Data from each loop's own <code>get_status</code> (its last 120 finished cycles); closed loops are listed by their Temporal status.</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;

/**
 * Only this page's own script and style run (by hash), it may only fetch from its origin, and no
 * other site may frame it: loop data that slipped through as markup could still do nothing.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
