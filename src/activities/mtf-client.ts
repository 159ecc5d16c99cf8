/**
 * The HTTP side of the loop: one call to the MTF API, and the classification of its answer into
 * either a result or a typed `ApplicationFailure`, so Temporal's retry policy does the retrying.
 * Knows nothing of Temporal's context: the activities pass the abort signal in.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MtfError } from '../shared/errors';
import { failure } from './failure';
import { shorten } from '../shared/text';
import { appError, asObject } from './run-answer';
import { messageOf } from '../lib/errors';

/**
 * Larger answers are refused: today's app answers tens of KiB for 150 contracts, mostly per-symbol
 * context, so a 500-contract answer fits with room to spare; a runaway body must not grow the worker.
 */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface HttpDeps {
  fetch: typeof fetch;
  /** Sent as `Authorization: Bearer …`; it lives only in the worker's memory, never in history or logs. */
  token: string | null;
  maxBodyBytes: number;
  /** Sent as `User-Agent` on every request: `mtf-ping-pong (<WORKER_IDENTITY>)`, so the app's logs tell which worker called. */
  userAgent: string;
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

/** A 2xx with a JSON body comes from the app itself (a proxy's page is HTML): the app ran the request. */
export function isAppJson2xx(status: number, contentType: string): boolean {
  return status >= 200 && status < 300 && /\bjson\b/i.test(contentType);
}

/**
 * A failure met after the app answered a JSON 2xx: the run happened, so nothing that follows may
 * send it again. A retryable failure becomes `MtfAnsweredUnreadable`; a final one stays as it is.
 */
export function finalAfterAnswer(err: unknown, httpStatus: number): unknown {
  if (!(err instanceof ApplicationFailure) || err.nonRetryable) return err;
  return failure(MtfError.AnsweredUnreadable, `${err.message}; the app answered HTTP ${httpStatus}, so the run is not sent again`);
}

/**
 * Sends one request and reads its whole answer within `maxBodyBytes`. Network errors become
 * `MtfUnreachable` (connection refused) or `MtfNetworkError`; an abort is rethrown as it came.
 * With `onAppAnswer` (the run's POST), it is called as soon as a JSON 2xx has arrived, and a body
 * that cannot be read after that (cut off, over the limit) is final: the app ran the request.
 */
export async function send(
  deps: HttpDeps,
  url: string,
  init: {
    method: 'GET' | 'POST';
    body?: unknown;
    headers?: Record<string, string>;
    withToken?: boolean;
    onAppAnswer?: (httpStatus: number) => void;
  },
  signal: AbortSignal,
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': deps.userAgent, ...init.headers };
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
  const contentType = response.headers.get('content-type') ?? '';
  const ran = init.onAppAnswer !== undefined && isAppJson2xx(response.status, contentType);
  if (ran) init.onAppAnswer?.(response.status);
  let text: string;
  try {
    text = await readBounded(response, deps.maxBodyBytes, url, signal);
  } catch (err) {
    throw ran ? finalAfterAnswer(err, response.status) : err;
  }
  return { status: response.status, contentType, text, latencyMs: Math.round(performance.now() - started) };
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? messageOf(err);
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

/** Parses a JSON object answer; anything else is a clear `MtfBadResponse`. */
export function parseJsonObject(answer: HttpAnswer, url: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    throw failure(
      MtfError.BadResponse,
      `MTF API answered HTTP ${answer.status} from ${url} with a body that is not JSON: ${preview(answer.text)}`,
    );
  }
  const object = asObject(parsed);
  if (!object) throw failure(MtfError.BadResponse, `MTF API answered HTTP ${answer.status} from ${url} with JSON that is not an object`);
  return object;
}

/** The first words of a body, for messages: an HTML page is reduced to its title. */
export function preview(text: string): string {
  const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
  return shorten(title ?? text) || '(empty body)';
}

/** The app's own `message` (with its `error_code`, where it gives one) when the body is its JSON, else a preview of the body. */
export function appMessage(answer: HttpAnswer): string {
  let body: Json | null = null;
  try {
    body = asObject(JSON.parse(answer.text));
  } catch {
    // not JSON: an HTML page from the proxy, most likely
  }
  const { message, code } = appError(body);
  if (code) return `${code}: ${message ?? 'the app gave no message'}`;
  return message ?? preview(answer.text);
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
