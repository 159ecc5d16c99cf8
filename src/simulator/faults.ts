/**
 * Answers that are not the app's answer to a run: what nginx says when the app is down or slow,
 * bodies that break a client's parser or its size limit, and answers that never end. Each one is
 * a way a real deployment has of failing a client; the client must survive every one.
 */
import type { Generation } from './runs';
import type { Reply } from './respond';
import { claim, sendJson, sendRaw } from './respond';

/** A runaway answer: 17 MiB, just over the client's 16 MiB limit (today's answers reach tens of KiB). */
export const OVERSIZED_BYTES = 17 * 1024 * 1024;
const DRIP_INTERVAL_MS = 500;

function htmlErrorPage(status: 404 | 502 | 503 | 504): string {
  const titles = { 404: '404 Not Found', 502: '502 Bad Gateway', 503: '503 Service Temporarily Unavailable', 504: '504 Gateway Time-out' };
  const title = titles[status];
  return (
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n` +
    `<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n`
  );
}

/** nginx's own error page: the app behind it crashed (502), is overloaded (503) or too slow (504). */
export function sendHtmlError(reply: Reply, status: 502 | 503 | 504): void {
  sendRaw(reply, status, 'text/html', htmlErrorPage(status));
}

/** nginx's not-found page: the proxy has no route for the path (an app of a release without it). */
export function sendHtmlNotFound(reply: Reply): void {
  sendRaw(reply, 404, 'text/html', htmlErrorPage(404));
}

/**
 * nginx's default page, at 200: the proxy answered from its own default server (a wrong route or
 * host name), not from the app. Nothing ran.
 */
export function sendHtml200(reply: Reply): void {
  const page =
    '<!DOCTYPE html>\r\n<html>\r\n<head>\r\n<title>Welcome to nginx!</title>\r\n</head>\r\n<body>\r\n' +
    '<h1>Welcome to nginx!</h1>\r\n<p>If you see this page, the nginx web server is successfully installed and working. ' +
    'Further configuration is required.</p>\r\n<p><em>Thank you for using nginx.</em></p>\r\n</body>\r\n</html>\r\n';
  sendRaw(reply, 200, 'text/html', page);
}

/** Today's app refuses a request that contradicts itself (headers against body); retrying cannot help. */
export function sendHttp422(reply: Reply): void {
  sendJson(reply, 422, { status: 'error', error_code: 'ORCHESTRATION_CORRELATION_MISMATCH', message: 'Orchestration context rejected.' });
}

export function sendInvalidJson(reply: Reply, generation: Generation): void {
  sendRaw(reply, 200, 'application/json', generation.invalidJsonText);
}

/** Valid JSON of exactly OVERSIZED_BYTES: only the client's size limit can refuse it. */
export function sendOversized(reply: Reply, generation: Generation): void {
  const start = generation.paddedBodyStart;
  const end = '"}}';
  sendRaw(reply, 200, 'application/json', `${start}${'x'.repeat(OVERSIZED_BYTES - start.length - end.length)}${end}`);
}

/**
 * The connection dies halfway through a full answer: the headers promise the whole body (its
 * content-length), the first half is written, then the socket is destroyed. The run itself
 * happened; only its answer is lost.
 */
export function sendCutOff(reply: Reply, status: number, body: unknown): void {
  if (!claim(reply, status)) return;
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  reply.res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length });
  reply.res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => reply.res.destroy());
}

/**
 * Headers at once, then one byte every half second, forever: only the client's own deadline ends
 * it. The interval is tracked so that close() can stop it.
 */
export function startDrip(reply: Reply, generation: Generation, intervals: Set<NodeJS.Timeout>): void {
  const { res } = reply;
  if (!claim(reply, 200)) return;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.flushHeaders();
  const prefix = generation.paddedBodyStart;
  let i = 0;
  const stop = (): void => {
    clearInterval(interval);
    intervals.delete(interval);
  };
  const interval = setInterval(() => {
    if (res.destroyed || res.writableEnded) {
      stop();
      return;
    }
    res.write(i < prefix.length ? prefix.charAt(i) : 'x');
    i += 1;
  }, DRIP_INTERVAL_MS);
  intervals.add(interval);
  res.on('close', stop);
}
