/**
 * The dashboard's one page, as a string: inline CSS and JS, no external resource (the machines it
 * runs on may have no internet), so the server needs no static files. The style is page.css and plot.css, the
 * script the browser code in browser/ (TypeScript, bundled by esbuild at build time: see
 * page-assets.d.ts). The script polls /api/loops every 2 s and redraws only the cards whose data
 * changed; every piece of loop data enters the DOM through textContent or setAttribute, never as markup.
 *
 * Stable hooks for tests and scripts: a card is `[data-workflow-id]` (`[data-alert]` while it
 * shows a protection alert), a cycle-time point is `.cycle-point[data-iteration]`, an outcome
 * mark is `.outcome-mark[data-iteration]`, a READY-count mark is `.ready-mark[data-iteration]`
 * (`data-ready`: the count, or `unknown`), a cycle with trades has a `.trade-mark[data-iteration]`
 * (`data-trades`: their count), the last cycle's findings are `.signal`, `.orders-count`, `.order`
 * (`.order.alert` for a lost stop-loss), `.trades-count` and `.trade` (`.trade.failed`), a card's
 * alert is `.alert-banner`, the page's
 * are in `#alerts`, a paused loop's card is `[data-paused]` (`held`, or `pending` while the cycle
 * it waits for runs: "pause requested") with its `.pause-banner`, a card's fleet is `.fleet` and a failing loop's badge
 * `.badge.failing`; once some loop has a group, each group is a `section.group[data-group]` (`data-group=""` for the
 * loops without one) whose `.group-summary` holds `[data-count]` parts (loops, failing, paused, ready); and
 * `body[data-refreshes]` counts the refreshes that succeeded.
 */
import { createHash } from 'node:crypto';
import { script as SCRIPT, style as STYLE } from './page-assets';

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
