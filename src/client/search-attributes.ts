/**
 * Whether the namespace has the loop's search attributes. An upsert of an attribute the namespace
 * lacks stalls a workflow's tasks, so loops get them only when all are registered: the client
 * starts a loop with them (the workflow then keeps them up to date), and the worker says at
 * start-up what to run when they are missing.
 */
import { SEARCH_ATTRIBUTES, registerCommand } from '../shared/search-attributes';

/** The one call both connections (client and worker) offer. */
export interface OperatorApi {
  listSearchAttributes(request: { namespace: string }): Promise<{ customAttributes?: Record<string, unknown> | null }>;
}

const GRPC_UNIMPLEMENTED = 12;

/** The attributes the namespace lacks; empty when all are there. */
export async function missingSearchAttributes(operator: OperatorApi, namespace: string): Promise<string[]> {
  const names = SEARCH_ATTRIBUTES.map((key) => key.name);
  let custom: Record<string, unknown>;
  try {
    custom = (await operator.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    // A server without the operator API (the time-skipping test server) has no custom attributes.
    if ((err as { code?: unknown }).code === GRPC_UNIMPLEMENTED) return names;
    throw err;
  }
  return names.filter((name) => !(name in custom));
}

export class SearchAttributesMissingError extends Error {
  override readonly name = 'SearchAttributesMissingError';
  constructor(
    readonly missing: string[],
    namespace: string,
  ) {
    super(`namespace ${namespace} lacks the search attributes ${missing.join(', ')}; register them with: ${registerCommand(namespace)}`);
  }
}
