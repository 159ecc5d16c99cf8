/**
 * The body of the MTF run POST: the keys the loop's config owns, written once, and the rules for
 * `request_extra`, the fields sent beside them. Imported by workflow code: no Node built-ins.
 */

import type * as s from './schema';

/** The body keys the config schema owns, in the order they are sent: each is set as the loop's own key. */
export const RUN_BODY_KEYS = ['symbols', 'dry_run', 'force_run', 'force_timeframe_check', 'current_tf', 'workers'] as const;
export type RunBodyKey = (typeof RUN_BODY_KEYS)[number];

/** `request_extra` as the app reads it: one JSON body, so its size is the size of its JSON. */
export const MAX_REQUEST_EXTRA_BYTES = 4096;

/** Lineage and identity the loop owns through its headers (X-Run-Id), or that the app checks against them: it would answer 422 every cycle. */
const LINEAGE_KEYS = ['run_id', 'original_run_id', 'correlation_run_id', 'dashboard_id', 'set_id', 'trading_identity'];
/**
 * Fields the app misreads or that defeat it, each with why: refused on every loop. The aliases
 * invite a 422 beside their field; a snapshot goes stale between two cycles.
 */
const MISREAD_KEYS = new Map([
  [
    'open_state_snapshot',
    'open_state_snapshot hands the app a snapshot of open positions and orders instead ' +
      'of its own fresh read; a stale one defeats its open-position filter on a live run',
  ],
  ['cex', 'cex is an alias of exchange: send exchange (two spellings of one field invite a 422)'],
  ['type_contract', 'type_contract is an alias of market_type: send market_type (two spellings of one field invite a 422)'],
]);
/** Fields that switch off one of the app's own safety nets, and the value that does it: refused on a live loop. */
export const SAFETY_NET_OFF: Record<string, boolean> = { skip_open_state_filter: true, skip_context: true, process_tp_sl: false };

/** UTF-8 bytes of a text, without Node's Buffer (workflow code imports this file). */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** Why a key of `request_extra` may never be sent this way, or null. */
function refusedExtraKey(key: string): string | null {
  if ((RUN_BODY_KEYS as readonly string[]).includes(key)) return `${key} is a config key of its own: set ${key} instead`;
  const misread = MISREAD_KEYS.get(key);
  if (misread) return misread;
  if (LINEAGE_KEYS.includes(key) || key.startsWith('orchestration_')) {
    return `${key} is the run's lineage, which the loop owns through its X-Run-Id header; the app would refuse every cycle with 422`;
  }
  return null;
}

/**
 * Why `request_extra` is refused, or null. JSON Schema can say which keys it refuses (one of those
 * keys, an `orchestration_` one, an empty or blank one), not how many bytes the whole may hold. The
 * words and that part are made when asked (`mtf-ping-pong schema`), not by every running loop.
 */
export const checkRequestExtra: s.Check<Record<string, unknown>> = {
  problem: requestExtraProblem,
  get rule() {
    const keys = [...RUN_BODY_KEYS, ...MISREAD_KEYS.keys(), ...LINEAGE_KEYS].join(', ');
    return `must not carry ${keys}, a key starting orchestration_ or an empty key, and must be at most ${MAX_REQUEST_EXTRA_BYTES} bytes of JSON`;
  },
  get jsonSchema() {
    const refused = { enum: [...RUN_BODY_KEYS, ...MISREAD_KEYS.keys(), ...LINEAGE_KEYS] };
    return { propertyNames: { not: { anyOf: [refused, { pattern: '^orchestration_' }, { pattern: '^\\s*$' }] } } };
  },
};

function requestExtraProblem(extra: Record<string, unknown>): string | null {
  const refused = Object.keys(extra)
    .map(refusedExtraKey)
    .filter((why) => why !== null);
  if (refused.length > 0) return `must not carry ${refused.join('; ')}`;
  if (Object.keys(extra).some((key) => key.trim() === '')) return 'must not have an empty key';
  const bytes = utf8Bytes(JSON.stringify(extra));
  return bytes > MAX_REQUEST_EXTRA_BYTES ? `must be at most ${MAX_REQUEST_EXTRA_BYTES} bytes of JSON (it is ${bytes})` : null;
}
