/**
 * What the simulator received, in arrival order, so that a test can assert what a client really
 * sent (and how often) instead of trusting the client's own account. Tests synchronise on
 * arrivals with `waitForRunRequests`, never on sleeps.
 */
import { EventEmitter } from 'node:events';

export interface RecordedRequest {
  /** 1, 2, 3... in arrival order. */
  seq: number;
  method: string;
  /** Path without the query string. */
  path: string;
  /** The Idempotency-Key header. */
  idempotency_key: string | null;
  /** The X-Run-Id header: the caller's name for the run (today's app makes it the run id). */
  x_run_id: string | null;
  /** The Authorization header as received (never logged). */
  authorization: string | null;
  /** The User-Agent header: the worker names itself there (`mtf-ping-pong (<WORKER_IDENTITY>)`). */
  user_agent: string | null;
  /** Parsed JSON body (or the query parameters of GET /api/mtf/run and of the lineage search); null if none or invalid. */
  body: unknown;
  /** The HTTP status answered; null if it never answered (hang, client gone before the answer). */
  status: number | null;
  /** The MTF run id if this request created/executed a run. */
  run_id: string | null;
  /** True if a run was executed (sync run, accepted run, html504_after_run, unknown_status, cut_off). */
  executed: boolean;
  /** The behaviour's fault this run request was answered with (`none` for a plain answer); null for other requests. */
  fault: string | null;
  received_at: number;
  /**
   * When the answer's last byte was handed to the socket; null while it is being written, and for
   * ever when it never was (a hang, a drip cut short, a client gone first). What the client read
   * of it is another matter: a proxy in between can still cut it.
   */
  finished_at: number | null;
}

export class RequestLog {
  readonly all: RecordedRequest[] = [];
  private readonly events = new EventEmitter();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly isRun: (rec: RecordedRequest) => boolean) {
    this.events.setMaxListeners(0);
  }

  add(entry: Omit<RecordedRequest, 'seq'>): RecordedRequest {
    const rec: RecordedRequest = { seq: this.all.length + 1, ...entry };
    this.all.push(rec);
    if (this.isRun(rec)) this.events.emit('run-request', rec);
    return rec;
  }

  runRequests(): RecordedRequest[] {
    return this.all.filter(this.isRun);
  }

  /** Resolves once at least n run requests have arrived; rejects on timeout or when the log closes. */
  waitForRunRequests(n: number, timeoutMs: number): Promise<RecordedRequest[]> {
    const current = this.runRequests();
    if (current.length >= n) return Promise.resolve(current);
    if (this.closed) return Promise.reject(new Error('waitForRunRequests: the simulator is closed'));
    return new Promise<RecordedRequest[]>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.events.off('run-request', onRequest);
        this.events.off('close', onClose);
      };
      const onRequest = (): void => {
        const list = this.runRequests();
        if (list.length >= n) {
          cleanup();
          resolve(list);
        }
      };
      const onClose = (): void => {
        cleanup();
        reject(new Error(`waitForRunRequests: the simulator closed after ${this.runRequests().length} of ${n} run requests`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`waitForRunRequests: expected at least ${n} run request(s) within ${timeoutMs} ms, got ${this.runRequests().length}`),
        );
      }, timeoutMs);
      this.timers.add(timer);
      this.events.on('run-request', onRequest);
      this.events.on('close', onClose);
    });
  }

  /** Rejects every pending wait: a closed simulator will receive nothing more. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.events.emit('close');
    this.events.removeAllListeners();
  }
}
