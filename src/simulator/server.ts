/**
 * A local HTTP server that behaves like the trading app's MTF API (docs/mtf-api.md),
 * in either generation of its answer (`answer: 'today'`, the default, or `'seed'`):
 * synchronous and accepted (asynchronous) runs, the kill switch, nginx-like HTML errors, broken
 * bodies, cut, hanging and dripping answers, and (today) the lineage API that lists the trades each
 * run caused. Tests drive it through `setBehaviour` and read back what it received through `requests`.
 *
 * This module is the HTTP plumbing and the routes; what each answer says lives beside it
 * (behaviour, params, answers-*, faults, lineage*, request-log). Everything a caller needs is exported here.
 *
 * Nothing runs at import time: call `startSimulator()`.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { SimulatorBehaviour, SimulatorFault } from './behaviour';
import type { RecordedRequest } from './request-log';
import type { Reply } from './respond';
import type { RunState } from './runs';
import { DEFAULT_BEHAVIOUR, pickFault, validateBehaviour } from './behaviour';
import { answerInfoRoute } from './info-routes';
import { LINEAGE_PATH, answerLineage } from './lineage';
import { TradeBook } from './lineage-trades';
import { headerValue, isPlainObject, queryToObject } from './params';
import { mulberry32 } from './prng';
import { RequestLog } from './request-log';
import { sendJson } from './respond';
import { handleRun, readRun } from './run-route';
import { messageOf } from '../lib/errors';

export type { SimulatorAnswer, SimulatorBehaviour, SimulatorFault, SimulatorRunResult } from './behaviour';
export type { LineageMode, TradeStatus } from './behaviour';
export {
  ANSWER_GENERATIONS,
  DEFAULT_BEHAVIOUR,
  DEMO_LINEAGE_DELAY,
  KNOWN_ORDER_STATUSES,
  LINEAGE_MODES,
  RANDOM_FAULTS,
  RUN_RESULTS,
  SIMULATOR_FAULTS,
  TRADE_STATUSES,
} from './behaviour';
export { LINEAGE_PATH } from './lineage';
export type { RecordedRequest } from './request-log';
export { DEFAULT_SYMBOLS } from './answers-seed';
export { ACTIVE_CONTRACTS } from './verdicts';
export { OVERSIZED_BYTES } from './faults';
export { mulberry32 } from './prng';

export interface Simulator {
  readonly baseUrl: string;
  readonly runUrl: string;
  readonly requests: readonly RecordedRequest[];
  /** Only the POST/GET /api/mtf/run requests. */
  runRequests(): RecordedRequest[];
  /** Only the lineage searches (GET /api/lineage/v1/search), their query parameters as the body. */
  lineageRequests(): RecordedRequest[];
  setBehaviour(patch: Partial<SimulatorBehaviour>): void;
  behaviour(): SimulatorBehaviour;
  /** Resolves once at least n requests to /api/mtf/run have been received; rejects after timeoutMs (default 10 s). */
  waitForRunRequests(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Completes an async run right now (its status route then answers its final body). */
  completeRun(runId: string): void;
  /** Closes the server and destroys every open socket (hanging and dripping ones too). */
  close(): Promise<void>;
}

export interface StartSimulatorOptions {
  host?: string;
  port?: number;
  behaviour?: Partial<SimulatorBehaviour>;
  log?: (line: string) => void;
}

const RUN_PATH = '/api/mtf/run';
const RUNS_PREFIX = '/api/mtf/runs/';
const MAX_REQUEST_BODY = 1024 * 1024;

/** The run id in a status URL; '' (no run) for a malformed escape. */
function decodeRunId(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return '';
  }
}

const isRunRequest = (rec: { method: string; path: string }): boolean =>
  rec.path === RUN_PATH && (rec.method === 'POST' || rec.method === 'GET');
const isLineageRequest = (rec: { method: string; path: string }): boolean => rec.path === LINEAGE_PATH && rec.method === 'GET';

export async function startSimulator(options: StartSimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log;
  let behaviour: SimulatorBehaviour = { ...DEFAULT_BEHAVIOUR, ...options.behaviour };
  validateBehaviour(behaviour);
  let random = mulberry32(behaviour.seed);
  let runsStarted = 0;

  const requests = new RequestLog(isRunRequest);
  const runs = new Map<string, RunState>();
  const trades = new TradeBook();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const intervals = new Set<NodeJS.Timeout>();
  let closed = false;
  let closing: Promise<void> | null = null;
  let baseUrl = '';

  const schedule = (fn: () => void, ms: number): void => {
    if (closed) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const runRoute = {
    behaviour: () => behaviour,
    pickFault: (): SimulatorFault => {
      const picked = pickFault(behaviour, random);
      behaviour = picked.next;
      return picked.fault;
    },
    runs,
    schedule,
    intervals,
    statusUrl: (runId: string) => `${baseUrl}${RUNS_PREFIX}${encodeURIComponent(runId)}`,
    nextOrdinal: () => (runsStarted += 1),
    recordTrades: (run: RunState) => trades.record(run),
  };

  const handle = (req: IncomingMessage, res: ServerResponse, rawBody: Buffer, tooLarge: boolean): void => {
    const url = new URL(req.url ?? '/', 'http://simulator.local');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const isRun = isRunRequest({ method, path });
    const isLineage = isLineageRequest({ method, path });

    let body: unknown = null;
    let invalidJson = false;
    // What a GET asked is in its query: kept as the body, so that a test can read it back.
    if ((isRun && method === 'GET') || isLineage) {
      body = queryToObject(url.searchParams);
    } else if (!tooLarge && rawBody.length > 0) {
      try {
        body = JSON.parse(rawBody.toString('utf8')) as unknown;
      } catch {
        invalidJson = true;
      }
    }

    const rec = requests.add({
      method,
      path,
      idempotency_key: headerValue(req.headers['idempotency-key']),
      x_run_id: headerValue(req.headers['x-run-id']),
      authorization: headerValue(req.headers['authorization']),
      user_agent: headerValue(req.headers['user-agent']),
      body,
      status: null,
      run_id: null,
      executed: false,
      fault: null,
      received_at: Date.now(),
      finished_at: null,
    });
    res.once('finish', () => (rec.finished_at = Date.now()));
    const reply: Reply = { rec, res, log };

    if (tooLarge) {
      sendJson(reply, 413, { status: 'error', message: 'Request body too large' });
      return;
    }

    if (isRun) {
      if (invalidJson || (body !== null && !isPlainObject(body))) {
        sendJson(reply, 400, { status: 'error', message: 'Invalid JSON body' });
        return;
      }
      handleRun(runRoute, reply, body ?? {});
      return;
    }

    if (method === 'GET' && path.startsWith(RUNS_PREFIX)) {
      readRun(runs, reply, decodeRunId(path.slice(RUNS_PREFIX.length)));
      return;
    }
    if (answerInfoRoute(reply, method, path, behaviour.kill_switch_on, behaviour.answer)) return;
    // The seed-era app had no lineage API: there the path is unknown like any other.
    if (isLineage && behaviour.answer === 'today') {
      answerLineage(reply, trades, behaviour.lineage, url.searchParams);
      return;
    }

    sendJson(reply, 404, { status: 'error', message: 'Not found' });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BODY) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (closed) return;
      try {
        handle(req, res, Buffer.concat(chunks), tooLarge);
      } catch (err) {
        log?.(`simulator error: ${messageOf(err)}`);
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'error', message: 'Simulator internal error' }));
        }
      }
    });
    req.on('error', () => {
      // Client went away mid-request: nothing to answer.
    });
  });

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' || host.includes(':') ? `[${address.address}]` : address.address;
  baseUrl = `http://${urlHost}:${address.port}`;
  const runUrl = `${baseUrl}${RUN_PATH}`;
  log?.(`MTF simulator listening on ${baseUrl}`);

  return {
    baseUrl,
    runUrl,
    get requests(): readonly RecordedRequest[] {
      return requests.all;
    },
    runRequests: () => requests.runRequests(),
    lineageRequests: () => requests.all.filter(isLineageRequest),
    setBehaviour(patch: Partial<SimulatorBehaviour>): void {
      const next = { ...behaviour, ...patch };
      validateBehaviour(next);
      behaviour = next;
      if (patch.seed !== undefined) {
        // A seed set anew replays its sequence: the random faults and the contracts that throw.
        random = mulberry32(next.seed);
        runsStarted = 0;
      }
    },
    behaviour(): SimulatorBehaviour {
      return { ...behaviour };
    },
    waitForRunRequests(n: number, timeoutMs = 10_000): Promise<RecordedRequest[]> {
      return requests.waitForRunRequests(n, timeoutMs);
    },
    completeRun(runId: string): void {
      const run = runs.get(runId);
      if (!run) throw new Error(`completeRun: unknown run id ${runId}`);
      if (run.completed_at === null && Date.now() < run.ends_at) run.completed_at = Date.now();
    },
    close(): Promise<void> {
      if (closing) return closing;
      closed = true;
      closing = new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        for (const interval of intervals) clearInterval(interval);
        intervals.clear();
        requests.close();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        server.closeAllConnections();
        log?.('MTF simulator closed');
      });
      return closing;
    },
  };
}
