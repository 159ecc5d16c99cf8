/**
 * The failure converter of encrypted loops. It moves a failure's message and stack trace into a
 * payload (`encodeCommonAttributes`), so the payload codec encrypts them like any other payload
 * and the history keeps only "Encoded failure": an app's error text can name symbols or runs.
 *
 * It is a module of its own because the SDK takes it by path (`failureConverterPath`): the worker
 * requires it for activity failures, and the workflow bundle compiles it in for the workflow's own
 * failures. So it must stay sandbox-safe: @temporalio/common only, no Node built-ins.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
