/**
 * A codec server (Temporal's remote codec protocol): `POST …/encode` and `POST …/decode` take and
 * answer `{ "payloads": [{ "metadata": { key: base64 }, "data": base64 }] }`, the protobuf JSON of
 * `Payloads`. The Web UI (its "codec endpoint" setting) and the stock CLI (`--codec-endpoint`)
 * call it to show encrypted loops in clear, without ever holding the key themselves.
 *
 * Whoever reaches it can decrypt, so it binds to loopback by default, answers only to a loopback
 * Host header there (no DNS rebinding), and serves browsers only from the allowed origins (the dev
 * server's Web UI by default): CORS lets the UI read the answers, and any other origin is refused.
 *
 * Nothing runs at import time: `mtf-ping-pong codec-server` calls startCodecServer().
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { messageOf } from '../lib/errors';
import { hostHeaderIsLoopback, isLoopback, urlHost } from '../lib/hosts';
import { closeServer, listen } from '../lib/serve';

export const DEFAULT_CODEC_HOST = '127.0.0.1';
export const DEFAULT_CODEC_PORT = 8888;
/** `temporal server start-dev`'s Web UI, under both names a browser may use for it. */
export const DEFAULT_CORS_ORIGINS: readonly string[] = ['http://localhost:8233', 'http://127.0.0.1:8233'];
/** A history page's payloads, with room to spare; a bigger body is refused before it is read whole. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
/** What the Web UI sends: JSON, its namespace, and its access token when told to pass it. */
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8888; 0 picks a free port (tests). */
  port?: number;
  /** Browser origins allowed to call it (exact `scheme://host:port`); default the dev server's Web UI. */
  corsOrigins?: readonly string[];
  maxBodyBytes?: number;
  /** One line per refused or failed request (a codec server that says nothing is hard to debug from a browser). */
  log?: (line: string) => void;
}

export interface CodecServer {
  /** Where it listens, with the port actually bound: the value for the UI's codec endpoint and `--codec-endpoint`. */
  url: string;
  close(): Promise<void>;
}

/** A payload in protobuf JSON: bytes as base64. */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/** A request the protocol rejects, with its status and a one-line reason for the caller. */
class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `http://localhost:8233` style: a scheme, a host and maybe a port; nothing else, as browsers send it. */
export function parseOrigin(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== text) {
    throw new Error(`"${text}" is not an origin: use scheme://host[:port], like http://localhost:8233`);
  }
  return text;
}

function fromJson(value: unknown, index: number): Payload {
  if (typeof value !== 'object' || value === null) throw new RequestError(400, `payloads[${index}] must be an object`);
  const { metadata, data } = value as JsonPayload;
  if (
    metadata !== undefined &&
    (typeof metadata !== 'object' || metadata === null || Object.values(metadata).some((v) => typeof v !== 'string'))
  ) {
    throw new RequestError(400, `payloads[${index}].metadata must map names to base64 strings`);
  }
  if (data !== undefined && data !== null && typeof data !== 'string')
    throw new RequestError(400, `payloads[${index}].data must be a base64 string`);
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(data ?? '', 'base64'),
  };
}

/** Protobuf JSON leaves empty fields out; so do we. */
function toJson(payload: Payload): JsonPayload {
  const metadata = Object.entries(payload.metadata ?? {}).filter(([, v]) => v !== null && v !== undefined);
  const data = payload.data ?? new Uint8Array();
  return {
    ...(metadata.length > 0 && { metadata: Object.fromEntries(metadata.map(([k, v]) => [k, Buffer.from(v).toString('base64')])) }),
    ...(data.length > 0 && { data: Buffer.from(data).toString('base64') }),
  };
}

function parseBody(text: string): Payload[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RequestError(400, 'the body is not JSON: send {"payloads": [...]}');
  }
  const payloads = (body as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(payloads)) throw new RequestError(400, 'the body must be {"payloads": [...]}');
  return payloads.map(fromJson);
}

/** The body, or a 413 as soon as it outgrows the bound: what follows is let through unbuffered. */
function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  const tooBig = new RequestError(413, `the body is over ${maxBytes} bytes`);
  if (Number(request.headers['content-length'] ?? 0) > maxBytes) return Promise.reject(tooBig);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Events rather than `for await`: leaving that loop early would destroy the socket the 413 goes out on.
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) reject(tooBig);
      else chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}

function send(response: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, {
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    ...headers,
    ...(body !== '' && { 'content-type': `${type}; charset=utf-8` }),
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const host = options.host ?? DEFAULT_CODEC_HOST;
  const boundToLoopback = isLoopback(host);
  const origins = new Set(options.corsOrigins ?? DEFAULT_CORS_ORIGINS);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (boundToLoopback && !hostHeaderIsLoopback(request)) throw new RequestError(403, 'this codec server answers only to a loopback Host');
    const origin = request.headers.origin;
    // The CLI sends no Origin; a browser always does on a cross-origin call, so any other page is refused here.
    if (origin !== undefined && !origins.has(origin))
      throw new RequestError(403, `origin ${origin} is not allowed (codec-server --cors-origin)`);
    const cors: Record<string, string> = origin
      ? // Credentials too, so the UI's "include cross-origin credentials" setting works; no cookie is ever read.
        { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' }
      : { vary: 'Origin' };
    // The protocol asks to look only at the last part of the path, so the server may sit under any prefix.
    const path = new URL(request.url ?? '/', 'http://codec').pathname;
    const operation = path.endsWith('/encode') ? 'encode' : path.endsWith('/decode') ? 'decode' : null;
    if (!operation) throw new RequestError(404, 'not found: POST …/encode or …/decode');
    if (request.method === 'OPTIONS') {
      send(response, 204, 'text/plain', '', {
        ...cors,
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': '600',
      });
      return;
    }
    if (request.method !== 'POST') throw new RequestError(405, 'only POST (and OPTIONS)');
    const payloads = parseBody(await readBody(request, maxBodyBytes));
    let result: Payload[];
    try {
      result = operation === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
    } catch (err) {
      // The protocol's answer to a codec error; the message (e.g. an unknown key id) is the useful part.
      throw new RequestError(400, `cannot ${operation}: ${messageOf(err)}`);
    }
    send(response, 200, 'application/json', JSON.stringify({ payloads: result.map(toJson) }), cors);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((err: unknown) => {
      const status = err instanceof RequestError ? err.status : 500;
      const message = messageOf(err);
      options.log?.(`codec server: ${request.method ?? '?'} ${request.url ?? ''}: ${status} ${message}`);
      if (response.headersSent) {
        response.destroy();
        return;
      }
      // A browser reads an error only with the CORS headers; only allowed origins get that far.
      const origin = request.headers.origin;
      const cors: Record<string, string> =
        origin !== undefined && origins.has(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
      // A 413 leaves the rest of the body unread: the connection closes after the answer rather than drain it.
      send(response, status, 'text/plain', `${message}\n`, { ...cors, ...(status === 413 && { connection: 'close' }) });
    });
  });
  const { port } = await listen(server, options.port ?? DEFAULT_CODEC_PORT, host);
  return { url: `http://${urlHost(host)}:${port}`, close: () => closeServer(server) };
}
