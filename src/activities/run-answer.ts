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
import type { RunFindings } from '../shared/findings';
import type { RunReport, UiDetails } from '../shared/mtf';
import { shorten } from '../shared/text';
import { failure } from './failure';
import { asObject, readFindings } from './run-findings';

export { asObject };

type Json = Record<string, unknown>;

const SUCCEEDED = ['success', 'completed'];
const PARTIAL = ['partial_success', 'completed_with_errors'];
const REJECTED = ['rejected'];
const FAILED = ['error', 'failed'];
/** Every status word of a finished run this version reads; anything else is named as unexpected. */
const FINISHED = [...SUCCEEDED, ...PARTIAL, ...REJECTED, ...FAILED];
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
export function readFinishedRun(body: Json, url: string, httpStatus: number, uiDetails: UiDetails = 'signals'): RunReport {
  const data = asObject(body.data);
  const summary = runSummary(data);
  const topStatus = word(body.status);
  // Today the run's own word is in data.run.status (a status read's top-level word only says the
  // read worked); in the seed era, and where data.run has none, the top-level word is the run's.
  const runStatus = word(summary?.status) ?? topStatus;
  const errors = Array.isArray(data?.errors) ? data.errors : [];
  // Read before any verdict: a failed or unreadable run's failure still carries what it found.
  const findings = readFindings(data);
  // Today's top-level message stays "MTF run completed" even for a failed run: its reason is in the run.
  const failedBecause = () => stringOrNull(summary?.message) ?? firstError(errors) ?? stringOrNull(body.message) ?? 'the app gave no message';
  const runFailed = () => failure(MtfError.RunFailed, `MTF run failed: ${failedBecause()}`, foundDetails(findings, uiDetails));
  if (topStatus !== null && FAILED.includes(topStatus)) throw runFailed();
  const unexpected = [topStatus, runStatus].find((status) => status === null || !FINISHED.includes(status));
  if (unexpected !== undefined) {
    const known = FINISHED.join(', ');
    throw unreadable(url, httpStatus, `status ${JSON.stringify(unexpected ?? body.status ?? null)}, which this version does not know (known: ${known})`, foundDetails(findings, uiDetails));
  }
  if (runStatus !== null && FAILED.includes(runStatus)) throw runFailed();
  if (!summary) throw unreadable(url, httpStatus, `status ${JSON.stringify(runStatus)} but neither data.run nor data.summary`, foundDetails(findings, uiDetails));

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
    findings,
    ui_details: uiDetails,
  };
  if (REJECTED.includes(report.app_status)) {
    const reason = stringOrNull(summary.reason) ?? 'no reason given';
    const why = stringOrNull(summary.message) ?? firstError(errors);
    return { ...report, outcome: 'skipped', message: `the app rejected the run (${reason})${why ? `: ${why}` : ''}` };
  }
  const verdict = contractVerdict(report, findings.contracts, errors);
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
function contractVerdict(report: RunReport, contracts: RunFindings['contracts'], errors: unknown[]): string | null {
  const first = firstError(errors);
  const detail = first ? `; first error: ${first}` : '';
  // The per-contract verdicts when the answer lists any; else the figures (an empty list beside a count says nothing).
  const listed = contracts ? contracts.ready + contracts.invalid + contracts.error + contracts.other : null;
  const processed = listed !== null && listed > 0 ? listed : (report.symbols_processed ?? listed);
  if (processed === 0 && (report.symbols_requested ?? 0) > 0) {
    return `no contract was processed (0 of ${report.symbols_requested} requested)${detail}`;
  }
  if (processed === 0 || processed === null) return null;
  // Per contract when the answer lists them; else only the seed-era figures can say it.
  const errored = listed !== null && listed > 0 && contracts ? contracts.error : errors.length;
  if (errored < processed) return null;
  return `every contract errored (${errored} of ${processed})${detail}`;
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
  return failure(MtfError.AnsweredUnreadable, `MTF API answered HTTP ${httpStatus} from ${url} with ${what}; the run is not sent again`, details);
}

/**
 * A status read of an accepted run → its report once it has ended, null while it runs. A read
 * never takes a running run for a finished one: that would let the next POST overlap it.
 */
export function readRunProgress(body: Json, url: string, httpStatus: number, uiDetails: UiDetails = 'signals'): RunReport | null {
  const run = asObject(asObject(body.data)?.run);
  if (run) {
    const finished = FINISHED.includes(word(run.status) ?? '') || (run.finished_at !== undefined && run.finished_at !== null && run.finished_at !== '');
    return finished ? readFinishedRun(body, url, httpStatus, uiDetails) : null;
  }
  if (UNFINISHED.includes(word(body.status) ?? '')) return null;
  return readFinishedRun(body, url, httpStatus, uiDetails);
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
