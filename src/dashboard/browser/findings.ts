/** The card's rows of what the last cycle found: texts written by the server (findings-view.ts), placed here. */
import type { FindingsView, OrderView, TradeView } from '../findings-view';
import type { DashboardLoop } from '../view';
import { chipList, detail, detailNode, el } from './dom';

/** Orders or trades: their counts (.orders-count, .trades-count), then each one as a chip whose class classOf gives. */
function countedValue<T extends { text: string }>(
  kind: 'order' | 'trade',
  counted: { counts: string; list: T[]; unlisted: number },
  classOf: (item: T) => string,
): HTMLElement {
  const value = el('div', `v ${kind}s`);
  value.appendChild(el('div', `${kind}s-count`, counted.counts));
  const items = counted.list.map((item) => [classOf(item), item.text] as const);
  if (items.length > 0 || counted.unlisted > 0) value.appendChild(chipList(items, counted.unlisted));
  return value;
}

function signalsValue(signals: string[], unlisted: number): HTMLElement {
  if (signals.length === 0 && unlisted === 0) return el('div', 'v none', 'none');
  const value = el('div', 'v signals');
  value.appendChild(
    chipList(
      signals.map((t) => ['signal', t] as const),
      unlisted,
    ),
  );
  return value;
}

/** The last cycle's findings; a row only for what is known. */
export function findingsRows(grid: HTMLElement, f: FindingsView | null): void {
  if (!f) return;
  const share = [f.ready_share === null ? null : `${f.ready_share}%`, f.contracts].filter(Boolean).join(' · ');
  const shareTitle = "the app's success_rate: the share of contracts it found READY (a few % is a normal day)";
  if (share) detail(grid, 'ready share', share).title = shareTitle;
  if (f.signals) detailNode(grid, 'signals', signalsValue(f.signals, f.signals_unlisted));
  if (f.orders)
    detailNode(
      grid,
      'orders',
      countedValue('order', f.orders, (o: OrderView) => (o.alert ? 'order alert' : 'order')),
    );
  if (f.trades)
    detailNode(
      grid,
      'trades',
      countedValue('trade', f.trades, (t: TradeView) => (t.failed ? 'trade failed' : 'trade')),
    );
}

/** The X-Run-Id the last cycle's POST carried, else the loop's prefix: what an order's run id in the app leads back to. */
export function runIdRow(grid: HTMLElement, loop: DashboardLoop, last: { x_run_id: string | null } | null): void {
  const id = last?.x_run_id ? last.x_run_id : loop.run_id_prefix ? `${loop.run_id_prefix}.<iteration>` : null;
  if (id) detail(grid, 'run id', id).title = 'X-Run-Id: the run id the app records on its orders, mtfpp.<loop>.<iteration>';
}
