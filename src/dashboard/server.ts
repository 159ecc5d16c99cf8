/**
 * The live dashboard: one page (`GET /`) and the JSON it polls (`GET /api/loops`), on Node's own
 * HTTP server. It is read-only by construction: only GET and HEAD are served, and nothing here can
 * signal, update or stop a loop. It binds to loopback unless DASHBOARD_ADDRESS says otherwise.
 *
 * Nothing runs at import time: `mtf-ping-pong dashboard` and `npm start` call startDashboard().
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Client } from '@temporalio/client';
import { messageOf } from '../lib/errors';
import { hostHeaderIsLoopback, isLoopback, urlHost } from '../lib/hosts';
import { DASHBOARD_CSP, DASHBOARD_PAGE } from './page';
import { loopsSnapshot, type DashboardSnapshot, type SnapshotOptions } from './snapshot';
import { closeServer, listen } from '../lib/serve';

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 8080;
export const DEFAULT_DASHBOARD_ADDRESS = `${DEFAULT_HOST}:${DEFAULT_PORT}`;

export interface DashboardAddress {
  host: string;
  port: number;
}

export interface DashboardOptions extends SnapshotOptions {
  client: Client;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks a free port (tests). */
  port?: number;
}

export interface Dashboard {
  /** Where the page is, with the port actually bound. */
  url: string;
  /** Stops listening and drops open (keep-alive) connections. */
  close(): Promise<void>;
}

/** `host:port` or `[v6]:port` → its parts; throws a message naming the variable on anything else. */
export function parseDashboardAddress(text: string): DashboardAddress {
  const match = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match?.[1] || !Number.isInteger(port) || port > 65_535) {
    throw new Error(`DASHBOARD_ADDRESS must be host:port (like ${DEFAULT_DASHBOARD_ADDRESS}), not "${text}"`);
  }
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/** DASHBOARD_ADDRESS, else 127.0.0.1:8080. */
export function dashboardAddress(env: NodeJS.ProcessEnv = process.env): DashboardAddress {
  return parseDashboardAddress(env.DASHBOARD_ADDRESS?.trim() || DEFAULT_DASHBOARD_ADDRESS);
}

const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

function send(response: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, {
    ...COMMON_HEADERS,
    ...headers,
    'content-type': `${type}; charset=utf-8`,
    'content-length': Buffer.byteLength(body),
  });
  // On HEAD, Node drops the body and keeps the headers.
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, 'application/json', JSON.stringify(value));
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? DEFAULT_HOST;
  const boundToLoopback = isLoopback(host);
  // Several open tabs poll at once: they share one round of queries instead of each sending theirs.
  let inFlight: Promise<DashboardSnapshot> | null = null;
  const snapshot = (): Promise<DashboardSnapshot> => {
    inFlight ??= loopsSnapshot(options.client, options).finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'text/plain', 'read-only: only GET and HEAD\n', { allow: 'GET, HEAD' });
      return;
    }
    // On loopback, only a loopback Host header is served: a page elsewhere must not read the loops through a visitor's browser.
    if (boundToLoopback && !hostHeaderIsLoopback(request)) {
      send(response, 403, 'text/plain', 'this dashboard answers only to a loopback Host\n');
      return;
    }
    const path = new URL(request.url ?? '/', 'http://dashboard').pathname;
    if (path === '/') {
      send(response, 200, 'text/html', DASHBOARD_PAGE, { 'content-security-policy': DASHBOARD_CSP });
    } else if (path === '/api/loops') {
      try {
        sendJson(response, 200, await snapshot());
      } catch (err) {
        // Temporal itself is away: the page keeps its last view and shows this line.
        sendJson(response, 503, { error: `cannot list the loops: ${messageOf(err)}` });
      }
    } else {
      send(response, 404, 'text/plain', 'not found\n');
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((err: unknown) => {
      if (!response.headersSent) send(response, 500, 'text/plain', `${String(err)}\n`);
      else response.destroy();
    });
  });
  const { port } = await listen(server, options.port ?? DEFAULT_PORT, host);
  return { url: `http://${urlHost(host)}:${port}/`, close: () => closeServer(server) };
}
