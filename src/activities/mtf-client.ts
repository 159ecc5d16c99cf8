/**
 * The HTTP side of the loop: one call to the MTF API, and the classification of its answer into
 * either a result or a typed `ApplicationFailure`, so Temporal's retry policy does the retrying.
 * Knows nothing of Temporal's context: the activities pass the abort signal in.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MtfError, NON_RETRYABLE_ERRORS, type MtfErrorType } from '../shared/errors';
import type { MtfRunSummary } from '../shared/mtf';

/** Larger answers are refused: the summary is a few KiB, and a runaway body must not grow the worker. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpDeps {
  fetch: typeof fetch;
  /** Sent as `Authorization: Bearer …`; it lives only in the worker's memory, never in history or logs. */
  token: string | null;
  maxBodyBytes: number;
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  text: string;
  latencyMs: number;
}

/** A failure before any byte of the request can have reached the app. */
export function isConnectionRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause;
  return cause?.code === 'ECONNREFUSED';
}

/** The failure carries its own retryability, so it holds under any retry policy, not only the workflow's. */
export function failure(type: MtfErrorType, message: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({ type, message, details: details ? [details] : undefined, nonRetryable: NON_RETRYABLE_ERRORS.includes(type) });
}

/**
 * Sends one request and reads its whole answer within `maxBodyBytes`. Network errors become
 * `MtfUnreachable` (connection refused) or `MtfNetworkError`; an abort is rethrown as it came.
 */
export async function send(
  deps: HttpDeps,
  url: string,
  init: { method: 'GET' | 'POST'; body?: unknown; headers?: Record<string, string>; withToken?: boolean },
  signal: AbortSignal,
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (deps.token && init.withToken !== false) headers.authorization = `Bearer ${deps.token}`;
  const started = performance.now();
  let response: Response;
  try {
    response = await deps.fetch(url, {
      method: init.method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal,
      redirect: 'error',
    });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (isConnectionRefused(err)) throw failure(MtfError.Unreachable, `MTF API unreachable at ${url}: connection refused`);
    throw failure(MtfError.Network, `MTF API request to ${url} failed: ${describeNetworkError(err)}`);
  }
  const text = await readBounded(response, deps.maxBodyBytes, url, signal);
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text,
    latencyMs: Math.round(performance.now() - started),
  };
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

async function readBounded(response: Response, limit: number, url: string, signal: AbortSignal): Promise<string> {
  const tooLarge = () =>
    failure(MtfError.BadResponse, `MTF API answer from ${url} is larger than ${limit} bytes (HTTP ${response.status}); refused`);
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return '';
  // Node's web-stream types leave the chunk as `any`; fetch bodies are byte streams.
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (err instanceof ApplicationFailure) throw err;
    throw failure(MtfError.Network, `MTF API answer from ${url} was cut off: ${describeNetworkError(err)}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The token goes only where the run URL points: a status URL from the app may name another host. */
export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

type Json = Record<string, unknown>;

function asObject(value: unknown): Json | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Parses a JSON object answer; anything else is a clear `MtfBadResponse`. */
export function parseJsonObject(answer: HttpAnswer, url: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    throw failure(MtfError.BadResponse, `MTF API answered HTTP ${answer.status} from ${url} with a body that is not JSON: ${preview(answer.text)}`);
  }
  const object = asObject(parsed);
  if (!object) throw failure(MtfError.BadResponse, `MTF API answered HTTP ${answer.status} from ${url} with JSON that is not an object`);
  return object;
}

/** The first words of a body, for messages: an HTML page is reduced to its title. */
export function preview(text: string): string {
  const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
  const flat = (title ?? text).replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat || '(empty body)';
}

/** The app's own `message` when the body is its JSON, else a preview of the body. */
export function appMessage(answer: HttpAnswer): string {
  try {
    const message = asObject(JSON.parse(answer.text))?.message;
    if (typeof message === 'string' && message !== '') return message;
  } catch {
    // not JSON: an HTML page from the proxy, most likely
  }
  return preview(answer.text);
}

/**
 * A finished run's body (`status` success / partial_success with `data.summary`) → its summary;
 * `status: error` → `MtfRunFailed`; any other shape → `MtfBadResponse`.
 */
export function parseFinishedRun(body: Json, url: string): MtfRunSummary {
  const status = body.status;
  if (status === 'error') {
    throw failure(MtfError.RunFailed, `MTF run failed: ${stringOrNull(body.message) ?? 'the app gave no message'}`);
  }
  const data = asObject(body.data);
  const summary = asObject(data?.summary);
  if ((status !== 'success' && status !== 'partial_success') || !summary) {
    throw failure(
      MtfError.BadResponse,
      `MTF API answer from ${url} does not have the documented shape (status success|partial_success with data.summary); got status ${JSON.stringify(status ?? null)}`,
    );
  }
  return {
    status,
    run_id: stringOrNull(summary.run_id),
    message: stringOrNull(body.message),
    execution_time_seconds: numberOrNull(summary.execution_time_seconds),
    symbols_requested: numberOrNull(summary.symbols_requested),
    symbols_successful: numberOrNull(summary.symbols_successful),
    symbols_failed: numberOrNull(summary.symbols_failed),
    success_rate: numberOrNull(summary.success_rate),
    errors: Array.isArray(data?.errors) ? data.errors.length : 0,
  };
}

/** An accepted (202) run's id and status URL, resolved against the run URL, or the template's. */
export function parseAcceptedRun(body: Json, runUrl: string, statusUrlTemplate: string): { run_id: string; status_url: string } {
  const data = asObject(body.data);
  const runId = stringOrNull(data?.run_id);
  if (!runId) throw failure(MtfError.BadResponse, `MTF API accepted the run at ${runUrl} but gave no data.run_id`);
  const given = stringOrNull(data?.status_url);
  let statusUrl: URL;
  try {
    statusUrl = new URL(given ?? statusUrlTemplate.replaceAll('{run_id}', encodeURIComponent(runId)), runUrl);
  } catch {
    throw failure(MtfError.BadResponse, `MTF API accepted the run at ${runUrl} but its status URL is not a URL`);
  }
  // The status URL goes into the workflow's history: no credentials in it, and nothing but http(s).
  if (statusUrl.username || statusUrl.password) {
    throw failure(MtfError.BadResponse, `MTF API accepted the run at ${runUrl} but its status URL embeds credentials; refused`);
  }
  if (statusUrl.protocol !== 'http:' && statusUrl.protocol !== 'https:') {
    throw failure(MtfError.BadResponse, `MTF API accepted the run at ${runUrl} but its status URL is not http(s): ${statusUrl.protocol}`);
  }
  return { run_id: runId, status_url: statusUrl.toString() };
}

/** Non-2xx answers → their typed failure. */
export function failureForStatus(answer: HttpAnswer, url: string): ApplicationFailure {
  const message = appMessage(answer);
  const details = { http_status: answer.status };
  if (answer.status === 403 && answer.contentType.includes('json')) {
    return failure(MtfError.KillSwitch, `MTF run skipped, kill switch is OFF: ${message}`, details);
  }
  if (answer.status >= 500) {
    const what = answer.contentType.includes('html') ? 'an HTML error page' : 'an error';
    return failure(MtfError.ServerError, `MTF API answered HTTP ${answer.status} (${what}) from ${url}: ${message}`, details);
  }
  return failure(MtfError.Rejected, `MTF API rejected the request with HTTP ${answer.status} from ${url}: ${message}`, details);
}
