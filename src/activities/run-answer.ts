/**
 * The one reader of the MTF app's answers, in every shape docs/mtf-api.md describes: a finished
 * run becomes a {@link RunReport}, an accepted run its id and status URL, a status read "still
 * running" or the finished run. The three shapes of a finished run side by side:
 *
 * | what            | seed era                      | today, sequential (`workers` 1)       | today, parallel (`workers` > 1)     |
 * | --------------- | ----------------------------- | ------------------------------------- | ----------------------------------- |
 * | run status      | top-level `status`            | top-level = `data.run.status`         | top-level = `data.run.status`       |
 * | figures         | `data.summary.*`              | `data.run.*`; `symbols_failed` = threw | `data.run.*`; `symbols_failed`     |
 * |                 |                               | `symbols_skipped` = INVALID           | = INVALID + ERROR                   |
 * | per contract    | `data.results.SYM.status`     | `data.symbols.SYM`: READY / INVALID;  | `data.symbols.SYM`: READY / INVALID |
 * |                 | success / error               | a contract that threw is absent       | (ERROR elsewhere); one that threw   |
 * |                 |                               |                                       | is absent                           |
 * | errors          | `[{ symbol, error }]`         | `[{ symbol, error, trace }]`          | `["Worker SYM: …"]`                 |
 * | empty maps      | `{}`                          | `[]`                                  | `{}` (`[]` for no symbols)          |
 *
 * A status read of an accepted run: in the seed era the top-level `status` is `running`, then the
 * finished body; today it says the *read* worked, and the run has finished when `data.run.status`
 * is a finished word or `data.run.finished_at` is set.
 *
 * The outcome follows what happened to the contracts, whatever word the app chose; the word is
 * kept as `app_status`. Contracts that threw count as processed, never as "not requested". Every
 * status word a finished run can carry, and what the reader makes of it ({@link STATUS_WORDS}):
 *
 * | the app says                                   | and the contracts                        | outcome   |
 * | ---------------------------------------------- | ---------------------------------------- | --------- |
 * | `rejected` (a live run refused up front)       | none ran                                 | skipped   |
 * | any                                            | none processed, though some requested    | failed    |
 * | any                                            | every processed one threw                | failed    |
 * | `error` / `failed`                             | some analysed without throwing           | partial   |
 * | `partial_failure`                              | some threw, at least one READY           | partial   |
 * | `partial_success` / `completed_with_errors`    | some errored                             | partial   |
 * | `success` / `completed`                        | analysed                                 | succeeded |
 *
 * Status words compare case-insensitively, and fields this reader does not use are ignored: it
 * never reads an error's `trace` nor `data.run.results` (a second dump of every contract).
 */
import { MtfError } from '../shared/errors';
import type { RunFindings } from '../shared/findings';
import type { RunOutcome, RunReport, UiDetails } from '../shared/mtf';
import { shorten } from '../shared/text';
import { failure } from './failure';
import { asObject, readFindings } from './run-findings';

export { asObject };

type Json = Record<string, unknown>;

/** What a finished run's status word says about it, before its contracts are looked at. */
type Says = 'succeeded' | 'some_errored' | 'some_threw' | 'failed' | 'rejected';

/** Every status word of a finished run this version reads, by the path that gives it; anything else is named as unexpected. */
const STATUS_WORDS: Record<string, Says> = {
  // the seed era
  success: 'succeeded',
  partial_success: 'some_errored',
  error: 'failed',
  // today, sequential: `success`, then `partial_failure` (some threw, one READY at least), `error` (some threw, none READY)
  partial_failure: 'some_threw',
  // today, parallel
  completed: 'succeeded',
  completed_with_errors: 'some_errored',
  rejected: 'rejected',
  // an accepted run read back, or a callback
  failed: 'failed',
};
const FINISHED = Object.keys(STATUS_WORDS);
/** The sequential path's words: its `symbols_failed` counts the contracts that threw. */
const SEQUENTIAL = ['success', 'partial_failure', 'error'];
/** A seed-era status read of a run that goes on. */
const UNFINISHED = ['running', 'accepted', 'pending', 'queued'];

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

/** The app's own words on an error body: its `message`, and its `error_code` where it gives one (today's 422 / 500). */
export function appError(body: Json | null): { message: string | null; code: string | null } {
  return { message: stringOrNull(body?.message), code: stringOrNull(body?.error_code) };
}

/** The run's summary object: `data.run` today, `data.summary` in the seed era. */
function runSummary(data: Json | null): Json | null {
  return asObject(data?.run) ?? asObject(data?.summary);
}

/** The first error's text, for the cycle's message: a string (parallel) or `{ symbol, error }` (seed era, sequential; its trace left out). */
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
 * A finished run's body → its report: succeeded, partial, failed or skipped by the table above.
 * Throws `MtfAnsweredUnreadable` (never sent again: the app did answer) for a status or shape this
 * version cannot read, naming what was unexpected.
 */
export function readFinishedRun(body: Json, url: string, httpStatus: number, uiDetails: UiDetails = 'signals'): RunReport {
  const data = asObject(body.data);
  const summary = runSummary(data);
  const topStatus = word(body.status);
  // Today the run's own word is in data.run.status (a status read's top-level word only says the
  // read worked); in the seed era, and where data.run has none, the top-level word is the run's.
  const runStatus = word(summary?.status) ?? topStatus;
  const errors = Array.isArray(data?.errors) ? data.errors : [];
  const sequential = asObject(data?.run) !== null && SEQUENTIAL.includes(runStatus ?? '');
  // Read before any verdict: an unreadable run's failure still carries what it found.
  const findings = readFindings(data, { threwAtLeast: sequential ? (wholeOrNull(summary?.symbols_failed) ?? 0) : 0 });
  const unexpected = [topStatus, runStatus].find((status) => status === null || !FINISHED.includes(status));
  // A top-level failure word is the run's, whatever the rest says (a seed-era 200 with `error`).
  const says = topStatus !== null && STATUS_WORDS[topStatus] === 'failed' ? 'failed' : STATUS_WORDS[runStatus ?? ''];
  if (unexpected !== undefined && says !== 'failed') {
    const known = FINISHED.join(', ');
    throw unreadable(
      url,
      httpStatus,
      `status ${JSON.stringify(unexpected ?? body.status ?? null)}, which this version does not know (known: ${known})`,
      foundDetails(findings, uiDetails),
    );
  }
  if (!summary && says !== 'failed')
    throw unreadable(
      url,
      httpStatus,
      `status ${JSON.stringify(runStatus)} but neither data.run nor data.summary`,
      foundDetails(findings, uiDetails),
    );

  const report: RunReport = {
    outcome: 'succeeded',
    app_status: runStatus ?? topStatus ?? 'error',
    run_id: stringOrNull(summary?.run_id),
    message: null,
    execution_time_seconds: numberOrNull(summary?.execution_time_seconds),
    symbols_requested: wholeOrNull(summary?.symbols_requested),
    symbols_processed: wholeOrNull(summary?.symbols_processed),
    symbols_successful: wholeOrNull(summary?.symbols_successful),
    symbols_failed: wholeOrNull(summary?.symbols_failed),
    success_rate: numberOrNull(summary?.success_rate),
    errors: errors.length,
    findings,
    ui_details: uiDetails,
  };
  // Today's top-level message stays "MTF run completed" even for a failed run: its reason is in the run.
  const topMessage = asObject(data?.run) ? null : stringOrNull(body.message);
  const reason = stringOrNull(summary?.message) ?? firstError(errors) ?? topMessage ?? 'the app gave no message';
  const verdict = outcomeOf(says ?? 'failed', report, errors, reason, summary);
  return verdict ? { ...report, ...verdict } : report;
}

/** The outcome and message the table above gives, or null for a plain success. */
function outcomeOf(
  says: Says,
  report: RunReport,
  errors: unknown[],
  reason: string,
  summary: Json | null,
): { outcome: RunOutcome; message: string } | null {
  if (says === 'rejected') {
    const why = stringOrNull(summary?.message) ?? firstError(errors);
    return {
      outcome: 'skipped',
      message: `the app rejected the run (${stringOrNull(summary?.reason) ?? 'no reason given'})${why ? `: ${why}` : ''}`,
    };
  }
  const first = firstError(errors);
  const detail = first ? `; first error: ${first}` : '';
  const { processed, threw, ready } = tally(report, errors);
  if (processed === null || processed === 0) {
    if (says === 'failed') return { outcome: 'failed', message: `MTF run failed: ${reason}` };
    const requested = report.symbols_requested ?? 0;
    if (processed === 0 && requested > 0)
      return { outcome: 'failed', message: `no contract was processed (0 of ${requested} requested)${detail}` };
  } else if (threw >= processed) {
    return { outcome: 'failed', message: `every contract errored (${threw} of ${processed})${detail}` };
  }
  switch (says) {
    case 'failed':
      // The app's `error` on the sequential path: some threw and none is READY, though others were analysed.
      return {
        outcome: 'partial',
        message: `${threw} of ${processed ?? '?'} contracts threw${ready === 0 ? ', none READY' : ''}${detail}`,
      };
    case 'some_threw':
      return { outcome: 'partial', message: `${threw} of ${processed ?? '?'} contracts threw${detail}` };
    case 'some_errored':
      return { outcome: 'partial', message: `partial success: ${report.errors} error(s)${first ? `, first: ${first}` : ''}` };
    default:
      return null;
  }
}

/**
 * Contracts processed, of them those that threw or errored, and those READY: per contract when the
 * answer lists any (an empty list beside a count says nothing), else from the figures.
 */
function tally(report: RunReport, errors: unknown[]): { processed: number | null; threw: number; ready: number | null } {
  const c = report.findings.contracts;
  const listed = c ? c.ready + c.invalid + c.error + c.other : 0;
  if (c && listed > 0) return { processed: listed, threw: c.error, ready: c.ready };
  return { processed: report.symbols_processed ?? (c ? 0 : null), threw: errors.length, ready: report.symbols_successful };
}

/**
 * A failure's details when the answer found something a trader must still see (a signal, an
 * order, above all a protection alert): the workflow records it on the failed cycle.
 */
function foundDetails(findings: RunFindings, uiDetails: UiDetails): { findings: RunFindings; ui_details: UiDetails } | undefined {
  const found = findings.signals.length > 0 || findings.orders !== null || findings.protection_alert;
  return found ? { findings, ui_details: uiDetails } : undefined;
}

function unreadable(url: string, httpStatus: number, what: string, details?: Record<string, unknown>) {
  return failure(
    MtfError.AnsweredUnreadable,
    `MTF API answered HTTP ${httpStatus} from ${url} with ${what}; the run is not sent again`,
    details,
  );
}

/**
 * A status read of an accepted run → its report once it has ended, null while it runs. A read
 * never takes a running run for a finished one: that would let the next POST overlap it.
 */
export function readRunProgress(body: Json, url: string, httpStatus: number, uiDetails: UiDetails = 'signals'): RunReport | null {
  const run = asObject(asObject(body.data)?.run);
  if (run) {
    const finished =
      FINISHED.includes(word(run.status) ?? '') || (run.finished_at !== undefined && run.finished_at !== null && run.finished_at !== '');
    return finished ? readFinishedRun(body, url, httpStatus, uiDetails) : null;
  }
  if (UNFINISHED.includes(word(body.status) ?? '')) return null;
  return readFinishedRun(body, url, httpStatus, uiDetails);
}

/** An accepted (202) run's id and status URL, resolved against the run URL, or the template's. */
export function readAcceptedRun(body: Json, runUrl: string, statusUrlTemplate: string): { run_id: string; status_url: string } {
  const refused = (what: string) =>
    failure(MtfError.AnsweredUnreadable, `MTF API accepted the run at ${runUrl} but ${what}; the run is not sent again`);
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
  if (statusUrl.protocol !== 'http:' && statusUrl.protocol !== 'https:')
    throw refused(`its status URL is not http(s): ${statusUrl.protocol}`);
  return { run_id: runId, status_url: statusUrl.toString() };
}
