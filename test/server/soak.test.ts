/**
 * The short soak of `npm test`: 10 loops × 60 cycles on one worker against the simulator with a
 * seeded mix of faults, a continue-as-new every 15 cycles. Many short loops, not a few long ones:
 * a loop's cycles are sequential, so the loops in parallel are what keeps it short.
 * `npm run soak` runs the full 5,000 cycles (test/soak/main.ts).
 */
import { test } from 'node:test';
import { formatSoak, runSoak } from '../soak/soak';

test('600 cycles with a seeded mix of faults, across continue-as-new: counters, simulator log and histories agree exactly; memory stays bounded', async (t) => {
  // error_rate 0.4: about 3 % of cycles exhaust their 3 attempts, so the 600 cycles always hold failed ones.
  const result = await runSoak({ loops: 10, cyclesPerLoop: 60, maxCyclesPerRun: 15, errorRate: 0.4, seed: 20_251_124, timeoutMs: 120_000 });
  // One diagnostic per line: the runner escapes line breaks inside one.
  for (const line of formatSoak(result).split('\n')) t.diagnostic(line);
});
