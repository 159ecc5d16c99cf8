/**
 * Today's per-symbol verdicts. A symbol's verdict is a function of the symbol and the seed only:
 * two runs (or two simulators) with the same seed agree, so a test can name the READY symbols it
 * expects, and another seed gives another market.
 */
import { hashString, mulberry32 } from './prng';

/** What an empty `symbols` means today: the app's own active contracts (150+ in production). */
export const ACTIVE_CONTRACTS: readonly string[] = [
  'BTCUSDT',
  'ETHUSDT',
  'ADAUSDT',
  'SOLUSDT',
  'DOTUSDT',
  'XRPUSDT',
  'DOGEUSDT',
  'LINKUSDT',
  'AVAXUSDT',
  'LTCUSDT',
  'BNBUSDT',
  'TRXUSDT',
];

const EXECUTION_TFS = ['1m', '5m', '15m'] as const;
const BLOCKING_TFS = ['4h', '1h', '15m', '5m'] as const;

export type Verdict =
  | { status: 'READY'; execution_tf: (typeof EXECUTION_TFS)[number]; signal_side: 'LONG' | 'SHORT' }
  | { status: 'INVALID'; blocking_tf: (typeof BLOCKING_TFS)[number] };

function pick<T>(list: readonly T[], draw: number): T {
  const item = list[Math.min(list.length - 1, Math.floor(draw * list.length))];
  if (item === undefined) throw new Error('pick: empty list');
  return item;
}

/** `readyShare` of the symbols (about) is tradable on a given seed; the rest are blocked on a timeframe. */
export function verdictOf(symbol: string, seed: number, readyShare: number): Verdict {
  // An odd multiplier (an xxHash prime) spreads neighbouring seeds apart before they meet the
  // symbol's hash; it was picked so that at seed 1 the seed's five symbols hold both verdicts and
  // both sides (BTCUSDT READY 1m SHORT, ADAUSDT READY 5m LONG, the other three INVALID).
  const draw = mulberry32((hashString(symbol) ^ Math.imul(seed | 0, 0x27d4eb2f)) >>> 0);
  const ready = draw() < readyShare;
  const which = draw();
  if (!ready) return { status: 'INVALID', blocking_tf: pick(BLOCKING_TFS, which) };
  return { status: 'READY', execution_tf: pick(EXECUTION_TFS, which), signal_side: draw() < 0.5 ? 'LONG' : 'SHORT' };
}
