/**
 * Answers that are not the app's answer to a run: what nginx says when the app is down or slow,
 * bodies that break a client's parser or its size limit, and answers that never end. Each one is
 * a way a real deployment has of failing a client; the client must survive every one.
 */
import type { Generation } from './runs';
import type { Reply } from './respond';
import { claim, sendRaw } from './respond';

/** A runaway answer: ten times the client's 1 MiB limit. */
export const OVERSIZED_BYTES = 10 * 1024 * 1024;
const DRIP_INTERVAL_MS = 500;

function htmlErrorPage(status: 502 | 503 | 504): string {
  const titles = { 502: '502 Bad Gateway', 503: '503 Service Temporarily Unavailable', 504: '504 Gateway Time-out' };
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

export function sendInvalidJson(reply: Reply, generation: Generation): void {
  sendRaw(reply, 200, 'application/json', generation.invalidJsonText);
}

export function sendOversized(reply: Reply, generation: Generation): void {
  sendRaw(reply, 200, 'application/json', `${generation.paddedBodyStart}${'x'.repeat(OVERSIZED_BYTES)}"}}`);
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
