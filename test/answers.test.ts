/**
 * A real loop (dev server, the real worker and activities) against the simulator answering in
 * each generation of ../shared/mtf-api.md, one loop per row of the answer table: the cycle's
 * recorded outcome and message, and how many times its POST reached the app (its Idempotency-Key).
 * Whenever the app answered a JSON 2xx, that is exactly once, dry and live.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { LoopConfigInput, Outcome } from '../src/shared/config';
import { startSimulator, type Simulator, type SimulatorBehaviour } from '../src/simulator/server';
import { waitFor } from './helpers/processes';
import { runRealLoop } from './helpers/real-loop';
import { createDevServerEnv } from './helpers/temporal';

type Generation = SimulatorBehaviour['answer'];
const LIVE: LoopConfigInput = { dry_run: false, confirm_live: true };

interface Row {
  name: string;
  behaviour: Partial<SimulatorBehaviour>;
  config?: LoopConfigInput;
  outcome: Outcome;
  /** What `last_error` (and the cycle's message) says; null: nothing, the cycle succeeded. */
  message: RegExp | null;
  /** POSTs of the first cycle (one Idempotency-Key) that reached the app. */
  posts: number;
  /** A row of one generation only. */
  only?: Generation;
}

const ROWS: Row[] = [
  { name: 'a finished run', behaviour: {}, outcome: 'succeeded', message: null, posts: 1 },
  { name: 'some contracts errored', behaviour: { run_result: 'partial_success' }, outcome: 'partial', message: /partial success: 1 error\(s\)/, posts: 1 },
  { name: 'every contract errored', behaviour: { run_result: 'all_errored' }, outcome: 'failed', message: /every contract errored \(5 of 5\)/, posts: 1 },
  { name: 'no contract processed', behaviour: { run_result: 'none_processed' }, outcome: 'failed', message: /no contract was processed \(0 of 5 requested\)/, posts: 1 },
  { name: 'a 200 carrying a failed run', behaviour: { run_result: 'error_200' }, outcome: 'failed', message: /MTF run failed: /, posts: 1 },
  {
    name: 'a live run the app rejected',
    behaviour: { reject_live: true },
    config: LIVE,
    outcome: 'skipped',
    message: /the app rejected the run \(no_reliable_open_state_source\)/,
    posts: 1,
    only: 'today',
  },
  { name: 'an unknown status', behaviour: { fault: 'unknown_status' }, outcome: 'failed', message: /status "exploded", which this version does not know/, posts: 1 },
  { name: 'a shape this version cannot read', behaviour: { fault: 'wrong_shape' }, outcome: 'failed', message: /neither data\.run nor data\.summary/, posts: 1 },
  { name: 'a JSON 200 that is not JSON', behaviour: { fault: 'invalid_json' }, outcome: 'failed', message: /not JSON.*not sent again/, posts: 1 },
  { name: 'a JSON 200 over the body limit', behaviour: { fault: 'oversized' }, outcome: 'failed', message: /larger than 16777216 bytes.*not sent again/, posts: 1 },
  { name: 'a JSON 200 cut off mid-body', behaviour: { fault: 'cut_off' }, outcome: 'failed', message: /cut off.*not sent again/, posts: 1 },
  { name: 'a live JSON 200 cut off mid-body', behaviour: { fault: 'cut_off' }, config: LIVE, outcome: 'failed', message: /cut off.*not sent again/, posts: 1 },
  { name: 'a live run whose contracts all errored', behaviour: { run_result: 'all_errored' }, config: LIVE, outcome: 'failed', message: /every contract errored/, posts: 1 },
  { name: 'a 200 HTML page from a proxy (retried)', behaviour: { fault: 'html200' }, outcome: 'failed', message: /HTTP 200.*not JSON.*\(after 3 attempts\)/, posts: 3 },
  { name: 'an accepted (202) run, polled', behaviour: { mode: 'async', latency_ms: 100 }, config: { poll_interval: 0.05 }, outcome: 'succeeded', message: null, posts: 1 },
  { name: 'a 403 kill switch', behaviour: { kill_switch_on: false }, outcome: 'skipped', message: /kill switch is OFF/, posts: 1 },
  { name: 'a 422', behaviour: { fault: 'http422' }, outcome: 'failed', message: /HTTP 422 .*ORCHESTRATION_CORRELATION_MISMATCH/, posts: 1 },
  { name: 'a 500, then a success (retried)', behaviour: { fault: 'http500', fault_count: 1 }, outcome: 'succeeded', message: null, posts: 2 },
  { name: 'a 502 HTML page, then a success (retried)', behaviour: { fault: 'html502', fault_count: 1 }, outcome: 'succeeded', message: null, posts: 2 },
];

/** One cycle per loop (the pause is an hour), quick retries. */
const ONE_CYCLE: LoopConfigInput = { ping_interval: 3600, retry_initial_interval: 0.1, retry_max_interval: 0.2 };

let env: TestWorkflowEnvironment;
const sims = new Map<Generation, Simulator>();
before(async () => {
  const [server, today, seed] = await Promise.all([createDevServerEnv(), startSimulator(), startSimulator({ behaviour: { answer: 'seed' } })]);
  env = server;
  sims.set('today', today).set('seed', seed);
});
after(async () => {
  await Promise.all([env?.teardown(), ...[...sims.values()].map((sim) => sim.close())]);
});

for (const answer of ['today', 'seed'] as const) {
  void describe(`a loop against the ${answer} answer`, () => {
    for (const row of ROWS.filter((r) => !r.only || r.only === answer)) {
      void test(`${row.name}: ${row.outcome}, ${row.posts} POST${row.posts > 1 ? 's' : ''}`, async () => {
        const sim = sims.get(answer) ?? assert.fail('no simulator');
        sim.setBehaviour({ answer, mode: 'sync', latency_ms: 0, fault: 'none', fault_count: null, run_result: 'success', reject_live: false, kill_switch_on: true, ...row.behaviour });
        await runRealLoop(env, sim, { ...ONE_CYCLE, ...row.config }, async (loop) => {
          const s = await waitFor(() => loop.status(), (st) => st.counters.cycles >= 1, 'the first cycle');
          assert.equal(s.last_cycle?.outcome, row.outcome, s.last_cycle?.message ?? '');
          assert.equal(s.counters[row.outcome], 1);
          const failing = row.outcome === 'failed' ? 1 : 0;
          assert.equal(s.counters.consecutive_failures, failing, 'a failed cycle counts in the failure streak; nothing else does');
          if (row.message) {
            assert.match(s.last_cycle?.message ?? '', row.message);
            assert.match(s.last_error ?? '', new RegExp(`^iteration 1: .*${row.message.source}`));
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
