/**
 * Reading a run request the way the app does: a JSON body for POST, query parameters for GET,
 * lenient booleans ("1", "yes", "off"...), symbols as a list or a comma-separated string.
 */
import { createHash } from 'node:crypto';
import type { RunBodyFields } from '../shared/mtf';

/** The app accepts the fields the service sends; any timeframe word it knows, not only the loop's list. */
export type RunParams = Record<string, unknown> & Omit<RunBodyFields, 'current_tf'> & { current_tf: string | null };

/** A request the app refuses with 400; its message is the answer's. */
export class BadRequest extends Error {}

export function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** GET /api/mtf/run: a repeated key (or one ending in []) is a list, as PHP reads it. */
export function queryToObject(params: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = key.endsWith('[]') || all.length > 1 ? all : all[0];
  }
  return out;
}

function parseBool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && (value === 0 || value === 1)) return value === 1;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    if (v === '') return fallback;
  }
  throw new BadRequest(`${name} must be a boolean`);
}

function parseSymbols(value: unknown): string[] {
  let list: string[];
  if (value === undefined || value === null) {
    list = [];
  } else if (typeof value === 'string') {
    list = value.split(',');
  } else if (Array.isArray(value)) {
    list = value.map((item) => {
      if (typeof item !== 'string') throw new BadRequest('symbols must be an array of strings or a comma-separated string');
      return item;
    });
  } else {
    throw new BadRequest('symbols must be an array of strings or a comma-separated string');
  }
  return list.map((s) => s.trim()).filter((s) => s !== '');
}

function parseWorkers(value: unknown): number {
  if (value === undefined || value === null || value === '') return 1;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(n)) throw new BadRequest('workers must be an integer >= 1');
  if (n < 1) throw new BadRequest('workers must be >= 1');
  return n;
}

function parseCurrentTf(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new BadRequest('current_tf must be a string or null');
  return value;
}

export interface SymbolDefaults {
  /** What an empty or absent `symbols` means. */
  fallback: readonly string[];
  /** Whether a symbol named twice is run once. */
  dedupe: boolean;
}

/** Throws BadRequest on a field the app would refuse. */
export function parseRunParams(input: Record<string, unknown>, symbols: SymbolDefaults): RunParams {
  const named = parseSymbols(input['symbols'] ?? input['symbols[]']);
  const list = named.length > 0 ? named : [...symbols.fallback];
  return {
    symbols: symbols.dedupe ? [...new Set(list)] : list,
    dry_run: parseBool('dry_run', input['dry_run'], true),
    force_run: parseBool('force_run', input['force_run'], false),
    force_timeframe_check: parseBool('force_timeframe_check', input['force_timeframe_check'], false),
    current_tf: parseCurrentTf(input['current_tf']),
    workers: parseWorkers(input['workers']),
  };
}

const CANONICAL_RUN_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Today's app names the run after the caller's X-Run-Id: kept as it is when it is short and plain,
 * else replaced by its lower-case hex SHA-256 (never truncated, so two long ids cannot collide).
 */
export function canonicalRunId(xRunId: string): string {
  return CANONICAL_RUN_ID.test(xRunId) ? xRunId : createHash('sha256').update(xRunId, 'utf8').digest('hex');
}
