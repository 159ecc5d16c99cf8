import type { Outcome } from './outcomes';

/**
 * The failure types the MTF activities raise, as `ApplicationFailure.type`. The retry policy lists
 * the non-retryable ones, so Temporal's own retry machinery does the retrying.
 */
export const MtfError = {
  /** 403: a kill switch is OFF. Retrying will not help; `force_run: true` overrides it. */
  KillSwitch: 'MtfKillSwitchOff',
  /** Another 4xx: the request itself is wrong. */
  Rejected: 'MtfRequestRejected',
  /** 5xx (JSON or an HTML page from the proxy). */
  ServerError: 'MtfServerError',
  /** Nothing answered: connection refused. The request provably never reached the app. */
  Unreachable: 'MtfUnreachable',
  /** The connection failed or timed out after the request may have been sent. */
  Network: 'MtfNetworkError',
  /** The answer is not the app's JSON (an HTML page from a proxy, a 2xx other than 200/202 without JSON): retried. */
  BadResponse: 'MtfBadResponse',
  /**
   * The app answered a JSON 2xx, so it ran the cycle, but the answer cannot be read (cut off, over
   * the limit, not JSON, a status or shape this version does not know): never sent again.
   */
  AnsweredUnreadable: 'MtfAnsweredUnreadable',
  /** A live, non-idempotent run failed after it may have reached the app: never sent again. */
  LiveMayHaveExecuted: 'MtfLiveRunMayHaveExecuted',
  /** An accepted run's `mtf_completed` callback said it failed (an answer that says so is read into a failed report). */
  RunFailed: 'MtfRunFailed',
  /** The status route answered 404: the app does not know the run. */
  RunUnknown: 'MtfRunUnknown',
} as const;
export type MtfErrorType = (typeof MtfError)[keyof typeof MtfError];

/** What one failure type means for the retry policy, the live-run guard, the cycle's outcome and its trades. */
export interface MtfErrorClass {
  /** Temporal's retry policy tries again (within the cycle's attempts and budget). */
  retryable: boolean;
  /**
   * The request may have reached the app before it failed: in a live, non-idempotent run the
   * failure becomes final (`LiveMayHaveExecuted`) instead of being sent again.
   */
  mayHaveExecuted: boolean;
  /** The outcome a cycle that ends on this failure records. */
  outcome: Extract<Outcome, 'failed' | 'skipped'>;
  /** The app provably ran nothing (refused, skipped, never reached): the cycle caused no trade. */
  ranNothing: boolean;
}

/** Complete by type, as the SDK's failure tables are: a new type does not compile until it is classified here. */
export const MTF_ERRORS: Readonly<Record<MtfErrorType, MtfErrorClass>> = {
  [MtfError.KillSwitch]: { retryable: false, mayHaveExecuted: false, outcome: 'skipped', ranNothing: true },
  [MtfError.Rejected]: { retryable: false, mayHaveExecuted: false, outcome: 'failed', ranNothing: true },
  [MtfError.ServerError]: { retryable: true, mayHaveExecuted: true, outcome: 'failed', ranNothing: false },
  [MtfError.Unreachable]: { retryable: true, mayHaveExecuted: false, outcome: 'failed', ranNothing: true },
  [MtfError.Network]: { retryable: true, mayHaveExecuted: true, outcome: 'failed', ranNothing: false },
  [MtfError.BadResponse]: { retryable: true, mayHaveExecuted: true, outcome: 'failed', ranNothing: false },
  [MtfError.AnsweredUnreadable]: { retryable: false, mayHaveExecuted: false, outcome: 'failed', ranNothing: false },
  [MtfError.LiveMayHaveExecuted]: { retryable: false, mayHaveExecuted: false, outcome: 'failed', ranNothing: false },
  [MtfError.RunFailed]: { retryable: false, mayHaveExecuted: false, outcome: 'failed', ranNothing: false },
  [MtfError.RunUnknown]: { retryable: false, mayHaveExecuted: false, outcome: 'failed', ranNothing: false },
};

const MTF_ERROR_TYPES = Object.keys(MTF_ERRORS) as MtfErrorType[];

/** The class of a failure's `type`; undefined for a type that is not one of these (a plain error, another activity's). */
export function mtfErrorClass(type: string | null | undefined): MtfErrorClass | undefined {
  return MTF_ERROR_TYPES.includes(type as MtfErrorType) ? MTF_ERRORS[type as MtfErrorType] : undefined;
}

/** The retry policy's `nonRetryableErrorTypes`. */
export const NON_RETRYABLE_ERRORS: readonly MtfErrorType[] = MTF_ERROR_TYPES.filter((type) => !MTF_ERRORS[type].retryable);

/** The workflow's input was invalid: the workflow fails at once instead of retrying its task. */
export const INVALID_CONFIG = 'InvalidConfig';
