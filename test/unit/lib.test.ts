/** src/lib/: the one-line message of an error, and when a failed call ran out of time. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServiceError } from '@temporalio/client';
import { messageOf } from '../../src/lib/errors';
import { AT_THE_DEADLINE_MS, GrpcStatus, ranOutOfTime } from '../../src/lib/grpc';

/** A gRPC error as grpc-js makes it: an Error with a code, details and metadata. */
function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: { getMap: () => ({}) } });
}

describe('messageOf', () => {
  test("a ServiceError says what the SDK was doing and, after it, the server's own words", () => {
    const wrapped = new ServiceError('Failed to query Workflow', { cause: grpcError(2, 'context deadline exceeded') });
    assert.equal(messageOf(wrapped), 'Failed to query Workflow: context deadline exceeded');
  });

  test('anything else is its message, once: a bare gRPC error, a plain error, a thrown value', () => {
    assert.equal(messageOf(grpcError(14, 'No connection established')), '14 No connection established');
    assert.equal(messageOf(new ServiceError('14 UNAVAILABLE: gone', { cause: grpcError(14, 'gone') })), '14 UNAVAILABLE: gone');
    assert.equal(messageOf(new Error('plain', { cause: new Error('inner') })), 'plain');
    assert.equal(messageOf('a string'), 'a string');
  });
});

describe('ranOutOfTime', () => {
  const deadline = 1_000_000;
  test("the client's DEADLINE_EXCEEDED, whenever it comes", () => {
    assert.equal(ranOutOfTime(grpcError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded'), deadline, deadline - 5_000), true);
  });

  test("any gRPC error at the deadline: the server ended the call a moment before the client's deadline, with its own code", () => {
    const serverEnded = new ServiceError('Failed to query Workflow', { cause: grpcError(2, 'context deadline exceeded') });
    assert.equal(ranOutOfTime(serverEnded, deadline, deadline - AT_THE_DEADLINE_MS + 1), true);
    assert.equal(ranOutOfTime(serverEnded, deadline, deadline - AT_THE_DEADLINE_MS - 1_000), false, 'earlier, it is an error of its own');
  });

  test('an error that is no gRPC error never is', () => {
    assert.equal(ranOutOfTime(new Error('query handler threw'), deadline, deadline + 1), false);
  });
});
