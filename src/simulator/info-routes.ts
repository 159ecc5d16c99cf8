/**
 * The app's read-only routes beside the run: status, health and switches. A client's health
 * check reads them; none of them starts a run.
 */
import type { Reply } from './respond';
import { sendJson } from './respond';
import { formatTimestamp } from './runs';

/** Answers GET /api/mtf/status, /health or /switches; false for any other request. */
export function answerInfoRoute(reply: Reply, method: string, path: string, killSwitchOn: boolean): boolean {
  if (method !== 'GET') return false;
  const timestamp = formatTimestamp(Date.now());
  switch (path) {
    case '/api/mtf/status':
      sendJson(reply, 200, { status: 'success', data: { timestamp, global_switch: killSwitchOn, workers: 1, environment: 'simulator' } });
      return true;
    case '/api/mtf/health':
      sendJson(reply, 200, { status: 'healthy', data: { timestamp, global_switch: killSwitchOn } });
      return true;
    case '/api/mtf/switches':
      sendJson(reply, 200, {
        status: 'success',
        data: { global_switch: killSwitchOn, switches: [{ id: 1, name: 'GLOBAL', is_on: killSwitchOn }] },
      });
      return true;
    default:
      return false;
  }
}
