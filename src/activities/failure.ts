/** The typed failures the activities raise: each carries its own retryability, so it holds under any retry policy. */
import { ApplicationFailure } from '@temporalio/common';
import { MTF_ERRORS, type MtfErrorType } from '../shared/errors';

export function failure(type: MtfErrorType, message: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({ type, message, details: details ? [details] : undefined, nonRetryable: !MTF_ERRORS[type].retryable });
}
