/**
 * What the simulator's own tests (test/server/simulator-*.test.ts) share: a simulator per test, its
 * answers read as text and JSON, and today's answer read symbol by symbol.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../src/simulator/server';
import type { Simulator, SimulatorBehaviour } from '../../src/simulator/server';

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
export const DEFAULT_SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT', 'DOTUSDT'];

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument */
// Bodies are read as `any` on purpose: the tests check shapes field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export async function start(t: TestContext, behaviour: Partial<SimulatorBehaviour> = {}): Promise<Simulator> {
  const sim = await startSimulator({ behaviour });
  t.after(() => sim.close());
  return sim;
}

/** The seed-era answer (data.summary, data.results): what the simulator served before today's. */
export function startSeed(t: TestContext, behaviour: Partial<SimulatorBehaviour> = {}): Promise<Simulator> {
  return start(t, { answer: 'seed', ...behaviour });
}

export interface Answer {
  status: number;
  contentType: string;
  text: string;
  json: Json;
}

export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json };
}

export function postRun(sim: Simulator, body: unknown = {}, headers: Record<string, string> = {}): Promise<Answer> {
  return call(sim.runUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export const READY_TFS = ['1m', '5m', '15m'];
export const BLOCKING_TFS = ['4h', '1h', '15m', '5m'];

/** Each symbol's verdict in a today answer, e.g. { BTCUSDT: 'READY 1m SHORT', ETHUSDT: 'INVALID 5m' }. */
export function verdicts(body: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [symbol, r] of Object.entries<Json>(body.data.symbols)) {
    out[symbol] = r.status === 'READY' ? `READY ${r.execution_tf} ${r.signal_side}` : `${r.status} ${r.blocking_tf ?? ''}`.trim();
  }
  return out;
}

/** The contracts of a today answer's data.symbols (`[]` when none: PHP's empty map). */
export function contractKeys(symbols: Json): string[] {
  return Object.keys(symbols);
}

/** The parallel path (several workers): its runner's figures are the ones assertFiguresAgree checks. */
export const PARALLEL = { workers: 4 };

export function symbolsWith(body: Json, status: string): string[] {
  return Object.values<Json>(body.data.symbols)
    .filter((r) => r.status === status)
    .map((r) => r.symbol as string);
}

/** data.run's figures agree with data.symbols, as the app's parallel runner computes them. */
export function assertFiguresAgree(body: Json): void {
  const run = body.data.run;
  const ready = symbolsWith(body, 'READY').length;
  const failed = symbolsWith(body, 'INVALID').length + symbolsWith(body, 'ERROR').length;
  assert.equal(run.symbols_processed, contractKeys(body.data.symbols).length);
  assert.equal(run.symbols_successful, ready);
  assert.equal(run.symbols_failed, failed);
  assert.equal(run.symbols_skipped, 0);
  const rate = run.symbols_processed === 0 ? 0 : Math.round((ready / run.symbols_processed) * 10_000) / 100;
  assert.equal(run.success_rate, rate);
}

/** Reads a body to its end or its failure, counting the bytes that arrived. */
export async function readAll(res: Response): Promise<{ outcome: 'ended' | 'failed'; received: number }> {
  assert.ok(res.body);
  const reader = res.body.getReader();
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { outcome: 'ended', received };
      received += value.byteLength;
    }
  } catch {
    return { outcome: 'failed', received };
  }
}
