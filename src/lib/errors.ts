/** An error as the one line people read, for every Node-side caller (the CLI, the dev stack, the dashboard, the servers). */

/** An error's message, or the thrown value as text when it is no Error. */
export function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // The SDK wraps a server's error in one that only says what it was doing ("Failed to query
  // Workflow"): the server's own words, the gRPC error's details, are what tells why.
  const details = grpcDetailsOf(err.cause);
  return details && !err.message.includes(details) ? `${err.message}: ${details}` : err.message;
}

/**
 * A gRPC error's details (grpc-js' ServiceError: a numeric code and a details string), read by shape,
 * not with lib/grpc.ts' class checks: the simulator and the activities use this and need not load the Temporal client.
 */
function grpcDetailsOf(cause: unknown): string | null {
  if (typeof cause !== 'object' || cause === null) return null;
  const { code, details } = cause as { code?: unknown; details?: unknown };
  return typeof code === 'number' && typeof details === 'string' && details.trim() !== '' ? details.trim() : null;
}
