/**
 * Orders as the app's enricher would list them (OrdersExtractor): one per READY symbol, whose
 * status sits in the symbol's `trading_decision` and in `data.orders_placed`, counted the way the
 * app counts them. Today's app lists none (it decides after the run): the simulator lists them
 * only when its behaviour's `order_status` asks.
 */
import { randomBytes, randomInt } from 'node:crypto';

export interface OrderDecision {
  status: string;
  client_order_id: string | null;
  exchange_order_id: string | null;
  decision_key: string;
  raw: Record<string, never>;
}

export interface PlacedOrder extends OrderDecision {
  symbol: string;
}

export interface OrdersPlaced {
  count: { total: number; submitted: number; pending: number; protection_failed: number; simulated: number };
  orders: PlacedOrder[];
}

/** A rejected run places nothing; the app gives it the short count. */
export const NO_ORDERS_REJECTED = { count: { total: 0, submitted: 0, simulated: 0 }, orders: [] } as const;

interface OrderInput {
  run_id: string;
  symbol: string;
  execution_tf: string;
  side: 'LONG' | 'SHORT';
  /** The behaviour's `order_status` for this order. */
  status: string;
}

export function decideOrder(input: OrderInput): OrderDecision {
  const { status } = input;
  // A simulated order never reached the exchange: it has no ids. Any other status did.
  const reached = status !== 'simulated';
  return {
    status,
    client_order_id: reached ? `MTF${randomBytes(8).toString('hex').toUpperCase()}` : null,
    exchange_order_id: reached ? String(randomInt(100_000_000_000, 281_474_976_710_655)) : null,
    decision_key: `${input.run_id}:${input.symbol}:${input.execution_tf}:${input.side}`,
    raw: {},
  };
}

export function ordersPlaced(orders: PlacedOrder[]): OrdersPlaced {
  const counted = (statuses: readonly string[]): number => orders.filter((o) => statuses.includes(o.status)).length;
  return {
    count: {
      total: orders.length,
      submitted: counted(['submitted', 'submitted_protected']),
      pending: counted(['entry_submitted']),
      protection_failed: counted(['failed_unprotected_closed', 'critical_unprotected_position']),
      simulated: counted(['simulated']),
    },
    orders,
  };
}
