/**
 * The gRPC status of a Temporal client call. The SDK throws the gRPC error bare, or wrapped in a
 * ServiceError whose cause it is: the status code and the telling message are the gRPC error's.
 */
import { ServiceError, isGrpcServiceError } from '@temporalio/client';

/** The gRPC status codes told apart here (grpc.status). */
export const GrpcStatus = {
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
} as const;

/** The gRPC error inside a ServiceError, else `err` itself. */
export function grpcErrorOf(err: unknown): unknown {
  return err instanceof ServiceError && isGrpcServiceError(err.cause) ? err.cause : err;
}

/** The gRPC status code of `err` (bare or wrapped), or undefined when it is no gRPC error. */
export function grpcCode(err: unknown): number | undefined {
  const grpc = grpcErrorOf(err);
  return isGrpcServiceError(grpc) ? grpc.code : undefined;
}

/** How close to its deadline a failed call counts as one that ran out of time. */
export const AT_THE_DEADLINE_MS = 500;

/**
 * Whether a call under `deadline` failed for want of time: the client's own DEADLINE_EXCEEDED, or
 * any gRPC error that came at the deadline (the server can end the call a moment before the client
 * does, with a code of its own: seen once in CI as a bare "Failed to query Workflow").
 */
export function ranOutOfTime(err: unknown, deadline: number, now = Date.now()): boolean {
  const code = grpcCode(err);
  return code === GrpcStatus.DEADLINE_EXCEEDED || (code !== undefined && now >= deadline - AT_THE_DEADLINE_MS);
}
