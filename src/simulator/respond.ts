/**
 * Answering one request, once: every answer goes through `claim`, which records the status and
 * logs one line (never a header), and refuses a second answer or one to a client already gone.
 */
import type { ServerResponse } from 'node:http';
import type { RecordedRequest } from './request-log';

export interface Reply {
  readonly rec: RecordedRequest;
  readonly res: ServerResponse;
  readonly log: ((line: string) => void) | undefined;
}

/** True if the caller may answer now (and the status is recorded); false if it is too late. */
export function claim(reply: Reply, status: number): boolean {
  const { rec, res } = reply;
  if (res.destroyed || res.writableEnded || res.headersSent) return false;
  rec.status = status;
  reply.log?.(`${rec.method} ${rec.path} #${rec.seq} -> ${status}`);
  return true;
}

export function sendJson(reply: Reply, status: number, body: unknown): void {
  if (!claim(reply, status)) return;
  const text = JSON.stringify(body);
  reply.res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  reply.res.end(text);
}

/** A body written as given, with the proxy's Server header: the answers nginx (or a broken app) gives. */
export function sendRaw(reply: Reply, status: number, contentType: string, text: string): void {
  if (!claim(reply, status)) return;
  reply.res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), server: 'nginx/1.25.3' });
  reply.res.end(text);
}
