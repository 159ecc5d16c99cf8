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

export const NON_RETRYABLE_ERRORS: readonly MtfErrorType[] = [
  MtfError.KillSwitch,
  MtfError.Rejected,
  MtfError.AnsweredUnreadable,
  MtfError.LiveMayHaveExecuted,
  MtfError.RunFailed,
  MtfError.RunUnknown,
];

/** The workflow's input was invalid: the workflow fails at once instead of retrying its task. */
export const INVALID_CONFIG = 'InvalidConfig';
