/**
 * `/healthz` (the process is alive) and `/readyz` (the worker polls its task queue and Temporal
 * answers) on a small HTTP port, for container health checks and Kubernetes probes. Readiness asks
 * Temporal at most once a second, each time within a short deadline, so a probe never hangs.
 */
import { createServer, type Server } from 'node:http';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { messageOf } from '../lib/errors';
import { listen } from '../lib/serve';

const CHECK_DEADLINE_MS = 2_000;
const CHECK_REUSE_MS = 1_000;

export interface HealthServer {
  url: string;
  close(): Promise<void>;
}

export interface Readiness {
  ready: boolean;
  worker: string;
  /** `ok`, or why Temporal did not answer. */
  temporal: string;
}

export function readinessProbe(
  worker: Pick<Worker, 'getState'>,
  connection: NativeConnection,
  namespace: string,
): () => Promise<Readiness> {
  let last: { at: number; answer: Promise<string> } | null = null;
  const temporal = async (): Promise<string> => {
    try {
      // The namespace itself, not just the frontend: a worker without access to it polls in vain.
      await connection.withDeadline(Date.now() + CHECK_DEADLINE_MS, () => connection.workflowService.describeNamespace({ namespace }));
      return 'ok';
    } catch (err) {
      return `unreachable: ${messageOf(err)}`;
    }
  };
  return async () => {
    const now = Date.now();
    if (!last || now - last.at >= CHECK_REUSE_MS) last = { at: now, answer: temporal() };
    const state = worker.getState();
    const answer = await last.answer;
    return { ready: state === 'RUNNING' && answer === 'ok', worker: state, temporal: answer };
  };
}

/** `host:port`, `[v6]:port`; port 0 picks a free one (tests). */
export async function startHealthServer(address: string, readiness: () => Promise<Readiness>): Promise<HealthServer> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(colon + 1));
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, { error: 'GET only' });
    if (path === '/healthz') return reply(200, { status: 'ok' });
    if (path === '/readyz') {
      readiness().then(
        (r) => reply(r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', worker: r.worker, temporal: r.temporal }),
        (err: unknown) => reply(503, { status: 'not ready', error: String(err) }),
      );
      return;
    }
    reply(404, { error: 'not found: try /healthz or /readyz' });
  });
  const bound = await listen(server, port, host);
  return {
    url: `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
