/**
 * The app's read-only routes beside the run: status, health and switches. A client's health
 * check reads them; none of them starts a run. Health is answered where each generation of the
 * app answers it: today's app `GET /health` in plain text (it does not route `/api/mtf/health`),
 * the seed-era app `GET /api/mtf/health` in JSON.
 */
import type { SimulatorAnswer } from './behaviour';
import type { Reply } from './respond';
import { sendJson, sendRaw } from './respond';
import { formatTimestamp } from './runs';

/** Answers GET /api/mtf/status, the generation's health route or /switches; false for any other request. */
export function answerInfoRoute(reply: Reply, method: string, path: string, killSwitchOn: boolean, answer: SimulatorAnswer): boolean {
  if (method !== 'GET') return false;
  const timestamp = formatTimestamp(Date.now());
  switch (path) {
    case '/api/mtf/status':
      sendJson(reply, 200, { status: 'success', data: { timestamp, global_switch: killSwitchOn, workers: 1, environment: 'simulator' } });
      return true;
    case '/health':
      if (answer !== 'today') return false;
      // Symfony's HealthController: plain text, whatever the switches say.
      sendRaw(reply, 200, 'text/plain; charset=UTF-8', 'OK');
      return true;
    case '/api/mtf/health':
      if (answer !== 'seed') return false;
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
