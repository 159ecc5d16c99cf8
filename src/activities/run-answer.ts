/**
 * The one reader of the MTF app's answers, in both generations of ../shared/mtf-api.md: a finished
 * run becomes a {@link RunReport}, an accepted run its id and status URL, a status read "still
 * running" or the finished run. The two generations side by side:
 *
 * | what                | seed-era answer                          | today's answer                                        |
 * | ------------------- | ---------------------------------------- | ----------------------------------------------------- |
 * | run status          | top-level `status`: success,             | top-level `status` = `data.run.status`: completed,    |
 * |                     | partial_success, error                   | completed_with_errors, rejected (+ the seed's words)  |
 * | figures             | `data.summary.{run_id, symbols_*, …}`    | `data.run.{run_id, symbols_*, reason, …}`             |
 * | per contract        | `data.results.SYM.status`: success/error | `data.symbols.SYM.status`: READY, INVALID, ERROR …;   |
 * |                     |                                          | the key `FINAL` is a summary, not a contract          |
 * | errors              | `data.errors`: [{ symbol, error }]       | `data.errors`: ["…"]                                  |
 * | a status read (GET) | top-level `status`: running, then the    | top-level `status` says the *read* worked; the run is |
 * |                     | finished body                            | finished when `data.run.status` is a finished word or |
 * |                     |                                          | `data.run.finished_at` is set                         |
 *
 * Status words compare case-insensitively, and fields this reader does not use are ignored.
 * Note that today's `symbols_failed` counts INVALID verdicts (a normal "no signal") with the
 * errors: whether contracts errored is read from the per-contract statuses instead.
 */
import { MtfError } from '../shared/errors';
import type { RunReport } from '../shared/mtf';
import { failure } from './failure';

type Json = Record<string, unknown>;

const SUCCEEDED = ['success', 'completed'];
const PARTIAL = ['partial_success', 'completed_with_errors'];
const REJECTED = ['rejected'];
const FAILED = ['error', 'failed'];
/** Every status word of a finished run this version reads; anything else is named as unexpected. */
const FINISHED = [...SUCCEEDED, ...PARTIAL, ...REJECTED, ...FAILED];
/** A seed-era status read of a run that goes on. */
const UNFINISHED = ['running', 'accepted', 'pending', 'queued'];

export function asObject(value: unknown): Json | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function wholeOrNull(value: unknown): number | null {
  const n = numberOrNull(value);
  return n !== null && Number.isInteger(n) && n >= 0 ? n : null;
}

export function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function word(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim().toLowerCase() : null;
}

/** The first words of a text, for messages, on one line. */
export function shorten(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The app's own words on an error body: its `message`, and its `error_code` where it gives one (today's 422 / 500). */
export function appError(body: Json | null): { message: string | null; code: string | null } {
  return { message: stringOrNull(body?.message), code: stringOrNull(body?.error_code) };
}

/** The run's summary object: `data.run` today, `data.summary` in the seed era. */
function runSummary(data: Json | null): Json | null {
  return asObject(data?.run) ?? asObject(data?.summary);
}

/** Per-contract results, `FINAL` left out: `data.symbols` today, `data.results` in the seed era. */
function contracts(data: Json | null): Json[] | null {
  const map = asObject(data?.symbols) ?? asObject(data?.results);
  if (!map) return null;
  return Object.entries(map)
    .filter(([key]) => key.toUpperCase() !== 'FINAL')
    .map(([, value]) => asObject(value) ?? {});
}

/** The first error's text, for the cycle's message: a string (today) or `{ symbol, error }` (seed era). */
function firstError(errors: unknown[]): string | null {
  const first: unknown = errors[0];
  if (typeof first === 'string') return shorten(first);
  const object = asObject(first);
  if (!object) return null;
  const text = stringOrNull(object.error) ?? stringOrNull(object.message);
  const symbol = stringOrNull(object.symbol);
  return text ? shorten(symbol ? `${symbol}: ${text}` : text) : null;
}

/**
 * A finished run's body → its report. Throws `MtfRunFailed` when the app says the run failed, and
 * `MtfAnsweredUnreadable` (never sent again: the app did answer) for a status or shape this
 * version cannot read, naming what was unexpected.
 */
export function readFinishedRun(body: Json, url: string, httpStatus: number): RunReport {
  const data = asObject(body.data);
  const summary = runSummary(data);
  const topStatus = word(body.status);
  // Today the run's own word is in data.run.status (a status read's top-level word only says the
  // read worked); in the seed era, and where data.run has none, the top-level word is the run's.
  const runStatus = word(summary?.status) ?? topStatus;
  const errors = Array.isArray(data?.errors) ? data.errors : [];
  // Today's top-level message stays "MTF run completed" even for a failed run: its reason is in the run.
  const failedBecause = () => stringOrNull(summary?.message) ?? firstError(errors) ?? stringOrNull(body.message) ?? 'the app gave no message';
  if (topStatus !== null && FAILED.includes(topStatus)) throw failure(MtfError.RunFailed, `MTF run failed: ${failedBecause()}`);
  const unexpected = [topStatus, runStatus].find((status) => status === null || !FINISHED.includes(status));
  if (unexpected !== undefined) {
    throw unreadable(url, httpStatus, `status ${JSON.stringify(unexpected ?? body.status ?? null)}, which this version does not know (known: ${FINISHED.join(', ')})`);
  }
  if (runStatus !== null && FAILED.includes(runStatus)) throw failure(MtfError.RunFailed, `MTF run failed: ${failedBecause()}`);
  if (!summary) throw unreadable(url, httpStatus, `status ${JSON.stringify(runStatus)} but neither data.run nor data.summary`);

  const report: RunReport = {
    outcome: 'succeeded',
    app_status: runStatus ?? 'success',
    run_id: stringOrNull(summary.run_id),
    message: null,
    execution_time_seconds: numberOrNull(summary.execution_time_seconds),
    symbols_requested: wholeOrNull(summary.symbols_requested),
    symbols_processed: wholeOrNull(summary.symbols_processed),
    symbols_successful: wholeOrNull(summary.symbols_successful),
    symbols_failed: wholeOrNull(summary.symbols_failed),
    success_rate: numberOrNull(summary.success_rate),
    errors: errors.length,
  };
  if (REJECTED.includes(report.app_status)) {
    const reason = stringOrNull(summary.reason) ?? 'no reason given';
    const why = stringOrNull(summary.message) ?? firstError(errors);
    return { ...report, outcome: 'skipped', message: `the app rejected the run (${reason})${why ? `: ${why}` : ''}` };
  }
  const verdict = contractVerdict(report, contracts(data), errors);
  if (verdict) return { ...report, outcome: 'failed', message: verdict };
  if (PARTIAL.includes(report.app_status)) {
    const first = firstError(errors);
    return { ...report, outcome: 'partial', message: `partial success: ${report.errors} error(s)${first ? `, first: ${first}` : ''}` };
  }
  return report;
}

/**
 * Why a run that "finished" did nothing useful, or null: every requested contract errored, or
 * none was processed (the exchange was down). The loop's failure streak must show such a run.
 */
function contractVerdict(report: RunReport, results: Json[] | null, errors: unknown[]): string | null {
  const first = firstError(errors);
  const detail = first ? `; first error: ${first}` : '';
  // The per-contract list when it lists any; else the figures (an empty list beside a count says nothing).
  const processed = results && results.length > 0 ? results.length : (report.symbols_processed ?? results?.length ?? null);
  if (processed === 0 && (report.symbols_requested ?? 0) > 0) {
    return `no contract was processed (0 of ${report.symbols_requested} requested)${detail}`;
  }
  if (processed === 0 || processed === null) return null;
  // Per contract when the answer lists them; else only the seed-era figures can say it.
  const errored = results ? results.filter((r) => word(r.status) === 'error').length : errors.length;
  if (errored < processed) return null;
  return `every contract errored (${errored} of ${processed})${detail}`;
}

function unreadable(url: string, httpStatus: number, what: string) {
  return failure(MtfError.AnsweredUnreadable, `MTF API answered HTTP ${httpStatus} from ${url} with ${what}; the run is not sent again`);
}

/**
 * A status read of an accepted run → its report once it has ended, null while it runs. A read
 * never takes a running run for a finished one: that would let the next POST overlap it.
 */
export function readRunProgress(body: Json, url: string, httpStatus: number): RunReport | null {
  const run = asObject(asObject(body.data)?.run);
  if (run) {
    const finished = FINISHED.includes(word(run.status) ?? '') || (run.finished_at !== undefined && run.finished_at !== null && run.finished_at !== '');
    return finished ? readFinishedRun(body, url, httpStatus) : null;
  }
  if (UNFINISHED.includes(word(body.status) ?? '')) return null;
  return readFinishedRun(body, url, httpStatus);
}

/** An accepted (202) run's id and status URL, resolved against the run URL, or the template's. */
export function readAcceptedRun(body: Json, runUrl: string, statusUrlTemplate: string): { run_id: string; status_url: string } {
  const refused = (what: string) => failure(MtfError.AnsweredUnreadable, `MTF API accepted the run at ${runUrl} but ${what}; the run is not sent again`);
  const data = asObject(body.data);
  const runId = stringOrNull(data?.run_id) ?? stringOrNull(asObject(data?.run)?.run_id);
  if (!runId) throw refused('gave no data.run_id');
  const given = stringOrNull(data?.status_url);
  let statusUrl: URL;
  try {
    statusUrl = new URL(given ?? statusUrlTemplate.replaceAll('{run_id}', encodeURIComponent(runId)), runUrl);
  } catch {
    throw refused('its status URL is not a URL');
  }
  // The status URL goes into the workflow's history: no credentials in it, and nothing but http(s).
  if (statusUrl.username || statusUrl.password) throw refused('its status URL embeds credentials; refused');
  if (statusUrl.protocol !== 'http:' && statusUrl.protocol !== 'https:') throw refused(`its status URL is not http(s): ${statusUrl.protocol}`);
  return { run_id: runId, status_url: statusUrl.toString() };
}
