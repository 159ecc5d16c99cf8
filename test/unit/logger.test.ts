/** The logger's promises: one JSON object per line, the SDK's fields renamed, levels obeyed, secrets never written. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger, logFormatFrom, logLevelFrom, prettyLine, sdkLoggerFor } from '../../src/observability/logger';
import { observabilitySettings } from '../../src/observability/runtime';

function collect(options: Parameters<typeof createLogger>[0] = {}) {
  const lines: string[] = [];
  const logger = createLogger({ format: 'json', ...options, write: (line) => lines.push(line) });
  return { logger, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>), raw: () => lines.join('') };
}

void describe('logger', () => {
  test('writes one JSON object per line with level, ISO time and message', () => {
    const { logger, parsed } = collect();
    logger.info({ iteration: 3 }, 'cycle finished');
    const [line] = parsed();
    assert.equal(line?.level, 'info');
    assert.equal(line?.msg, 'cycle finished');
    assert.equal(line?.iteration, 3);
    assert.match(String(line?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  });

  test('the SDK logger writes through it with snake_case fields and the same level filter', () => {
    const { logger, parsed } = collect({ level: 'warn' });
    const sdk = sdkLoggerFor(logger);
    sdk.info('dropped below warn', { workflowId: 'w' });
    sdk.warn('MTF call failed', {
      sdkComponent: 'activity',
      workflowId: 'w',
      workflowRunId: 'r',
      activityType: 'callMtfRun',
      taskToken: 'opaque',
      attempt: 2,
    });
    assert.deepEqual(
      parsed().map(({ msg, component, workflow_id, run_id, activity, attempt, taskToken }) => ({
        msg,
        component,
        workflow_id,
        run_id,
        activity,
        attempt,
        taskToken,
      })),
      [
        {
          msg: 'MTF call failed',
          component: 'activity',
          workflow_id: 'w',
          run_id: 'r',
          activity: 'callMtfRun',
          attempt: 2,
          taskToken: undefined,
        },
      ],
    );
  });

  test('a secret never reaches a line: by key, nested, or inside any text', () => {
    const token = 'tok-abc-123456';
    const { logger, raw } = collect({ secrets: [token] });
    logger.info({ token, headers: { authorization: `Bearer ${token}` }, nested: { api_token: token } }, `sending ${token}`);
    logger.error({ error: new Error(`refused with ${token}`) }, 'failed');
    assert.ok(!raw().includes(token), raw());
    assert.match(raw(), /\[redacted\]/);
    assert.match(raw(), /"error":\{"type":"Error","message":"refused with \[redacted\]"/, 'an error keeps its message, scrubbed');
  });

  test('a secret with characters JSON escapes is found in its escaped form too', () => {
    const token = 'tok"with\\quote';
    const { logger, raw } = collect({ secrets: [token] });
    logger.info({ note: `got ${token}` }, 'escaped');
    assert.ok(!raw().includes(JSON.stringify(token).slice(1, -1)), raw());
    assert.match(raw(), /got \[redacted\]/);
  });

  test('pretty lines are readable and keep the fields that matter', () => {
    const line = prettyLine(
      JSON.stringify({
        level: 'warn',
        time: '2026-01-02T03:04:05.678Z',
        msg: 'cycle finished',
        service: 'mtf-ping-pong',
        workflow_id: 'mtf-ping-pong',
        iteration: 7,
        outcome: 'failed',
      }),
    );
    assert.equal(line, '03:04:05 WARN  cycle finished workflow_id=mtf-ping-pong iteration=7 outcome=failed\n');
  });

  test('LOG_LEVEL, LOG_FORMAT and the endpoint addresses are checked with one clear message', () => {
    assert.equal(logLevelFrom(undefined), 'info');
    assert.equal(logLevelFrom('DEBUG'), 'debug');
    assert.throws(() => logLevelFrom('loud'), /LOG_LEVEL: must be one of trace, debug, info, warn, error, not "loud"/);
    assert.equal(logFormatFrom('', true), 'pretty');
    assert.equal(logFormatFrom('', false), 'json');
    assert.throws(() => logFormatFrom('xml', false), /LOG_FORMAT: must be json or pretty/);
    const defaults = observabilitySettings({});
    assert.equal(defaults.metricsAddress, '127.0.0.1:9464');
    assert.equal(defaults.healthAddress, '127.0.0.1:9465');
    assert.equal(observabilitySettings({ METRICS_ADDRESS: 'off', HEALTH_ADDRESS: '0.0.0.0:9000' }).metricsAddress, null);
    assert.equal(observabilitySettings({ HEALTH_ADDRESS: '[::1]:9000' }).healthAddress, '[::1]:9000');
    assert.throws(
      () => observabilitySettings({ METRICS_ADDRESS: '9464' }),
      /METRICS_ADDRESS: must be host:port \(e\.g\. 0\.0\.0\.0:9464\) or off, not "9464"/,
    );
  });
});
