/**
 * The messages a loop sends a human when something changes (MTF_NOTIFY_URL on the worker): which
 * moments count, what each one says, and the two wire formats. The workflow decides the moment
 * and writes the text (src/workflows/notifier.ts); the worker's `notify` activity only posts it
 * (src/activities/notify.ts), so the endpoint, a secret, never reaches history. Imported by
 * workflow code: plain TypeScript.
 */
import type { LoopConfig } from './config';
import type { CycleRecord } from './cycle-record';
import { OUTCOMES, type Outcome } from './outcomes';
import {
  alertOrders,
  namedOrdersText,
  orderCountsText,
  orderText,
  ordersSchema,
  protectionAlertText,
  signalSchema,
  signalsText,
  type Orders,
  type RunFindings,
} from './findings';
import { cadenceText } from './cadence';
import { byStatusText, namedTradesText, sentCount, tradesFinal, tradesSchema, type CycleTrades } from './trades';
import * as s from './schema';
import { FAILING_AFTER } from './search-attributes';
import { shorten } from './text';

/** The moments a human hears of, loudest first: a cycle that brings several sends them in this order. */
export const NOTIFY_EVENTS = [
  'protection_alert',
  'failing',
  'recovered',
  'skipped',
  'live_orders',
  'started',
  'paused',
  'resumed',
  'stopped',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** `critical`: a position may be open without its stop-loss; `warning`: the loop needs a look; `info`: it changed. */
export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

const SEVERITY: Record<NotifyEvent, Severity> = {
  protection_alert: 'critical',
  failing: 'warning',
  skipped: 'warning',
  live_orders: 'info',
  recovered: 'info',
  started: 'info',
  paused: 'info',
  resumed: 'info',
  stopped: 'info',
};

const text = () => s.string('must be a string');
const count = () => s.number('must be a number', s.int('must be a whole number'), s.min(0, 'must be at least 0'));
const keep = { unknownKeys: 'keep' } as const;

/** One message: what the `notify` activity receives, and what the JSON format posts as it is. */
export const notificationSchema = s.object(
  {
    /** The loop's workflow ID. */
    loop: text(),
    /** Its labels (config keys `fleet`, `group`) when the message was written; null where it has none (and in messages of a release before them). */
    fleet: text().nullable().default(null),
    group: text().nullable().default(null),
    iteration: count(),
    event: s.choice(NOTIFY_EVENTS, `must be one of ${NOTIFY_EVENTS.join(', ')}`),
    severity: s.choice(SEVERITIES, `must be one of ${SEVERITIES.join(', ')}`),
    /** The outcome of the cycle the message is about (the last one for loop events); null before the first. */
    outcome: text().nullable(),
    /** The one readable line: what a Slack message shows. */
    message: text(),
    /** The READY contracts of that cycle (empty for loop events). */
    signals: s.list(signalSchema, 'must be a list'),
    /** The orders that cycle placed; null when the answer said nothing of orders, and for loop events. */
    orders: ordersSchema.nullable(),
    /** The trades that cycle caused, from the app's lineage API; null when not read, and for loop events. */
    trades: tradesSchema.nullable().default(null),
    /** Workflow time of the moment, ISO. */
    at: text(),
  },
  keep,
);
export type Notification = s.Output<typeof notificationSchema>;

/** What the worker's `notify` activity answers: `sent` false when the worker has no MTF_NOTIFY_URL. */
export interface NotifyResult {
  sent: boolean;
  http_status: number | null;
}

/** What a loop carries of its notifications across continue-as-new (absent before this release). */
export const notificationsStateSchema = s.object(
  {
    sent: count(),
    failed: count(),
    /** Messages the worker answered it had no endpoint for (no MTF_NOTIFY_URL). */
    no_endpoint: count(),
    /** Why the last notification that was given up on failed (the endpoint's answer, never its URL). */
    last_failure: text().nullable(),
    /** The pause (its `requested_at`) a message was written for: a pause carried across continue-as-new is said once. */
    pause_said: text().nullable().default(null),
    /**
     * Messages not yet sent when the run continued as new: the next run sends them first. Read one
     * by one (readNotifications): a message this release cannot read (a newer release's event) is
     * dropped and counted failed, never a reason to fail the loop.
     */
    queued: s.list(s.jsonObject('must be an object'), 'must be a list'),
  },
  keep,
);
/** As carried: the messages as JSON. */
export type CarriedNotifications = s.Output<typeof notificationsStateSchema>;
/** As the loop holds it: the messages read. */
export type NotificationsState = Omit<CarriedNotifications, 'queued'> & { queued: Notification[] };

export function readNotifications(carried: CarriedNotifications | undefined): NotificationsState {
  if (!carried) return noNotifications();
  const queued = carried.queued.flatMap((message) => {
    const read = notificationSchema.safeParse(message);
    return read.success ? [read.data] : [];
  });
  return { ...carried, queued, failed: carried.failed + carried.queued.length - queued.length };
}

/** What `get_status` shows of them: counts and the last failure, not the messages. */
export interface NotificationsStatus {
  sent: number;
  failed: number;
  no_endpoint: number;
  waiting: number;
  last_failure: string | null;
}

export function notificationsStatus(state: NotificationsState): NotificationsStatus {
  return {
    sent: state.sent,
    failed: state.failed,
    no_endpoint: state.no_endpoint,
    waiting: state.queued.length,
    last_failure: state.last_failure,
  };
}

export function noNotifications(): NotificationsState {
  return { sent: 0, failed: 0, no_endpoint: 0, last_failure: null, pause_said: null, queued: [] };
}

/** The cycle-level moments of a just-recorded cycle, loudest first; none for a quiet cycle. */
export function cycleEvents(
  before: { consecutive_failures: number; last: CycleRecord | null },
  record: CycleRecord,
  after: { consecutive_failures: number },
  config: Pick<LoopConfig, 'dry_run'>,
): NotifyEvent[] {
  const events: NotifyEvent[] = [];
  // A streak of alerts naming the same orders is one message; other unprotected orders are news again.
  if (record.protection_alert && !(before.last?.protection_alert && alertKey(before.last) === alertKey(record)))
    events.push('protection_alert');
  if (before.consecutive_failures < FAILING_AFTER && after.consecutive_failures >= FAILING_AFTER) events.push('failing');
  if (before.consecutive_failures >= FAILING_AFTER && after.consecutive_failures === 0) events.push('recovered');
  if (record.outcome === 'skipped' && before.last?.outcome !== 'skipped') events.push('skipped');
  // The alert's own message names the orders: a second one for the same cycle would only repeat it.
  if (!config.dry_run && placedLive(record) && !events.includes('protection_alert')) events.push('live_orders');
  return events;
}

/**
 * Orders that reached the exchange: the answer's count where it lists orders (the seed era, a future
 * app), else the trades read to the end whose order intent was sent (today's app lists none).
 */
function placedLive(record: Pick<CycleRecord, 'orders' | 'trades'>): boolean {
  if (record.orders) return record.orders.count.submitted > 0;
  return record.trades !== null && tradesFinal(record.trades) && sentCount(record.trades) > 0;
}

/** An earlier cycle's trades, read after a later answer: on a live loop, its orders are news now. */
export function lateTradesNotification(
  moment: Moment,
  late: { iteration: number; outcome: Outcome; trades: CycleTrades },
  config: Pick<LoopConfig, 'dry_run'>,
): Notification | null {
  if (config.dry_run || sentCount(late.trades) === 0) return null;
  return {
    ...moment,
    iteration: late.iteration,
    event: 'live_orders',
    severity: SEVERITY.live_orders,
    outcome: late.outcome,
    message: `${opening('live_orders', moment)}LIVE orders placed, iteration ${late.iteration}: ${tradesPart(late.trades)}`,
    signals: [],
    orders: null,
    trades: late.trades,
  };
}

/** `2 SENT · 1 FAILED (BTCUSDT LONG SENT (position_opened), …)`. */
function tradesPart(trades: CycleTrades): string {
  return `${byStatusText(trades)} (${namedTradesText(trades)})`;
}

/** What an alert names: its orders, and their count (an alert may list none, or not all). */
function alertKey(findings: Pick<RunFindings, 'orders'>): string {
  return [findings.orders?.count.protection_failed ?? 0, ...alertOrders(findings.orders).map(orderText)].join('\n');
}

interface Moment {
  loop: string;
  fleet: string | null;
  group: string | null;
  iteration: number;
  at: string;
}

/** How every message begins: `🔴 bitmart-scalper: `, or with the loop's labels `🔴 [bitmart, fleet bitmart-prod] bitmart-scalper: `. */
function opening(event: NotifyEvent, moment: Moment): string {
  return `${EMOJI[event]} ${labelsText(moment)}${moment.loop}: `;
}

/** The loop's labels in brackets, its group bare (the name people steer by), its fleet named; nothing without either. */
function labelsText({ fleet, group }: Pick<Moment, 'fleet' | 'group'>): string {
  const named = [group, fleet === null ? null : `fleet ${fleet}`].filter((part) => part !== null);
  return named.length === 0 ? '' : `[${named.join(', ')}] `;
}

/** A message about one cycle: its record says the outcome, the error, the contracts and the orders. */
export function cycleNotification(event: NotifyEvent, moment: Moment, record: CycleRecord, failures: { before: number }): Notification {
  return {
    ...moment,
    event,
    severity: SEVERITY[event],
    outcome: record.outcome,
    message: `${opening(event, moment)}${cycleHeadline(event, record, failures.before)}`,
    signals: record.signals,
    orders: record.orders,
    trades: record.trades,
  };
}

function cycleHeadline(event: NotifyEvent, record: CycleRecord, failuresBefore: number): string {
  const at = `iteration ${record.iteration}`;
  const error = record.message ? `: ${oneLine(record.message)}` : '';
  switch (event) {
    case 'protection_alert':
      return `${protectionAlertText(record)} (${at}, ${record.outcome}${ordersPart(record.orders)})`;
    case 'failing':
      return `FAILING: ${FAILING_AFTER} cycles in a row failed, ${at} ${record.outcome}${error}`;
    case 'recovered':
      return `recovered: ${at} ${record.outcome} after ${failuresBefore} failed cycles${findingsPart(record)}`;
    case 'skipped':
      return `skipped by the app, ${at}${error}`;
    case 'live_orders': {
      const placed = record.orders
        ? `${orderCountsText(record.orders.count)}${namedOrders(record.orders)}`
        : record.trades
          ? tradesPart(record.trades)
          : '';
      return `LIVE orders placed, ${at}: ${placed}${signalsPart(record)}`;
    }
    default:
      return `${event}, ${at}`;
  }
}

/** A message about the loop itself: started, paused, resumed, stopped. */
export function loopNotification(
  event: 'started' | 'paused' | 'resumed' | 'stopped',
  moment: Moment,
  last: CycleRecord | null,
  detail: string,
): Notification {
  return {
    ...moment,
    event,
    severity: SEVERITY[event],
    outcome: last?.outcome ?? null,
    message:
      `${opening(event, moment)}${event} ` +
      `${moment.iteration === 0 ? 'before its first cycle' : `after iteration ${moment.iteration}`}${detail ? `: ${oneLine(detail)}` : ''}`,
    signals: [],
    orders: null,
    trades: null,
  };
}

/** What `started` says: the mode, the beat and the contracts. */
export function startedDetail(
  config: Pick<
    LoopConfig,
    'dry_run' | 'symbols' | 'continue_mode' | 'cadence' | 'align_every' | 'align_offset' | 'align_spread' | 'ping_interval'
  >,
): string {
  const symbols = config.symbols.length === 0 ? 'every active contract of the app' : config.symbols.join(', ');
  const mode = config.continue_mode === 'signal' ? ', waits for continue_signal' : '';
  return `${config.dry_run ? 'dry run' : 'LIVE'}, ${cadenceText(config)}${mode}, ${symbols}`;
}

/** What `stopped` says: the reason and the loop's record. */
export function stoppedDetail(reason: string | null, counters: Record<Outcome, number> & { cycles: number }): string {
  const outcomes = OUTCOMES.filter((o) => counters[o] > 0).map((o) => `${counters[o]} ${o}`);
  const record = `${counters.cycles} cycle${counters.cycles === 1 ? '' : 's'}${outcomes.length > 0 ? ` (${outcomes.join(', ')})` : ''}`;
  return reason ? `${reason}; ${record}` : record;
}

const EMOJI: Record<NotifyEvent, string> = {
  protection_alert: '🚨',
  failing: '🔴',
  recovered: '✅',
  skipped: '⏭️',
  live_orders: '💸',
  started: '▶️',
  paused: '⏸️',
  resumed: '▶️',
  stopped: '⏹️',
};

function ordersPart(orders: Orders | null): string {
  return orders ? `; orders ${orderCountsText(orders.count)}` : '';
}

function namedOrders(orders: Orders | null): string {
  return orders && orders.list.length > 0 ? ` (${namedOrdersText(orders.list, orders.list.length + orders.unlisted)})` : '';
}

function signalsPart(findings: Pick<RunFindings, 'signals' | 'signals_unlisted'>): string {
  return findings.signals.length + findings.signals_unlisted > 0 ? `; ready ${signalsText(findings)}` : '';
}

function findingsPart(record: CycleRecord): string {
  return `${signalsPart(record)}${ordersPart(record.orders)}`;
}

/** The message of an error may hold line breaks; a notification is one line, cut to stay short. */
function oneLine(textValue: string): string {
  return shorten(textValue, 300);
}

/** The body the worker posts: Slack's incoming-webhook `{text}` (the alert mentions the channel), or the message itself. */
export function notificationBody(notification: Notification, format: NotifyFormat): string {
  if (format === 'json') return JSON.stringify(notification);
  const loud = notification.severity === 'critical' ? '<!channel> ' : '';
  return JSON.stringify({ text: `${loud}${notification.message}` });
}

export const NOTIFY_FORMATS = ['slack', 'json'] as const;
export type NotifyFormat = (typeof NOTIFY_FORMATS)[number];
