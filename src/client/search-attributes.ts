/**
 * Whether the namespace has the loop's search attributes. An upsert of an attribute the namespace
 * lacks stalls a workflow's tasks, so loops get them only when all are registered: the client
 * starts a loop with them (the workflow then keeps them up to date), and the worker says at
 * start-up what to run when they are missing.
 */
import { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { GrpcStatus } from '../lib/grpc';
import { SEARCH_ATTRIBUTES, registerCommand } from '../shared/search-attributes';

const Indexed = temporal.api.enums.v1.IndexedValueType;
/** The server's type for each of ours: an attribute registered with another type is as good as missing. */
const SERVER_TYPE: Partial<Record<SearchAttributeType, number>> = {
  [SearchAttributeType.KEYWORD]: Indexed.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.BOOL]: Indexed.INDEXED_VALUE_TYPE_BOOL,
};

/** The one call both connections (client and worker) offer. */
export interface OperatorApi {
  listSearchAttributes(request: { namespace: string }): Promise<{ customAttributes?: Record<string, unknown> | null }>;
}

/**
 * The attributes the namespace lacks (or has with another type); empty when all are there. When
 * the server cannot tell (no operator API, as on the time-skipping test server, or credentials
 * without the right to ask), all count as missing: a loop runs without them rather than stalling.
 */
export async function missingSearchAttributes(operator: OperatorApi, namespace: string): Promise<string[]> {
  let custom: Record<string, unknown>;
  try {
    custom = (await operator.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    // Read off the error itself: the worker's native connection throws its own kind, not grpc-js's.
    const code = (err as { code?: unknown }).code;
    if (code === GrpcStatus.UNIMPLEMENTED || code === GrpcStatus.PERMISSION_DENIED) return SEARCH_ATTRIBUTES.map((key) => key.name);
    throw err;
  }
  return SEARCH_ATTRIBUTES.filter((key) => custom[key.name] !== SERVER_TYPE[key.type]).map((key) => key.name);
}

export class SearchAttributesMissingError extends Error {
  override readonly name = 'SearchAttributesMissingError';
  constructor(
    readonly missing: string[],
    namespace: string,
  ) {
    super(
      `namespace ${namespace} lacks the search attributes ${missing.join(', ')} (or ` +
        `has them with another type); register them with: ${registerCommand(namespace)}`,
    );
  }
}
