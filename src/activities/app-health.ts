/**
 * The app's health, asked where each generation of the app answers it (docs/mtf-api.md,
 * "Other endpoints of the app"): today's app answers `GET /health` with a plain-text `OK` and does
 * not route `/api/mtf/health`; the seed-era app answers `/api/mtf/health` with JSON. A route that
 * is not there (404, 405) sends the check on to the next one; any other answer is the app's word.
 */
import type { HealthCheckInput, HealthCheckResult } from '../shared/mtf';
import { appMessage, send, type HttpDeps } from './mtf-client';
import { messageOf } from '../lib/errors';

/** Both reads together: the health-check workflow gives its activity 15 s. */
const HEALTH_TIMEOUT_MS = 10_000;
/** Today's route, then the seed era's. */
const HEALTH_PATHS = ['/health', '/api/mtf/health'];

/** The URLs to ask in turn: `health_url` alone when it is set, else both routes on the run URL's origin. */
function healthUrls(input: HealthCheckInput): string[] {
  if (input.health_url) return [input.health_url];
  return HEALTH_PATHS.map((path) => new URL(path, input.mtf_url).toString());
}

export async function checkAppHealth(http: HttpDeps, input: HealthCheckInput): Promise<HealthCheckResult> {
  const signal = AbortSignal.timeout(HEALTH_TIMEOUT_MS);
  const urls = healthUrls(input);
  for (const [i, url] of urls.entries()) {
    try {
      const answer = await send(http, url, { method: 'GET' }, signal);
      const notRouted = answer.status === 404 || answer.status === 405;
      if (notRouted && i < urls.length - 1) continue;
      const message = notRouted && urls.length > 1 ? `the app routes none of ${urls.join(', ')}` : appMessage(answer);
      return { healthy: answer.status === 200, http_status: answer.status, message, url };
    } catch (err) {
      return { healthy: false, http_status: null, message: messageOf(err), url };
    }
  }
  throw new Error('healthUrls gave no URL');
}
