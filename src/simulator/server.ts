/**
 * A local HTTP server that behaves like the trading app's MTF API (../shared/mtf-api.md beside the repository):
 * synchronous and accepted (asynchronous) runs, the kill switch, nginx-like HTML errors, broken
 * bodies, hanging and dripping answers. Tests drive it through `setBehaviour` and read back what it
 * received through `requests`.
 *
 * Nothing runs at import time: call `startSimulator()`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { MtfRunRequestBody } from '../shared/mtf';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type SimulatorFault =
  | 'none'
  | 'kill_switch_off'
  | 'http500'
  | 'html502'
  | 'html503'
  | 'html504'
  | 'html504_after_run'
  | 'invalid_json'
  | 'wrong_shape'
  | 'oversized'
  | 'hang'
  | 'slow_drip';

export const SIMULATOR_FAULTS: readonly SimulatorFault[] = [
  'none',
  'kill_switch_off',
  'http500',
  'html502',
  'html503',
  'html504',
  'html504_after_run',
  'invalid_json',
  'wrong_shape',
  'oversized',
  'hang',
  'slow_drip',
];

/** The faults `error_rate` picks from, in this order. */
export const RANDOM_FAULTS: readonly SimulatorFault[] = ['http500', 'html502', 'html503', 'html504', 'kill_switch_off'];

export interface SimulatorBehaviour {
  /** sync: POST answers 200 when the run has finished; async: POST answers 202 with a run id. */
  mode: 'sync' | 'async';
  /** sync: time before the answer; async: time from acceptance until the run ends. */
  latency_ms: number;
  /** Applied to /api/mtf/run requests. */
  fault: SimulatorFault;
  /** The fault applies to this many run requests, then the server behaves normally; null = always. */
  fault_count: number | null;
  /** 0..1: this fraction of run requests without an explicit fault get a random fault (seeded). */
  error_rate: number;
  /** Seed of the error_rate PRNG; setting it restarts the sequence. */
  seed: number;
  /** How a run ends. */
  run_result: 'success' | 'partial_success' | 'error';
  /** async: whether the 202 body carries data.status_url. */
  include_status_url: boolean;
  /** The global kill switch (true = trading allowed). */
  kill_switch_on: boolean;
}

export const DEFAULT_BEHAVIOUR: SimulatorBehaviour = {
  mode: 'sync',
  latency_ms: 0,
  fault: 'none',
  fault_count: null,
  error_rate: 0,
  seed: 1,
  run_result: 'success',
  include_status_url: true,
  kill_switch_on: true,
};

export interface RecordedRequest {
  /** 1, 2, 3... in arrival order. */
  seq: number;
  method: string;
  /** Path without the query string. */
  path: string;
  /** The Idempotency-Key header. */
  idempotency_key: string | null;
  /** The Authorization header as received (never logged). */
  authorization: string | null;
  /** Parsed JSON body (or the query parameters for GET /api/mtf/run); null if none or invalid. */
  body: unknown;
  /** The HTTP status answered; null if it never answered (hang, client gone before the answer). */
  status: number | null;
  /** The MTF run id if this request created/executed a run. */
  run_id: string | null;
  /** True if a run was executed (sync run, accepted run, html504_after_run). */
  executed: boolean;
  received_at: number;
}

export interface Simulator {
  readonly baseUrl: string;
  readonly runUrl: string;
  readonly requests: readonly RecordedRequest[];
  /** Only the POST/GET /api/mtf/run requests. */
  runRequests(): RecordedRequest[];
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

export const DEFAULT_SYMBOLS: readonly string[] = ['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT', 'DOTUSDT'];
const TIMEFRAMES = ['4h', '1h', '15m', '5m', '1m'] as const;
const RUN_PATH = '/api/mtf/run';
const RUNS_PREFIX = '/api/mtf/runs/';
const MAX_REQUEST_BODY = 1024 * 1024;
/** A runaway answer: ten times the client's 1 MiB limit. */
const OVERSIZED_BYTES = 10 * 1024 * 1024;
const DRIP_INTERVAL_MS = 500;
const KILL_SWITCH_MESSAGE = 'Global kill switch is OFF. Use force_run=true to override.';

/** mulberry32: a small, fast, deterministic PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The app accepts exactly the fields the service sends. */
type RunParams = MtfRunRequestBody;

interface RunState {
  run_id: string;
  params: RunParams;
  result: SimulatorBehaviour['run_result'];
  started_at: number;
  /** When the run ends on its own (async). */
  ends_at: number;
  /** Set by completeRun, or when a sync run answers. */
  completed_at: number | null;
  /** The final body, computed once when the run is first seen finished. */
  final_body: unknown;
}

class BadRequest extends Error {}

function formatTimestamp(ms: number): string {
  // 'YYYY-MM-DD HH:MM:SS' in UTC.
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseBool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && (value === 0 || value === 1)) return value === 1;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    if (v === '') return fallback;
  }
  throw new BadRequest(`${name} must be a boolean`);
}

function parseSymbols(value: unknown): string[] {
  let list: string[];
  if (value === undefined || value === null) {
    list = [];
  } else if (typeof value === 'string') {
    list = value.split(',');
  } else if (Array.isArray(value)) {
    list = value.map((item) => {
      if (typeof item !== 'string') throw new BadRequest('symbols must be an array of strings or a comma-separated string');
      return item;
    });
  } else {
    throw new BadRequest('symbols must be an array of strings or a comma-separated string');
  }
  const cleaned = list.map((s) => s.trim()).filter((s) => s !== '');
  return cleaned.length > 0 ? cleaned : [...DEFAULT_SYMBOLS];
}

function parseWorkers(value: unknown): number {
  if (value === undefined || value === null || value === '') return 1;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(n)) throw new BadRequest('workers must be an integer >= 1');
  if (n < 1) throw new BadRequest('workers must be >= 1');
  return n;
}

function parseCurrentTf(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new BadRequest('current_tf must be a string or null');
  return value;
}

function parseRunParams(input: Record<string, unknown>): RunParams {
  return {
    symbols: parseSymbols(input['symbols'] ?? input['symbols[]']),
    dry_run: parseBool('dry_run', input['dry_run'], true),
    force_run: parseBool('force_run', input['force_run'], false),
    force_timeframe_check: parseBool('force_timeframe_check', input['force_timeframe_check'], false),
    current_tf: parseCurrentTf(input['current_tf']),
    workers: parseWorkers(input['workers']),
  };
}

function queryToObject(params: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = key.endsWith('[]') || all.length > 1 ? all : all[0];
  }
  return out;
}

function htmlErrorPage(status: 502 | 503 | 504): string {
  const titles = { 502: '502 Bad Gateway', 503: '503 Service Temporarily Unavailable', 504: '504 Gateway Time-out' };
  const title = titles[status];
  return (
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n` +
    `<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n`
  );
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The documented body of a finished run (status success or partial_success). */
function buildRunBody(run: RunState, endedAt: number): unknown {
  const { params } = run;
  const failIndex = run.result === 'partial_success' ? params.symbols.length - 1 : -1;
  const results: Record<string, unknown> = {};
  const errors: { symbol: string; error: string }[] = [];
  params.symbols.forEach((symbol, index) => {
    if (index === failIndex) {
      const error = `Timeframe 1h invalid for ${symbol}: no confirmation`;
      errors.push({ symbol, error });
      results[symbol] = {
        status: 'error',
        signal_side: null,
        order_plan_id: null,
        error,
        steps: { '4h': { status: 'valid', signal_side: 'LONG' }, '1h': { status: 'invalid', reason: 'no_confirmation' }, '15m': {}, '5m': {}, '1m': {} },
        consistency: { status: 'INCONSISTENT' },
        filters: { status: 'skipped' },
      };
      return;
    }
    const side = index % 2 === 0 ? 'LONG' : 'SHORT';
    const steps: Record<string, unknown> = {};
    for (const tf of TIMEFRAMES) steps[tf] = { status: 'valid', signal_side: side };
    results[symbol] = {
      status: 'success',
      signal_side: side,
      order_plan_id: params.dry_run ? null : `op_${randomBytes(8).toString('hex')}`,
      steps,
      consistency: { status: 'CONSISTENT' },
      filters: { status: 'passed' },
    };
  });
  const requested = params.symbols.length;
  const failed = errors.length;
  const successful = requested - failed;
  return {
    status: failed > 0 ? 'partial_success' : 'success',
    message: 'MTF run completed',
    data: {
      summary: {
        run_id: run.run_id,
        execution_time_seconds: round(Math.max(0, endedAt - run.started_at) / 1000, 3),
        symbols_requested: requested,
        symbols_processed: requested,
        symbols_successful: successful,
        symbols_failed: failed,
        symbols_skipped: 0,
        success_rate: requested === 0 ? 0 : round((successful / requested) * 100, 2),
        dry_run: params.dry_run,
        force_run: params.force_run,
        timestamp: formatTimestamp(endedAt),
      },
      results,
      errors,
      workers: params.workers,
    },
  };
}

function validateBehaviour(b: SimulatorBehaviour): void {
  if (b.mode !== 'sync' && b.mode !== 'async') throw new Error(`invalid mode: ${String(b.mode)}`);
  if (!Number.isFinite(b.latency_ms) || b.latency_ms < 0) throw new Error(`invalid latency_ms: ${b.latency_ms}`);
  if (!SIMULATOR_FAULTS.includes(b.fault)) throw new Error(`invalid fault: ${String(b.fault)}`);
  if (b.fault_count !== null && (!Number.isInteger(b.fault_count) || b.fault_count < 0)) {
    throw new Error(`invalid fault_count: ${b.fault_count}`);
  }
  if (!(b.error_rate >= 0 && b.error_rate <= 1)) throw new Error(`invalid error_rate: ${b.error_rate}`);
  if (!Number.isFinite(b.seed)) throw new Error(`invalid seed: ${b.seed}`);
  if (!['success', 'partial_success', 'error'].includes(b.run_result)) throw new Error(`invalid run_result: ${String(b.run_result)}`);
}

export async function startSimulator(options: StartSimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log;
  let behaviour: SimulatorBehaviour = { ...DEFAULT_BEHAVIOUR, ...options.behaviour };
  validateBehaviour(behaviour);
  let random = mulberry32(behaviour.seed);

  const requests: RecordedRequest[] = [];
  const runs = new Map<string, RunState>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const intervals = new Set<NodeJS.Timeout>();
  const events = new EventEmitter();
  events.setMaxListeners(0);
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

  const isRunRequest = (method: string, path: string): boolean => path === RUN_PATH && (method === 'POST' || method === 'GET');
  const runRequests = (): RecordedRequest[] => requests.filter((r) => isRunRequest(r.method, r.path));

  const answered = (rec: RecordedRequest, res: ServerResponse, status: number): boolean => {
    if (res.destroyed || res.writableEnded || res.headersSent) return false;
    rec.status = status;
    log?.(`${rec.method} ${rec.path} #${rec.seq} -> ${status}`);
    return true;
  };

  const sendJson = (rec: RecordedRequest, res: ServerResponse, status: number, body: unknown): void => {
    if (!answered(rec, res, status)) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const sendRaw = (rec: RecordedRequest, res: ServerResponse, status: number, contentType: string, text: string): void => {
    if (!answered(rec, res, status)) return;
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), server: 'nginx/1.25.3' });
    res.end(text);
  };

  const sendHtml = (rec: RecordedRequest, res: ServerResponse, status: 502 | 503 | 504): void => {
    sendRaw(rec, res, status, 'text/html', htmlErrorPage(status));
  };

  const isFinished = (run: RunState, now: number): boolean => run.completed_at !== null || now >= run.ends_at;

  const finalBody = (run: RunState, now: number): unknown => {
    if (run.final_body === undefined) {
      const endedAt = run.completed_at ?? Math.min(now, run.ends_at);
      run.final_body =
        run.result === 'error'
          ? { status: 'error', message: 'MTF run failed: simulated internal error', data: { run_id: run.run_id } }
          : buildRunBody(run, endedAt);
    }
    return run.final_body;
  };

  const startRun = (rec: RecordedRequest, params: RunParams, latency: number): RunState => {
    const now = Date.now();
    const run: RunState = {
      run_id: randomUUID(),
      params,
      result: behaviour.run_result,
      started_at: now,
      ends_at: now + latency,
      completed_at: null,
      final_body: undefined,
    };
    runs.set(run.run_id, run);
    rec.run_id = run.run_id;
    rec.executed = true;
    return run;
  };

  /** The fault for this run request: the explicit one while fault_count lasts, else maybe a random one. */
  const pickFault = (): SimulatorFault => {
    if (behaviour.fault !== 'none' && (behaviour.fault_count === null || behaviour.fault_count > 0)) {
      if (behaviour.fault_count !== null) behaviour = { ...behaviour, fault_count: behaviour.fault_count - 1 };
      return behaviour.fault;
    }
    if (behaviour.error_rate > 0) {
      // One draw per run request decides; a second picks which fault: same seed, same sequence.
      if (random() < behaviour.error_rate) {
        const index = Math.floor(random() * RANDOM_FAULTS.length);
        return RANDOM_FAULTS[index] ?? 'http500';
      }
    }
    return 'none';
  };

  const handleRun = (rec: RecordedRequest, res: ServerResponse, input: Record<string, unknown>): void => {
    let params: RunParams;
    try {
      params = parseRunParams(input);
    } catch (err) {
      if (err instanceof BadRequest) {
        sendJson(rec, res, 400, { status: 'error', message: err.message });
        return;
      }
      throw err;
    }

    const fault = pickFault();
    const latency = behaviour.latency_ms;

    switch (fault) {
      case 'http500':
        sendJson(rec, res, 500, { status: 'error', message: 'MTF run failed: Internal Server Error (simulated)' });
        return;
      case 'html502':
        sendHtml(rec, res, 502);
        return;
      case 'html503':
        sendHtml(rec, res, 503);
        return;
      case 'html504':
        sendHtml(rec, res, 504);
        return;
      case 'html504_after_run': {
        if (behaviour.mode === 'async') {
          startRun(rec, params, latency);
          sendHtml(rec, res, 504);
        } else {
          const run = startRun(rec, params, latency);
          schedule(() => {
            run.completed_at = Date.now();
            sendHtml(rec, res, 504);
          }, latency);
        }
        return;
      }
      case 'invalid_json':
        sendRaw(rec, res, 200, 'application/json', '{"status":"success","message":"MTF run completed","data":{"summary":{"run_id":');
        return;
      case 'wrong_shape':
        sendJson(rec, res, 200, { status: 'success', data: {} });
        return;
      case 'oversized':
        sendRaw(
          rec,
          res,
          200,
          'application/json',
          `{"status":"success","message":"MTF run completed","data":{"padding":"${'x'.repeat(OVERSIZED_BYTES)}"}}`,
        );
        return;
      case 'hang':
        // Never answer: the socket stays open until the client aborts or close() destroys it.
        return;
      case 'slow_drip': {
        if (!answered(rec, res, 200)) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        const prefix = '{"status":"success","message":"MTF run completed","data":{"padding":"';
        let i = 0;
        const interval = setInterval(() => {
          if (res.destroyed || res.writableEnded) {
            clearInterval(interval);
            intervals.delete(interval);
            return;
          }
          res.write(i < prefix.length ? prefix.charAt(i) : 'x');
          i += 1;
        }, DRIP_INTERVAL_MS);
        intervals.add(interval);
        res.on('close', () => {
          clearInterval(interval);
          intervals.delete(interval);
        });
        return;
      }
      case 'kill_switch_off':
      case 'none':
        break;
    }

    if ((fault === 'kill_switch_off' || !behaviour.kill_switch_on) && !params.force_run) {
      sendJson(rec, res, 403, {
        status: 'error',
        message: KILL_SWITCH_MESSAGE,
        data: { run_id: randomUUID(), global_switch: false },
      });
      return;
    }

    if (behaviour.mode === 'async') {
      const run = startRun(rec, params, latency);
      const data: Record<string, unknown> = { run_id: run.run_id };
      if (behaviour.include_status_url) data['status_url'] = `${baseUrl}${RUNS_PREFIX}${run.run_id}`;
      sendJson(rec, res, 202, { status: 'accepted', message: 'MTF run accepted', data });
      return;
    }

    const run = startRun(rec, params, latency);
    schedule(() => {
      // The run finishes on the server even if the client has gone away.
      run.completed_at = Date.now();
      const body = finalBody(run, run.completed_at);
      if (run.result === 'error') sendJson(rec, res, 500, body);
      else sendJson(rec, res, 200, body);
    }, latency);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, rawBody: Buffer, tooLarge: boolean): void => {
    const url = new URL(req.url ?? '/', 'http://simulator.local');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const isRun = isRunRequest(method, path);

    let body: unknown = null;
    let invalidJson = false;
    if (isRun && method === 'GET') {
      body = queryToObject(url.searchParams);
    } else if (!tooLarge && rawBody.length > 0) {
      try {
        body = JSON.parse(rawBody.toString('utf8')) as unknown;
      } catch {
        invalidJson = true;
      }
    }

    const rec: RecordedRequest = {
      seq: requests.length + 1,
      method,
      path,
      idempotency_key: headerValue(req.headers['idempotency-key']),
      authorization: headerValue(req.headers['authorization']),
      body,
      status: null,
      run_id: null,
      executed: false,
      received_at: Date.now(),
    };
    requests.push(rec);
    if (isRun) events.emit('run-request', rec);

    if (tooLarge) {
      sendJson(rec, res, 413, { status: 'error', message: 'Request body too large' });
      return;
    }

    if (isRun) {
      if (invalidJson) {
        sendJson(rec, res, 400, { status: 'error', message: 'Invalid JSON body' });
        return;
      }
      if (body !== null && !isPlainObject(body)) {
        sendJson(rec, res, 400, { status: 'error', message: 'Invalid JSON body' });
        return;
      }
      handleRun(rec, res, body ?? {});
      return;
    }

    if (method === 'GET' && path.startsWith(RUNS_PREFIX)) {
      const id = decodeURIComponent(path.slice(RUNS_PREFIX.length));
      const run = runs.get(id);
      if (!run) {
        sendJson(rec, res, 404, { status: 'error', message: 'Run not found' });
        return;
      }
      const now = Date.now();
      if (!isFinished(run, now)) {
        sendJson(rec, res, 200, { status: 'running', data: { run_id: run.run_id } });
        return;
      }
      sendJson(rec, res, 200, finalBody(run, now));
      return;
    }

    if (method === 'GET' && path === '/api/mtf/status') {
      sendJson(rec, res, 200, {
        status: 'success',
        data: { timestamp: formatTimestamp(Date.now()), global_switch: behaviour.kill_switch_on, workers: 1, environment: 'simulator' },
      });
      return;
    }
    if (method === 'GET' && path === '/api/mtf/health') {
      sendJson(rec, res, 200, { status: 'healthy', data: { timestamp: formatTimestamp(Date.now()), global_switch: behaviour.kill_switch_on } });
      return;
    }
    if (method === 'GET' && path === '/api/mtf/switches') {
      sendJson(rec, res, 200, {
        status: 'success',
        data: {
          global_switch: behaviour.kill_switch_on,
          switches: [{ id: 1, name: 'GLOBAL', is_on: behaviour.kill_switch_on }],
        },
      });
      return;
    }

    sendJson(rec, res, 404, { status: 'error', message: 'Not found' });
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
        log?.(`simulator error: ${err instanceof Error ? err.message : String(err)}`);
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

  const simulator: Simulator = {
    baseUrl,
    runUrl,
    get requests(): readonly RecordedRequest[] {
      return requests;
    },
    runRequests,
    setBehaviour(patch: Partial<SimulatorBehaviour>): void {
      const next = { ...behaviour, ...patch };
      validateBehaviour(next);
      behaviour = next;
      if (patch.seed !== undefined) random = mulberry32(next.seed);
    },
    behaviour(): SimulatorBehaviour {
      return { ...behaviour };
    },
    waitForRunRequests(n: number, timeoutMs = 10_000): Promise<RecordedRequest[]> {
      const current = runRequests();
      if (current.length >= n) return Promise.resolve(current);
      if (closed) return Promise.reject(new Error('waitForRunRequests: the simulator is closed'));
      return new Promise<RecordedRequest[]>((resolve, reject) => {
        const cleanup = (): void => {
          clearTimeout(timer);
          timers.delete(timer);
          events.off('run-request', onRequest);
          events.off('close', onClose);
        };
        const onRequest = (): void => {
          const list = runRequests();
          if (list.length >= n) {
            cleanup();
            resolve(list);
          }
        };
        const onClose = (): void => {
          cleanup();
          reject(new Error(`waitForRunRequests: the simulator closed after ${runRequests().length} of ${n} run requests`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`waitForRunRequests: expected at least ${n} run request(s) within ${timeoutMs} ms, got ${runRequests().length}`));
        }, timeoutMs);
        timers.add(timer);
        events.on('run-request', onRequest);
        events.on('close', onClose);
      });
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
        events.emit('close');
        events.removeAllListeners();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        server.closeAllConnections();
        log?.('MTF simulator closed');
      });
      return closing;
    },
  };
  return simulator;
}
