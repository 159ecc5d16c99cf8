/** The bench worker's activities: ours, unchanged, plus the seed-shaped loop's two trivial ones. */
import { Context } from '@temporalio/activity';
import { createActivities } from '../src/activities';
import type { MtfActivities } from '../src/shared/mtf';
import type { SeedActivities } from './workflows/seed-shaped';

export interface BenchActivities {
  activities: MtfActivities & SeedActivities;
  /** `ctx.heartbeat()` calls made by our activities; the SDK throttles what reaches the server. */
  heartbeatCalls(): number;
}

export function createBenchActivities(): BenchActivities {
  let heartbeats = 0;
  const ours = createActivities({ token: 'bench-token' });
  // Counts heartbeats where the activity makes them, on its own Context, without touching its code.
  const counted =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      const ctx = Context.current();
      const heartbeat = ctx.heartbeat.bind(ctx);
      // `heartbeat` is a read-only own property of the Context: replaced on this instance only.
      Object.defineProperty(ctx, 'heartbeat', {
        value: (details?: unknown) => {
          heartbeats += 1;
          heartbeat(details);
        },
      });
      return fn(...args);
    };
  return {
    activities: {
      callMtfRun: counted((input) => ours.callMtfRun(input)),
      awaitMtfRun: counted((input) => ours.awaitMtfRun(input)),
      health_check_activity: (input) => ours.health_check_activity(input),
      notify: (notification) => ours.notify(notification),
      checkMtfStatus: ({ run_id }) => Promise.resolve({ status: run_id === null ? 'unknown' : 'success' }),
      notifyCycleFinished: () => Promise.resolve(),
    },
    heartbeatCalls: () => heartbeats,
  };
}
