/**
 * A real loop (dev server, the real worker and activities) against the simulator answering in
 * each shape of docs/mtf-api.md — today's sequential path (`workers` 1, the default), today's
 * parallel path (`workers` > 1) and the seed era — one loop per row of the answer table: the
 * cycle's recorded outcome and message, and how many times its POST reached the app (its
 * Idempotency-Key). Whenever the app answered a JSON 2xx, that is exactly once, dry and live.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { LoopConfigInput } from '../../src/shared/config';
import type { Outcome } from '../../src/shared/outcomes';
import { startSimulator, type Simulator, type SimulatorBehaviour } from '../../src/simulator/server';
import { waitFor } from '../helpers/processes';
import { runRealLoop } from '../helpers/real-loop';
import { createDevServerEnv } from '../helpers/temporal';

/** The answer's shape: which generation of the app, and on which of today's paths. */
type Path = 'sequential' | 'parallel' | 'seed';
const PATHS: Record<Path, { answer: SimulatorBehaviour['answer']; config: LoopConfigInput }> = {
  sequential: { answer: 'today', config: {} },
  parallel: { answer: 'today', config: { workers: 4 } },
  seed: { answer: 'seed', config: {} },
};
const LIVE: LoopConfigInput = { dry_run: false, confirm_live: true };

interface Row {
  name: string;
  behaviour: Partial<SimulatorBehaviour>;
  config?: LoopConfigInput;
  outcome: Outcome;
  /** What `last_error` (and the cycle's message) says, in each path's own words; null: nothing, the cycle succeeded. */
  message: RegExp | Partial<Record<Path, RegExp>> | null;
  /** POSTs of the first cycle (one Idempotency-Key) that reached the app. */
  posts: number;
  /** Rows of these paths only. */
  only?: Path[];
}

const TODAY: Path[] = ['sequential', 'parallel'];

// At the simulator's default seed BTCUSDT and ADAUSDT come out READY, the other three INVALID.
const ROWS: Row[] = [
  { name: 'a finished run', behaviour: {}, outcome: 'succeeded', message: null, posts: 1 },
  {
    name: 'the last contract errored',
    behaviour: { run_result: 'partial_success' },
    outcome: 'partial',
    message: {
      sequential: /^1 of 5 contracts threw; first error: DOTUSDT: Kline fetch failed: exchange timeout \(simulated\)$/,
      parallel: /^partial success: 1 error\(s\), first: Worker DOTUSDT: no results returned$/,
      seed: /^partial success: 1 error\(s\), first: DOTUSDT: Timeframe 1h invalid/,
    },
    posts: 1,
  },
  {
    name: 'a contract threw, the others analysed and none READY',
    behaviour: { ready_share: 0, throw_symbols: ['ETHUSDT'] },
    outcome: 'partial',
    message: {
      sequential: /^1 of 5 contracts threw, none READY; first error: ETHUSDT: Kline fetch failed/,
      parallel: /^partial success: 1 error\(s\), first: Worker ETHUSDT: no results returned$/,
      seed: /^partial success: 1 error\(s\), first: ETHUSDT: /,
    },
    posts: 1,
  },
  {
    name: 'every contract errored',
    behaviour: { run_result: 'all_errored' },
    outcome: 'failed',
    message: /every contract errored \(5 of 5\)/,
    posts: 1,
  },
  {
    name: 'no contract processed',
    behaviour: { run_result: 'none_processed' },
    outcome: 'failed',
    message: {
      sequential: /^MTF run failed: Exchange unavailable/,
      parallel: /no contract was processed \(0 of 5 requested\)/,
      seed: /no contract was processed \(0 of 5 requested\)/,
    },
    posts: 1,
  },
  { name: 'a 200 carrying a failed run', behaviour: { run_result: 'error_200' }, outcome: 'failed', message: /MTF run failed: /, posts: 1 },
  {
    name: 'a live run the app rejected',
    behaviour: { reject_live: true },
    config: LIVE,
    outcome: 'skipped',
    message: /the app rejected the run \(no_reliable_open_state_source\)/,
    posts: 1,
    only: TODAY,
  },
  {
    name: 'an unknown status',
    behaviour: { fault: 'unknown_status' },
    outcome: 'failed',
    message: /status "exploded", which this version does not know/,
    posts: 1,
  },
  {
    name: 'a shape this version cannot read',
    behaviour: { fault: 'wrong_shape' },
    outcome: 'failed',
    message: /neither data\.run nor data\.summary/,
    posts: 1,
  },
  {
    name: 'a JSON 200 that is not JSON',
    behaviour: { fault: 'invalid_json' },
    outcome: 'failed',
    message: /not JSON.*not sent again/,
    posts: 1,
  },
  {
    name: 'a JSON 200 over the body limit',
    behaviour: { fault: 'oversized' },
    outcome: 'failed',
    message: /larger than 16777216 bytes.*not sent again/,
    posts: 1,
  },
  { name: 'a JSON 200 cut off mid-body', behaviour: { fault: 'cut_off' }, outcome: 'failed', message: /cut off.*not sent again/, posts: 1 },
  {
    name: 'a live JSON 200 cut off mid-body',
    behaviour: { fault: 'cut_off' },
    config: LIVE,
    outcome: 'failed',
    message: /cut off.*not sent again/,
    posts: 1,
  },
  {
    name: 'a live run whose contracts all errored',
    behaviour: { run_result: 'all_errored' },
    config: LIVE,
    outcome: 'failed',
    message: /every contract errored/,
    posts: 1,
  },
  {
    name: 'a live run in which a contract threw',
    behaviour: { throw_symbols: ['SOLUSDT'] },
    config: LIVE,
    outcome: 'partial',
    message: /SOLUSDT/,
    posts: 1,
  },
  {
    name: 'a 200 HTML page from a proxy (retried)',
    behaviour: { fault: 'html200' },
    outcome: 'failed',
    message: /HTTP 200.*not JSON.*\(after 3 attempts\)/,
    posts: 3,
  },
  {
    name: 'an accepted (202) run, polled',
    behaviour: { mode: 'async', latency_ms: 100 },
    config: { poll_interval: 0.05 },
    outcome: 'succeeded',
    message: null,
    posts: 1,
  },
  {
    name: 'an accepted (202) run in which a contract threw, polled',
    behaviour: { mode: 'async', latency_ms: 100, throw_symbols: ['ETHUSDT'] },
    config: { poll_interval: 0.05 },
    outcome: 'partial',
    message: /ETHUSDT/,
    posts: 1,
  },
  { name: 'a 403 kill switch', behaviour: { kill_switch_on: false }, outcome: 'skipped', message: /kill switch is OFF/, posts: 1 },
  { name: 'a 422', behaviour: { fault: 'http422' }, outcome: 'failed', message: /HTTP 422 .*ORCHESTRATION_CORRELATION_MISMATCH/, posts: 1 },
  {
    name: 'a 500, then a success (retried)',
    behaviour: { fault: 'http500', fault_count: 1 },
    outcome: 'succeeded',
    message: null,
    posts: 2,
  },
  {
    name: 'a 502 HTML page, then a success (retried)',
    behaviour: { fault: 'html502', fault_count: 1 },
    outcome: 'succeeded',
    message: null,
    posts: 2,
  },
];

/** One cycle per loop (the pause is an hour), quick retries. */
const ONE_CYCLE: LoopConfigInput = { ping_interval: 3600, retry_initial_interval: 0.1, retry_max_interval: 0.2 };
/** A healthy app: each row changes only what it names. */
const HEALTHY: Partial<SimulatorBehaviour> = {
  mode: 'sync',
  latency_ms: 0,
  fault: 'none',
  fault_count: null,
  run_result: 'success',
  reject_live: false,
  kill_switch_on: true,
  ready_share: 0.4,
  throw_share: 0,
  throw_symbols: [],
};

let env: TestWorkflowEnvironment;
const sims = new Map<Path, Simulator>();
before(async () => {
  const [server, ...started] = await Promise.all([
    createDevServerEnv(),
    ...Object.values(PATHS).map((p) => startSimulator({ behaviour: { answer: p.answer } })),
  ]);
  env = server;
  Object.keys(PATHS).forEach((path, i) => sims.set(path as Path, started[i] ?? assert.fail('no simulator')));
});
after(async () => {
  await Promise.all([env?.teardown(), ...[...sims.values()].map((sim) => sim.close())]);
});

function messageOf(row: Row, path: Path): RegExp | null {
  if (row.message === null || row.message instanceof RegExp) return row.message;
  return row.message[path] ?? assert.fail(`row ${row.name} has no message for the ${path} path`);
}

for (const path of Object.keys(PATHS) as Path[]) {
  void describe(`a loop against the ${path === 'seed' ? 'seed-era answer' : `${path} path of today's answer`}`, () => {
    for (const row of ROWS.filter((r) => !r.only || r.only.includes(path))) {
      void test(`${row.name}: ${row.outcome}, ${row.posts} POST${row.posts > 1 ? 's' : ''}`, async () => {
        const sim = sims.get(path) ?? assert.fail('no simulator');
        sim.setBehaviour({ ...HEALTHY, ...row.behaviour });
        const message = messageOf(row, path);
        await runRealLoop(env, sim, { ...ONE_CYCLE, ...PATHS[path].config, ...row.config }, async (loop) => {
          const s = await waitFor(
            () => loop.status(),
            (st) => st.counters.cycles >= 1,
            'the first cycle',
          );
          assert.equal(s.last_cycle?.outcome, row.outcome, s.last_cycle?.message ?? '');
          assert.equal(s.counters[row.outcome], 1);
          const failing = row.outcome === 'failed' ? 1 : 0;
          assert.equal(s.counters.consecutive_failures, failing, 'a failed cycle counts in the failure streak; nothing else does');
          if (message) {
            assert.match(s.last_cycle?.message ?? '', message);
            assert.match(s.last_error ?? '', new RegExp(`^iteration 1: .*${message.source.replace(/^\^/, '')}`));
          } else {
            assert.equal(s.last_error, null);
          }
          const posts = loop.requests().filter((r) => r.idempotency_key?.endsWith('/1'));
          assert.equal(posts.length, row.posts, `POSTs of cycle 1: ${JSON.stringify(posts.map((r) => r.status))}`);
        });
      });
    }
  });
}

void describe("a contract that throws on every run (a delisted one) beside the others: the loop's figures on both of today's paths", () => {
  for (const path of TODAY) {
    void test(`${path}: three cycles partial, never FAILING; READY, INVALID, errored and requested counted, the app's word kept`, async () => {
      const sim = sims.get(path) ?? assert.fail('no simulator');
      // None READY: on the sequential path the app calls each of these runs `error`.
      sim.setBehaviour({ ...HEALTHY, ready_share: 0, throw_symbols: ['DOTUSDT'] });
      await runRealLoop(env, sim, { ping_interval: 0.05, ...PATHS[path].config }, async (loop) => {
        const s = await loop.afterRequests(4);
        assert.ok(s.counters.cycles >= 3, `${s.counters.cycles} cycles`);
        assert.equal(s.counters.partial, s.counters.cycles, 'every cycle partial');
        assert.equal(s.counters.failed, 0);
        assert.equal(s.counters.consecutive_failures, 0, 'no failure streak: no FAILING state, no alert, no page');
        assert.equal(s.counters.symbols_requested, 5 * s.counters.cycles, 'the contract that threw is counted as requested');
        const c = s.last_cycle ?? assert.fail('no cycle');
        assert.deepEqual(c.contracts, { ready: 0, invalid: 4, error: 1, other: 0 }, 'the same figures on both paths');
        assert.equal(c.symbols_requested, 5);
        assert.equal(c.app_status, path === 'sequential' ? 'error' : 'completed_with_errors');
        assert.equal(c.symbol_errors.length, 1);
        assert.match(c.symbol_errors[0] ?? '', /DOTUSDT/);
      });
    });
  }
});
