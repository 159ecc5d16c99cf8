/**
 * The dashboard page's script (page.ts serves it, bundled by esbuild into one IIFE): it polls
 * /api/loops every 2 s and redraws only the cards whose data changed.
 */
import type { DashboardLoop, DashboardSnapshot } from '../view';
import { alertBanner, card, drawPlots } from './card';
import { byId } from './dom';
import { ago, clock, nextCycleText } from './format';
import { grouped } from './groups';
import { alertOf } from './texts';

const REFRESH_MS = 2000;
const TITLE = document.title;
const cards = new Map<string, { key: string; node: HTMLElement }>();
let refreshes = 0;

function tick(): void {
  document.querySelectorAll('[data-next-at],[data-next-idle]').forEach((node) => {
    node.textContent = nextCycleText(node);
  });
  document.querySelectorAll('[data-ago]').forEach((node) => {
    node.textContent = `started ${ago(node.getAttribute('data-ago') ?? '')}`;
  });
}

/**
 * Loops with a protection alert first, then running ones, then by ID: a card keeps its place until
 * an alert moves it up. In a page of groups, this is the order within each group's section.
 */
function byPlace(a: DashboardLoop, b: DashboardLoop): number {
  const alerting = Number(alertOf(b) !== null) - Number(alertOf(a) !== null);
  const running = Number(b.state === 'running') - Number(a.state === 'running');
  return alerting || running || (a.workflow_id < b.workflow_id ? -1 : a.workflow_id > b.workflow_id ? 1 : 0);
}

/**
 * Every loop's protection alert on top of the page (and in the tab's title), so none waits below
 * the fold. Redrawn only when the alerts change: a screen reader announces each new one once.
 */
let shownAlerts = '[]';
function showAlerts(loops: readonly DashboardLoop[]): void {
  const texts = loops.flatMap((l) => {
    const alert = alertOf(l);
    return alert === null ? [] : [`Loop ${l.workflow_id}: ${alert}`];
  });
  if (JSON.stringify(texts) === shownAlerts) return;
  shownAlerts = JSON.stringify(texts);
  const box = byId('alerts');
  box.replaceChildren(...texts.map(alertBanner));
  box.hidden = texts.length === 0;
  document.title = (texts.length > 0 ? 'PROTECTION ALERT · ' : '') + TITLE;
}

function render(snapshot: DashboardSnapshot): void {
  const fresh: HTMLElement[] = [];
  const shown = snapshot.loops
    .slice()
    .sort(byPlace)
    .map((loop) => {
      const key = JSON.stringify(loop);
      const known = cards.get(loop.workflow_id);
      // Unchanged cards keep their DOM (an open tooltip stays open); changed ones are rebuilt whole.
      if (known && known.key === key) return { loop, node: known.node };
      const built = { key, node: card(loop) };
      cards.set(loop.workflow_id, built);
      fresh.push(built.node);
      return { loop, node: built.node };
    });
  const ids = new Set(snapshot.loops.map((l) => l.workflow_id));
  for (const id of Array.from(cards.keys())) if (!ids.has(id)) cards.delete(id);
  byId('loops').replaceChildren(...grouped(shown));
  fresh.forEach(drawPlots);
  showAlerts(snapshot.loops);
  byId('empty').hidden = shown.length > 0;
  byId('namespace').textContent = `namespace ${snapshot.namespace}`;
  tick();
}

/** A new width redraws every plot at its new size (on the next frame, once per burst of events). */
let resizePending = false;
window.addEventListener('resize', () => {
  if (resizePending) return;
  resizePending = true;
  requestAnimationFrame(() => {
    resizePending = false;
    document.querySelectorAll('.card').forEach(drawPlots);
  });
});

function setHealth(ok: boolean, text: string): void {
  byId('pulse').className = `pulse ${ok ? 'ok' : 'bad'}`;
  byId('updated').textContent = text;
}

/** A failed fetch's reason: its message (a TypeError, the timeout's DOMException), else the thing itself. */
function messageOf(err: unknown): string {
  return err instanceof Error && err.message ? err.message : String(err);
}

/** The server's `{ "error": "..." }` answer, else the HTTP status. */
function failureOf(response: Response, body: unknown): string {
  const error = typeof body === 'object' && body !== null && 'error' in body ? body.error : null;
  return typeof error === 'string' && error ? error : `HTTP ${response.status}`;
}

async function refresh(): Promise<void> {
  try {
    // A server that never answers must not stop the refreshes: each one gives up after 10 s.
    const headers = { accept: 'application/json' };
    const response = await fetch('/api/loops', { cache: 'no-store', headers, signal: AbortSignal.timeout(10000) });
    const body = (await response.json()) as unknown;
    if (!response.ok) throw new Error(failureOf(response, body));
    const snapshot = body as DashboardSnapshot;
    render(snapshot);
    refreshes += 1;
    document.body.setAttribute('data-refreshes', String(refreshes));
    byId('banner').hidden = true;
    setHealth(true, `updated ${clock(snapshot.generated_at)}`);
  } catch (err) {
    const banner = byId('banner');
    banner.textContent = `Cannot refresh (${messageOf(err)}); showing the last data, retrying.`;
    banner.hidden = false;
    setHealth(false, 'stale');
  }
  setTimeout(() => void refresh(), REFRESH_MS);
}

setInterval(tick, 1000);
void refresh();
