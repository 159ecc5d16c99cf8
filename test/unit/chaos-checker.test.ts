/**
 * Issue 36: the chaos campaign's checker and nemesis, alone. The checker is fed records written by
 * hand, one fault at a time, and must name each violation with its guarantee, seed, loop and
 * iteration, and count each allowed re-send by its cause; the nemesis must choose the same faults
 * at the same steps for the same seed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RecordedRequest } from '../../src/simulator/server';
import type { LoopStatus } from '../../src/shared/status';
import { check, type CheckInput, type LoopOutcome } from '../chaos/checker';
import { planFault } from '../chaos/nemesis';
import { runningStatus } from '../helpers/fixtures';

const SEED = 7;
const T0 = 1_000_000;

/** A POST of `loop`'s iteration from `identity`, answered at `at` (+100 ms), whole unless said otherwise. */
function post(
  seq: number,
  loop: string,
  iteration: number,
  identity: string,
  at: number,
  extra: Partial<RecordedRequest> = {},
): RecordedRequest {
  return {
    seq,
    method: 'POST',
    path: '/api/mtf/run',
    idempotency_key: `${loop}/run-1/${iteration}`,
    x_run_id: `mtfpp.x.${iteration}`,
    authorization: null,
    user_agent: `mtf-ping-pong (${identity})`,
    body: {},
    status: 200,
    run_id: `run-${seq}`,
    executed: true,
    fault: 'none',
    received_at: at,
    finished_at: at + 100,
    ...extra,
  };
}

/** A loop that recorded `cycles` cycles, all succeeded, iterations 1..cycles, running, recovered. */
function loop(id: string, cycles: number, extra: Partial<LoopOutcome> = {}, status: Partial<LoopStatus> = {}): LoopOutcome {
  const base = runningStatus(id);
  return {
    id,
    live: false,
    execution: 'RUNNING',
    recoveredMs: 1_000,
    boundMs: 131_000,
    status: {
      ...base,
      counters: { ...base.counters, cycles, succeeded: cycles },
      recent_cycles: Array.from({ length: cycles }, (_, i) => ({
        iteration: i + 1,
        outcome: 'succeeded' as const,
        finished_at: new Date(T0 + i * 1000).toISOString(),
        cycle_seconds: 0.1,
        ready: null,
        orders: null,
        protection_alert: false,
        trades: null,
      })),
      ...status,
    },
    ...extra,
  };
}

function input(parts: Partial<CheckInput>): CheckInput {
  return {
    seed: SEED,
    requests: [],
    faults: [],
    processes: [
      { identity: 'chaos-w1.1', slot: 'w1', endedAt: null, stalls: [] },
      { identity: 'chaos-w2.1', slot: 'w2', endedAt: null, stalls: [] },
    ],
    loops: [],
    leftPids: [],
    attemptTimeoutMs: 8_000,
    ...parts,
  };
}

describe('the chaos checker', () => {
  test('a quiet run: one request per cycle, counters equal the records, no violation', () => {
    const requests = [1, 2, 3].map((i) => post(i, 'dry', i, 'chaos-w1.1', T0 + i * 1000));
    const result = check(input({ requests, loops: [loop('dry', 3)] }));
    assert.deepEqual(result.violations, []);
    assert.deepEqual(result.resends, { 'answer not whole': 0, 'worker restart': 0, 'other worker': 0 });
  });

  test('guarantee 1: a whole JSON 2xx re-sent by the same process is a violation, named with its seed, loop and iteration', () => {
    const requests = [post(1, 'dry', 1, 'chaos-w1.1', T0), post(2, 'dry', 1, 'chaos-w1.1', T0 + 2_000)];
    const { violations } = check(input({ requests, loops: [loop('dry', 1)] }));
    assert.equal(violations.length, 1);
    assert.deepEqual({ ...violations[0], message: undefined }, { guarantee: 1, seed: SEED, loop: 'dry', iteration: 1, message: undefined });
    assert.match(
      violations[0]?.message ?? '',
      /#2 from chaos-w1\.1 re-sent a key after its answer: the JSON 200 of #1 reached that process whole/,
    );
    // Two attempts at once in one process: the second sent while the first was being answered.
    const concurrent = [post(1, 'dry', 1, 'chaos-w1.1', T0), post(2, 'dry', 1, 'chaos-w1.1', T0 + 20)];
    const [both] = check(input({ requests: concurrent, loops: [loop('dry', 1)] })).violations;
    assert.match(both?.message ?? '', /#2 from chaos-w1\.1 re-sent a key while its earlier request was being answered/);
  });

  test('re-sends that are allowed are counted by cause: an answer cut on the link, a stalled reader, a late answer, a restart, another worker', () => {
    const requests = [
      // Cut by a toxic on the app link while it was answered: not whole.
      post(1, 'dry', 1, 'chaos-w1.1', T0),
      post(2, 'dry', 1, 'chaos-w1.1', T0 + 2_000),
      // Its process was stalled (SIGSTOP) while the answer arrived.
      post(3, 'dry', 2, 'chaos-w2.1', T0 + 10_000),
      post(4, 'dry', 2, 'chaos-w2.1', T0 + 12_000),
      // Answered after the attempt's timeout.
      post(5, 'dry', 3, 'chaos-w1.1', T0 + 20_000, { finished_at: T0 + 29_000 }),
      post(6, 'dry', 3, 'chaos-w1.1', T0 + 30_000),
      // A restarted process of the same slot, then the other worker.
      post(7, 'dry', 4, 'chaos-w1.1', T0 + 40_000),
      post(8, 'dry', 4, 'chaos-w1.2', T0 + 42_000),
      post(9, 'dry', 4, 'chaos-w2.1', T0 + 44_000),
    ];
    const result = check(
      input({
        requests,
        faults: [{ kind: 'link', target: 'app', from: T0 + 50, to: T0 + 500 }],
        processes: [
          { identity: 'chaos-w1.1', slot: 'w1', endedAt: T0 + 41_000, stalls: [] },
          { identity: 'chaos-w1.2', slot: 'w1', endedAt: null, stalls: [] },
          { identity: 'chaos-w2.1', slot: 'w2', endedAt: null, stalls: [{ from: T0 + 10_050, to: T0 + 11_000 }] },
        ],
        loops: [loop('dry', 4)],
      }),
    );
    assert.deepEqual(result.violations, []);
    assert.deepEqual(result.resends, { 'answer not whole': 3, 'worker restart': 1, 'other worker': 1 });
    assert.equal(result.dryRunsExecutedTwice, 4, 'each of the four keys ran twice or more at the app');
  });

  test('guarantee 2: a live cycle that reaches the app twice, whatever the cause', () => {
    const requests = [
      post(1, 'live', 1, 'chaos-w1.1', T0, { status: null, finished_at: null }),
      post(2, 'live', 1, 'chaos-w2.1', T0 + 5_000),
    ];
    const { violations } = check(input({ requests, loops: [loop('live', 1, { live: true })] }));
    assert.deepEqual(
      violations.map((v) => [v.guarantee, v.loop, v.iteration]),
      [[2, 'live', 1]],
    );
  });

  test('guarantee 3: a gap or a repeat in the records, counters that disagree, an iteration at the app the loop never recorded', () => {
    const gappy = loop('gappy', 3);
    gappy.status.recent_cycles.splice(1, 1);
    const uneven = loop('uneven', 2, {}, {});
    uneven.status.counters.failed = 1;
    const behind = loop('behind', 2);
    const requests = [post(1, 'behind', 3, 'chaos-w1.1', T0)];
    const { violations } = check(input({ requests, loops: [gappy, uneven, behind] }));
    assert.deepEqual(
      violations.map((v) => [v.guarantee, v.loop, v.iteration]),
      [
        [3, 'gappy', 3],
        [3, 'uneven', null],
        [3, 'behind', 3],
      ],
    );
  });

  test('guarantees 5 and 6: a loop not running, one that never recovered, one off its beat; a process left behind', () => {
    const { violations } = check(
      input({
        loops: [loop('failed', 1, { execution: 'FAILED' }), loop('stuck', 1, { recoveredMs: null }), loop('aligned', 1, { onBeat: false })],
        leftPids: [4242],
      }),
    );
    assert.deepEqual(
      violations.map((v) => [v.guarantee, v.loop]),
      [
        [5, 'failed'],
        [5, 'stuck'],
        [5, 'aligned'],
        [6, null],
      ],
    );
    assert.match(violations[3]?.message ?? '', /process 4242 is still running/);
  });
});

describe('the nemesis', () => {
  test('the same seed chooses the same faults at the same steps; another seed, others', () => {
    const plan = (seed: number) => Array.from({ length: 50 }, (_, i) => planFault(seed, i + 1));
    assert.deepEqual(plan(36), plan(36));
    assert.notDeepEqual(plan(36), plan(37));
    const kinds = new Set(plan(36).map((f) => f.kind));
    assert.deepEqual([...kinds].sort(), ['answer', 'kill', 'link', 'postgres', 'stall'], 'fifty steps draw every kind of fault');
    for (const fault of plan(36)) {
      assert.ok(fault.holdMs > 0 && fault.gapMs > 0);
      if (fault.kind === 'stall') assert.ok(fault.holdMs <= 40_000, 'a stall lasts at most 40 s');
    }
  });
});
